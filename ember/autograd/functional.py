"""Higher-level autograd functions: jacobian, hessian, vjp, jvp, hvp, vhp."""

from __future__ import annotations
