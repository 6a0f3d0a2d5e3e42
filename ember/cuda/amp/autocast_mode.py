"""``ember.cuda.amp.autocast``, ``custom_fwd``, ``custom_bwd``: the deprecated spellings of
``ember.amp.autocast('cuda', ...)`` and ``ember.amp.custom_fwd/bwd(device_type='cuda')``."""

from __future__ import annotations

import warnings

from ... import _dtype
from ...amp import autocast_mode

__all__ = ["autocast", "custom_fwd", "custom_bwd"]


class autocast(autocast_mode.autocast):
    """``ember.amp.autocast('cuda', ...)``, with PyTorch's FutureWarning."""

    def __init__(self, enabled: bool = True, dtype: _dtype.dtype = _dtype.float16,
                 cache_enabled: bool = True):
        warnings.warn("`ember.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`ember.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``ember.amp.custom_fwd(fwd, device_type='cuda', cast_inputs=...)``, deprecated."""
    warnings.warn("`ember.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`ember.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """``ember.amp.custom_bwd(bwd, device_type='cuda')``, deprecated."""
    warnings.warn("`ember.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`ember.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return autocast_mode.custom_bwd(bwd, device_type="cuda")
