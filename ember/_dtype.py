"""dtypes and PyTorch's type-promotion rules.

Each ember dtype wraps one NumPy dtype (bfloat16 comes from ml_dtypes). Promotion follows
c10's rules, not NumPy's: categories bool < integer < floating < complex, and operands of
three priorities (dimensioned tensors, 0-d tensors, Python scalars) where a lower-priority
operand only raises the result's *category*, never its width within a category.
"""

from __future__ import annotations

import builtins

import ml_dtypes
import numpy as np

__all__ = [
    "dtype", "promote_types", "result_type", "can_cast", "finfo", "iinfo",
    "get_default_dtype", "set_default_dtype",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, e.g. ``ember.float32``."""

    __slots__ = ("name", "np", "itemsize", "category", "is_signed", "_rank", "abbr", "word")

    def __init__(self, name: str, np_dtype, category: int, rank: int, abbr: str, word: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_signed = name not in ("bool", "uint8")
        self._rank = rank
        self.abbr = abbr
        # c10's ScalarType name, which PyTorch's error messages print ("Float", "Long")
        self.word = word

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == _COMPLEX

    def to_real(self) -> dtype:
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> dtype:
        """The complex dtype with this real part (float16 gives complex64: no complex32 here)."""
        if self.category < _FLOAT:
            raise RuntimeError(f"Unknown Complex ScalarType for {self.word}")
        return complex128 if self in (float64, complex128) else complex64

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


bool = dtype("bool", np.bool_, _BOOL, 0, "b8", "Bool")  # noqa: A001 - PyTorch's public name
uint8 = dtype("uint8", np.uint8, _INT, 1, "u8", "Byte")
int8 = dtype("int8", np.int8, _INT, 1, "i8", "Char")
int16 = dtype("int16", np.int16, _INT, 2, "i16", "Short")
int32 = dtype("int32", np.int32, _INT, 3, "i32", "Int")
int64 = dtype("int64", np.int64, _INT, 4, "i64", "Long")
float16 = dtype("float16", np.float16, _FLOAT, 1, "f16", "Half")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT, 1, "bf16", "BFloat16")
float32 = dtype("float32", np.float32, _FLOAT, 2, "f32", "Float")
float64 = dtype("float64", np.float64, _FLOAT, 3, "f64", "Double")
complex64 = dtype("complex64", np.complex64, _COMPLEX, 2, "c64", "ComplexFloat")
complex128 = dtype("complex128", np.complex128, _COMPLEX, 3, "c128", "ComplexDouble")

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
       complex64, complex128)
_BY_NAME = {d.name: d for d in ALL}
# NumPy dtype -> ember dtype; the hot path reads a tensor's dtype through this.
FROM_NP: dict[np.dtype, dtype] = {d.np: d for d in ALL}

# PyTorch's aliases
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128


def _promote(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        lo, hi = (a, b) if a.category < b.category else (b, a)
        if hi.category == _COMPLEX and lo.category == _FLOAT:
            return complex128 if lo is float64 or hi is complex128 else hi
        return hi
    if a.category == _INT:
        if uint8 in (a, b):
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if a._rank > b._rank else b


_PROMOTE = {(a, b): _promote(a, b) for a in ALL for b in ALL}


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype to which both may be cast: ``promote_types(ember.uint8, ember.int8)``
    is ``ember.int16``."""
    return _PROMOTE[type1, type2]


_default = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (``ember.float32`` at start)."""
    return _default


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype: ``ember.set_default_dtype(ember.float64)``."""
    global _default
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the "
                        "default type")
    if d.category != _FLOAT:
        raise TypeError("only floating-point types are supported as the default type")
    _default = d
    _RESULT_CACHE.clear()


def default_complex() -> dtype:
    """The dtype of complex tensors made from Python complex numbers (PyTorch gives complex32
    for a float16 default, which ember lacks: complex64)."""
    return complex128 if _default is float64 else complex64


def _category_of_number(x) -> int:
    if isinstance(x, (builtins.bool, np.bool_)):
        return _BOOL
    if isinstance(x, (builtins.int, np.integer)):
        return _INT
    if isinstance(x, (builtins.float, np.floating)):
        return _FLOAT
    if isinstance(x, (builtins.complex, np.complexfloating)):
        return _COMPLEX
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


_WRAPPED = (lambda: bool, lambda: int64, get_default_dtype, default_complex)


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # c10's combine_categories: a lower-priority operand may lift the category only.
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _COMPLEX:
        return higher
    if lower.category == _COMPLEX:
        return higher.to_complex() if higher.category == _FLOAT else lower
    if higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return _PROMOTE[higher, lower]
    return higher


# (dtype, priority) pairs -> result dtype; priority 0 = dimensioned, 1 = 0-d, 2 = Python scalar
_RESULT_CACHE: dict[tuple, dtype] = {}


def result_type_of(keys: tuple) -> dtype:
    """Promotion over ``((dtype, priority), ...)``; cached because the hot path asks often."""
    r = _RESULT_CACHE.get(keys)
    if r is None:
        groups: list[dtype | None] = [None, None, None]
        for d, p in keys:
            groups[p] = d if groups[p] is None else _PROMOTE[groups[p], d]
        r = _combine(groups[0], _combine(groups[1], groups[2]))
        _RESULT_CACHE[keys] = r
    return r


def operand_key(x) -> tuple:
    """``(dtype, priority)`` of a tensor, array or Python number, for :func:`result_type_of`."""
    data = getattr(x, "_data", x)
    if isinstance(data, np.generic) or not hasattr(data, "ndim"):
        # Python (and NumPy) numbers are "wrapped numbers": the priority-2 group takes the
        # category defaults, so an int scalar never widens an int32 tensor.
        return (_WRAPPED[_category_of_number(x)](), 2)
    return (FROM_NP[data.dtype], 1 if data.ndim == 0 else 0)


def result_type(tensor1, tensor2) -> dtype:
    """The dtype of ``tensor1 + tensor2`` under PyTorch's promotion rules."""
    return result_type_of((operand_key(tensor1), operand_key(tensor2)))


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether a same-kind cast is allowed (PyTorch forbids float->int, complex->real,
    non-bool->bool)."""
    if from_.category == _COMPLEX and to.category != _COMPLEX:
        return False
    if from_.category == _FLOAT and to.category in (_BOOL, _INT):
        return False
    return not (from_ is not bool and to is bool)


class finfo:
    """Machine limits of a floating dtype: ``ember.finfo(ember.float16).eps``."""

    def __init__(self, type: dtype | None = None):  # noqa: A002 - PyTorch's keyword
        type = type or _default
        if type.category not in (_FLOAT, _COMPLEX):
            raise TypeError("ember.finfo() requires a floating point input type. Use ember.iinfo "
                            "to handle 'ember.finfo'")
        info = ml_dtypes.finfo(type.to_real().np)
        self.dtype = type.to_real().name
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        # PyTorch's resolution is the decimal 10**-precision, not the dtype's rounding of it
        self.resolution = 10.0 ** -builtins.int(info.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype: ``ember.iinfo(ember.int8).max == 127``."""

    def __init__(self, type: dtype):  # noqa: A002
        if type is bool:
            raise TypeError("ember.bool is not supported by ember.iinfo")
        if type.category != _INT:
            raise TypeError("ember.iinfo() requires an integer input type. Use ember.finfo to "
                            "handle 'ember.iinfo'")
        info = np.iinfo(type.np)
        self.dtype = type.name
        self.bits = info.bits
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
