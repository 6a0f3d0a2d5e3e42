"""Indexing: ``x[index]`` and ``x[index] = v`` as PyTorch reads them, take/put, gather/scatter
(with reductions), the ``index_*`` family, masked ops, nonzero and searchsorted.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..backends import _BY_ARRAY_TYPE
from .registry import REGISTRY, register
from .rules import is_array, operand, wrap_dim

_INDEX_DTYPES = "tensors used as indices must be long, int, byte or bool tensors"
_INT_OR_NONE = (int, type(None))
_ALL = slice(None)


# -- x[index]: PyTorch's reading of an index ------------------------------------------------------
#
# NOTE [ Advanced indexing ]
# PyTorch (``applySlicing``) first applies the basic items of an index (ints, slices, None,
# Ellipsis, Python bools) as a view, then indexes that view with the tensor items, each bool
# mask expanded by nonzero() into one long index per masked dim. NumPy differs where an int
# sits among tensor indices: ``x[1, :, [0, 1]]`` is (5, 2) in PyTorch (the int is a select),
# (2, 5) in NumPy (the int broadcasts with the list). So ``convert_index`` splits an index the
# same way: a basic index for the ``getitem`` view and an advanced one for the ``index`` op on
# that view, a tuple of int arrays and ``slice(None)`` in which NumPy's placement rule of the
# indexed dims (adjacent: in place; separated: first) is PyTorch's. Bounds, broadcasting and
# mask shapes are checked here, with PyTorch's messages.

def _as_items(index) -> tuple:
    if type(index) is tuple:
        return index
    if type(index) is list and len(index) < 32 and any(
            isinstance(v, (Tensor, list, tuple, slice)) or v is None or v is Ellipsis
            for v in index):
        # PyTorch still reads such a list as a tuple (NumPy's legacy rule), with a warning
        warnings.warn(
            "Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
            "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this "
            "will be interpreted as tensor index, x[torch.tensor(seq)], which will result either "
            "in an error or a different result", UserWarning, stacklevel=4)
        return tuple(index)
    return (index,)


def _index_item(it):
    """One item as an int, slice, None, Ellipsis, bool or index array (bool or integer)."""
    if isinstance(it, Tensor):
        a = it._data
        if a.dtype == np.uint8:
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                          "torch.bool instead.", UserWarning, stacklevel=5)
            a = a.astype(np.bool_)
        elif a.dtype != np.bool_ and a.dtype != np.int64 and a.dtype != np.int32:
            raise IndexError(_INDEX_DTYPES)
        if a.ndim == 0:
            return bool(a) if a.dtype == np.bool_ else int(a)
        return a
    if isinstance(it, slice):
        if it.step is not None and _index_int(it.step) <= 0:
            raise ValueError("step must be greater than zero")
        return it
    if it is None or it is Ellipsis or isinstance(it, bool):
        return it
    if isinstance(it, (list, tuple, np.ndarray)):
        a = np.asarray([_index_int(v) if isinstance(v, Tensor) else v for v in it]
                       if not isinstance(it, np.ndarray) else it)
        if a.dtype.kind in "fiu":
            a = a.astype(np.int64, copy=False)  # a list of numbers is a long index in PyTorch
        elif a.dtype.kind != "b":
            raise IndexError(_INDEX_DTYPES)
        return a
    return _index_int(it)


def _index_int(v) -> int:
    try:
        return v.__index__()
    except (AttributeError, TypeError):
        raise TypeError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            f"valid indices (got {type(v).__name__})") from None


def convert_index(index, x) -> tuple[tuple, bool, tuple | None]:
    """``x[index]`` for a backend array ``x`` as (basic index, whether the basic index is
    trivial, advanced index of the basic view or None); see NOTE [ Advanced indexing ]."""
    t = type(index)
    if t is int and x.ndim and -x.shape[0] <= index < x.shape[0]:  # fast paths: ``x[0]``,
        return (index,), False, None
    if t is slice and index.step is None and type(index.start) in _INT_OR_NONE and \
            type(index.stop) in _INT_OR_NONE and x.ndim:  # ``x[1:3]``,
        return (index,), index == _ALL, None
    if t is Tensor and x.ndim:  # ``x[idx]``, ``x[mask]``
        a = index._data
        if a.dtype == np.int64 or a.dtype == np.int32:
            if a.ndim:
                return (), True, (a,)
        elif a.dtype == np.bool_ and 0 < a.ndim <= x.ndim and a.shape == x.shape[:a.ndim]:
            return (), True, (a,)
    if t is tuple and len(index) <= x.ndim:  # ``x[:, 1:3]``, ``x[idx, 2:4]``
        simple = _simple_index(index, x)
        if simple is not None:
            return simple
    items = [_index_item(it) for it in _as_items(index)]
    shape, nd = x.shape, x.ndim
    used = sum(it.ndim if is_array(it) and it.dtype == np.bool_ else 1 for it in items
               if it is not None and it is not Ellipsis and not isinstance(it, bool))
    if used > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    basic, adv, vshape, masks = [], [], [], []
    trivial, has_adv, sd = True, False, 0  # sd: the dim of x the next item indexes
    for it in items:
        if it is None or isinstance(it, bool):
            basic.append(None)
            # PyTorch indexes the new dim of a bool with a long tensor: [0] or []
            adv.append(None if it is None else np.zeros(int(it), np.int64))
            vshape.append(1)
            trivial = False
            has_adv = has_adv or it is not None
        elif it is Ellipsis:
            k = nd - used
            basic.append(Ellipsis)
            adv += [None] * k
            vshape += shape[sd:sd + k]
            sd += k
        elif isinstance(it, int):
            n = shape[sd]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {len(vshape)} with "
                                 f"size {n}")
            basic.append(it)
            sd += 1
            trivial = False
        elif isinstance(it, slice):
            basic.append(it)
            adv.append(None)
            vshape.append(len(range(*it.indices(shape[sd]))))
            sd += 1
            trivial = trivial and it == slice(None)
        else:
            # a bool mask stays one item over its dims: NumPy reads it as PyTorch does
            k = it.ndim if it.dtype == np.bool_ else 1
            if it.dtype == np.bool_:
                masks.append((it, len(vshape)))
            basic += [slice(None)] * k
            adv.append(it)
            vshape += shape[sd:sd + k]
            sd += k
            has_adv = True
    if not has_adv:
        return tuple(basic), trivial, None
    vshape += shape[sd:]
    for m, d in masks:
        for j, n in enumerate(m.shape):
            if n != vshape[d + j]:
                raise IndexError(
                    f"The shape of the mask {list(m.shape)} at index {j} does not match the "
                    f"shape of the indexed tensor {vshape} at index {d + j}")
    while adv[-1] is None:
        adv.pop()
    xp = _BY_ARRAY_TYPE[type(x)].xp
    return tuple(basic), trivial, tuple(
        slice(None) if a is None else a if type(a) is type(x) else xp.asarray(a) for a in adv)


def _simple_index(index: tuple, x):
    """``convert_index`` for a tuple of only in-range Python ints, slices of ints (with no step
    or a positive one) and integer index tensors of x's device with at least one dim, each
    item reading one dim (``x[:, 1:3]``, ``x[idx, 2:5]``); None for any other index, which the
    general reading handles (and reports)."""
    basic, adv, trivial = [], [], True
    for n, it in zip(x.shape, index):
        t = type(it)
        if t is slice:
            step = it.step
            if type(it.start) not in _INT_OR_NONE or type(it.stop) not in _INT_OR_NONE or \
                    step is not None and (type(step) is not int or step <= 0):
                return None
            basic.append(it)
            adv.append(_ALL)
            trivial = trivial and it == _ALL
        elif t is int:
            if not -n <= it < n:
                return None
            basic.append(it)
            trivial = False
        elif t is Tensor:
            a = it._data
            if not a.ndim or a.dtype != np.int64 and a.dtype != np.int32 or \
                    type(a) is not type(x):
                return None
            basic.append(_ALL)
            adv.append(a)
        else:
            return None
    while adv and adv[-1] is _ALL:
        adv.pop()
    return tuple(basic), trivial, tuple(adv) if adv else None


def _index_error(e: IndexError, shape, index) -> IndexError:
    """PyTorch's message for a failed advanced index, worked out only on failure: an index
    out of bounds names its position among the index tensors, a broadcast failure lists the
    index shapes."""
    if not all(is_array(a) or a == slice(None) for a in index):
        return IndexError(str(e).replace("axis", "dimension"))
    d, k, shapes = 0, 0, []
    for a in index:
        if not is_array(a):
            d += 1
        elif a.dtype == np.bool_:
            d, k = d + a.ndim, k + a.ndim
            shapes += [[int(a.sum())]] * a.ndim
        else:
            n = shape[d]
            if not _in_range(a + n, 2 * n):
                return IndexError(f"index {_bad_entry(a, n, -n)} is out of bounds for dimension "
                                  f"{k} with size {n}")
            d, k = d + 1, k + 1
            shapes.append(list(a.shape))
    return IndexError("shape mismatch: indexing tensors could not be broadcast together with "
                      f"shapes {', '.join(map(str, shapes))}")


def _index(xp, x, index):
    try:
        return x[index]
    except IndexError as e:
        raise _index_error(e, x.shape, index) from None


def _index_vjp(c, g):
    return (index_put(g.new_zeros(c.in_meta[0][0]), g, index=c.params["index"], accumulate=True),)


register("index", _index, vjp=_index_vjp)


def _index_put(xp, x, values, index, accumulate=False):
    y = x.copy()
    _index_put_into(xp, y, values, index, accumulate)
    return y


def _index_put_into(xp, y, values, index, accumulate):
    v = operand(xp, values, _dtype.FROM_NP[y.dtype]) if not is_array(values) else values
    try:
        if accumulate:
            xp.add.at(y, index, v.astype(y.dtype, copy=False))
        else:
            y[index] = v
    except IndexError as e:
        raise _index_error(e, y.shape, index) from None
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to "
            f"indexing result of shape {list(y[index].shape)}") from None


def _index_put_vjp(c, g):
    p = c.params
    gx = g if p.get("accumulate") else INDEX_PUT(g, 0.0, index=p["index"])
    gv = None
    if c.needs_input_grad[1]:
        gv = (INDEX if any(is_array(i) for i in p["index"]) else GETITEM)(g, index=p["index"])
    return gx, gv


INDEX = REGISTRY["index"]
GETITEM = REGISTRY["getitem"]
INDEX_PUT = register("index_put", _index_put, vjp=_index_put_vjp)


def _index_put_inplace(xp, dst, values, index, accumulate=False):
    _index_put_into(xp, dst, values, index, accumulate)


INDEX_PUT.inplace = _index_put_inplace


def index_put(x, values, index, accumulate=False):
    return INDEX_PUT(x, values, index=index, accumulate=accumulate)


# -- flat take / put (positions in the row-major flattening) --------------------------------------

def _check_flat(name, x, index):
    n = x.size
    if index.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_dtype.FROM_NP[index.dtype].word}")
    if index.size and n == 0:
        raise IndexError(f"{name}(): tried to take from an empty tensor")
    if not _in_range(index + n, 2 * n):
        raise IndexError(f"out of range: tried to access index {_bad_entry(index, n, -n)} on a "
                         f"tensor of {n} elements.")


def _take(xp, x, index):
    _check_flat("take", x, index)
    return x.reshape(-1)[index]


def _put(xp, x, index, source, accumulate=False):
    _check_flat("put_", x, index)
    y = x.copy()
    flat = y.reshape(-1)
    if is_array(source):
        if source.dtype != x.dtype:
            raise RuntimeError(
                f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                f"{_dtype.FROM_NP[x.dtype].word} and source.dtype = "
                f"{_dtype.FROM_NP[source.dtype].word}")
        if source.size != index.size:
            raise IndexError(
                f"put_(): Expected source and index to have the same number of elements, but "
                f"got source.numel() = {source.size}, index.numel() = {index.size}")
        src = source.reshape(-1)
    else:  # a number (internal uses: the VJPs of put and of views)
        src = xp.broadcast_to(operand(xp, source, _dtype.FROM_NP[y.dtype]), (index.size,))
    if accumulate:
        xp.add.at(flat, index.reshape(-1), src)
    else:
        flat[index.reshape(-1)] = src
    return y


def _put_vjp(c, g):
    index = c.inputs[1]
    gx = g if c.params.get("accumulate") else PUT(g, index, 0.0)
    gs = TAKE(g, index).reshape(c.in_meta[2][0]) if c.needs_input_grad[2] else None
    return gx, None, gs


TAKE = register("take", _take, save=(1,), vjp=lambda c, g: (
    PUT(g.new_zeros(c.in_meta[0][0]), c.inputs[1], g.reshape(-1), accumulate=True), None))
PUT = register("put", _put, save=(1,), vjp=_put_vjp)


def take_flat(t, index_array):
    """``t.flatten()[index]`` for a backend index array (used by view backward)."""
    return TAKE(t, _make(index_array))


def put_flat(t, index_array, src, accumulate=False):
    if isinstance(src, Tensor):
        src = src.expand(index_array.shape).reshape(-1)
    return PUT(t, _make(index_array), src, accumulate=accumulate)


# -- gather / scatter -----------------------------------------------------------------------------

def _along(xp, index, dim):
    """The advanced index selecting ``index`` along ``dim`` and position elsewhere."""
    idx = []
    for k in range(index.ndim):
        if k == dim:
            idx.append(index)
        else:
            shape = [1] * index.ndim
            shape[k] = index.shape[k]
            idx.append(xp.arange(index.shape[k]).reshape(shape))
    return tuple(idx)


def take_along(xp, x, index, d):
    """``x`` at ``index`` along dim ``d``: gather without checks (``d`` wrapped, ``x.ndim``
    >= 1, ``index`` in range). Several times cheaper than ``take_along_axis`` on small
    inputs."""
    return x[_along(xp, index, d)]


# NOTE [ Index bounds in one pass ]
# An integer index viewed as unsigned reads a negative entry as a huge number, so a single max
# over the view checks both ends of ``0 <= i < n``; the offending entry is looked for only when
# the check fails.
_UNSIGNED = {8: np.uint64, 4: np.uint32, 2: np.uint16, 1: np.uint8}


def _in_range(index, n) -> bool:
    """Whether every entry of the integer array ``index`` is in ``[0, n)``."""
    return not index.size or bool(index.view(_UNSIGNED[index.itemsize]).max() < n)


def _bad_entry(index, n, lo=0) -> int:
    """The entry of ``index`` that PyTorch names as out of ``[lo, n)``: the first one."""
    flat = index.reshape(-1)
    return int(flat[(flat < lo) | (flat >= n)][0])


def _check_gather(name, x, index, dim, src=None):
    if index.dtype != np.int64 and index.dtype != np.int32:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    src_array = src is not None and is_array(src)
    if src_array and src.dtype != x.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as "
            f"{'input' if name == 'gather' else 'self'} tensor")
    d = wrap_dim(dim, x.ndim, name)
    size = x.shape[d] if x.ndim else 1
    if src_array and src.ndim != index.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ishape = index.shape
    if ishape != x.shape or src_array and src.shape != ishape:
        _check_gather_shapes(name, x, index, d, src if src_array else None)
    if not _in_range(index, size):
        raise RuntimeError(f"index {_bad_entry(index, size)} is out of bounds for dimension {d} "
                           f"with size {size}")
    return d


def _check_gather_shapes(name, x, index, d, src):
    """The index may be no larger than x (but along ``d``) and src."""
    big_x = any(k != d and index.shape[k] > x.shape[k] for k in range(index.ndim))
    big_src = src is not None and any(i > n for i, n in zip(index.shape, src.shape))
    if not (big_x or big_src):
        return
    what = f"expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart " \
           f"from dimension {d}"
    if name == "gather" and big_x:
        bad = next(k for k in range(index.ndim) if k != d and index.shape[k] > x.shape[k])
        raise RuntimeError(f"Size does not match at dimension {bad} {what}")
    raise RuntimeError(f"E{what[1:]} and to be no larger size than src {list(src.shape)}"
                       if src is not None else f"E{what[1:]}")


def _gather(xp, x, index, dim):
    d = _check_gather("gather", x, index, dim)
    if x.ndim == 0:
        return xp.broadcast_to(x, index.shape).copy()
    return take_along(xp, x, index, d)


def _scatter_args(xp, name, x, index, src, dim):
    """The output copy, the advanced index to write into it and the index-shaped source."""
    d = _check_gather(name, x, index, dim, src)
    y = x.copy()
    if is_array(src):
        if src.ndim and src.shape != index.shape:
            src = src[tuple(slice(0, n) for n in index.shape)]
    else:
        src = operand(xp, src, _dtype.FROM_NP[y.dtype])
    if src.shape != index.shape:
        src = xp.broadcast_to(src, index.shape)
    return y, (_along(xp, index, d) if y.ndim else ()), src


def _scatter(xp, x, index, src, dim, reduce=None):
    y, idx, src = _scatter_args(xp, "scatter", x, index, src, dim)
    if reduce is None:
        y[idx] = src
    elif reduce == "add":
        xp.add.at(y, idx, src)
    elif reduce == "multiply":
        xp.multiply.at(y, idx, src)
    else:
        raise RuntimeError("reduce argument must be either add or multiply.")
    return y


def _pad_to(t, shape):
    """``t`` in the leading corner of a zero tensor of ``shape`` (scatter's src may be larger
    than its index)."""
    if tuple(t.shape) == tuple(shape):
        return t
    if not shape:
        return t.reshape(())
    return INDEX_PUT(t.new_zeros(shape), t, index=tuple(slice(0, n) for n in t.shape))


# NOTE [ Gather and scatter backward ]
# The backward of gather, scatter and the selection ops (sort, topk, ...) reads or writes at an
# index the forward has checked, so it runs as the ``index``/``index_put`` op on ``_along``'s
# advanced index instead of as gather/scatter again: no second check (a third of a small
# gather's cost). The VJPs of those ops are gather/scatter's in turn, so higher derivatives
# are unchanged. A 0-d input (broadcast by gather) keeps the gather/scatter ops.

def _along_t(index, ndim, dim):
    a = index._data
    return _along(_BY_ARRAY_TYPE[type(a)].xp, a, wrap_dim(dim, ndim))


def take_checked(t, index, dim):
    """``t.gather(dim, index)`` for an index checked against ``t``'s shape."""
    return INDEX(t, index=_along_t(index, t.ndim, dim)) if t.ndim else GATHER(t, index, dim=dim)


