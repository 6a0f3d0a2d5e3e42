"""Scans, sorting, selection, unique and histogram ops."""

from __future__ import annotations
