"""Op table entries: shape ops (see ``opinfo.py``)."""

from __future__ import annotations
