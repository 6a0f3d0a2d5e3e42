"""Scans, sorting, selection, unique and histogram ops.

# NOTE [ Sorting and ties ]
Every sort here is NumPy's stable sort, so among equal values the smaller index comes first
(``descending=True`` keeps that order too, see NOTE [ Descending stable sort ]; ``topk`` gives
the stable sort's first k, see NOTE [ topk by partition ]). PyTorch's CPU
``sort(stable=False)`` agrees on slices of up to 16 elements (insertion sort) and may order
ties differently on longer ones; its ``topk``, ``kthvalue`` and ``median`` pick tied indices
through a selection algorithm, so only tie-free inputs have one answer. NaN sorts as the
largest value, as in PyTorch. Half types are sorted through float32 (exact). Selection ops
(sort, topk, kthvalue, median, mode) send gradients back by scattering into the chosen
indices; cummax/cummin add them up at the indices (a value may be chosen many times); see
NOTE [ Gather and scatter backward ].
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._creation import _linspace_values
from .index_ops import put_checked, take_along
from .registry import register
from .rules import acc_dtype, is_array, wrap_dim

_HALF = (np.dtype(np.float16), _dtype.bfloat16.np)


def _sortable(x):
    return x.astype(np.float32) if x.dtype in _HALF else x


def _unsupported(kernel, x, kinds="cb"):
    """PyTorch's error for a dtype its CPU kernel ``kernel`` is not built for."""
    if x.dtype.kind in kinds:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_dtype.FROM_NP[x.dtype].word}'")


def _pos(xp, n, d, ndim):
    """``arange(n)`` shaped to broadcast along dim ``d`` of an ``ndim``-d array."""
    return xp.arange(n, dtype=np.int64).reshape([n if i == d else 1 for i in range(ndim)])


def _has_nan(xp, y) -> bool:
    """Whether ``y`` holds a NaN (one reduction; NaN propagates through max)."""
    return y.dtype.kind == "f" and y.size > 0 and bool(xp.isnan(y.max()))


def _sort_key(xp, y, descending):
    """A key whose stable ascending order is the stable order of ``y`` (descending: reversed
    values, ties still by index), or None where there is none (see NOTE [ Descending stable
    sort ])."""
    # NOTE [ Descending stable sort ]
    # An ascending stable sort of an order-reversing key keeps ties in index order, as wanted:
    # ``~y`` (-y - 1) reverses integers and bools exactly, ``-y`` reverses floats without NaN
    # (-0.0 and 0.0 stay tied). NaN, the largest value, would still sort last: with any NaN
    # the slice is reversed, sorted ascending and reversed back instead (two more copies).
    if not descending:
        return y
    if y.dtype.kind in "biu":
        return ~y
    return None if _has_nan(xp, y) else -y


def argsort(xp, x, d, descending=False):
    """Stable argsort along ``d`` (see NOTE [ Sorting and ties ])."""
    y = _sortable(x)
    key = _sort_key(xp, y, descending)
    if key is not None:
        return xp.argsort(key, axis=d, kind="stable")
    idx = xp.argsort(xp.flip(y, d), axis=d, kind="stable")
    return (x.shape[d] - 1) - xp.flip(idx, d)


# -- scans ----------------------------------------------------------------------------------------

def _scan_dtype(x, dtype):
    if dtype is not None:
        return dtype
    dt = _dtype.FROM_NP[x.dtype]
    return _dtype.int64 if dt.category <= 1 else dt


def _scan(name, fn):
    def impl(xp, x, dim, dtype=None):
        d = wrap_dim(dim, x.ndim, name)
        out = _scan_dtype(x, dtype)
        if out is _dtype.bool and x.ndim and x.size:
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
        y = x.astype(acc_dtype(out).np, copy=False)
        r = getattr(xp, fn)(y, axis=d) if x.ndim else y.copy()
        return r.astype(out.np, copy=False)
    return impl


def _flip_cumsum(t, d):
    """``sum`` of the elements at and after each position along ``d``."""
    return t.flip((d,)).cumsum(d).flip((d,))


