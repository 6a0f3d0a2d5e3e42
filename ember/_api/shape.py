"""Public functions: joining, splitting, repeating, flipping, triangular and diagonal ops.

Most are composites of the core view and copy ops, as in PyTorch: ``tensor_split`` and
``hsplit`` give narrow views, ``meshgrid`` and ``broadcast_tensors`` expand views, the ``*stack``
functions cat, the ``*_scatter`` functions are ``index_put`` into a copy. ``repeat``, ``roll``,
``rot90``, ``tril``/``triu`` and ``diag_embed`` are registry ops (``ember/_ops/shape.py``).
"""

from __future__ import annotations

import builtins
import itertools
import warnings

import numpy as np

from .. import _creation, _dtype
from .._functional import METHODS, _export, _shape, cat, narrow, split, stack
from .._ops import REGISTRY as R
from .._ops.registry import _check_inplace, apply, apply_inplace
from .._ops.rules import wrap_dim
from .._tensor import Size, Tensor, _make, contiguous_format
from ..autograd.grad_mode import STATE as _GRAD
from ..backends import of_array

_INDEX, _INDEX_PUT = R["index"], R["index_put"]


def _xp(t: Tensor):
    return of_array(t._data).xp


def _seq(tensors, name: str) -> list:
    """A non-empty list of tensors from ``f(seq)``."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def _varargs(tensors) -> list:
    """``f(a, b)`` and ``f([a, b])`` both mean the list ``[a, b]``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


# -- joining --------------------------------------------------------------------------------------

def _atleast(nd: int, name: str):
    def one(t: Tensor) -> Tensor:
        n = t.ndim
        if n >= nd:
            return t
        if n == 0:
            return t.reshape((1,) * nd)
        if nd == 2 or n == 2:  # (n,) -> (1, n); (m, n) -> (m, n, 1)
            return t.unsqueeze(0) if n == 1 else t.unsqueeze(-1)
        return t.unsqueeze(0).unsqueeze(-1)

    def fn(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], Tensor):
            return one(tensors[0])
        return tuple(one(t) for t in _varargs(tensors))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Views with at least {nd} dims (a tensor, or a tuple for several): "
                  f"``ember.{name}(ember.tensor(1.))``.")
    return fn


atleast_1d, atleast_2d, atleast_3d = (_atleast(n, f"atleast_{n}d") for n in (1, 2, 3))


def hstack(tensors) -> Tensor:
    """Concatenate column-wise (along dim 1, or dim 0 for 1-D tensors)."""
    ts = atleast_1d(_seq(tensors, "hstack"))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenate row-wise: ``vstack([a, b]) == cat([atleast_2d(a), atleast_2d(b)])``."""
    return cat(atleast_2d(_seq(tensors, "vstack")), 0)


def dstack(tensors) -> Tensor:
    """Concatenate depth-wise (along dim 2 of the tensors made at least 3-D)."""
    return cat(atleast_3d(_seq(tensors, "dstack")), 2)


def column_stack(tensors) -> Tensor:
    """Stack 0-D/1-D tensors as columns (and concatenate 2-D ones) along dim 1."""
    ts = _seq(tensors, "column_stack")
    return cat([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in ts], 1)


for _f in (atleast_1d, atleast_2d, atleast_3d, hstack, column_stack, dstack):
    _export(_f, method=False)
_export(vstack, "row_stack", method=False)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of 0-D, 1-D or 2-D tensors: ``ember.block_diag(a, b)``."""
    mats = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
        mats.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not mats:
        return _creation.empty(1, 0)
    dt = _dtype.result_type_of(tuple(_dtype.operand_key(t) for t in tensors))
    width = builtins.sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        rows.append(cat([m.new_zeros(r, left, dtype=dt), m.to(dt),
                         m.new_zeros(r, width - left - c, dtype=dt)], 1))
        left += c
    return cat(rows, 0)


_export(block_diag, method=False)


# -- splitting ------------------------------------------------------------------------------------

