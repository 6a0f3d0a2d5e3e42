"""Public functions: matrix products and the functions behind ember.linalg."""

from __future__ import annotations