def put_checked(t, index, src, dim, accumulate=False):
    """``t.scatter(dim, index, src)`` (``scatter_add`` if ``accumulate``) for an index checked
    against ``t``'s shape and a source (tensor or number) of the index's shape."""
    if not t.ndim:
        return (SCATTER_ADD if accumulate else SCATTER)(t, index, src, dim=dim)
    return INDEX_PUT(t, src, index=_along_t(index, t.ndim, dim), accumulate=accumulate)


def _scatter_vjp(c, g):
    if c.params.get("reduce") is not None:
        raise RuntimeError("derivative for aten::scatter is not implemented")
    index, dim = c.inputs[1], c.params["dim"]
    gx = put_checked(g, index, 0.0, dim) if c.needs_input_grad[0] else None
    gs = None
    if c.needs_input_grad[2]:
        gs = _pad_to(take_checked(g, index, dim), c.in_meta[2][0])
    return gx, None, gs


def _scatter_add_vjp(c, g):
    index, dim = c.inputs[1], c.params["dim"]
    gs = None
    if c.needs_input_grad[2]:
        gs = _pad_to(take_checked(g, index, dim), c.in_meta[2][0])
    return g, None, gs


GATHER = register("gather", _gather, save=(1,), vjp=lambda c, g: (put_checked(
    g.new_zeros(c.in_meta[0][0]), c.inputs[1], g, c.params["dim"], accumulate=True), None))
