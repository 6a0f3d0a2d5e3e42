"""Public functions: advanced indexing, index_*, scatter/gather, masked ops, searchsorted."""

from __future__ import annotations

import warnings

from .. import _dtype
from .._functional import _export
from .._ops import REGISTRY as R
from .._ops.index_ops import convert_index
from .._ops.registry import apply, apply_inplace
from .._ops.rules import broadcast_shapes, wrap_dim
from .._tensor import Tensor

_WARNED: set = set()


def _warn_once(msg: str) -> None:
    """A warning PyTorch gives once per process (``TORCH_WARN_ONCE``)."""
    if msg not in _WARNED:
        _WARNED.add(msg)
        warnings.warn(msg, UserWarning, stacklevel=4)  # the caller of a public function


def _in_place(name, op_name, params_of):
    """``input.name_(*args)``: the op's in-place form, parsing arguments as ``params_of``
    (which returns the op's positional arguments after ``input`` and its parameters)."""
    op = R[op_name]

    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        tensors, params = params_of(*args, **kwargs)
        return apply_inplace(op, input, tensors, params)

    fn.__name__ = fn.__qualname__ = name
    return fn


# -- gather / scatter -----------------------------------------------------------------------------

def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (likewise for other dims):
    ``ember.gather(t, 1, ember.tensor([[0, 0], [1, 0]]))``."""
    return apply(R["gather"], (input, index), {"dim": dim})


def _scatter_args(dim, index, src=None, *, value=None, reduce=None):
    s = src if src is not None else value
    if reduce is not None and isinstance(s, Tensor):
        _warn_once("The reduce argument of torch.scatter with Tensor src is deprecated and will "
                   "be removed in a future PyTorch release. Use torch.scatter_reduce instead for "
                   "more reduction options.")
    return (index, s), ({"dim": dim} if reduce is None else {"dim": dim, "reduce": reduce})


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce=None) -> Tensor:
    """Out-of-place ``scatter_``: write ``src`` (a tensor, or a number as ``value``) at
    ``index`` along ``dim``, or combine with ``reduce='add'|'multiply'``."""
    tensors, params = _scatter_args(dim, index, src, value=value, reduce=reduce)
    return apply(R["scatter"], (input, *tensors), params)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place ``scatter_add_``: add ``src`` at ``index`` along ``dim`` (repeats sum)."""
    return apply(R["scatter_add"], (input, index, src), {"dim": dim})


def _reduce_args(dim, index, src, reduce, *, include_self=True):
    return (index, src), {"dim": dim, "reduce": reduce, "include_self": include_self}


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` ('sum', 'prod',
    'mean', 'amax', 'amin'), counting ``input``'s own values unless ``include_self=False``:
    ``ember.zeros(3).scatter_reduce(0, ember.tensor([0, 0, 2]), ember.ones(3), 'sum')``."""
    return apply(R["scatter_reduce"], (input, index, src),
                 {"dim": dim, "reduce": reduce, "include_self": include_self})


scatter_ = _in_place("scatter_", "scatter", _scatter_args)
scatter_add_ = _in_place("scatter_add_", "scatter_add",
                         lambda dim, index, src: ((index, src), {"dim": dim}))
scatter_reduce_ = _in_place("scatter_reduce_", "scatter_reduce", _reduce_args)


# -- the index_* family ---------------------------------------------------------------------------

def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` at ``index`` along ``dim``:
    ``ember.index_select(t, 0, ember.tensor([2, 0]))``."""
    return apply(R["index_select"], (input, index), {"dim": dim})


def _index_add_args(dim, index, source, *, alpha=1):
    return (index, source), ({"dim": dim} if alpha == 1 else {"dim": dim, "alpha": alpha})


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source[i]`` added to slice ``index[i]`` along ``dim`` (repeats
    sum): ``ember.zeros(3, 2).index_add(0, ember.tensor([0, 0]), ember.ones(2, 2))``."""
    tensors, params = _index_add_args(dim, index, source, alpha=alpha)
    return apply(R["index_add"], (input, *tensors), params)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with slice ``index[i]`` along ``dim`` replaced by ``source[i]``."""
    return apply(R["index_copy"], (input, index, source), {"dim": dim})


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or 0-d
    tensor): ``ember.zeros(2, 3).index_fill(1, ember.tensor([0, 2]), -1.0)``."""
    return apply(R["index_fill"], (input, index, value), {"dim": dim})


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """Reduce slice ``source[i]`` into slice ``index[i]`` along ``dim`` with ``reduce`` ('prod',
    'mean', 'amax', 'amin'), counting ``input``'s values unless ``include_self=False``."""
    tensors, params = _index_reduce_args(dim, index, source, reduce, include_self=include_self)
    return apply(R["index_reduce"], (input, *tensors), params)


def _index_reduce_args(dim, index, source, reduce, *, include_self=True):
    _warn_once("index_reduce() is in beta and the API may change at any time.")
    return _reduce_args(dim, index, source, reduce, include_self=include_self)


