"""Public functions: advanced indexing, index_*, scatter/gather, masked ops, searchsorted."""

from __future__ import annotations