SCATTER = register("scatter", _scatter, save=(1,), vjp=_scatter_vjp,
                   backward_name=lambda node: f"ScatterBackward{int(node.in_meta[2] is None)}")
SCATTER_ADD = register("scatter_add", lambda xp, x, index, src, dim: _scatter(
    xp, x, index, src, dim, reduce="add"), save=(1,), vjp=_scatter_add_vjp)


# -- reductions into positions: scatter_reduce and index_reduce -----------------------------------

_UFUNC = {"sum": "add", "prod": "multiply", "mean": "add", "amax": "maximum", "amin": "minimum"}


def _identity(reduce, dt):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dt.kind in "fc" or dt == _dtype.bfloat16.np else np.iinfo(dt).max
    return -big if reduce == "amax" else big


def _reduce_into(xp, y, idx, src, reduce, include_self, count_shape=None):
    """``y[idx] (reduce)= src`` elementwise with repeats; mean divides by the number of values
    (integers round down, as in PyTorch)."""
    if not include_self:
        y[idx] = _identity(reduce, y.dtype)
    getattr(xp, _UFUNC[reduce]).at(y, idx, src)
    if reduce == "mean":
        n = xp.full(y.shape, 1 if include_self else 0, dtype=np.int64)
        xp.add.at(n, idx, 1)
        n = xp.maximum(n, 1)
        if y.dtype.kind in "fc" or y.dtype == _dtype.bfloat16.np:
            y[...] = y / n.astype(y.dtype)
        else:
            y[...] = xp.floor_divide(y, n.astype(y.dtype))
    return y


