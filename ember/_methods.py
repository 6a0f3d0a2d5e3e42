"""Tensor methods and operators, bound from the public functions (and the registry).

Operators are the hot path: each is a direct ``apply`` of its registry op, without parsing.
"""

from __future__ import annotations

import builtins
import sys
import warnings

from . import _creation, _dtype, autograd
from . import _functional as F
from ._api.indexing import put_values_check
from ._device import device as _device_cls
from ._ops import REGISTRY as R
from ._ops.index_ops import convert_index
from ._ops.registry import apply, apply_inplace
from ._tensor import Tensor, _make, contiguous_format
from .autograd.engine import run_backward
from .autograd.grad_mode import STATE as _GRAD
from .autograd.graph import type_string
from .backends import of_array

_NO_PARAMS: dict = {}

# every public function whose first argument is the tensor becomes a method of the same name
for _name in F.__all__:
    if _name not in F.NOT_METHODS:
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
    """``self[index]``: a view for basic indices, a copy for advanced ones, read as PyTorch
    does (NOTE [ Advanced indexing ])."""
    basic, trivial, adv = convert_index(index, self._data)
    if adv is None:
        return apply(_GETITEM, (self,), {"index": basic})
    src = self if trivial else apply(_GETITEM, (self,), {"index": basic})
    return apply(_INDEX, (src,), {"index": adv})


def _setitem(self, index, value):
    """``self[index] = value``: a copy into the view of a basic index, ``index_put_`` on it for
    an advanced one (whose tensor values must have self's dtype, as in PyTorch)."""
    if index is False:
        return  # PyTorch writes nothing, checking nothing
    if isinstance(value, Tensor):
        if value.device != self.device:
            value = value.to(self.device)
    elif isinstance(value, (list, tuple)):
        raise TypeError(f"can't assign a {type(value).__name__} to a {type_string(self)}")
    basic, trivial, adv = convert_index(index, self._data)
    if adv is None:
        if _GRAD.grad_enabled and (
                self._requires_grad or isinstance(value, Tensor) and value._requires_grad):
            # as PyTorch: a copy into the view, so autograd sees an in-place op on a view
            apply(_GETITEM, (self,), {"index": basic}).copy_(value)
        else:
            apply_inplace(_INDEX_PUT, self, (value,), {"index": basic})
        return
    if isinstance(value, Tensor):
        put_values_check(self, value)
    dst = self if trivial else apply(_GETITEM, (self,), {"index": basic})
    apply_inplace(_INDEX_PUT, dst, (value,), {"index": adv})


Tensor.__getitem__ = _getitem
Tensor.__setitem__ = _setitem


# -- shape methods with PyTorch's varargs forms ---------------------------------------------------

