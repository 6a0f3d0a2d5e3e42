"""``ember.linalg``: linear algebra, as ``torch.linalg``."""

from __future__ import annotations
