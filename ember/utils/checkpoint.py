"""Activation checkpointing: recompute a segment in backward instead of saving it."""

from __future__ import annotations