def _scatter_reduce(xp, x, index, src, dim, reduce, include_self=True):
    if reduce not in _UFUNC:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    y, idx, src = _scatter_args(xp, "scatter", x, index, src, dim)
    return _reduce_into(xp, y, idx, src, reduce, include_self)


def _reduce_vjp(gather, add_at, fill_at, reduce_op, source=lambda c: c.inputs[2]):
    """PyTorch's backward of scatter_reduce and index_reduce, written once over their
    gather-like (``gather``), scatter-add-like (``add_at``), fill-positions (``fill_at``) and
    forward (``reduce_op``) functions of (tensor, node); ``source`` is the part of the source
    that is used."""
    def vjp(c, g):
        x, src, result = c.inputs[0], source(c), c.out
        p = c.params
        reduce, include_self = p["reduce"], p.get("include_self", True)
        if reduce == "sum":
            gx, gs = g, gather(g, c)
        elif reduce == "prod":
            masked_x = x.masked_fill(x == 0, 1)
            gx = g * reduce_op(masked_x, src, c) / masked_x
            src_zero = src == 0
            nzeros = gather(add_at(x.new_zeros(x.shape), src_zero.to(x.dtype), c), c)
            single = src_zero & (nzeros == 1)
            masked_src_result = reduce_op(x, src.masked_fill(single, 1), c)
            gs = REGISTRY["where"](single, gather(g * masked_src_result, c),
                                   gather(g * result, c) / src.masked_fill(src_zero, 1))
        elif reduce == "mean":
            n = (g.new_ones(g.shape) if include_self else g.new_zeros(g.shape))
            n = add_at(n, src.new_ones(src.shape), c)
            n = n.masked_fill(n == 0, 1)
            gx, gs = g / n, gather(g, c) / gather(n, c)
        else:
            value = gather(result, c)
            x_is = (x == result).to(x.dtype)
            src_is = (src == value).to(x.dtype)
            dist = g / add_at(x_is, src_is, c)
            gx, gs = x_is * dist, src_is * gather(dist, c)
        if not include_self:
            gx = fill_at(gx, c)
        return gx, None, _pad_to(gs, c.in_meta[2][0])
    return vjp


