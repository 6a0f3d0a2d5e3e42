"""Op table entries: pointwise ops (see ``opinfo.py``)."""

from __future__ import annotations
