"""Discrete Fourier transforms (the ops behind ember.fft)."""

from __future__ import annotations
