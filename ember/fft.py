"""``ember.fft``: discrete Fourier transforms, as ``torch.fft``."""

from __future__ import annotations
