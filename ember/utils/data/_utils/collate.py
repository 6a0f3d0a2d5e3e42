"""``default_collate`` (samples -> batch) and ``default_convert`` (NumPy -> tensors), with
PyTorch's rules for nested mappings, namedtuples, sequences, arrays, numbers and strings."""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

from .worker import get_worker_info

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")
default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
    "found {}")


def _rebuild_like(data, items: Callable, fallback: Callable):
    """``data``'s container type holding ``items()`` (a copy updated in place for a mutable
    one), or ``fallback()`` (a plain dict or list) when the type cannot be rebuilt so."""
    try:
        if isinstance(data, (collections.abc.MutableMapping, collections.abc.MutableSequence)):
            clone = copy.copy(data)
            if isinstance(data, collections.abc.MutableMapping):
                clone.update(items())
            else:
                for i, v in enumerate(items()):
                    clone[i] = v
            return clone
        return type(data)(items())
    except TypeError:
        return fallback()


def default_convert(data):
    """Turn every NumPy array and NumPy scalar inside ``data`` into a tensor, keeping the
    containers (a tuple becomes a list, as in PyTorch); the collate_fn used without batching.

    >>> default_convert([np.array([0, 1]), 2])
    [tensor([0, 1]), 2]
    """
    from .... import as_tensor
    from ...._tensor import Tensor
    t = type(data)
    if isinstance(data, Tensor):
        return data
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "string_"):
        if t.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        def convert():
            return {k: default_convert(data[k]) for k in data}
        return _rebuild_like(data, convert, convert)
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        def convert_all():
            return [default_convert(d) for d in data]
        return _rebuild_like(data, convert_all, convert_all)
    return data


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` (a list of samples), dispatching on the first sample's type through
    ``collate_fn_map`` (exact type first, then the first key it is an instance of) and
    recursing into mappings, namedtuples and sequences.

    >>> collate([(0, "a"), (1, "b")], collate_fn_map=default_collate_fn_map)
    [tensor([0, 1]), ['a', 'b']]
    """
    elem = batch[0]
    t = type(elem)
    if collate_fn_map is not None:
        if t in collate_fn_map:
            return collate_fn_map[t](batch, collate_fn_map=collate_fn_map)
        for key in collate_fn_map:
            if isinstance(elem, key):
                return collate_fn_map[key](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        def by_key():
            return {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                    for k in elem}
        return _rebuild_like(elem, by_key, by_key)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return t(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))

        def by_position():
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        if isinstance(elem, tuple):
            return by_position()
        return _rebuild_like(elem, by_position, by_position)
    raise TypeError(default_collate_err_msg_format.format(t))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack tensors along a new first dimension; in a worker process, straight into shared
    memory (see NOTE [ Shared tensor memory ])."""
    from .... import stack
    from ...._tensor import _make
    from ....multiprocessing.reductions import shared_empty
    if get_worker_info() is None:
        return stack(batch, 0)
    a = batch[0]._data
    if all(t._data.shape == a.shape and t._data.dtype == a.dtype and not t.requires_grad
           for t in batch):
        out = shared_empty((len(batch), *a.shape), a.dtype)
        np.stack([t._data for t in batch], out=out)
        return _make(out)
    return stack(batch, 0).share_memory_()  # stack's errors and type promotion


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    from .... import as_tensor
    if np_str_obj_array_pattern.search(batch[0].dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    from .... import as_tensor
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    from .... import float64, tensor
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    from .... import tensor
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


def _default_map() -> dict:
    from ...._tensor import Tensor
    return {Tensor: collate_tensor_fn, np.ndarray: collate_numpy_array_fn,
            (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
            float: collate_float_fn, int: collate_int_fn, str: collate_str_fn,
            bytes: collate_str_fn}


default_collate_fn_map: dict = _default_map()


def default_collate(batch):
    """Put a list of samples together into a batch: tensors, NumPy arrays and numbers become
    one tensor with a new first dimension of batch size; strings stay a list; mappings,
    namedtuples and sequences are collated field by field (tuples become lists).

    >>> default_collate([{"x": 0, "y": 1.0}, {"x": 2, "y": 3.0}])
    {'x': tensor([0, 2]), 'y': tensor([1., 3.], dtype=ember.float64)}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
