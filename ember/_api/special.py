"""Public functions: the special functions (erf, lgamma, digamma, ...) and softmax."""

from __future__ import annotations
