"""Public functions: reductions, scans, sorting, unique, histograms and statistics."""

from __future__ import annotations