def _cumsum_vjp(c, g):
    if g.ndim == 0:
        return (g,)
    return (_flip_cumsum(g, wrap_dim(c.params["dim"], g.ndim)),)


def _cumprod_vjp(c, g):
    (x,), out = c.inputs, c.out
    if x.ndim == 0:
        return (g,)
    d = wrap_dim(c.params["dim"], x.ndim)
    if not bool((x == 0).any()):
        return (_flip_cumsum(g * out.conj(), d) / x.conj(),)
    # with zeros, out / x is undefined: d out_k / d x_i is the product of x_j, j <= k, j != i,
    # computed for every (i, k) by a cumprod over copies of the slice with x_i replaced by 1
    from .. import _creation
    n = x.shape[d]
    xm = x.movedim(d, -1)
    eye = _creation.eye(n, dtype=_dtype.bool)
    others = xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n).masked_fill(eye, 1).cumprod(-1)
    upper = _creation.arange(n).unsqueeze(-1) <= _creation.arange(n)  # [i, k]: k >= i
    gi = (others.conj() * g.movedim(d, -1).unsqueeze(-2)).masked_fill(~upper, 0).sum(-1)
    return (gi.movedim(-1, d),)


register("cumsum", _scan("cumsum", "cumsum"), vjp=_cumsum_vjp)
register("cumprod", _scan("cumprod", "cumprod"), save=(0, "out"), vjp=_cumprod_vjp)


def _cum_extreme(name, ufunc):
    def impl(xp, x, dim):
        d = wrap_dim(dim, x.ndim, name)
        _unsupported(f"{name}_cpu", x, "c")
        if x.ndim == 0:
            return x.copy(), xp.zeros((), np.int64)
        y = _sortable(x)
        vals = ufunc.accumulate(y, axis=d)
        # the index is the last position (so far) holding the running extreme; a NaN always
        # takes the index, as in PyTorch's kernel
        hit = y == vals
        if y.dtype.kind == "f":
            hit |= xp.isnan(y)
        idx = xp.where(hit, _pos(xp, x.shape[d], d, x.ndim), 0)
        return vals.astype(x.dtype, copy=False), xp.maximum.accumulate(idx, axis=d)
    return impl


def _cum_extreme_vjp(c, g):
    g = g[0]
    if g is None or g.ndim == 0:
        return (g,)
    d = wrap_dim(c.params["dim"], g.ndim)
    return (put_checked(g.new_zeros(c.in_meta[0][0]), c.out[1], g, d, accumulate=True),)


register("cummax", _cum_extreme("cummax", np.maximum), save=("out",), vjp=_cum_extreme_vjp,
         nout=2)
register("cummin", _cum_extreme("cummin", np.minimum), save=("out",), vjp=_cum_extreme_vjp,
         nout=2)


def _logcumsumexp(xp, x, dim):
    d = wrap_dim(dim, x.ndim, "logcumsumexp")
    dt = _dtype.FROM_NP[x.dtype]
    _unsupported("logcumsumexp_out_cpu", x, "biu")
    y = x.astype(acc_dtype(dt).np, copy=False)
    if x.ndim == 0:
        return x.copy()
    if dt.category == 3:
        return _complex_logcumsumexp(xp, y, d)
    return xp.logaddexp.accumulate(y, axis=d).astype(x.dtype, copy=False)


def _complex_logcumsumexp(xp, y, d):
    """An inclusive scan of log(exp(a) + exp(b)) by doubling (Hillis-Steele): log2(n)
    vectorised steps, each adding the term ``2**k`` places back."""
    r = xp.moveaxis(y, d, -1).copy()
    n, step = r.shape[-1], 1
    while step < n:
        a, b = r[..., step:], r[..., :-step]
        first = a.real >= b.real
        hi, lo = xp.where(first, a, b), xp.where(first, b, a)
        with np.errstate(all="ignore"):
            s = hi + xp.log1p(xp.exp(lo - hi))
        r[..., step:] = xp.where(xp.isneginf(hi.real), hi, s)
        step *= 2
    return xp.moveaxis(r, -1, d)


