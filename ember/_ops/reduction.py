"""Reductions over dims (``dim`` None, int or tuple; ``keepdim``; ``dtype=``) with PyTorch's
result dtypes: integer sums and products give int64, half types accumulate in float32,
``mean`` wants a floating input."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from ..backends import cpu
from .registry import register
from .rules import acc_dtype, dims


def _in_dtype(name, x, dtype, rule):
    dt = _dtype.FROM_NP[x.dtype]
    if dtype is not None:
        return dtype, dtype
    if rule == "int64" and dt.category <= 1:
        return _dtype.int64, _dtype.int64
    if rule == "float" and dt.category <= 1:
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {dt.word}")
    return acc_dtype(dt), dt


_FAST_KINDS = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64,
                                                np.complex128))


def _reduction(name, fn, rule):
    ufunc = np.multiply if fn == "prod" else np.add

    def impl(xp, x, dim=None, keepdim=False, dtype=None):
        if dim is None and not keepdim and dtype is None and xp is np and \
                x.dtype in _FAST_KINDS and x.size < cpu.BLAS_MIN:
            # the common small full reduction: one ufunc call, no dtype or axis handling
            r = ufunc.reduce(x, axis=None)
            return r / r.dtype.type(x.size) if fn == "mean" else r
        acc, out = _in_dtype(name, x, dtype, rule)
        y = x.astype(acc.np, copy=False)
        if dim is None and not keepdim and y.size < cpu.BLAS_MIN:
            r = getattr(y, fn)()  # no axis normalisation: the common full reduction is fast
        else:
            ax = dims(dim, x.ndim, name)
            r = cpu.fast_sum(y, ax, keepdim) if fn != "prod" and xp is np else None
            if r is None:
                r = getattr(xp, fn)(y, axis=ax, keepdims=keepdim)
            elif fn == "mean":
                r = r / r.dtype.type(max(_n_reduced(x.shape, ax), 1))
        return r.astype(out.np, copy=False) if r.dtype != out.np else r
    return impl


def expand_back(g, shape, ax, keepdim):
    """A reduced gradient broadcast back to the input's ``shape``."""
    if not keepdim and len(ax) != len(shape):
        g = g.view(tuple(1 if d in ax else n for d, n in enumerate(shape)))
    return g.expand(shape)


def _sum_vjp(c, g):
    p = c.params
    return (expand_back(g, c.in_meta[0][0], dims(p.get("dim"), len(c.in_meta[0][0])),
                        p.get("keepdim", False)),)


def _n_reduced(shape, ax):
    return math.prod(shape[d] for d in ax)


def _mean_vjp(c, g):
    shape = c.in_meta[0][0]
    ax = dims(c.params.get("dim"), len(shape))
    g = expand_back(g, shape, ax, c.params.get("keepdim", False))
    return (g / max(_n_reduced(shape, ax), 1),)


def _prod_vjp(c, g):
    # d prod / d x_i is the product of the other elements: out / x_i without zeros; with one
    # zero in the reduced slice only the zero's position gets (the product of the rest); with
    # two or more every derivative is 0.
    (x,), out = c.inputs, c.out
    ax = dims(c.params.get("dim"), x.ndim)
    kd = c.params.get("keepdim", False)
    g, out = expand_back(g, x.shape, ax, kd), expand_back(out, x.shape, ax, kd)
    zero = x == 0
    n_zero = expand_back(zero.sum(dim=ax, keepdim=True), x.shape, ax, True)
    safe = x.masked_fill(zero, 1)
    rest = expand_back(PROD(safe, dim=ax, keepdim=True), x.shape, ax, True)
    others = (out / safe).masked_fill(n_zero > 0, 0) + rest.masked_fill(~(zero & (n_zero == 1)),
                                                                           0)
    return (g * others.conj(),)


def _by_dim(name):
    """PyTorch names the all-elements overload ...Backward0 and the dim overload ...Backward1."""
    return lambda node: f"{name}Backward{0 if node.params.get('dim') is None else 1}"


SUM = register("sum", _reduction("sum", "sum", "int64"), vjp=_sum_vjp,
               backward_name=_by_dim("Sum"))
PROD = register("prod", _reduction("prod", "prod", "int64"), save=(0, "out"), vjp=_prod_vjp,
                backward_name=_by_dim("Prod"))
register("mean", _reduction("mean", "mean", "float"), vjp=_mean_vjp,
         backward_name=_by_dim("Mean"))


def _nansum(xp, x, dim=None, keepdim=False, dtype=None):
    if x.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if _dtype.FROM_NP[x.dtype].category == 2:
        x = xp.where(xp.isnan(x), x.dtype.type(0), x)
    return SUM.impl(xp, x, dim, keepdim, dtype)


