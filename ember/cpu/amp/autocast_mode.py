"""``ember.cpu.amp.autocast``: the deprecated spelling of ``ember.amp.autocast('cpu')``."""

from __future__ import annotations

import warnings

from ... import _dtype
from ...amp import autocast_mode

__all__ = ["autocast"]


class autocast(autocast_mode.autocast):
    """``ember.amp.autocast('cpu', ...)``, with PyTorch's FutureWarning."""

    def __init__(self, enabled: bool = True, dtype: _dtype.dtype = _dtype.bfloat16,
                 cache_enabled: bool = True):
        warnings.warn("`ember.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`ember.amp.autocast('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)
