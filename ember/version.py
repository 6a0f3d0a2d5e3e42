"""``torch.version``'s fields as scripts read them (``ember.version.cuda is None`` on a build
without CUDA)."""

from __future__ import annotations

__version__ = "0.1.0"
cuda = None
hip = None
debug = False
git_version = "unknown"