def view(self, *shape):
    """A view with a new shape (must be compatible with the strides), or ``view(dtype)``: the
    same bytes read as another dtype."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_dtype(self, shape[0])
    return apply(R["view"], (self,), {"shape": F._shape(shape)})


def _view_dtype(self, dtype):
    # PyTorch's view(dtype) shares memory and the version counter but is no autograd view
    a = self._data
    src = _dtype.FROM_NP[a.dtype]
    if dtype.itemsize != src.itemsize:
        what = f"to view {src.word} as {dtype.word} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.strides[-1] != a.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got "
                               f"{a.strides[-1] // a.itemsize}")
        if a.shape[-1] * src.itemsize % dtype.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by "
                               f"{max(dtype.itemsize // src.itemsize, 1)} {what}, but got "
                               f"{a.shape[-1]}")
    out = _make(a.view(dtype.np))
    out._vc = self._version_counter()
    return out


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
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
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


def _conj(t):
    # the conjugate of a real tensor is the tensor itself, as in PyTorch
    return F.conj(t) if t.is_complex() else t


def _identity_on_0d(name, advice):
    warnings.warn(f"Tensor.{name} is deprecated on 0-D tensors. {advice}", UserWarning,
                  stacklevel=3)


def _T(self):
    """The dims reversed (the transpose of a matrix)."""
    nd = self._data.ndim
    if nd == 0:
        _identity_on_0d("T", "This function is the identity in these cases.")
    elif nd > 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return F.permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self):
    """The last two dims swapped (a batch of transposed matrices)."""
    nd = self._data.ndim
    if nd == 0:
        _identity_on_0d("mT", "This function is the identity in these cases.")
        return F.permute(self, ())
    if nd == 1:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           "Got 1-D tensor.")
    return F.transpose(self, -2, -1)


def _H(self):
    """The conjugate transpose of a matrix."""
    nd = self._data.ndim
    if nd == 0:
        _identity_on_0d("H", "Consider using x.conj().")
        return _conj(F.permute(self, ()))
    if nd != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D "
                           "tensor." + (" For batches of matrices, consider using tensor.mH"
                                        if nd > 2 else ""))
    return _conj(F.transpose(self, 0, 1))


def _mH(self):
    """The conjugate transpose of each matrix in a batch."""
    nd = self._data.ndim
    if nd == 0:
        _identity_on_0d("mH", "Consider using x.conj().")
        return _conj(F.permute(self, ()))
    if nd == 1:
        raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. "
                           "Got 1-D tensor.")
    return _conj(F.transpose(self, -2, -1))


Tensor.T, Tensor.mT, Tensor.H, Tensor.mH = (property(f) for f in (_T, _mT, _H, _mH))


def contiguous(self, memory_format=None):
    """Self if contiguous (in ``memory_format``), else a (differentiable) copy that is."""
    if self.is_contiguous(memory_format):
        return self
    if memory_format is None or memory_format is contiguous_format:
        return F.clone(self, memory_format=contiguous_format)
    out = _creation.empty_like(self, memory_format=memory_format)
    return out.copy_(self)


Tensor.contiguous = contiguous


# -- conversion -----------------------------------------------------------------------------------

_DEVICES: dict = {}


def _as_device(d) -> _device_cls:
    """``d`` as a device; parsed strings are remembered (``t.to('cpu')`` is a hot call)."""
    if isinstance(d, _device_cls):
        return d
    dev = _DEVICES.get(d)
    if dev is None:
        dev = _DEVICES[d] = _device_cls(d)
    return dev


def _parse_to(args, kwargs, with_non_blocking: bool = False):
    """PyTorch's to() overloads: ``(dtype, non_blocking, copy)``, ``(device, dtype,
    non_blocking, copy)`` and ``(tensor, non_blocking, copy)``, each with keywords."""
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    flags = []
    for a in args:
        if isinstance(a, builtins.bool):
            flags.append(a)
        elif flags:
            break
        elif isinstance(a, _dtype.dtype) and dtype is None:
            dtype = a
        elif isinstance(a, Tensor) and dtype is None and dev is None:
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, _device_cls, builtins.int)) and dev is None and dtype is None:
            dev = a
        else:
            break
    else:
        if len(flags) <= 2:
            non_blocking, copy = (flags + [False, False])[:2]
            copy = kwargs.pop("copy", copy)
            non_blocking = kwargs.pop("non_blocking", non_blocking)
            kwargs.pop("memory_format", None)
            if not kwargs:
                dev = None if dev is None else _as_device(dev)
                return (dtype, dev, copy, non_blocking) if with_non_blocking else \
                    (dtype, dev, copy)
    got = ", ".join([type(a).__name__ for a in args] + [f"{k}=..." for k in kwargs])
    raise TypeError(f"to() received an invalid combination of arguments - got ({got}), but "
                    "expected one of: (device, dtype, non_blocking, copy), (dtype, non_blocking, "
                    "copy), (tensor, non_blocking, copy)")


def to(self, *args, **kwargs):
    """Convert dtype and/or device: ``t.to(ember.float64)``, ``t.to('cuda')``, ``t.to(other)``.
    Returns self when nothing changes (unless ``copy=True``); copies keep a dense layout."""
    dtype, dev, copy, non_blocking = _parse_to(args, kwargs, True)
    out = self
    if dev is not None and dev != self.device and not (
            dev.type == self.device.type and dev.index is None and _is_current(self.device)):
        out = apply(R["_to_device"], (out,), {"device": dev, "source": self.device,
                                               "non_blocking": builtins.bool(non_blocking)})
    if dtype is not None and dtype is not out.dtype or copy and out is self:
        out = apply(R["_to_copy"], (out,), {"dtype": dtype or out.dtype})
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
    if not isinstance(device, (str, _device_cls)) else device, non_blocking=non_blocking)


def _is_current(dev) -> bool:
    """Whether ``dev`` (a tensor's device) is its type's current device: ``t.to('cuda')``
    keeps a tensor on cuda:1 only while cuda:1 is current, as in PyTorch."""
    if dev.index is None or dev.type != "cuda":
        return True
    from . import cuda
    return dev.index == cuda.current_device()


def pin_memory(self, device=None):
    """A copy in page-locked host memory, from which ``.to('cuda', non_blocking=True)`` is
    asynchronous (a CPU tensor only; needs CUDA)."""
    from . import cuda
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if self.is_pinned():
        return self
    from .backends import for_device
    return _make(for_device(_device_cls("cuda")).pin(self._data))


def is_pinned(self, device=None) -> bool:
    """Whether this CPU tensor is in page-locked memory (``pin_memory()``)."""
    if self.device.type != "cpu" or "cupy" not in sys.modules:
        return False
    from .backends.cuda import is_pinned as pinned
    return pinned(self._data)


def record_stream(self, stream) -> None:
    """Tell the caching allocator that ``stream`` uses this CUDA tensor, so its memory is not
    reused before the work queued on ``stream`` so far is done."""
    from .cuda import streams
    if not isinstance(stream, streams.Stream):
        raise RuntimeError("unknown parameter type")
    from .cuda import memory
    memory._record_stream(self, stream)


def get_device(self) -> int:
    """The CUDA device index of this tensor, -1 on the CPU."""
    idx = self.device.index
    return -1 if idx is None else idx


Tensor.get_device = get_device
Tensor.pin_memory = pin_memory
Tensor.is_pinned = is_pinned
Tensor.record_stream = record_stream
Tensor.type_as = lambda self, other: to(self, other.dtype)


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument the legacy type name (``'ember.FloatTensor'``); else ``to(dtype)``."""
    from .autograd.graph import type_string
    if dtype is None:
        return type_string(self)
    if isinstance(dtype, str):
        names = {d.word + "Tensor": d for d in _dtype.ALL}
        dtype = names[dtype.rsplit(".", 1)[-1]]
    return to(self, dtype)


Tensor.type = type_


def _new(fill):
    fn = {0: _creation.zeros, 1: _creation.ones, None: _creation.empty}[fill]

    def method(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
        return fn(F._shape(size), dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)
    return method


Tensor.new_zeros = _new(0)
Tensor.new_ones = _new(1)
Tensor.new_empty = _new(None)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    """``fill_value`` in ``size``, with this tensor's dtype and device unless given."""
    return _creation.full(tuple(size), fill_value, dtype=dtype or self.dtype,
                          device=device or self.device, requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    """A copy of ``data`` with this tensor's dtype and device unless given."""
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


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of this tensor into the leaves' ``.grad``."""
    d = self._data
    if (gradient is None and inputs is None and not create_graph and not retain_graph and
            self._grad_fn is not None and d.size == 1 and d.dtype.kind == "f"):
        # the common ``loss.backward()``: skip argument normalisation
        seed = of_array(d).xp.array(1, d.dtype)
        run_backward((self,), [_make(seed.reshape(d.shape) if d.ndim else seed)], False, False)
        return
    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


Tensor.backward = backward
Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_