def _dim(c):
    return c.params["dim"]


def _scattered(c):
    """The part of scatter's source that is used: its leading corner of the index's shape."""
    index, src = c.inputs[1], c.inputs[2]
    if tuple(src.shape) == tuple(index.shape):
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


SCATTER_REDUCE = register("scatter_reduce", _scatter_reduce, save=(0, 1, 2, "out"), vjp=_reduce_vjp(
    lambda t, c: take_checked(t, c.inputs[1], _dim(c)),
    lambda base, t, c: put_checked(base, c.inputs[1], t, _dim(c), accumulate=True),
    lambda t, c: put_checked(t, c.inputs[1], 0.0, _dim(c)),
    lambda x, src, c: SCATTER_REDUCE(x, c.inputs[1], src, **c.params), _scattered),
    backward_name="ScatterReduceBackward0")


# -- the index_* family: whole slices along one dim -----------------------------------------------

def _check_index_vector(name, index, dtypes=(np.int64, np.int32)):
    if index.dtype not in dtypes:
        if name == "index_select":
            raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
        if name == "index_fill_":
            raise IndexError("index_fill_(): Expected dtype int64 for index.")
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_dtype.FROM_NP[index.dtype].word}")
    if index.ndim > 1:
        if name == "index_select":
            raise IndexError("index_select(): Index is supposed to be a vector")
        raise IndexError(
            f"{name}(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
            f"{_dtype.FROM_NP[index.dtype].word} and size: {list(index.shape)}")
    return index.reshape(-1)


