"""``ember.utils``: utilities, as ``torch.utils``."""

from __future__ import annotations

from . import checkpoint, data  # noqa: F401
