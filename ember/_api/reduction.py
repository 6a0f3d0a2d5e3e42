"""Public functions: reductions, scans, sorting, unique, histograms and statistics.

Ops with a kernel of their own are registry entries (``ember/_ops/sorting.py``); the rest
(nansum, std_mean, quantile, diff, trapezoid, cov, ...) are composites of ember functions,
written as PyTorch writes them, so that autograd differentiates them by composition.
"""

from __future__ import annotations

import builtins
import warnings

from .. import _creation, _dtype
from .. import _functional as F
from .._functional import _export
from .._ops import REGISTRY as R
from .._ops.registry import apply, apply_inplace
from .._ops.rules import wrap_dim
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed
from ..return_types import structseq


def _return_type(name, fields):
    """A builder of the return type ``ember.return_types.<name>`` from its fields."""
    cls = structseq(name, tuple(fields))
    return lambda *values: cls(values)


sort_t = _return_type("sort", ["values", "indices"])
topk_t = _return_type("topk", ["values", "indices"])
kthvalue_t = _return_type("kthvalue", ["values", "indices"])
median_t = _return_type("median", ["values", "indices"])
nanmedian_t = _return_type("nanmedian", ["values", "indices"])
mode_t = _return_type("mode", ["values", "indices"])
cummax_t = _return_type("cummax", ["values", "indices"])
cummin_t = _return_type("cummin", ["values", "indices"])
aminmax_t = _return_type("aminmax", ["min", "max"])
histogram_t = _return_type("histogram", ["hist", "bin_edges"])


# -- NaN-ignoring and paired reductions -----------------------------------------------------------

