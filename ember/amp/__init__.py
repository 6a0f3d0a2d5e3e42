"""``ember.amp``: automatic mixed precision (``torch.amp``): ``autocast`` regions and
``GradScaler`` (NOTE [ Autocast ], NOTE [ Autocast op lists ], NOTE [ Gradient scaling ])."""

from . import autocast_mode, grad_scaler  # noqa: F401 - torch.amp's submodules
from .autocast_mode import (  # noqa: F401 - with torch.amp's private entry points
    _enter_autocast,
    _exit_autocast,
    autocast,
    custom_bwd,
    custom_fwd,
    is_autocast_available,
)
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]
