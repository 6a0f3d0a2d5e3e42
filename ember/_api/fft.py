"""Public functions: the functions behind ember.fft."""

from __future__ import annotations
