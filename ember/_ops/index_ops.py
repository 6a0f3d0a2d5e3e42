"""Indexing: ``x[index]`` (basic indexing is a view, advanced indexing a copy, with NumPy's
and PyTorch's shared placement rules), ``x[index] = v``, take/put, gather/scatter, masked_fill.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from .registry import REGISTRY, register
from .rules import is_array, operand, wrap_dim


def convert_index(index) -> tuple[tuple, bool]:
    """A user's index as a tuple of backend-level items, and whether it is basic (a view)."""
    if not isinstance(index, tuple):
        index = (index,)
    out, basic = [], True
    for it in index:
        if isinstance(it, Tensor):
            a = it._data
            if a.dtype.kind not in "biu":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors")
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                continue
            out.append(a.astype(np.bool_) if a.dtype == np.uint8 else a)
            basic = False
        elif isinstance(it, slice):
            if it.step is not None and int(it.step) <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(*(None if v is None else _index_int(v)
                               for v in (it.start, it.stop, it.step))))
        elif it is None or it is Ellipsis or isinstance(it, bool):
            out.append(it)
        elif isinstance(it, (list, tuple, np.ndarray)):
            arr = np.asarray([_index_int(v) if isinstance(v, Tensor) else v for v in it]
                             if isinstance(it, (list, tuple)) else it)
            if arr.size == 0:
                arr = arr.astype(np.int64)
            if arr.dtype.kind not in "biu":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
            basic = False
        else:
            out.append(_index_int(it))
    return tuple(out), basic


def _index_int(v) -> int:
    try:
        return v.__index__()
    except (AttributeError, TypeError):
        raise TypeError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            f"valid indices (got {type(v).__name__})") from None


def _reword(e: IndexError) -> IndexError:
    return IndexError(str(e).replace("axis", "dimension"))


def _index(xp, x, index):
    try:
        return x[index]
    except IndexError as e:
        raise _reword(e) from None


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
        raise _reword(e) from None
    except ValueError as e:
        raise RuntimeError(f"shape mismatch: {e}") from None


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

def _check_flat(x, index):
    n = x.size
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    if index.size and (index.max() >= n or index.min() < -n):
        bad = int(index.max()) if index.max() >= n else int(index.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")


def _take(xp, x, index):
    _check_flat(x, index)
    return x.reshape(-1)[index]


def _put(xp, x, index, source, accumulate=False):
    _check_flat(x, index)
    y = x.copy()
    flat = y.reshape(-1)
    src = operand(xp, source, _dtype.FROM_NP[y.dtype]).astype(y.dtype, copy=False)
    src = xp.broadcast_to(src, index.shape).reshape(-1)
    if accumulate:
        xp.add.at(flat, index.reshape(-1), src)
    else:
        flat[index.reshape(-1)] = src
    return y


TAKE = register("take", _take, save=(1,), vjp=lambda c, g: (
    PUT(g.new_zeros(c.in_meta[0][0]), c.inputs[1], g, accumulate=True), None))
PUT = register("put", _put, save=(1,), vjp=lambda c, g: (
    g if c.params.get("accumulate") else PUT(g, c.inputs[1], 0.0),
    None,
    TAKE(g, c.inputs[1]) if c.needs_input_grad[2] else None))


def take_flat(t, index_array):
    """``t.flatten()[index]`` for a backend index array (used by view backward)."""
    return TAKE(t, _make(index_array))


def put_flat(t, index_array, src, accumulate=False):
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


def _check_gather(name, x, index, dim):
    if index.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as "
            f"{'input' if name == 'gather' else 'self'} tensor")
    d = wrap_dim(dim, x.ndim, name)
    size = x.shape[d] if x.ndim else 1
    for k in range(index.ndim):
        if k != d and index.shape[k] > x.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(index.shape)} to be "
                f"smaller than self {list(x.shape)} apart from dimension {d}")
    if index.size and (index.max() >= size or index.min() < -size):
        bad = int(index.max()) if index.max() >= size else int(index.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    return d


def _gather(xp, x, index, dim):
    d = _check_gather("gather", x, index, dim)
    if x.ndim == 0:
        return xp.broadcast_to(x, index.shape).copy()
    return x[_along(xp, index, d)]


def _scatter(xp, x, index, src, dim, reduce=None):
    d = _check_gather("scatter", x, index, dim)
    y = x.copy()
    if is_array(src):
        src = src[tuple(slice(0, n) for n in index.shape)].astype(y.dtype, copy=False)
    else:
        src = operand(xp, src, _dtype.FROM_NP[y.dtype])
    src = xp.broadcast_to(src, index.shape)
    idx = _along(xp, index, d) if y.ndim else ()
    if reduce is None:
        y[idx] = src
    elif reduce == "add":
        xp.add.at(y, idx, src)
    elif reduce == "multiply":
        xp.multiply.at(y, idx, src)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    return y


def _pad_to(t, shape):
    """``t`` in the leading corner of a zero tensor of ``shape`` (scatter's src may be larger
    than its index)."""
    if tuple(t.shape) == tuple(shape):
        return t
    return INDEX_PUT(t.new_zeros(shape), t, index=tuple(slice(0, n) for n in t.shape))


def _scatter_vjp(c, g):
    index, dim = c.inputs[1], c.params["dim"]
    gx = SCATTER(g, index, 0.0, dim=dim) if c.needs_input_grad[0] else None
    gs = None
    if c.needs_input_grad[2]:
        gs = _pad_to(GATHER(g, index, dim=dim), c.in_meta[2][0])
    return gx, None, gs


def _scatter_add_vjp(c, g):
    index, dim = c.inputs[1], c.params["dim"]
    gs = _pad_to(GATHER(g, index, dim=dim), c.in_meta[2][0]) if c.needs_input_grad[2] else None
    return g, None, gs


GATHER = register("gather", _gather, save=(1,), vjp=lambda c, g: (
    SCATTER_ADD(g.new_zeros(c.in_meta[0][0]), c.inputs[1], g, dim=c.params["dim"]), None))
SCATTER = register("scatter", _scatter, save=(1,), vjp=_scatter_vjp,
                   backward_name=lambda node: f"ScatterBackward{int(node.in_meta[2] is None)}")
SCATTER_ADD = register("scatter_add", lambda xp, x, index, src, dim: _scatter(
    xp, x, index, src, dim, reduce="add"), save=(1,), vjp=_scatter_add_vjp)


# -- masked_fill ----------------------------------------------------------------------------------

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
