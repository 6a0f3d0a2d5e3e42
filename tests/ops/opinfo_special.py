"""Op table entries: special functions and softmax (see ``opinfo.py``)."""

from __future__ import annotations
