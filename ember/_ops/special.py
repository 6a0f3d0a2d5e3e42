"""Special functions: error and gamma families, Bessel, zeta, ndtr and kin (``ember.special``)."""

from __future__ import annotations