def _clamp_slice(v: int, n: int) -> int:
    return builtins.min(builtins.max(v + n if v < 0 else v, 0), n)


def tensor_split(input: Tensor, indices_or_sections=None, dim: int = 0, *, sections=None,
                 indices=None, tensor_indices_or_sections=None) -> tuple:
    """Views of ``input`` split into ``sections`` near-equal parts along ``dim`` (the first
    ``n % sections`` one larger), or at the listed ``indices``: ``x.tensor_split([1, 3])``."""
    s = next(v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections,
                         0) if v is not None)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    if isinstance(s, Tensor):
        if s.dtype is not _dtype.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {s.dtype.word}")
        if s.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {s.ndim} dims")
        s = s.item() if s.ndim == 0 else s.tolist()
    d = wrap_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    if isinstance(s, (list, tuple)):
        starts = [0] + [builtins.int(i) for i in s]
        ends = starts[1:] + [n]
    else:
        s = builtins.int(s)
        if s <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {s}")
        size, extra = divmod(n, s)
        lengths = [size + 1] * extra + [size] * (s - extra)
        ends = list(itertools.accumulate(lengths))
        starts = [0] + ends[:-1]
    out = []
    for a, b in zip(starts, ends):
        a, b = _clamp_slice(a, n), _clamp_slice(b, n)
        out.append(narrow(input, d, a, builtins.max(b - a, 0)))
    return tuple(out)


def _dim_split(name: str, dim: int, min_dims: int):
    def fn(input: Tensor, indices_or_sections) -> tuple:
        if input.ndim < min_dims:
            raise RuntimeError(
                f"torch.{name} requires a tensor with at least {min_dims} dimension"
                f"{'s' if min_dims > 1 else ''}, but got a tensor with {input.ndim} dimensions!")
        d = 0 if name == "hsplit" and input.ndim == 1 else dim
        s = indices_or_sections
        if isinstance(s, Tensor):
            if s.ndim:
                raise TypeError(f"{name}() received an invalid combination of arguments - got "
                                "(Tensor, Tensor), but expected one of:\n * (Tensor input, int "
                                "sections)\n * (Tensor input, tuple of ints indices)")
            s = s.__index__()
        if isinstance(s, builtins.int):
            if s == 0 or input.shape[d] % s:
                raise RuntimeError(
                    f"torch.{name} attempted to split along dimension {d}, but the size of the "
                    f"dimension {input.shape[d]} is not divisible by the split_size {s}!")
        return tensor_split(input, s, d)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``tensor_split`` along dim {dim}; an int must divide that dim evenly: "
                  f"``x.{name}(2)``.")
    return fn