def _nansum_vjp(c, g):
    # as PyTorch: the gradient times a mask, so that an inf gradient gives NaN at NaNs
    (x,) = c.inputs
    p = c.params
    g = expand_back(g, x.shape, dims(p.get("dim"), x.ndim), p.get("keepdim", False))
    return (g * x.isnan().logical_not(),)


register("nansum", _nansum, save=(0,), vjp=_nansum_vjp)


def _nonempty(name, x, ax):
    if x.size == 0 and any(x.shape[d] == 0 for d in ax) or x.size == 0 and not ax:
        if len(ax) == x.ndim:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        raise IndexError(
            f"{name}(): Expected reduction dim {ax[0]} to have non-zero size.")


# NOTE [ Max over a narrow last axis ]
# NumPy reduces the last axis of a C-contiguous float array one row at a time, with a NaN-aware
# loop that is slow on short rows: amax over (65536, 64) float32 takes ~25 ms where PyTorch
# takes ~0.7 ms. Folding adjacent pairs with the elementwise ufunc (``maximum(y[:, 0::2],
# y[:, 1::2])``, log2(width) times) runs as long strided loops instead and is 2-5x faster for
# widths up to 64 (measured interleaved with PyTorch); it is exact, NaN propagates through
# maximum/minimum. Wider rows are faster with NumPy's own reduction, so they keep it.

_FOLD_KINDS = frozenset(np.dtype(t) for t in (np.float32, np.float64))


def _fold_last(x, ufunc):
    """``ufunc``-reduce the last axis of a C-contiguous array by folding adjacent pairs."""
    y = x.reshape(-1, x.shape[-1])
    while y.shape[1] > 1:
        m = y.shape[1]
        z = ufunc(y[:, 0:m - 1:2], y[:, 1:m:2])
        if m % 2:
            ufunc(z[:, 0], y[:, m - 1], out=z[:, 0])
        y = z
    return y[:, 0].reshape(x.shape[:-1])


# NOTE [ Max over an outer axis ]
# NumPy's NaN-propagating ``maximum.reduce`` over a non-last axis of a C-contiguous float array
# runs 2-3x slower than PyTorch (amax(0) of 2048x2048 float32). Folding halves of the reduced
# axis with the elementwise ufunc (``maximum(y[:, :h], y[:, h:])``, then in place on the
# shrinking first half) runs as long contiguous SIMD loops over the kept inner block and is
# faster than both; it is exact and NaN still propagates. It needs an inner block wide enough
# for SIMD, so the last axis keeps NOTE [ Max over a narrow last axis ] or NumPy's reduction.


def _fold_axis(x, axis, ufunc):
    """``ufunc``-reduce ``axis`` of a C-contiguous array by folding halves in place."""
    shape, n = x.shape, x.shape[axis]
    y = x.reshape(math.prod(shape[:axis]), n, -1)
    h = n // 2
    z = ufunc(y[:, :h], y[:, h:2 * h])
    if n % 2:
        ufunc(z[:, :1], y[:, 2 * h:], out=z[:, :1])
    while z.shape[1] > 1:
        m = z.shape[1]
        k = m // 2
        ufunc(z[:, :k], z[:, k:2 * k], out=z[:, :k])
        if m % 2:
            ufunc(z[:, :1], z[:, 2 * k:], out=z[:, :1])
        z = z[:, :k]
    return np.ascontiguousarray(z[:, 0]).reshape(shape[:axis] + shape[axis + 1:])


def _minmax(name, fn):
    ufunc = np.maximum if fn == "amax" else np.minimum

    def impl(xp, x, dim=None, keepdim=False):
        ax = dims(dim, x.ndim, name)
        _nonempty(name, x, ax)
        if x.dtype.kind == "c":
            raise RuntimeError(f"{name}(): does not support complex input")
        if xp is np and len(ax) == 1 and x.size >= cpu.BLAS_MIN and x.dtype in _FOLD_KINDS \
                and x.flags.c_contiguous and x.shape[ax[0]] >= 2:
            d = ax[0]
            if d == x.ndim - 1 and x.shape[-1] <= 64:
                r = _fold_last(x, ufunc)
            elif d < x.ndim - 1 and x.size // math.prod(x.shape[:d + 1]) >= 16:
                r = _fold_axis(x, d, ufunc)
            else:
                r = None
            if r is not None:
                return np.expand_dims(r, d) if keepdim else r
        return getattr(xp, fn)(x, axis=ax, keepdims=keepdim)  # NaN propagates, as in torch
    return impl


