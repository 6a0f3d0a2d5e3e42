"""View ops (outputs share memory with their input, as in PyTorch) and cat/stack/flip.

# NOTE [ View backward ]
Views whose gradient is a reshape or permutation of the output gradient say so. The others
(select, narrow, slicing, diagonal, unfold, as_strided) share one generic VJP: the output's
elements are located in the input by probing the view op on an index-free array of the input's
shape (``view_index``), and the gradient is put there in a zero tensor, accumulating where a
view repeats elements (unfold with step < size, as_strided).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .registry import REGISTRY, register, view_index
from .rules import dims, promote, wrap_dim


def infer_shape(shape, numel: int, op: str = "view") -> tuple:
    shape = tuple(shape) if type(shape) is not tuple else shape
    if -1 not in shape and math.prod(shape) == numel and min(shape, default=0) >= 0:
        return shape
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view(xp, x, shape):
    shape = infer_shape(shape, x.size)
    r = x.reshape(shape)
    # the method copies when strides do not allow a view; NumPy points a view's base at the
    # array owning the memory, which a copy's is not
    if r.base is (x if x.base is None else x.base) or x.size == 0:
        return r
    raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


def _reshape_vjp(c, g):
    return (g.reshape(c.in_meta[0][0]),)


register("view", _view, view=True, vjp=_reshape_vjp)
# reshape when a copy is needed (the wrapper picks "view" when it is not)
register("_reshape_copy", lambda xp, x, shape: xp.reshape(x, infer_shape(shape, x.size)).copy(),
         vjp=_reshape_vjp, backward_name="UnsafeViewBackward0")


def _squeeze(xp, x, dim=None):
    if dim is None:
        return xp.squeeze(x)
    if not isinstance(dim, int) and not len(dim):
        return x.view()  # no dims named, none squeezed (``dims`` reads an empty one as all)
    ax = tuple(d for d in dims(dim, x.ndim, "squeeze") if x.ndim and x.shape[d] == 1)
    return xp.squeeze(x, axis=ax) if ax else x.view()


def _unsqueeze(xp, x, dim):
    return xp.expand_dims(x, wrap_dim(dim, x.ndim + 1, "unsqueeze"))


register("squeeze", _squeeze, view=True, vjp=_reshape_vjp, backward_name=lambda node: (
    "SqueezeBackward0" if "dim" not in node.params else
    "SqueezeBackward1" if isinstance(node.params["dim"], int) else "SqueezeBackward2"))
register("unsqueeze", _unsqueeze, view=True, vjp=_reshape_vjp)


def _expand(xp, x, size):
    size = tuple(size)
    if not x.ndim and xp is np and min(size, default=0) >= 0:
        # a 0-d tensor (a reduced gradient) broadcast anywhere: all strides 0
        r = np.ndarray(size, x.dtype, buffer=x, strides=(0,) * len(size))
        r.flags.writeable = False
        return r
    if len(size) < x.ndim:
        raise RuntimeError(
            f"expand(ember.{_dtype.FROM_NP[x.dtype].word}Tensor{{{list(x.shape)}}}, "
            f"size={list(size)}): "
            f"the number of sizes provided ({len(size)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({x.ndim})")
    lead = len(size) - x.ndim
    out = []
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    "non-existing dimension 0")
            out.append(s)
            continue
        have = x.shape[i - lead]
        if s == -1:
            s = have
        elif have != s and have != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(size)}.  Tensor sizes: "
                f"{list(x.shape)}")
        out.append(s)
    out = tuple(out)
    if xp is np and x.flags.c_contiguous:
        # np.broadcast_to costs microseconds; a zero-strided view of the same buffer does not
        lead = len(out) - x.ndim
        st = (0,) * lead + tuple(0 if n == 1 and m != 1 else s
                                 for n, m, s in zip(x.shape, out[lead:], x.strides))
        r = np.ndarray(out, x.dtype, buffer=x, strides=st)
        r.flags.writeable = False
        return r
    return xp.broadcast_to(x, out)


# the engine reduces the gradient to the input's shape (NOTE [ Backward engine ])
register("expand", _expand, view=True, vjp=lambda c, g: (g,))


def _transpose(xp, x, dim0, dim1):
    if x.ndim == 0:
        return x.view()
    return x.swapaxes(wrap_dim(dim0, x.ndim, "transpose"), wrap_dim(dim1, x.ndim, "transpose"))


def _t(xp, x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x.T if x.ndim == 2 else x.view()


register("t", _t, view=True, vjp=lambda c, g: (g.t(),))
register("transpose", _transpose, view=True,
         vjp=lambda c, g: (g.transpose(c.params["dim0"], c.params["dim1"]),))


def _permute(xp, x, dims_):
    if len(dims_) != x.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not "
            f"equal to len(dims) = {len(dims_)}")
    d = [wrap_dim(i, x.ndim, "permute") for i in dims_]
    if len(set(d)) != len(d):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return xp.transpose(x, d)


def _permute_vjp(c, g):
    n = len(c.params["dims_"])
    d = [wrap_dim(i, n) for i in c.params["dims_"]]
    inv = [0] * n
    for i, p in enumerate(d):
        inv[p] = i
    return (g.permute(inv),)


register("permute", _permute, view=True, vjp=_permute_vjp)


def _generic_view_vjp(accumulate=False):
    def vjp(c, g):
        from .index_ops import put_flat
        shape, dt = c.in_meta[0]
        xp = _xp_of(g)
        probe = xp.empty(shape, dtype=np.int8)
        idx = view_index(probe, c.op.impl(xp, probe, **c.params))
        return (put_flat(g.new_zeros(shape), idx, g, accumulate=accumulate),)
    return vjp


def _xp_of(t):
    from ..backends import _BY_ARRAY_TYPE
    return _BY_ARRAY_TYPE[type(t._data)].xp


def _narrow(xp, x, dim, start, length):
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    if start < 0:
        start += n
    if not 0 <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice_dim(x, d, start, length)


def _slice_dim(x, d, start, length):
    """``length`` elements along dim ``d`` from ``start``; an empty one keeps its offset, as in
    PyTorch (NumPy points it at the first element)."""
    if length or not x.size:
        return x[(slice(None),) * d + (slice(start, start + length),)]
    st = _elem_strides(x)
    return strided(x, x.shape[:d] + (0,) + x.shape[d + 1:], st, start * st[d])


def _select(xp, x, dim, index):
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, x.ndim, "select")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(x.shape)} at "
            f"dimension {d}")
    return x[(slice(None),) * d + (index % n, Ellipsis)]


def strided(x, shape, strides, offset=0):
    """A view of ``x``'s storage with element ``strides`` starting ``offset`` elements past
    ``x``'s first element (writable, unlike NumPy's own diagonal)."""
    from .._tensor import _address, _root_array
    if not isinstance(x, np.ndarray):  # CuPy: a view from a device pointer
        return type(x)(tuple(shape), x.dtype, memptr=x.data + offset * x.itemsize,
                       strides=tuple(s * x.itemsize for s in strides))
    root = _root_array(x)
    isz = x.itemsize
    start = _address(x) - _address(root) + offset * isz
    return type(x)(tuple(shape), x.dtype, buffer=root, offset=start,
                   strides=tuple(s * isz for s in strides))


def _elem_strides(x):
    return tuple(s // x.itemsize for s in x.strides)


def _diagonal(xp, x, offset=0, dim1=0, dim2=1):
    d1, d2 = wrap_dim(dim1, x.ndim, "diagonal"), wrap_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if offset >= 0:
        n = max(min(x.shape[d1], x.shape[d2] - offset), 0)
    else:
        n = max(min(x.shape[d1] + offset, x.shape[d2]), 0)
    st = _elem_strides(x)
    start = 0 if n == 0 else (offset * st[d2] if offset >= 0 else -offset * st[d1])
    rest = [i for i in range(x.ndim) if i not in (d1, d2)]
    return strided(x, [x.shape[i] for i in rest] + [n], [st[i] for i in rest] + [st[d1] + st[d2]],
                   start)


def _unfold(xp, x, dimension, size, step):
    if x.ndim == 0:
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        return x.reshape(1)
    d = wrap_dim(dimension, x.ndim, "unfold")
    n = x.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    st = _elem_strides(x)
    return strided(x, x.shape[:d] + (count,) + x.shape[d + 1:] + (size,),
                   st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],))


def _as_strided(xp, x, size, stride, storage_offset=None):
    from .._tensor import _address, _root_array
    root = _root_array(x)
    isz = x.itemsize
    here = (_address(x) - _address(root)) // isz
    off = here if storage_offset is None else storage_offset
    need = off + sum((s - 1) * st for s, st in zip(size, stride)) + 1 if all(size) else 0
    if need > root.size or off < 0:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
            f"itemsize {isz} requiring a storage size of {need * isz} are out of bounds for "
            f"storage of size {root.nbytes}")
    return strided(x, tuple(size), tuple(stride), off - here)


def _region_vjp(index_of):
    """VJP of a view that is ``x[index]`` for a basic index: the gradient put in that region
    of zeros (cheaper than locating elements as the generic view VJP does)."""
    def vjp(c, g):
        shape = c.in_meta[0][0]
        return (REGISTRY["index_put"](g.new_zeros(shape), g, index=index_of(c.params, shape)),)
    return vjp


def _narrow_index(p, shape):
    d = wrap_dim(p["dim"], len(shape))
    start = p["start"] % shape[d] if p["start"] < 0 else p["start"]
    return (slice(None),) * d + (slice(start, start + p["length"]),)


def _select_index(p, shape):
    d = wrap_dim(p["dim"], len(shape))
    return (slice(None),) * d + (p["index"] % shape[d],)


register("narrow", _narrow, view=True, vjp=_region_vjp(_narrow_index),
         backward_name="SliceBackward0")
register("select", _select, view=True, vjp=_region_vjp(_select_index))
register("diagonal", _diagonal, view=True, vjp=_generic_view_vjp())
register("unfold", _unfold, view=True, vjp=_generic_view_vjp(accumulate=True))
register("as_strided", _as_strided, view=True, vjp=_generic_view_vjp(accumulate=True))
register("_view_of_base", lambda xp, x, index: x.reshape(-1)[index],
         vjp=lambda c, g: (_put_base(c, g),), backward_name="AsStridedBackward0")


def _put_base(c, g):
    from .index_ops import put_flat
    return put_flat(g.new_zeros(c.in_meta[0][0]), c.params["index"], g, accumulate=True)


def _getitem_basic(xp, x, index):
    try:
        r = x[index]
    except IndexError as e:
        msg = str(e)
        if msg.startswith("too many indices"):
            msg = f"too many indices for tensor of dimension {x.ndim}"
        raise IndexError(msg.replace("axis", "dimension")) from None
    if not isinstance(r, type(x)):  # a full integer index: NumPy gives a scalar, not a view
        r = x[index + (Ellipsis,)]
    if r.size == 0 or any(it is None for it in index):
        r = _torch_geometry(x, r, index)
    return r


def _torch_geometry(x, r, index):
    """PyTorch's strides and offset for what NumPy leaves free: a dim added by ``None`` gets
    the stride of what follows it (NumPy: 0), an empty slice keeps its start offset."""
    st = _elem_strides(x)
    items = list(index)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        used = sum(1 for it in items if it is not None and it is not Ellipsis)
        items[k:k + 1] = [slice(None)] * (x.ndim - used)
    items += [slice(None)] * (x.ndim - sum(1 for it in items if it is not None))
    shape, strides, offset, d = [], [], 0, 0
    for it in items:
        if it is None:
            shape.append(1)
            strides.append(None)
            continue
        n = x.shape[d]
        if isinstance(it, slice):
            start, stop, step = it.indices(n)
            shape.append(max(0, -(-(stop - start) // step)))
            strides.append(st[d] * step)
            offset += min(start, n) * st[d]
        else:
            offset += (it % n) * st[d]
        d += 1
    for i in range(len(strides) - 1, -1, -1):  # unsqueeze's rule, innermost first
        if strides[i] is None:
            strides[i] = shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 1
    return strided(x, tuple(shape), tuple(strides), offset)


def _getitem_name(node) -> str:
    # PyTorch indexes item by item; the last item that makes a view names the node
    for it in reversed(node.params["index"]):
        if isinstance(it, int) and not isinstance(it, bool):
            return "SelectBackward0"
        if it is None or isinstance(it, bool):
            return "UnsqueezeBackward0"
        if isinstance(it, slice) and it != slice(None):
            return "SliceBackward0"
    return "AliasBackward0"


register("getitem", _getitem_basic, view=True, vjp=_region_vjp(lambda p, shape: p["index"]),
         backward_name=_getitem_name)


def _multi_view(name, fn):
    def vjp(c, gs):
        shape, _ = c.in_meta[0]
        if all(g is None for g in gs):
            return (None,)
        outs = fn(np, np.empty(shape, np.int8), **c.params)
        full = [g if g is not None else _zeros_for(gs, o.shape) for g, o in zip(gs, outs)]
        return (_cat_back(name, full, c.params, shape),)
    return vjp


def _zeros_for(gs, shape):
    ref = next(g for g in gs if g is not None)
    return ref.new_zeros(shape)


def _cat_back(name, gs, params, shape):
    from .. import _functional as F
    if name == "unbind":
        return F.stack(gs, params.get("dim", 0))
    return F.cat(gs, params.get("dim", 0))


def _unbind(xp, x, dim=0):
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, x.ndim, "unbind")
    return tuple(x[(slice(None),) * d + (i, Ellipsis)] for i in range(x.shape[d]))


def _split(xp, x, split_size_or_sections, dim=0):
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, x.ndim, "split")
    n = x.shape[d]
    s = split_size_or_sections
    if isinstance(s, int):
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
        if n == 0:
            sizes = [0]
    else:
        sizes = list(s)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for k in sizes:
        out.append(_slice_dim(x, d, start, k))
        start += k
    return tuple(out)


register("unbind", _unbind, view=True, nout=-1, vjp=_multi_view("unbind", _unbind))
register("split", _split, view=True, nout=-1, vjp=_multi_view("split", _split),
         backward_name=lambda node: "SplitBackward0" if isinstance(
             node.params["split_size_or_sections"], int) else "SplitWithSizesBackward0")


# -- cat, stack, flip -----------------------------------------------------------------------------

def _cat(xp, *xs, dim=0):
    if not xs:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ct = promote(*xs) if len(xs) > 1 else _dtype.FROM_NP[xs[0].dtype]
    keep = [x for x in xs if not (x.ndim == 1 and x.shape[0] == 0)]
    if not keep:
        return xp.empty((0,), ct.np)
    ref = keep[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim, "cat")
    for i, x in enumerate(keep):
        if x.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {x.ndim}")
        for k in range(ref.ndim):
            if k != d and x.shape[k] != ref.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[k]} but got size {x.shape[k]} for tensor number {i} in the list.")
    return xp.concatenate([x.astype(ct.np, copy=False) for x in keep], axis=d)


def _cat_vjp(c, g):
    d = c.params.get("dim", 0)
    out, start = [], 0
    metas = c.in_meta
    nd = g.ndim
    d = wrap_dim(d, nd) if nd else 0
    for shape, _ in metas:
        if len(shape) == 1 and shape[0] == 0 and nd != 1:
            out.append(None)
            continue
        k = shape[d] if len(shape) > d else 0
        out.append(g.narrow(d, start, k))
        start += k
    return tuple(out)


register("cat", _cat, vjp=_cat_vjp)


def _stack(xp, *xs, dim=0):
    if not xs:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(xs):
        if x.shape != xs[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(xs[0].shape)} at "
                f"entry 0 and {list(x.shape)} at entry {i}")
    d = wrap_dim(dim, xs[0].ndim + 1, "stack")
    ct = promote(*xs) if len(xs) > 1 else _dtype.FROM_NP[xs[0].dtype]
    return xp.stack([x.astype(ct.np, copy=False) for x in xs], axis=d)


register("stack", _stack,
         vjp=lambda c, g: tuple(g.unbind(wrap_dim(c.params.get("dim", 0), g.ndim))))


def _flip(xp, x, dims_):
    ax = dims(dims_, x.ndim, "flip") if dims_ else ()
    return xp.flip(x, axis=ax).copy() if ax else x.copy()


register("flip", _flip, vjp=lambda c, g: (g.flip(c.params["dims_"]),))


# -- repeat, roll, rot90, triangles, diag_embed ---------------------------------------------------

def _repeat(xp, x, repeats):
    if len(repeats) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    shape = (1,) * (len(repeats) - x.ndim) + x.shape
    out = tuple(r * s for r, s in zip(repeats, shape))
    if min(repeats, default=0) < 0:
        bad = min(out) if min(out) < 0 else min(repeats)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {list(out)}")
    return xp.tile(x.reshape(shape), repeats) if x.size and all(out) else xp.empty(out, x.dtype)


def _repeat_vjp(c, g):
    # out[k * s + i] = x[i] along each dim: sum over the k axes of (k0, s0, k1, s1, ...)
    reps = c.params["repeats"]
    shape = c.in_meta[0][0]
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    split = tuple(v for r, s in zip(reps, padded) for v in (r, s))
    return (g.reshape(split).sum(tuple(range(0, len(split), 2))).reshape(shape),)


register("repeat", _repeat, vjp=_repeat_vjp)


def _roll(xp, x, shifts, dims=()):
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    ax = tuple(wrap_dim(d, x.ndim, "roll") for d in dims)
    r = xp.roll(x, shifts, axis=ax)
    return r if r.flags.c_contiguous else xp.ascontiguousarray(r)


register("roll", _roll, vjp=lambda c, g: (
    g.roll(tuple(-s for s in c.params["shifts"]), c.params.get("dims", ())),))


def _rot90(xp, x, k=1, dims=(0, 1)):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = wrap_dim(dims[0], x.ndim, "rot90"), wrap_dim(dims[1], x.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    # PyTorch's layout: a flipped copy, transposed (a strided result, not a view)
    if k == 1:
        return xp.flip(x, d1).copy().swapaxes(d0, d1)
    if k == 2:
        return xp.flip(x, (d0, d1)).copy()
    if k == 3:
        return xp.flip(x, d0).copy().swapaxes(d0, d1)
    return x.copy()


register("rot90", _rot90,
         vjp=lambda c, g: (g.rot90(-c.params.get("k", 1), c.params.get("dims", (0, 1))),))


def _triangle(name):
    def impl(xp, x, diagonal=0):
        if x.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return getattr(xp, name)(x, diagonal)
    register(name, impl, vjp=lambda c, g: (getattr(g, name)(c.params.get("diagonal", 0)),))


_triangle("tril")
_triangle("triu")


def _diag_embed(xp, x, offset=0, dim1=-2, dim2=-1):
    nd = x.ndim + 1
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (x.shape[-1] if x.ndim else 1) + abs(offset)
    rest = iter(x.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    out = xp.zeros(shape, x.dtype)
    _diagonal(xp, out, offset, d1, d2)[...] = x
    return out


register("diag_embed", _diag_embed, vjp=lambda c, g: (g.diagonal(
    c.params.get("offset", 0), c.params.get("dim1", -2), c.params.get("dim2", -1)),))
