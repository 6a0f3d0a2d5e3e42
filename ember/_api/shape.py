"""Public functions: joining, splitting, repeating, flipping, triangular and diagonal ops."""

from __future__ import annotations