def _check_bounds(index, n, msg, negative=False, error=IndexError):
    """PyTorch's index_* ops take no negative index but index_fill."""
    if not (_in_range(index + n, 2 * n) if negative else _in_range(index, n)):
        raise error(msg.format(bad=_bad_entry(index, n, -n if negative else 0), n=n))


def _moved(x, d):
    """``x`` (0-d read as 1-d) with ``d`` moved first: a view the ``index_*`` ops write into."""
    return (x.reshape(1) if x.ndim == 0 else x).swapaxes(0, d)


def _check_source(name, x, index, source, d):
    if source.dtype != x.dtype:
        s, t = _dtype.FROM_NP[x.dtype].word, _dtype.FROM_NP[source.dtype].word
        if name == "index_copy_":
            raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                               f"but got (self) {s} and (source) {t}")
        raise RuntimeError(f"{name}(): self ({s}) and source ({t}) must have the same scalar "
                           "type")
    xs, ss = list(x.shape), list(source.shape)
    if x.ndim != source.ndim or any(a != b for k, (a, b) in enumerate(zip(xs, ss)) if k != d):
        raise RuntimeError(
            f"source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {xs} source.shape = {ss}")
    n = source.shape[d] if source.ndim else 1
    if n != index.size:
        raise IndexError(f"{name}(): Number of indices ({index.size}) should be equal to "
                         f"source.size(dim) ({n})")


def _index_select(xp, x, index, dim):
    d = wrap_dim(dim, x.ndim, "index_select")
    index = _check_index_vector("index_select", index)
    if x.ndim == 0:
        if index.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{index.size} value(s)")
        _check_bounds(index, 1, "index out of range in self")
        return x.copy()
    _check_bounds(index, x.shape[d], "index out of range in self")
    return xp.take(x, index, axis=d)


def _index_add(xp, x, index, source, dim, alpha=1):
    d = wrap_dim(dim, x.ndim, "index_add")
    index = _check_index_vector("index_add_", index)
    _check_source("index_add_", x, index, source, d)
    _check_bounds(index, x.shape[d] if x.ndim else 1,
                  "index {bad} is out of bounds for dimension " + f"{d} with size " + "{n}",
                  error=RuntimeError)
    y = x.copy()
    src = source if alpha == 1 else source * operand(xp, alpha, _dtype.FROM_NP[x.dtype])
    xp.add.at(_moved(y, d), index, _moved(src.astype(y.dtype, copy=False), d))
    return y


