"""Shared dtype and shape rules for op implementations (PyTorch's, not NumPy's).

Op implementations receive backend arrays and Python scalars; these helpers compute the dtype
PyTorch would give and bring the operands to it, so that each op states its rule in one word.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._dtype import FROM_NP, result_type_of
from ..backends import _BY_ARRAY_TYPE


def is_array(x) -> bool:
    return type(x) in _BY_ARRAY_TYPE


def key(x) -> tuple:
    if type(x) in _BY_ARRAY_TYPE:
        return (FROM_NP[x.dtype], 0 if x.ndim else 1)
    return _dtype.operand_key(x)


def promote(*xs) -> _dtype.dtype:
    """The result dtype of an elementwise op over arrays/scalars ``xs``."""
    if len(xs) == 2:
        a, b = xs
        ta, tb = type(a), type(b)
        if ta in _BY_ARRAY_TYPE:
            if tb in _BY_ARRAY_TYPE:
                if a.dtype == b.dtype:
                    return FROM_NP[a.dtype]
            elif (tb is float or tb is int) and a.dtype.kind in "fc":
                return FROM_NP[a.dtype]  # a float tensor with a number: the tensor's dtype
        elif (ta is float or ta is int) and tb in _BY_ARRAY_TYPE and b.dtype.kind in "fc":
            return FROM_NP[b.dtype]
    return result_type_of(tuple(key(x) for x in xs))


def to_float(d: _dtype.dtype) -> _dtype.dtype:
    """Integer and bool dtypes compute in the default float dtype (``exp(int) -> float``)."""
    return d if d.category >= 2 else _dtype.get_default_dtype()


def operand(xp, x, dt: _dtype.dtype):
    """``x`` (array or Python scalar) as an array of dtype ``dt`` (wrapping integers the way a
    C cast does, as PyTorch does: ``int8 + 300``)."""
    if type(x) in _BY_ARRAY_TYPE:
        return x if x.dtype == dt.np else x.astype(dt.np)
    try:
        return xp.asarray(x, dtype=dt.np)
    except (OverflowError, ValueError):
        return xp.asarray(np.asarray(x).astype(dt.np))


def acc_dtype(d: _dtype.dtype) -> _dtype.dtype:
    """Accumulation dtype: half types reduce in float32, as PyTorch does on CPU."""
    return _dtype.float32 if d in (_dtype.float16, _dtype.bfloat16) else d


def wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op + ': ' if op else ''}Dimension out of range (expected to be in range of "
            f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


def dims(dim, ndim: int, op: str = "") -> tuple:
    """Normalise ``dim`` (None, int or sequence) into a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if ndim == 0:  # a 0-d tensor takes dim 0 or -1, as PyTorch's, and reduces nothing
        for d in (dim,) if isinstance(dim, int) else dim:
            wrap_dim(d, 0, op)
        return ()
    if isinstance(dim, int):
        return (wrap_dim(dim, ndim, op),)
    out = tuple(sorted(wrap_dim(d, ndim, op) for d in dim))
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {out[0]} appears multiple times in the list of dims")
    return out if out else tuple(range(ndim))


def broadcast_shapes(op: str, *shapes) -> tuple:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes[0], shapes[1]
        for i in range(1, min(len(a), len(b)) + 1):
            if a[-i] != b[-i] and 1 not in (a[-i], b[-i]):
                raise RuntimeError(
                    f"{op}: The size of tensor a ({a[-i]}) must match the size of tensor b "
                    f"({b[-i]}) at non-singleton dimension {max(len(a), len(b)) - i}") from None
        raise RuntimeError(f"{op}: shapes {[list(s) for s in shapes]} cannot be broadcast") \
            from None
