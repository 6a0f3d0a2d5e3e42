"""Pointwise ops beyond the core: special functions, complex numbers, softmax."""

from __future__ import annotations
