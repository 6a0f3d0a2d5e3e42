"""Anomaly detection: detect_anomaly and set_detect_anomaly."""

from __future__ import annotations
