"""Tensor methods and operators, bound from the public functions (and the registry).

Operators are the hot path: each is a direct ``apply`` of its registry op, without parsing.
"""

from __future__ import annotations

import builtins

from . import _dtype
from . import _functional as F
from ._device import device as _device_cls
from ._ops import REGISTRY as R
from ._ops.index_ops import convert_index
from ._ops.registry import apply, apply_inplace
from ._tensor import Tensor

_NO_PARAMS: dict = {}

# every public function whose first argument is the tensor becomes a method of the same name
_NOT_METHODS = {"cat", "concat", "concatenate", "stack", "einsum", "where", "rsub"}
for _name in F.__all__:
    if _name not in _NOT_METHODS:
        setattr(Tensor, _name, getattr(F, _name))
for _name, _fn in F.METHODS.items():
    setattr(Tensor, _name, _fn)


def _binop(op, reflected=False):
    if reflected:
        def method(self, other):
            return apply(op, (other, self), _NO_PARAMS)
    else:
        def method(self, other):
            return apply(op, (self, other), _NO_PARAMS)
    return method


def _ibinop(op):
    def method(self, other):
        return apply_inplace(op, self, (other,), _NO_PARAMS)
    return method


for _dunder, _op in [("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"),
                     ("floordiv", "floor_divide"), ("mod", "remainder"), ("pow", "pow"),
                     ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor")]:
    setattr(Tensor, f"__{_dunder}__", _binop(R[_op]))
    setattr(Tensor, f"__r{_dunder}__", _binop(R[_op], reflected=True))
    setattr(Tensor, f"__i{_dunder}__", _ibinop(R[_op]))
for _dunder, _op in [("eq", "eq"), ("ne", "ne"), ("lt", "lt"), ("le", "le"), ("gt", "gt"),
                     ("ge", "ge")]:
    setattr(Tensor, f"__{_dunder}__", _binop(R[_op]))
Tensor.__matmul__ = _binop(R["matmul"])
Tensor.__rmatmul__ = _binop(R["matmul"], reflected=True)
Tensor.__neg__ = F.neg
Tensor.__abs__ = F.abs
Tensor.__pos__ = F.positive
Tensor.__invert__ = F.bitwise_not
Tensor.__hash__ = object.__hash__


def _eq(self, other):
    if other is None:
        return False
    return apply(R["eq"], (self, other), _NO_PARAMS)


def _ne(self, other):
    if other is None:
        return True
    return apply(R["ne"], (self, other), _NO_PARAMS)


Tensor.__eq__ = _eq
Tensor.__ne__ = _ne


def _where(self, condition, y):
    return F.where(condition, self, y)


Tensor.where = _where


# -- indexing -------------------------------------------------------------------------------------

_GETITEM, _INDEX, _INDEX_PUT = R["getitem"], R["index"], R["index_put"]


def _getitem(self, index):
    idx, basic = convert_index(index)
    return apply(_GETITEM if basic else _INDEX, (self,), {"index": idx})


def _setitem(self, index, value):
    idx, _ = convert_index(index)
    if isinstance(value, Tensor) and value.device != self.device:
        value = value.to(self.device)
    apply_inplace(_INDEX_PUT, self, (value,), {"index": idx})


Tensor.__getitem__ = _getitem
Tensor.__setitem__ = _setitem


# -- shape methods with PyTorch's varargs forms ---------------------------------------------------

def view(self, *shape):
    """A view with a new shape (must be compatible with the strides)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise RuntimeError("view(dtype) is not supported by ember")
    return apply(R["view"], (self,), {"shape": F._shape(shape)})


def reshape(self, *shape):
    return F.reshape(self, F._shape(shape))


def expand(self, *sizes):
    """A broadcast view to ``sizes`` (-1 keeps a dim)."""
    return apply(R["expand"], (self,), {"size": F._shape(sizes)})


def permute(self, *dims):
    return F.permute(self, F._shape(dims))


def flip(self, *dims):
    return F.flip(self, F._shape(dims))


def sum_to_size(self, *size):
    """Sum broadcast dims away so that the result has ``size``."""
    size = F._shape(size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}."
                           .replace("{[", "{").replace("]}", "}"))
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shape[lead + i] != 1)
    if not dims:
        return self
    out = F.sum(self, dims, keepdim=True)
    return out.view(size) if lead else out


for _f in (view, reshape, expand, permute, flip, sum_to_size):
    setattr(Tensor, _f.__name__, _f)

Tensor.view_as = lambda self, other: view(self, tuple(other.shape))
Tensor.reshape_as = lambda self, other: reshape(self, tuple(other.shape))
Tensor.expand_as = lambda self, other: expand(self, tuple(other.shape))
Tensor.T = property(lambda self: F.permute(self, tuple(range(self.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: F.transpose(self, -2, -1))
Tensor.H = property(lambda self: F.conj(self.T))
Tensor.mH = property(lambda self: F.conj(F.transpose(self, -2, -1)))


def contiguous(self, memory_format=None):
    """Self if contiguous, else a contiguous (differentiable) copy."""
    return self if self.is_contiguous() else F.clone(self)


Tensor.contiguous = contiguous


# -- conversion -----------------------------------------------------------------------------------

def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    for a in args:
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, _device_cls, builtins.int)):
            dev = a
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    return dtype, (None if dev is None else _device_cls(dev)), copy


def to(self, *args, **kwargs):
    """Convert dtype and/or device: ``t.to(ember.float64)``, ``t.to('cuda')``, ``t.to(other)``.
    Returns self when nothing changes (unless ``copy=True``)."""
    dtype, dev, copy = _parse_to(args, kwargs)
    out = self
    if dev is not None and dev != self.device and not (
            dev.type == self.device.type and dev.index is None):
        out = apply(R["_to_device"], (out,), {"device": dev, "source": self.device})
    if dtype is not None and dtype is not out.dtype:
        out = apply(R["_to_copy"], (out,), {"dtype": dtype})
    if copy and out is self:
        out = F.clone(self)
    return out


Tensor.to = to
for _n, _d in [("float", "float32"), ("double", "float64"), ("half", "float16"),
               ("bfloat16", "bfloat16"), ("long", "int64"), ("int", "int32"),
               ("short", "int16"), ("char", "int8"), ("byte", "uint8"), ("bool", "bool"),
               ("cfloat", "complex64"), ("cdouble", "complex128")]:
    setattr(Tensor, _n, (lambda d: lambda self, memory_format=None: to(self, d))(
        getattr(_dtype, _d)))
Tensor.cpu = lambda self, memory_format=None: to(self, "cpu")
Tensor.cuda = lambda self, device=None, non_blocking=False, memory_format=None: to(
    self, _device_cls("cuda", device if isinstance(device, builtins.int) else None)
    if not isinstance(device, (str, _device_cls)) else device)
Tensor.type_as = lambda self, other: to(self, other.dtype)


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument the legacy type name (``'ember.FloatTensor'``); else ``to(dtype)``."""
    from .autograd.graph import _TYPE_NAMES, type_string
    if dtype is None:
        return type_string(self)
    if isinstance(dtype, str):
        names = {v: k for k, v in _TYPE_NAMES.items()}
        dtype = getattr(_dtype, names[dtype.rsplit(".", 1)[-1]])
    return to(self, dtype)


Tensor.type = type_


def _new(fill):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        from . import _creation
        size = F._shape(size)
        fn = {0: _creation.zeros, 1: _creation.ones, None: _creation.empty}[fill]
        return fn(size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)
    return method


Tensor.new_zeros = _new(0)
Tensor.new_ones = _new(1)
Tensor.new_empty = _new(None)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from . import _creation
    return _creation.full(tuple(size), fill_value, dtype=dtype or self.dtype,
                          device=device or self.device, requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    from . import _creation
    if isinstance(data, Tensor):
        data = data.detach()
    return _creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                            requires_grad=requires_grad)


Tensor.new_full = new_full
Tensor.new_tensor = new_tensor


# -- in-place fills and copies --------------------------------------------------------------------

def fill_(self, value):
    """Fill with ``value`` (a number or 0-d tensor), in place."""
    return apply_inplace(R["fill"], self, (value,), _NO_PARAMS)


def zero_(self):
    """Fill with zeros, in place."""
    return apply_inplace(R["fill"], self, (0,), _NO_PARAMS)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, from any device) into self."""
    if isinstance(src, Tensor) and src.device != self.device:
        src = src.to(self.device)
    return apply_inplace(R["copy"], self, (src,), _NO_PARAMS)


Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_