def _index_copy(xp, x, index, source, dim):
    d = wrap_dim(dim, x.ndim, "index_copy")
    index = _check_index_vector("index_copy_", index, (np.int64,))
    _check_source("index_copy_", x, index, source, d)
    _check_bounds(index, x.shape[d] if x.ndim else 1,
                  "index_copy_(): index {bad} is out of bounds for dimension " + f"{d} with "
                  "size {n}")
    y = x.copy()
    _moved(y, d)[index] = _moved(source, d)
    return y


def _index_fill(xp, x, index, value, dim):
    d = wrap_dim(dim, x.ndim, "index_fill")
    index = _check_index_vector("index_fill_", index, (np.int64,))
    if is_array(value) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    _check_bounds(index, x.shape[d] if x.ndim else 1,
                  "index {bad} is out of bounds for dimension " + f"{d} with size " + "{n}", True)
    y = x.copy()
    _moved(y, d)[index] = operand(xp, value, _dtype.FROM_NP[x.dtype])
    return y


def _index_reduce(xp, x, index, source, dim, reduce, include_self=True):
    d = wrap_dim(dim, x.ndim, "index_reduce")
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    index = _check_index_vector("index_reduce_", index)
    _check_source("index_reduce_", x, index, source, d)
    _check_bounds(index, x.shape[d] if x.ndim else 1, "index out of range in self")
    y = x.copy()
    _reduce_into(xp, _moved(y, d), index, _moved(source, d), reduce, include_self)
    return y


def _index_select_vjp(c, g):
    return INDEX_ADD(g.new_zeros(c.in_meta[0][0]), c.inputs[1], g, dim=c.params["dim"]), None


def _fill0(g, c):
    return INDEX_FILL(g, c.inputs[1], 0.0, dim=c.params["dim"])


def _select_as(g, c, shape_of=2):
    return INDEX_SELECT(g, c.inputs[1], dim=c.params["dim"]).reshape(c.in_meta[shape_of][0])


def _index_add_vjp(c, g):
    gs = None
    if c.needs_input_grad[2]:
        gs = _select_as(g, c)
        alpha = c.params.get("alpha", 1)
        gs = gs if alpha == 1 else gs * alpha
    return g, None, gs


def _index_copy_vjp(c, g):
    return (_fill0(g, c) if c.needs_input_grad[0] else None, None,
            _select_as(g, c) if c.needs_input_grad[2] else None)


def _index_fill_vjp(c, g):
    gv = None
    if c.needs_input_grad[2]:
        index = c.inputs[1]
        unique = _make(_BY_ARRAY_TYPE[type(index._data)].xp.unique(index._data.reshape(-1)))
        gv = INDEX_SELECT(g, unique, dim=c.params["dim"]).sum()
    return _fill0(g, c) if c.needs_input_grad[0] else None, None, gv


INDEX_SELECT = register("index_select", _index_select, save=(1,), vjp=_index_select_vjp)
INDEX_ADD = register("index_add", _index_add, save=(1,), vjp=_index_add_vjp)
INDEX_COPY = register("index_copy", _index_copy, save=(1,), vjp=_index_copy_vjp)
INDEX_FILL = register("index_fill", _index_fill, save=(1,), vjp=_index_fill_vjp)
INDEX_REDUCE = register("index_reduce", _index_reduce, save=(0, 1, 2, "out"), vjp=_reduce_vjp(
    lambda t, c: INDEX_SELECT(t, c.inputs[1], dim=_dim(c)),
    lambda base, t, c: INDEX_ADD(base, c.inputs[1], t, dim=_dim(c)),
    lambda t, c: INDEX_FILL(t, c.inputs[1], 0.0, dim=_dim(c)),
    lambda x, src, c: INDEX_REDUCE(x, c.inputs[1], src, **c.params)))


# -- masked ops -----------------------------------------------------------------------------------

def _masked_fill(xp, x, mask, value):
    if mask.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{_dtype.FROM_NP[mask.dtype].name}")
    if is_array(value) and value.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s).")
    dt = _dtype.FROM_NP[x.dtype]
    # the fill value takes the tensor's dtype (PyTorch truncates 2.7 into an int tensor)
    v = operand(xp, value, dt) if not is_array(value) else value.astype(x.dtype)
    out = xp.where(mask, v, x)
    if out.shape != x.shape:
        raise RuntimeError(
            f"masked_fill: the shape of the mask {list(mask.shape)} must be broadcastable to "
            f"the shape of self {list(x.shape)} without changing it")
    return out


def _masked_fill_vjp(c, g):
    mask = c.inputs[1]
    gx = g.masked_fill(mask, 0) if c.needs_input_grad[0] else None
    gv = None
    if c.needs_input_grad[2]:
        gv = (g * mask).sum()
    return gx, None, gv


register("masked_fill", _masked_fill, save=(1,), vjp=_masked_fill_vjp)


