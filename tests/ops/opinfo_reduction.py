"""Op table entries: reduction ops (see ``opinfo.py``)."""

from __future__ import annotations
