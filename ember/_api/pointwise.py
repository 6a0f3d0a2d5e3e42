"""Public functions: pointwise math, complex numbers and ember.special's functions."""

from __future__ import annotations