def _broadcast_pair(name, xp, x, mask):
    from .rules import broadcast_shapes
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{name}: expected BoolTensor for mask")
    shape = broadcast_shapes(name, x.shape, mask.shape)
    return xp.broadcast_to(x, shape), xp.broadcast_to(mask, shape)


def _masked_select(xp, x, mask):
    xb, mb = _broadcast_pair("masked_select", xp, x, mask)
    return xb[mb]


def _masked_scatter(xp, x, mask, source):
    if source.dtype != x.dtype:
        raise RuntimeError(
            f"masked_scatter: expected self and source to have same dtypes but got"
            f"{_dtype.FROM_NP[x.dtype].word} and {_dtype.FROM_NP[source.dtype].word}")
    xb, mb = _broadcast_pair("masked_scatter_", xp, x, mask)
    n = int(mb.sum())
    if n > source.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    y = xb.copy()
    y[mb] = source.reshape(-1)[:n]
    return y


def _masked_scatter_vjp(c, g):
    mask = c.inputs[1]
    gx = g.masked_fill(mask, 0) if c.needs_input_grad[0] else None
    gs = None
    if c.needs_input_grad[2]:
        shape = c.in_meta[2][0]
        sel = MASKED_SELECT(g, mask)
        extra = int(np.prod(shape)) - sel.shape[0]
        if extra:
            sel = REGISTRY["cat"](sel, sel.new_zeros((extra,)), dim=0)
        gs = sel.reshape(shape)
    return gx, None, gs


MASKED_SELECT = register("masked_select", _masked_select, save=(1,), vjp=lambda c, g: (
    MASKED_SCATTER(g.new_zeros(np.broadcast_shapes(c.in_meta[0][0], c.in_meta[1][0])),
                   c.inputs[1], g), None))
MASKED_SCATTER = register("masked_scatter", _masked_scatter, save=(1,), vjp=_masked_scatter_vjp)


# -- nonzero, searchsorted ------------------------------------------------------------------------

register("nonzero", lambda xp, x: xp.argwhere(x).astype(np.int64))


def _searchsorted(xp, seq, values, sorter=None, out_int32=False, right=False, side=None):
    name = "torch.searchsorted()"
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{name}: side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(f"{name}: side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    if seq.ndim == 0:
        raise RuntimeError(f"{name}: boundaries tensor should have positive dimension, but got "
                           "0 dimension")
    scalar = not is_array(values)
    values = xp.asarray(values) if scalar else values
    if seq.dtype == np.bool_ or values.dtype == np.bool_:
        raise NotImplementedError('"searchsorted_out_cpu" not implemented for \'Bool\'')
    if seq.ndim > 1 and (values.ndim == 0 or seq.shape[:-1] != values.shape[:-1]):
        if values.ndim == 0:
            raise RuntimeError(
                f"{name}: input value can be a scalar only when boundaries tensor dimension is 1, "
                f"but we got boundaries tensor dim({seq.ndim}) and input value's dim(0) numel(1)")
        raise RuntimeError(
            f"{name}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
            f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
            f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    if sorter is not None:
        if sorter.dtype != np.int64:
            raise RuntimeError(f"{name}: sorter must be a tensor of long dtype but got dtype "
                               f"{_dtype.FROM_NP[sorter.dtype].word}")
        if sorter.shape != seq.shape:
            raise RuntimeError(f"{name}: boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor "
                               f"{list(sorter.shape)}")
        if not _in_range(sorter, seq.shape[-1]):
            raise RuntimeError(f"{name}: sorter index out of range")
        seq = take_along(xp, seq, sorter, seq.ndim - 1)
    out = _search(xp, seq, values, right)
    return out.astype(np.int32 if out_int32 else np.int64)


def _search(xp, seq, values, right):
    """PyTorch's binary search (``cus_lower_bound``/``cus_upper_bound``), run for all values
    at once: one vectorised step per halving. NaN compares false, as there (NumPy's
    searchsorted orders NaN last and so differs)."""
    n = seq.shape[-1]
    if n == 0:
        return xp.zeros(values.shape, np.int64)
    rows = seq.reshape(-1, n)
    vals = values.reshape(rows.shape[0], -1)
    lo = xp.zeros(vals.shape, np.int64)
    hi = xp.full(vals.shape, n, np.int64)
    for _ in range(int(n).bit_length()):
        mid = lo + ((hi - lo) >> 1)
        m = take_along(xp, rows, xp.minimum(mid, n - 1), 1)
        up = ~(m > vals) if right else ~(m >= vals)
        active = lo < hi
        lo = xp.where(active & up, mid + 1, lo)
        hi = xp.where(active & ~up, mid, hi)
    return lo.reshape(values.shape)


register("searchsorted", _searchsorted)