def _logcumsumexp_vjp(c, g):
    # grad_i = sum_{k >= i} g_k exp(x_i - out_k), summed in log space separately for the
    # positive and negative parts of g so that nothing overflows (as PyTorch and TensorFlow do)
    (x,), out = c.inputs, c.out
    if g.ndim == 0 or g.numel() == 0:
        return (g,)
    d = wrap_dim(c.params["dim"], g.ndim)
    low = _dtype.finfo(g.dtype).min

    def rev_lcse(t):
        return t.flip((d,)).logcumsumexp(d).flip((d,))
    if g.is_complex():  # complex logs carry the sign: one sum
        return ((rev_lcse(g.log() - out.conj()) + x.conj()).exp(),)
    log_abs = g.abs().log()

    def part(mask):
        return (rev_lcse(log_abs.masked_fill(~mask, low) - out) + x).exp()
    return (part(g > 0) - part(g < 0),)


register("logcumsumexp", _logcumsumexp, save=(0, "out"), vjp=_logcumsumexp_vjp)


# -- sorting and selection ------------------------------------------------------------------------

def _select_vjp(c, g):
    """Gradient of a value-selecting op: scattered back into the selected indices."""
    g = g[0]
    shape = c.in_meta[0][0]
    if g is None or not shape:
        return (g,)
    d = wrap_dim(c.params.get("dim", -1), len(shape))
    idx = c.out[1]
    if not c.params.get("keepdim", True):
        g, idx = g.unsqueeze(d), idx.unsqueeze(d)
    return (put_checked(g.new_zeros(shape), idx, g, d),)


def _sort(xp, x, dim=-1, descending=False, stable=False):
    d = wrap_dim(dim, x.ndim, "sort")
    if x.dtype.kind == "c":
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    if x.ndim == 0:
        return x.copy(), xp.zeros((), np.int64)
    idx = argsort(xp, x, d, descending)
    return take_along(xp, x, idx, d), idx


register("sort", _sort, save=("out",), vjp=_select_vjp, nout=2)


def _topk(xp, x, k, dim=-1, largest=True, sorted=True):
    d = wrap_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("topk(): selected index k out of range")
    if x.dtype.kind in "bc":
        raise RuntimeError(f"topk does not support {'bool' if x.dtype.kind == 'b' else 'complex'}"
                           " dtypes on CPU")
    if x.ndim == 0:
        return x.copy(), xp.zeros((), np.int64)
    y = _sortable(x)
    idx = None
    if n >= 64 and 0 < 4 * k <= n and not _has_nan(xp, y):
        idx = _smallest(xp, _sort_key(xp, y, largest), k, d)
    if idx is None:
        idx = argsort(xp, x, d, largest)[(slice(None),) * d + (slice(0, k),)].copy()
    return take_along(xp, x, idx, d), idx


def _smallest(xp, key, k, d):
    """The positions of the ``k`` smallest entries of ``key`` (NaN-free) along ``d`` in stable
    sorted order, or None where a tie straddles the k-th place."""
    # NOTE [ topk by partition ]
    # For k well below the slice length, a partition (O(n)) finds the k smallest, and only
    # they are sorted: stably, after putting them in index order, so the result is the stable
    # sort's first k. This holds as long as no entry past the k-th place ties with the k-th
    # smallest (then more than k entries are <= it); where one does, which of the tied entries
    # come first depends on the index order of the whole slice, and the caller sorts it all.
    key = xp.moveaxis(key, d, -1)
    part = xp.argpartition(key, k - 1, axis=-1)
    kth = take_along(xp, key, part[..., k - 1:k], key.ndim - 1)
    if ((key <= kth).sum(axis=-1) > k).any():
        return None
    sel = xp.sort(part[..., :k], axis=-1)
    order = xp.argsort(take_along(xp, key, sel, key.ndim - 1), axis=-1, kind="stable")
    return xp.ascontiguousarray(xp.moveaxis(take_along(xp, sel, order, key.ndim - 1), -1, d))


register("topk", _topk, save=("out",), vjp=_select_vjp, nout=2)


