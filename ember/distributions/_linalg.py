"""Differentiable Cholesky factorisation and triangular solves for MultivariateNormal.

# NOTE [ Private linalg for distributions ]
The linalg area (``ember.linalg.cholesky``, ``solve_triangular``, ``cholesky_inverse``, and
``ember.tril``) is built in parallel; until it merges, MultivariateNormal uses these. At merge,
replace ``cholesky``/``solve_triangular``/``tril`` here by the shared ops and delete this file.
"""

from __future__ import annotations

import numpy as np

from .._creation import _finish
from .._tensor import Tensor
from ..autograd.function import Function


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (differentiable: a mask product)."""
    n, m = x.shape[-2], x.shape[-1]
    mask = _finish(np.tril(np.ones((n, m), x._data.dtype), diagonal), x.device, False)
    return x * mask


class _Cholesky(Function):
    @staticmethod
    def forward(ctx, a):
        try:
            lower = np.linalg.cholesky(a._host())
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.cholesky: The factorization could not be completed "
                               "because the input is not positive-definite.") from None
        out = _finish(lower, a.device, False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # PyTorch's cholesky_backward: A's gradient from tril(L^T gL), symmetrised, and two
        # triangular solves
        low, = ctx.saved_tensors
        ga = tril(low.mT @ g)
        ga = 0.5 * (ga + tril(ga, -1).mT)
        ga = solve_triangular(low.mT, ga, upper=True)
        return solve_triangular(low.mT, ga.mT, upper=True).mT


def cholesky(a: Tensor) -> Tensor:
    """The lower Cholesky factor of a batch of positive-definite matrices."""
    return _Cholesky.apply(a)


class _SolveTriangular(Function):
    @staticmethod
    def forward(ctx, a, b, upper):
        ctx.upper = upper
        x = _finish(np.linalg.solve(a._host(), b._host()), b.device, False)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = solve_triangular(a.mT, g, upper=not ctx.upper)
        ga = -(gb @ x.mT)
        ga = ga.mT if ctx.upper else ga
        return (tril(ga).mT if ctx.upper else tril(ga)), gb, None


def solve_triangular(a: Tensor, b: Tensor, *, upper: bool) -> Tensor:
    """``X`` with ``a @ X = b`` for triangular ``a`` (batch dims broadcast)."""
    batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    a = a.expand(*batch, *a.shape[-2:])
    b = b.expand(*batch, *b.shape[-2:])
    return _SolveTriangular.apply(a, b, upper)