index_add_ = _in_place("index_add_", "index_add", _index_add_args)
index_copy_ = _in_place("index_copy_", "index_copy",
                        lambda dim, index, source: ((index, source), {"dim": dim}))
index_fill_ = _in_place("index_fill_", "index_fill",
                        lambda dim, index, value: ((index, value), {"dim": dim}))
index_reduce_ = _in_place("index_reduce_", "index_reduce", _index_reduce_args)


# -- index_put (``x[indices] = values``) and setitem's value rules --------------------------------

def put_values_check(self: Tensor, values) -> None:
    """PyTorch's index_put_ rule: the values' dtype must be self's."""
    if values.dtype is not self.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{self.dtype.word} for the destination and {values.dtype.word} for the source.")


def _put_args(input, indices, values, accumulate=False):
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 3) must be Tensor, not "
                        f"{type(values).__name__}")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(t).__name__}")
    if len(indices) > input.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input.ndim} (got "
                         f"{len(indices)})")
    put_values_check(input, values)
    adv = convert_index(tuple(indices), input._data)[2] if indices else (slice(None),)
    return (values,), {"index": adv, "accumulate": accumulate}


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``input[indices] = values`` (``accumulate=True``: added, repeats sum):
    ``ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor(1.0), True)``."""
    tensors, params = _put_args(input, indices, values, accumulate)
    return apply(R["index_put"], (input, *tensors), params)


def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    tensors, params = _put_args(input, indices, values, accumulate)
    return apply_inplace(R["index_put"], input, tensors, params)


# -- flat take / put ------------------------------------------------------------------------------

def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (shaped like ``index``)."""
    return apply(R["take"], (input, index), {})


def _flat_put_args(index, source, accumulate=False):
    if not isinstance(source, Tensor):
        raise TypeError(f"put_(): argument 'source' (position 2) must be Tensor, not "
                        f"{type(source).__name__}")
    return (index, source), ({"accumulate": True} if accumulate else {})


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with its flattened positions ``index`` set to (or, ``accumulate=True``,
    increased by) ``source``: ``ember.zeros(2, 2).put(ember.tensor([3]), ember.ones(1))``."""
    tensors, params = _flat_put_args(index, source, accumulate)
    return apply(R["put"], (input, *tensors), params)


put_ = _in_place("put_", "put", _flat_put_args)


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """``gather`` with ``input`` and ``indices`` broadcast against each other (except along
    ``dim``); with no ``dim``, over the flattened input."""
    if indices.dtype is not _dtype.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype.word}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != indices.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            "dimensions for indices")
    d = wrap_dim(dim, input.ndim, "take_along_dim")
    want = list(input.shape)
    want[d] = indices.shape[d]
    shape = list(broadcast_shapes("take_along_dim", tuple(want), tuple(indices.shape)))
    index = indices.expand(shape)
    shape[d] = input.shape[d]
    return gather(input.expand(shape), d, index)


# -- masked ---------------------------------------------------------------------------------------

def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast) is True, as a 1-D tensor."""
    return apply(R["masked_select"], (input, mask), {})


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the positions where ``mask`` is True filled, in order, from ``source``'s
    first elements."""
    return apply(R["masked_scatter"], (input, mask, source), {})


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    return apply_inplace(R["masked_scatter"], input, (mask, source), {})


# -- nonzero, searchsorted ------------------------------------------------------------------------

def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the nonzero elements: an (n, ndim) tensor, or (``as_tuple=True``) one 1-D
    tensor per dim: ``ember.nonzero(ember.tensor([0, 3, 0, 5]))``."""
    out = apply(R["nonzero"], (input,), {})
    if not as_tuple:
        return out
    if input.ndim == 0:
        return (out.new_zeros((out.shape[0],)),)
    return out.unbind(1)


def argwhere(input: Tensor) -> Tensor:
    """The (n, ndim) indices of the nonzero elements, as ``nonzero(input)``."""
    return apply(R["nonzero"], (input,), {})


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """Where ``input``'s values would be inserted into the last dim of ``sorted_sequence`` to
    keep it sorted: ``ember.searchsorted(ember.tensor([1, 3, 5]), ember.tensor([3, 6]))``."""
    return apply(R["searchsorted"], (sorted_sequence, input, sorter),
                 {"out_int32": out_int32, "right": right, "side": side})


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` between the sorted 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


for _f in (gather, scatter, scatter_, scatter_add, scatter_add_, scatter_reduce, scatter_reduce_,
           index_select, index_add, index_add_, index_copy, index_copy_, index_fill, index_fill_,
           index_reduce, index_reduce_, index_put, index_put_, take, put, put_, take_along_dim,
           masked_select, masked_scatter, masked_scatter_, nonzero, argwhere):
    _export(_f)
_export(searchsorted, method=False)
_export(bucketize, method=False)