def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero: ``ember.nansum(ember.tensor([1.0, float('nan')])) == 1``."""
    return apply(R["nansum"], (input,), {"dim": F._dim_arg(dim), "keepdim": keepdim,
                                         "dtype": dtype})


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-NaN elements: ``ember.nanmean(ember.tensor([1.0, float('nan'), 3.0]))``
    is 2."""
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype.word}")
    count = F.sum(input.isnan().logical_not(), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(std, mean)`` over ``dim``: ``s, m = ember.std_mean(x, dim=0, correction=0)``."""
    dim, correction = F._correction("std_mean", dim, unbiased, correction)
    return (F.std(input, dim, keepdim=keepdim, correction=correction),
            F.mean(input, dim, keepdim))


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(var, mean)`` over ``dim``: ``v, m = ember.var_mean(x, (0, 1))``."""
    dim, correction = F._correction("var_mean", dim, unbiased, correction)
    return (F.var(input, dim, keepdim=keepdim, correction=correction),
            F.mean(input, dim, keepdim))


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` or all elements: ``ember.aminmax(x, dim=1).max``; gradients
    are shared evenly among ties, as for amin/amax."""
    if input.numel() == 0:
        if dim is None or input.ndim == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        d = wrap_dim(dim, input.ndim, "aminmax")
        if input.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    d = () if dim is None or input.ndim == 0 else dim
    if input.ndim == 0 and dim is not None:
        wrap_dim(dim, 0, "aminmax")
    return aminmax_t(F.amin(input, d, keepdim), F.amax(input, d, keepdim))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements over ``dim`` (an int or a tuple), as int64."""
    return F.sum(input != 0, dim)


# -- scans ----------------------------------------------------------------------------------------

def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``: ``ember.cumsum(ember.tensor([1, 2, 3]), 0)`` is
    ``[1, 3, 6]`` (integers and bool give int64)."""
    return apply(R["cumsum"], (input,), {"dim": dim, "dtype": dtype})


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``; its gradient is exact with zeros in the input."""
    return apply(R["cumprod"], (input,), {"dim": dim, "dtype": dtype})


def cumsum_(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return apply_inplace(R["cumsum"], input, (), {"dim": dim, "dtype": dtype or input.dtype})


def cumprod_(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return apply_inplace(R["cumprod"], input, (), {"dim": dim, "dtype": dtype or input.dtype})


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim`` and the index where each was last attained."""
    return cummax_t(*apply(R["cummax"], (input,), {"dim": dim}))


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim`` and the index where each was last attained."""
    return cummin_t(*apply(R["cummin"], (input,), {"dim": dim}))


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))`` computed stably."""
    return apply(R["logcumsumexp"], (input,), {"dim": dim})


# -- sorting and selection ------------------------------------------------------------------------

def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """Sorted values and their indices along ``dim`` (ties keep their order; see NOTE
    [ Sorting and ties ]): ``v, i = ember.sort(x, descending=True)``."""
    return sort_t(*apply(R["sort"], (input,), {"dim": dim, "descending": descending,
                                               "stable": stable}))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable=stable)[1]


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along dim 0."""
    return sort(input, 0)[0]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, in order."""
    return topk_t(*apply(R["topk"], (input,), {"k": builtins.int(k), "dim": dim,
                                               "largest": largest, "sorted": sorted}))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index."""
    return kthvalue_t(*apply(R["kthvalue"], (input,), {"k": builtins.int(k), "dim": dim,
                                                       "keepdim": keepdim}))


def _median(name, tuple_type):
    full, by_dim = R[name], R[name + "_dim"]

    def fn(input: Tensor, dim=None, keepdim: bool = False):
        if dim is None:
            return apply(full, (input,), {})
        return tuple_type(*apply(by_dim, (input,), {"dim": dim, "keepdim": keepdim}))

    fn.__name__ = fn.__qualname__ = name
    what = "NaNs ignored" if name == "nanmedian" else "NaN if a NaN is present"
    fn.__doc__ = (f"The lower median ({what}): ``ember.{name}(x)`` of all elements, or "
                  f"``ember.{name}(x, dim)`` giving (values, indices).")
    return fn


median = _median("median", median_t)
nanmedian = _median("nanmedian", nanmedian_t)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    last index holding it."""
    return mode_t(*apply(R["mode"], (input,), {"dim": dim, "keepdim": keepdim}))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    # PyTorch's composite: sort, then read (and interpolate) the values at the q-ranks
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.numel() and not builtins.bool(((q >= 0) & (q <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        q = _creation.tensor(q, dtype=input.dtype, device=input.device)
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    nd = input.ndim
    if dim is None:
        x = input.reshape(-1)
    else:
        d = wrap_dim(dim, nd, name)
        x = input.movedim(d, -1) if nd else input.reshape(1)
    s = sort(x, -1)[0].unsqueeze(-2)  # (..., 1, n): one row per q
    n = s.shape[-1]
    qs = q.reshape(-1, 1)
    if ignore_nan:
        ranks = qs * (s.isnan().logical_not().sum(-1, keepdim=True) - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        ranks = F.where(s.isnan().any(-1, keepdim=True), n - 1, qs * (n - 1))
    if interpolation in ("lower", "higher", "nearest"):
        ranks = {"lower": ranks.floor, "higher": ranks.ceil, "nearest": ranks.round}[
            interpolation]()
    below = ranks.long()
    out = s.expand(*below.shape[:-1], n).gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        w = ranks - below if interpolation == "linear" else ranks.new_full(ranks.shape, 0.5)
        above = s.expand(*below.shape[:-1], n).gather(-1, ranks.ceil().long())
        # PyTorch's lerp: from the nearer end
        out = F.where(w < 0.5, out + w * (above - out), above - (above - out) * (1 - w))
    out = out.squeeze(-1)  # (..., nq)
    if keepdim:
        out = out.reshape((1,) * nd + (-1,)) if dim is None else out.unsqueeze(d if nd else 0)
        if dim is not None and nd == 0:
            out = out.squeeze(0)
    out = out.movedim(-1, 0)
    return out.squeeze(0) if q.ndim == 0 else out


@autocast_listed
def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles (a number or 1-D tensor in [0, 1]) over ``dim`` or all elements;
    NaN where a slice holds NaN. ``ember.quantile(x, ember.tensor([0.25, 0.75]), dim=0)``."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


@autocast_listed
def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


# -- unique ---------------------------------------------------------------------------------------

def _pick_outputs(outs, return_inverse, return_counts):
    picked = [outs[0]] + ([outs[1]] if return_inverse else []) + (
        [outs[2]] if return_counts else [])
    return picked[0] if len(picked) == 1 else tuple(picked)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """Sorted unique elements (or slices along ``dim``), optionally with the inverse indices
    and counts: ``u, inv = ember.unique(x, return_inverse=True)``."""
    outs = apply(R["unique"], (input,), {"sorted": sorted, "dim": dim})
    return _pick_outputs(outs, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    outs = apply(R["unique_consecutive"], (input,), {"dim": dim})
    return _pick_outputs(outs, return_inverse, return_counts)


# -- counting and histograms ----------------------------------------------------------------------

def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Occurrences of each value of a 1-D non-negative integer tensor (or summed
    ``weights``): ``ember.bincount(ember.tensor([0, 2, 2]))`` is ``[1, 0, 2]``."""
    return apply(R["bincount"], (input, weights), {"minlength": minlength})


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0)."""
    return apply(R["histc"], (input,), {"bins": bins, "min": min, "max": max})


def histogram(input: Tensor, bins=100, *, range=None, weight=None,  # noqa: A002
              density: bool = False):
    """``(hist, bin_edges)``: ``bins`` equal bins over ``range`` (default: the data's), or
    the given edges tensor; optionally weighted and normalised to a density."""
    params = {"density": density}
    if not isinstance(bins, Tensor):
        params["range"] = None if range is None else tuple(builtins.float(v) for v in range)
    return histogram_t(*apply(R["histogram"], (input, bins, weight), params))


# -- differences, integrals and statistics --------------------------------------------------------

def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``!=`` for bool), after optionally
    concatenating ``prepend`` and ``append``: ``ember.diff(ember.tensor([1, 4, 9]))``."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [t for t in (prepend, input, append) if t is not None]
    if builtins.any(t.ndim != input.ndim for t in parts):
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    d = wrap_dim(dim, input.ndim, "diff")
    x = F.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        k = x.shape[d]
        if k == 0:
            break
        hi, lo = x.narrow(d, 1, k - 1), x.narrow(d, 0, k - 1)
        x = F.logical_xor(hi, lo) if x.dtype is _dtype.bool else hi - lo
    return x


def _trapezoid_parts(name, y, x, dx, dim):
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: give either "
                        "x or dx")
    d = wrap_dim(dim, y.ndim, name)
    if y.dtype is _dtype.bool or isinstance(x, Tensor) and x.dtype is _dtype.bool:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    n = y.shape[d]
    left, right = y.narrow(d, 0, builtins.max(n - 1, 0)), y.narrow(d, builtins.min(n, 1),
                                                                     builtins.max(n - 1, 0))
    if x is None:
        return d, left, right, (1 if dx is None else dx)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        xv = x.view(tuple(n if i == d else 1 for i in range(y.ndim)))
    elif x.ndim < y.ndim:
        xv = x.view((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    else:
        xv = x
    m = xv.shape[d]
    step = xv.narrow(d, builtins.min(m, 1), builtins.max(m - 1, 0)) - \
        xv.narrow(d, 0, builtins.max(m - 1, 0))
    return d, left, right, step


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim`` with sample points ``x`` or spacing ``dx`` (default
    1): ``ember.trapezoid(ember.tensor([1.0, 2.0, 3.0]))`` is 4."""
    d, left, right, step = _trapezoid_parts("trapezoid", y, x, dx, dim)
    if y.shape[d] == 0:
        return _creation.zeros(tuple(s for i, s in enumerate(y.shape) if i != d),
                               dtype=y.dtype, device=y.device)
    if not isinstance(step, Tensor):
        return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * step
    return ((left + right) * step).sum(d) / 2.0


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of ``trapezoid``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one element fewer than ``y``)."""
    d, left, right, step = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    if not isinstance(step, Tensor):
        return (step / 2.0 * (left + right)).cumsum(d)
    return ((left + right) * step).cumsum(d) / 2.0


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance matrix of the variables in the rows of ``input`` (observations in columns),
    optionally with integer frequency and float observation weights."""
    if input.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    if input.dtype is _dtype.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.view(1, -1) if input.ndim < 2 else input
    n = x.shape[1]
    w = None
    for name, t, ok, kind in (("fweights", fweights, lambda dt: dt.category == 1, "integral"),
                              ("aweights", aweights, lambda dt: dt.category == 2,
                               "floating point")):
        if t is None:
            continue
        if t.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                               f"{name} with {t.ndim} dimensions")
        if not ok(t.dtype):
            raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} with "
                               f"{t.dtype.word} dtype")
        if t.numel() != n:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {t.numel()} != {n}")
        if n and builtins.bool(t.min() < 0):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = t if w is None else w * t
    w_sum = w.sum() if w is not None else _creation.tensor(n, device=input.device)
    if w is not None and not builtins.bool(w_sum != 0):
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if builtins.bool(norm <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    xc = x - avg.unsqueeze(1)
    c = F.mm(xc, (xc * w if w is not None else xc).t().conj())
    return F.div(c, norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    if input.ndim > 2:
        raise RuntimeError("corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = (F.real(d) if d.is_complex() else d).sqrt()
    c = c / std.view(-1, 1) / std.view(1, -1)
    if c.is_complex():
        return F.real(c).clamp(-1, 1) + F.imag(c).clamp(-1, 1) * 1j
    return c.clamp(-1, 1)


for _f in (nansum, nanmean, aminmax, count_nonzero, cumsum, cumprod, cumsum_, cumprod_, cummax,
           cummin, logcumsumexp, sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
           quantile, nanquantile, unique, unique_consecutive, bincount, histc, histogram, diff,
           cov, corrcoef):
    _export(_f)
for _f in (std_mean, var_mean, trapezoid, cumulative_trapezoid):
    _export(_f, method=False)
_export(trapz, method=False)
