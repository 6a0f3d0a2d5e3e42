"""``ember.cpu``: the CPU device's module (``torch.cpu``); holds the deprecated ``amp``
aliases."""

from . import amp

__all__ = ["amp"]
