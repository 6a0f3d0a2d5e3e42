"""Op table entries: fft ops (see ``opinfo.py``)."""

from __future__ import annotations
