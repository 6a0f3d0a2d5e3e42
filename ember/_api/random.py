"""Public functions: sampling ops (bernoulli, multinomial, poisson) and in-place random fills."""

from __future__ import annotations
