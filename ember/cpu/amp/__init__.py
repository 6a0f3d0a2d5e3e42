"""``ember.cpu.amp``: deprecated aliases of ``ember.amp``'s CPU forms (``torch.cpu.amp``)."""

from .autocast_mode import autocast
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler"]
