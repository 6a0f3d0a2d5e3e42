"""Op table entries: indexing ops (see ``opinfo.py``)."""

from __future__ import annotations
