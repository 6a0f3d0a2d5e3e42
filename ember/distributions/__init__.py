"""``ember.distributions``: probability distributions, as ``torch.distributions``."""

from __future__ import annotations