def _even_vjp(c, g):
    """Gradient of max/min/amax/amin: shared evenly among the elements that attain it."""
    (x,), out = c.inputs, c.out
    ax = dims(c.params.get("dim"), x.ndim)
    kd = c.params.get("keepdim", False)
    mask = x == expand_back(out, x.shape, ax, kd)
    count = mask.sum(dim=ax, keepdim=True)
    return (expand_back(g, x.shape, ax, kd) * mask / count,)


register("amax", _minmax("amax", "amax"), save=(0, "out"), vjp=_even_vjp)
register("amin", _minmax("amin", "amin"), save=(0, "out"), vjp=_even_vjp)
# max()/min() of all elements: amax/amin under PyTorch's own names
for _n in ("max", "min"):
    register(_n, _minmax(_n, "a" + _n), save=(0, "out"), vjp=_even_vjp,
             backward_name=f"{_n.capitalize()}Backward1")


def _arg(name, fn):
    def impl(xp, x, dim=None, keepdim=False):
        if x.dtype.kind == "c":
            raise RuntimeError(f"{name}(): does not support complex input")
        if dim is None:
            if x.size == 0:
                raise RuntimeError(
                    f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            r = getattr(xp, fn)(x.reshape(-1))
            return xp.asarray(r, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ())
        (d,) = dims(dim, x.ndim, name)
        if x.ndim and x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return getattr(xp, fn)(x, axis=d if x.ndim else None, keepdims=keepdim).astype(np.int64)
    return impl


register("argmax", _arg("argmax", "argmax"))
register("argmin", _arg("argmin", "argmin"))


def _max_dim(name, fn, argfn):
    def impl(xp, x, dim, keepdim=False):
        (d,) = dims(dim, x.ndim, name)
        if x.ndim and x.shape[d] == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim {d} to have non-zero size.")
        if x.dtype.kind == "c":
            raise RuntimeError(f"{name}(): does not support complex input")
        if x.ndim == 0:
            return x.copy(), xp.zeros((), np.int64)
        idx = getattr(xp, argfn)(x, axis=d, keepdims=True)
        vals = xp.take_along_axis(x, idx, axis=d)
        if not keepdim:
            idx, vals = idx.squeeze(d), vals.squeeze(d)
        return vals, idx.astype(np.int64)
    return impl


def _max_dim_vjp(c, g):
    g = g[0]
    if g is None:
        return (None,)
    shape = c.in_meta[0][0]
    if not shape:
        return (g,)
    (d,) = dims(c.params["dim"], len(shape))
    idx = c.out[1]
    kd = c.params.get("keepdim", False)
    if not kd:
        g, idx = g.unsqueeze(d), idx.unsqueeze(d)
    return (g.new_zeros(shape).scatter(d, idx, g),)


register("max_dim", _max_dim("max", "max", "argmax"), save=("out",), vjp=_max_dim_vjp, nout=2,
         backward_name="MaxBackward0")
register("min_dim", _max_dim("min", "min", "argmin"), save=("out",), vjp=_max_dim_vjp, nout=2,
         backward_name="MinBackward0")


def _bool_reduce(name, fn):
    def impl(xp, x, dim=None, keepdim=False):
        ax = dims(dim, x.ndim, name)
        r = getattr(xp, fn)(x, axis=ax, keepdims=keepdim)
        return xp.asarray(r).astype(np.uint8 if x.dtype == np.uint8 else np.bool_)
    return impl


register("all", _bool_reduce("all", "all"))
register("any", _bool_reduce("any", "any"))


def _var_impl(name, take_sqrt):
    def impl(xp, x, dim=None, correction=1, keepdim=False):
        dt = _dtype.FROM_NP[x.dtype]
        if dt.category <= 1:
            raise RuntimeError(
                f"{name}(): input dtype should be either floating point or complex dtypes. "
                f"Got {dt.word} instead.")
        ax = dims(dim, x.ndim, name)
        acc = acc_dtype(dt)
        y = x.astype(acc.np, copy=False)
        n = _n_reduced(x.shape, ax)
        mu = y.mean(axis=ax, keepdims=True) if n else y.sum(axis=ax, keepdims=True)
        dev = y - mu
        sq = (dev * dev.conj()).real if dev.dtype.kind == "c" else dev * dev
        denom = max(n - correction, 0)
        if denom == 0:
            warnings.warn(
                f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than "
                "the reduction factor (input numel divided by output numel).", UserWarning,
                stacklevel=4)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = sq.sum(axis=ax, keepdims=keepdim) / sq.dtype.type(denom)
        r = xp.sqrt(v) if take_sqrt else v
        return xp.asarray(r).astype(dt.to_real().np, copy=False)
    return impl


def _var_vjp(c, g):
    (x,) = c.inputs
    p = c.params
    ax = dims(p.get("dim"), x.ndim)
    kd = p.get("keepdim", False)
    n = _n_reduced(x.shape, ax)
    mu = x.mean(dim=ax, keepdim=True)
    dof = n - p.get("correction", 1)
    scale = 2.0 / dof if dof > 0 else float("inf")
    return (expand_back(g, x.shape, ax, kd) * (x - mu) * scale,)


def _std_vjp(c, g):
    (x,), out = c.inputs, c.out
    p = c.params
    ax = dims(p.get("dim"), x.ndim)
    kd = p.get("keepdim", False)
    n = _n_reduced(x.shape, ax)
    mu = x.mean(dim=ax, keepdim=True)
    zero = expand_back(out == 0, x.shape, ax, kd)
    gs = expand_back(g / out, x.shape, ax, kd).masked_fill(zero, 0)
    dof = n - p.get("correction", 1)
    return (gs * (x - mu) / (dof if dof > 0 else 0.0),)


register("var", _var_impl("var", False), save=(0,), vjp=_var_vjp)
register("std", _var_impl("std", True), save=(0, "out"), vjp=_std_vjp)


def _logsumexp(xp, x, dim, keepdim=False):
    dt = _dtype.FROM_NP[x.dtype]
    ct = dt if dt.category >= 2 else _dtype.get_default_dtype()
    y = x.astype(acc_dtype(ct).np, copy=False)
    ax = dims(dim, x.ndim, "logsumexp")
    if y.size == 0:
        r = xp.log(xp.sum(xp.exp(y), axis=ax, keepdims=keepdim))
        return xp.asarray(r).astype(ct.np)
    m = xp.amax(y, axis=ax, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    r = xp.log(xp.sum(xp.exp(y - m), axis=ax, keepdims=True)) + m
    if not keepdim:
        r = r.squeeze(ax) if ax else r
    return xp.asarray(r).astype(ct.np, copy=False)


def _logsumexp_vjp(c, g):
    (x,), out = c.inputs, c.out
    ax = dims(c.params.get("dim"), x.ndim)
    kd = c.params.get("keepdim", False)
    return (expand_back(g, x.shape, ax, kd) * (x - expand_back(out, x.shape, ax, kd)).exp(),)


register("logsumexp", _logsumexp, save=(0, "out"), vjp=_logsumexp_vjp)


def _norm(xp, x, p=2.0, dim=None, keepdim=False):
    dt = _dtype.FROM_NP[x.dtype]
    if dt.category <= 1:
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{dt.word}")
    ax = dims(dim, x.ndim, "norm")
    a = xp.abs(x.astype(acc_dtype(dt).np, copy=False))
    if p == math.inf:
        r = xp.amax(a, axis=ax, keepdims=keepdim) if a.size else xp.zeros(
            _kept(a.shape, ax, keepdim), a.dtype)
    elif p == -math.inf:
        r = xp.amin(a, axis=ax, keepdims=keepdim)
    elif p == 0:
        r = xp.sum(a != 0, axis=ax, keepdims=keepdim).astype(a.dtype)
    elif p == 1:
        r = xp.sum(a, axis=ax, keepdims=keepdim)
    elif p == 2:
        r = xp.sqrt(xp.sum(a * a, axis=ax, keepdims=keepdim))
    else:
        r = xp.sum(a ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)
    return xp.asarray(r).astype(dt.to_real().np, copy=False)


def _kept(shape, ax, keepdim):
    return tuple(1 if d in ax else s for d, s in enumerate(shape) if keepdim or d not in ax)


def _norm_vjp(c, g):
    (x,), out = c.inputs, c.out
    p = c.params.get("p", 2.0)
    ax = dims(c.params.get("dim"), x.ndim)
    kd = c.params.get("keepdim", False)
    g, out = expand_back(g, x.shape, ax, kd), expand_back(out, x.shape, ax, kd)
    if p == 0:
        return (g * 0,)
    if p == 1:
        return (g * x.sgn(),)
    if p in (math.inf, -math.inf):
        mask = x.abs() == out
        return (g * x.sgn() * mask / mask.sum(dim=ax, keepdim=True),)
    if p == 2:
        return (g * x / out.masked_fill(out == 0, 1) * (out != 0),)
    a = x.abs()
    r = x.sgn() * a ** (p - 1) / out.masked_fill(out == 0, 1) ** (p - 1)
    return (g * r * (out != 0),)


register("norm", _norm, save=(0, "out"), vjp=_norm_vjp,
         backward_name="LinalgVectorNormBackward0")
