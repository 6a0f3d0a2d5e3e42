"""Matrix decompositions and solvers (the ops behind ember.linalg)."""

from __future__ import annotations