def _pick(xp, x, d, k, keepdim):
    """Values and indices at sorted position ``k`` (an int, or an array of x's shape but
    with size 1 along ``d``) along ``d``."""
    order = argsort(xp, x, d)
    if not is_array(k):
        idx = order[(slice(None),) * d + (slice(k, k + 1),)].copy()
    else:
        idx = take_along(xp, order, k, d)
    vals = take_along(xp, x, idx, d)
    if not keepdim:
        idx, vals = idx.squeeze(d), vals.squeeze(d)
    return vals, idx


def _selection_input(name, x, dim, kernel, kinds):
    d = wrap_dim(dim, x.ndim, name)
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    _unsupported(kernel, x, kinds)
    return d


def _kthvalue(xp, x, k, dim=-1, keepdim=False):
    d = _selection_input("kthvalue", x, dim, "kthvalue_cpu", "cb" if x.ndim else "c")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if x.ndim == 0:
        return x.copy(), xp.zeros((), np.int64)
    return _pick(xp, x, d, k - 1, keepdim)


register("kthvalue", _kthvalue, save=("out",), vjp=_select_vjp, nout=2)


def _median_rank(xp, x, d, ignore_nan):
    """The sorted position of the lower median of each slice along ``d`` (kept dims): with
    NaN, the first NaN for ``median`` (NaN sorts last, stably), or the median of the other
    values for ``nanmedian``."""
    n = x.shape[d]
    if x.dtype.kind != "f" and x.dtype not in _HALF:
        return (n - 1) // 2
    nan = xp.isnan(_sortable(x)).sum(axis=d, keepdims=True)
    if ignore_nan:
        return xp.maximum((n - nan - 1) // 2, 0)
    return xp.where(nan > 0, n - nan, (n - 1) // 2)


def _median_dim(name, ignore_nan):
    def impl(xp, x, dim=-1, keepdim=False):
        d = _selection_input(name, x, dim, f"{name}_out", "cb")
        if x.ndim == 0:
            return x.copy(), xp.zeros((), np.int64)
        if x.size == 0:
            shape = tuple(1 if i == d else s for i, s in enumerate(x.shape) if keepdim or i != d)
            return xp.empty(shape, x.dtype), xp.empty(shape, np.int64)
        return _pick(xp, x, d, _median_rank(xp, x, d, ignore_nan), keepdim)
    return impl


def _median_all(name, ignore_nan):
    def impl(xp, x):
        if x.size == 0:  # NaN, cast as C++ casts it (True, the lowest integer)
            with np.errstate(invalid="ignore"):
                return xp.asarray(np.nan).astype(x.dtype)
        _unsupported(f"{name}_cpu", x)
        y = x.reshape(-1)
        return _pick(xp, y, 0, _median_rank(xp, y, 0, ignore_nan), False)[0]
    return impl


def _even_vjp(c, g):
    """Gradient of a value shared evenly among the elements equal to it (the NaNs, when it
    is NaN)."""
    (x,), out = c.inputs, c.out
    mask = (x == out) | (x.isnan() & out.isnan())
    return (mask * (g / mask.sum()),)


register("median", _median_all("median", False), save=(0, "out"), vjp=_even_vjp,
         backward_name="MedianBackward0")
register("nanmedian", _median_all("nanmedian", True), save=(0, "out"), vjp=_even_vjp,
         backward_name="NanmedianBackward0")
register("median_dim", _median_dim("median", False), save=("out",), vjp=_select_vjp, nout=2,
         backward_name="MedianBackward1")
register("nanmedian_dim", _median_dim("nanmedian", True), save=("out",), vjp=_select_vjp,
         nout=2, backward_name="NanmedianBackward1")


def _mode(xp, x, dim=-1, keepdim=False):
    d = _selection_input("mode", x, dim, "mode_cpu", "c")
    if x.ndim == 0:
        return x.copy(), xp.zeros((), np.int64)
    if x.size == 0:
        shape = tuple(1 if i == d else s for i, s in enumerate(x.shape) if keepdim or i != d)
        return xp.empty(shape, x.dtype), xp.empty(shape, np.int64)
    # the most frequent value (the smallest among equally frequent ones) and the last index
    # holding it: runs of the stably sorted slice, each ending at the largest index of its value
    order = xp.moveaxis(argsort(xp, x, d), d, -1)
    s = take_along(xp, xp.moveaxis(_sortable(x), d, -1), order, x.ndim - 1)
    n = s.shape[-1]
    pos = xp.arange(n, dtype=np.int64)
    new = xp.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    start = xp.maximum.accumulate(xp.where(new, pos, 0), axis=-1)
    last = xp.ones(s.shape, bool)
    last[..., :-1] = new[..., 1:]
    count = xp.where(last, pos - start + 1, 0)
    at = xp.argmax(count, axis=-1)[..., None]
    idx = xp.moveaxis(take_along(xp, order, at, x.ndim - 1), -1, d)
    vals = take_along(xp, x, idx, d)
    if not keepdim:
        idx, vals = idx.squeeze(d), vals.squeeze(d)
    return vals, idx


register("mode", _mode, save=("out",), vjp=_select_vjp, nout=2)


# -- unique ---------------------------------------------------------------------------------------

def _unique(xp, x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique values (NaNs are each unique, as in PyTorch), the inverse indices and the
    counts; along ``dim``, unique slices in lexicographic order."""
    _unsupported("unique", x, "c")
    if dim is None:
        y = _sortable(x).reshape(-1)
        order = xp.argsort(y, kind="stable")
        s = y[order]
        new = xp.ones(s.shape, bool)
        new[1:] = s[1:] != s[:-1]
        vals = x.reshape(-1)[order][new]
        inv_sorted = xp.cumsum(new) - 1
        inverse = xp.empty(y.shape, np.int64)
        inverse[order] = inv_sorted
        counts = xp.diff(xp.append(xp.flatnonzero(new), y.size)).astype(np.int64)
        return vals, inverse.reshape(x.shape), counts
    d = wrap_dim(dim, x.ndim, "unique")
    m = xp.moveaxis(_sortable(x), d, 0).reshape(x.shape[d] if x.ndim else 1, -1)
    order = np.lexsort(m.T[::-1]) if m.size else xp.arange(m.shape[0])
    s = m[order]
    new = xp.ones(s.shape[0], bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    vals = xp.take(x, order[new], axis=d) if x.ndim else x.copy()
    inverse = xp.empty(m.shape[0], np.int64)
    inverse[order] = xp.cumsum(new) - 1
    counts = xp.diff(xp.append(xp.flatnonzero(new), m.shape[0])).astype(np.int64)
    return vals, inverse, counts


def _unique_consecutive(xp, x, return_inverse=False, return_counts=False, dim=None):
    _unsupported("unique", x, "c")
    if dim is None:
        y = x.reshape(-1)
        new = xp.ones(y.shape, bool)
        new[1:] = y[1:] != y[:-1]
        vals, inverse = y[new], (xp.cumsum(new) - 1).reshape(x.shape)
    else:
        d = wrap_dim(dim, x.ndim, "unique_consecutive")
        m = xp.moveaxis(x, d, 0).reshape(x.shape[d] if x.ndim else 1, -1)
        new = xp.ones(m.shape[0], bool)
        new[1:] = (m[1:] != m[:-1]).any(axis=1)
        vals = xp.compress(new, x, axis=d) if x.ndim else x.copy()
        inverse = xp.cumsum(new) - 1
    counts = xp.diff(xp.append(xp.flatnonzero(new), new.size)).astype(np.int64)
    return vals, inverse.astype(np.int64, copy=False), counts


register("unique", _unique, nout=3)
register("unique_consecutive", _unique_consecutive, nout=3)


# -- counting and histograms ----------------------------------------------------------------------

def _bincount(xp, x, weights=None, minlength=0):
    dt = _dtype.FROM_NP[x.dtype]
    if dt.category != 1:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{dt.word}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != x.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is None:
        return xp.bincount(x, minlength=minlength).astype(np.int64)
    out = np.float32 if weights.dtype == np.float32 else np.float64
    if x.size == 0:
        return xp.zeros(minlength, np.int64)  # as PyTorch: no weights to take a dtype from
    return xp.bincount(x, weights.astype(np.float64), minlength=minlength).astype(out)


register("bincount", _bincount)


def _float_input(name, x):
    dt = _dtype.FROM_NP[x.dtype]
    if dt.category != 2:
        raise NotImplementedError(f"\"{name}\" not implemented for '{dt.word}'")


def _count_bins(xp, x, edges, weight, pos):
    """Sum ``weight`` (or 1) of the elements of ``x`` into bins ``pos`` (elements outside the
    edges or NaN dropped; the last bin includes its right edge)."""
    bins = edges.shape[0] - 1
    y = x.reshape(-1)
    keep = (y >= edges[0]) & (y <= edges[-1])
    pos = xp.minimum(pos.reshape(-1)[keep], bins - 1)
    w = None if weight is None else weight.reshape(-1)[keep].astype(np.float64)
    return xp.bincount(pos, w, minlength=bins).astype(x.dtype)


def _linear_pos(xp, x, lo, hi, bins):
    # PyTorch's LINEAR_INTERPOLATION, each step rounded to the input dtype as in C++
    t = x.dtype.type
    with np.errstate(all="ignore"):
        p = (x - t(lo)) * t(bins) / (t(hi) - t(lo))
    return xp.where(xp.isfinite(p), p, -1).astype(np.int64)


def _histc(xp, x, bins=100, min=0, max=0):  # noqa: A002
    _float_input("histogram_cpu", x)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_g(lo)}, {_g(hi)}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    edges = xp.asarray(_linspace_values(lo, hi, bins + 1, _dtype.FROM_NP[x.dtype]))
    return _count_bins(xp, x, edges, None, _linear_pos(xp, x, edges[0], edges[-1], bins))


def _g(v):
    return f"{v:g}"


register("histc", _histc)


def _histogram(xp, x, bins, weight=None, range=None, density=False):  # noqa: A002
    _float_input("histogram_cpu", x)
    if weight is not None and weight.shape != x.shape:
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided it should have the same shape as "
            f"the input tensor excluding its innermost dimension, but got input with shape "
            f"{list(x.shape) + [1]} and weight with shape {list(weight.shape)}")
    if isinstance(bins, int):
        if bins <= 0:
            raise RuntimeError(
                f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        lo, hi = (float(v) for v in range) if range is not None else (
            (float(x.min()), float(x.max())) if x.size else (0.0, 1.0))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_g(lo)}, {_g(hi)}] "
                               "is not finite")
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{_g(lo)} max {_g(hi)} for dimension 0")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = xp.asarray(_linspace_values(lo, hi, bins + 1, _dtype.FROM_NP[x.dtype]))
        # linear interpolation, then the neighbouring edges decide (PyTorch's local search)
        p = _linear_pos(xp, x, edges[0], edges[-1], bins)
        p = xp.clip(p, 0, bins)
        p = p - (x < edges[p]) + (x >= edges[xp.minimum(p + 1, bins)])
    else:
        if bins.dtype != x.dtype:
            raise RuntimeError(
                "torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                f"but got input with dtype {_dtype.FROM_NP[x.dtype].word.lower()} and bins for "
                f"dimension 0 with dtype {_dtype.FROM_NP[bins.dtype].word.lower()}")
        if bins.ndim != 1 or bins.shape[0] < 1:
            raise RuntimeError("torch.histogramdd: bins tensor should have one dimension and at "
                               "least 1 element")
        edges = bins.copy()
        p = xp.searchsorted(edges, x, side="right") - 1
    if weight is not None and weight.dtype != x.dtype:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided, it should have the "
                           "same dtype as the input tensor")
    hist = _count_bins(xp, x, edges, weight, p) if edges.shape[0] > 1 else \
        xp.zeros(0, x.dtype)
    if density:
        with np.errstate(all="ignore"):
            hist = hist / hist.sum() / xp.diff(edges)
    return hist.astype(x.dtype, copy=False), edges


register("histogram", _histogram, nout=2)
