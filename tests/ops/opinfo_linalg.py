"""Op table entries: linalg ops (see ``opinfo.py``)."""

from __future__ import annotations