hsplit, vsplit, dsplit = _dim_split("hsplit", 1, 1), _dim_split("vsplit", 0, 2), \
    _dim_split("dsplit", 2, 3)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Views of consecutive chunks of the listed sizes along ``dim`` (they must sum to it)."""
    return split(input, list(split_sizes), dim)


for _f in (tensor_split, hsplit, vsplit, dsplit, split_with_sizes):
    _export(_f)


# -- repeating ------------------------------------------------------------------------------------

def _repeat(self: Tensor, *sizes) -> Tensor:
    """Tile the tensor: ``x.repeat(2, 3)`` repeats dim -1 three times and dim -2 twice."""
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    return apply(R["repeat"], (self,), {"repeats": _shape(sizes)})


METHODS["repeat"] = _repeat


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` with ``dims`` padded by leading ones to the tensor's rank."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"tile(): argument 'dims' (position 2) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    dims = _shape((dims,))
    return _repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _repeats_index(repeats: Tensor, output_size=None) -> Tensor:
    """``repeat_interleave(repeats)``: each index ``i`` repeated ``repeats[i]`` times."""
    if repeats.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats.dtype not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(
            f'"repeat_interleave_cpu" not implemented for \'{repeats.dtype.word}\'')
    r = repeats._data
    xp = _xp(repeats)
    if r.size and builtins.int(r.min()) < 0:
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != builtins.int(r.sum()):
        raise RuntimeError("allocated size does not match required size")
    return _make(xp.repeat(xp.arange(r.size, dtype=r.dtype), r))


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or a tensor of counts) along ``dim``
    (over the flattened input if None): ``ember.repeat_interleave(x, 2, dim=0)``.
    ``repeat_interleave(counts)`` alone gives ``arange(len(counts))`` repeated by counts."""
    if repeats is None:
        return _repeats_index(input, output_size)
    x = input if dim is not None else input.flatten()
    d = wrap_dim(0 if dim is None else dim, input.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor):
        n = x.shape[d] if x.ndim else 1
        if repeats.ndim == 0 or repeats.ndim == 1 and repeats.shape[0] == 1:
            repeats = repeats.reshape(1).expand(n)
        elif repeats.ndim == 1:
            if repeats.shape[0] != n:
                raise RuntimeError(
                    "repeats must have the same size as input along dim, but got "
                    f"repeats.size(0) = {repeats.shape[0]} and input.size({d}) = {n}")
        else:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        index = _repeats_index(repeats, output_size)._data
        return apply(_INDEX, (x,), {"index": (slice(None),) * d + (index,)})
    repeats = builtins.int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    y = x.unsqueeze(d + 1)
    shape = list(y.shape)
    shape[d + 1] = repeats
    if output_size is not None and output_size != shape[d] * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected "
                           f"{shape[d] * repeats} but got {output_size}")
    return y.expand(shape).contiguous().flatten(d, d + 1)


_export(tile)
_export(repeat_interleave)


# -- flipping and rotating ------------------------------------------------------------------------

def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor with at least 2 dims (a copy)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor with at least 1 dim (a copy)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return input.flip(0)


def _int_tuple(v) -> tuple:
    return (builtins.int(v),) if not isinstance(v, (list, tuple)) else tuple(
        builtins.int(i) for i in v)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor if None):
    ``ember.roll(x, (1, -1), (0, 1))``."""
    return apply(R["roll"], (input,), {"shifts": _int_tuple(shifts),
                                       "dims": () if dims is None else _int_tuple(dims)})


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from dim 0 towards dim 1)."""
    return apply(R["rot90"], (input,), {"k": builtins.int(k), "dims": _int_tuple(dims)})


for _f in (fliplr, flipud, roll, rot90):
    _export(_f)


# -- triangles and diagonals ----------------------------------------------------------------------

def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below ``diagonal``) of each matrix; the rest zero."""
    return apply(R["tril"], (input,), {"diagonal": builtins.int(diagonal)})


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above ``diagonal``) of each matrix; the rest zero."""
    return apply(R["triu"], (input,), {"diagonal": builtins.int(diagonal)})


def _tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    return apply_inplace(R["tril"], self, (), {"diagonal": builtins.int(diagonal)})


def _triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    return apply_inplace(R["triu"], self, (), {"diagonal": builtins.int(diagonal)})


METHODS["tril_"], METHODS["triu_"] = _tril_, _triu_
_export(tril)
_export(triu)


def _tri_indices(name: str, lower: bool):
    def fn(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
        dtype = _dtype.int64 if dtype is None else dtype
        if row < 0 or col < 0:
            raise RuntimeError(f"{'row' if row < 0 else 'col'} must be non-negative, got"
                               f"{row if row < 0 else col}")
        if dtype not in (_dtype.int32, _dtype.int64):
            raise NotImplementedError(f'"{name}" not implemented for \'{dtype.word}\'')
        i, j = np.indices((row, col)).reshape(2, -1)
        keep = j - i <= offset if lower else j - i >= offset
        return _creation.tensor(np.stack([i[keep], j[keep]]).reshape(2, -1), dtype=dtype,
                                device=device)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The (2, N) row and column indices of the {'lower' if lower else 'upper'} "
                  f"triangle of a row x col matrix: ``ember.{name}(3, 3, offset)``.")
    return fn


tril_indices, triu_indices = _tri_indices("tril_indices", True), \
    _tri_indices("triu_indices", False)
_export(tril_indices, method=False)
_export(triu_indices, method=False)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims ``dim1``, ``dim2`` of the result) whose ``offset`` diagonal is the
    last dim of ``input``: ``ember.diag_embed(ember.ones(2, 3))`` has shape (2, 3, 3)."""
    return apply(R["diag_embed"], (input,), {"offset": builtins.int(offset), "dim1": dim1,
                                             "dim2": dim2})


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as the ``diagonal`` of a square matrix, or a matrix's ``diagonal`` (a
    copy): ``ember.diag(ember.tensor([1., 2.]))``."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return input.diagonal(diagonal).clone(memory_format=contiguous_format)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input as the ``offset`` diagonal of a square matrix."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


for _f in (diag_embed, diag, diagflat):
    _export(_f)


# -- scatters into views --------------------------------------------------------------------------
#
# NOTE [ View scatters ]
# ``diagonal_scatter(x, src, ...)`` and its kin return a copy of ``x`` with the elements that the
# view (``x.diagonal(...)``, ``x.select(...)``, ...) would show replaced by ``src``. They are
# ``index_put`` of ``src`` into ``x`` at the view's index, so their gradients (``g`` with that
# region zeroed for ``x``; the view of ``g`` for ``src``) come from ``index_put``'s VJP.

def _scatter_into(input: Tensor, src: Tensor, view: Tensor, index) -> Tensor:
    if tuple(view.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(view.shape)}")
    out = input.clone()  # keeps input's layout, as PyTorch's scatters do
    return apply_inplace(_INDEX_PUT, out, (src,), {"index": index})


def _flat_index(input: Tensor, view: Tensor):
    """The index tuple (one int array per dim) of each element of ``view`` in ``input``."""
    from .._ops.registry import view_index
    pos = view_index(input._data, view._data)
    return _xp(input).unravel_index(pos, tuple(input.shape)) if input.ndim else ()


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with its ``diagonal(offset, dim1, dim2)`` replaced by ``src``
    (NOTE [ View scatters ])."""
    view = input.detach().diagonal(offset, dim1, dim2)
    return _scatter_into(input, src, view, _flat_index(input, view))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    view = input.detach().select(dim, index)
    d = wrap_dim(dim, input.ndim)
    return _scatter_into(input, src, view, (slice(None),) * d + (builtins.int(index) %
                                                                   input.shape[d],))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,
                  step: int = 1) -> Tensor:
    """A copy of ``input`` with ``input[..., start:end:step, ...]`` (at ``dim``) replaced by
    ``src``."""
    d = wrap_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    n = input.shape[d]
    a = 0 if start is None else _clamp_slice(builtins.int(start), n)
    b = n if end is None else _clamp_slice(builtins.int(end), n)
    index = (slice(None),) * d + (slice(a, builtins.max(a, b), builtins.int(step)),)
    return _scatter_into(input, src, input.detach()[index], index)


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A copy of ``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced by
    ``src`` (strides count in a dense copy of ``input``)."""
    base = input.detach().clone()
    view = base.as_strided(size, stride, storage_offset)
    return _scatter_into(input, src, view, _flat_index(base, view))


for _f in (diagonal_scatter, select_scatter, slice_scatter, as_strided_scatter):
    _export(_f)


# -- grids and combinations -----------------------------------------------------------------------

def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids (expand views) from 0-D/1-D tensors; ``indexing='ij'`` (matrix, the
    default) or ``'xy'`` (Cartesian: the first two dims swapped)."""
    ts = _varargs(tensors)
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t!r}")
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != ts[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        grids.append(t.view(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors) -> Tensor:
    """The Cartesian product of 1-D tensors, one row per combination (``itertools.product``
    order); a single tensor is returned as it is."""
    ts = _varargs(tensors)
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    return stack([g.flatten() for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements (``itertools.combinations``
    order; ``with_replacement`` as ``combinations_with_replacement``), one per row."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    xp = _xp(input)
    cols = [apply(_INDEX, (input,), {"index": (xp.asarray(index[:, k]),)}) for k in range(r)]
    return stack(cols, 1)


for _f in (meshgrid, cartesian_prod, combinations):
    _export(_f, method=False)


# -- broadcasting ---------------------------------------------------------------------------------

def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to: ``broadcast_shapes((3, 1), 4)``."""
    shapes = [(s,) if isinstance(s, builtins.int) else s for s in shapes if s is not None]
    for s in shapes:
        if not isinstance(s, (tuple, list)):
            raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list "
                               f"of ints, got {s}")
    out = [1] * builtins.max((len(s) for s in shapes), default=0)
    for i, s in enumerate(shapes):  # PyTorch's rules and checks, in its order
        for k in range(-1, -1 - len(s), -1):
            n = s[k]
            if n == out[k]:
                continue
            if out[k] == 1:
                if n < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                out[k] = n
            if n != 1 and out[k] != n:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {n} at {k}! Mismatching "
                    f"argument at index {i} had {s}; but expected shape should be broadcastable "
                    f"to {out}")
    return Size(out)


def broadcast_tensors(*tensors) -> tuple:
    """Expand views of ``tensors`` to their common broadcast shape."""
    ts = _varargs(tensors)
    shape = ts[0].shape
    for t in ts[1:]:
        shape = _pair_shape(shape, t.shape)
    return tuple(t.expand(shape) for t in ts)


def _pair_shape(a, b) -> tuple:
    n = builtins.max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
    return tuple(x if y == 1 else y for x, y in zip(a, b))


_export(broadcast_shapes, method=False)
_export(broadcast_tensors, method=False)


# -- copies and reshapes --------------------------------------------------------------------------

def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow`` as a new contiguous tensor."""
    return narrow(input, dim, start, length).clone(memory_format=contiguous_format)


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor: a view of a contiguous tensor, else a contiguous copy."""
    return input.contiguous().view(-1)


_export(narrow_copy)
_export(ravel)


# -- in-place changes of shape --------------------------------------------------------------------
#
# NOTE [ In-place view ops ]
# ``x.squeeze_()``, ``x.t_()`` and their kin give ``x`` the geometry of the view the out-of-place
# op returns (the same memory) and its history, and bump the version counter as PyTorch does.
# For a view, the bump makes autograd re-read the view's history from its base with the new
# geometry (NOTE [ Views and in-place ]), so gradients stay right.

def _restride_inplace(name: str, op_name: str, params):
    op = R[op_name]

    def fn(self: Tensor, *args, **kwargs) -> Tensor:
        _check_inplace(op, self, self._requires_grad)
        try:
            out = apply(op, (self,), params(self, *args, **kwargs))
        except (RuntimeError, IndexError) as e:
            msg = str(e)
            raise type(e)(name + msg[len(op_name):] if msg.startswith(op_name + "()") else
                          msg) from None
        self._data = out._data
        if out._grad_fn is not None and _GRAD.grad_enabled:
            self._grad_fn, self._output_nr = out._grad_fn, 0
        self._bump_version(name)
        return self

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place ``{op_name}``: self takes the view's shape and strides."
    return fn


def _squeeze_params(self, dim=None):
    return {} if dim is None else {"dim": dim if isinstance(dim, builtins.int) else tuple(dim)}


def _transpose_params(self, dim0, dim1):
    return {"dim0": dim0, "dim1": dim1}


for _name, _op, _params in [
        ("squeeze_", "squeeze", _squeeze_params),
        ("unsqueeze_", "unsqueeze", lambda self, dim: {"dim": dim}),
        ("t_", "t", lambda self: {}),
        ("transpose_", "transpose", _transpose_params),
        ("swapaxes_", "transpose", _transpose_params),
        ("swapdims_", "transpose", _transpose_params)]:
    METHODS[_name] = _restride_inplace(_name, _op, _params)
