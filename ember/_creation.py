"""Tensor creation: tensor/as_tensor/asarray/from_numpy/from_dlpack, zeros/ones/full/empty (and
``_like``), arange, linspace, logspace, eye; the default device.

# NOTE [ Creation follows PyTorch's kernels ]
``tensor()`` reproduces ``torch/csrc/utils/tensor_new.cpp``: the shape is read from the first
element at each level, the dtype is the promotion over every leaf (NumPy scalars and arrays keep
their dtype, tensors inside a list are read as scalars), and each leaf is converted as
``store_scalar`` converts it. ``arange`` and ``linspace`` reproduce ATen's CPU kernels value for
value, including the FMA contraction and the 256-bit vector chunks of arange (see
``_arange_values``), so that their floating results equal PyTorch's bit for bit.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from . import _dtype
from ._device import CPU, device
from ._random import _SIMD, _fma32, _fma64
from ._tensor import (
    Size,
    Tensor,
    _contiguous_strides,
    _make,
    contiguous_format,
    format_strides,
    preserve_format,
)
from ._threads import get_num_threads
from .backends import for_device

_default_devices: list[device] = []


def push_default_device(d: device) -> None:
    _default_devices.append(d)


def pop_default_device() -> None:
    _default_devices.pop()


def set_default_device(d) -> None:
    """Device for tensors created without ``device=`` (``None`` resets to CPU)."""
    _default_devices.clear()
    if d is not None:
        _default_devices.append(device(d))


def get_default_device() -> device:
    return _default_devices[-1] if _default_devices else CPU


def _device(d) -> device:
    if d is None:
        return get_default_device()
    return d if isinstance(d, device) else device(d)


def _to_device_array(arr: np.ndarray, d):
    d = _device(d)
    return arr if d.type == "cpu" else for_device(d).from_numpy(arr, d)


def _check_grad_dtype(dtype: _dtype.dtype) -> None:
    if dtype.category < 2:
        raise RuntimeError(
            "Only Tensors of floating point and complex dtype can require gradients")


def _finish(arr, dev, requires_grad: bool) -> Tensor:
    """Wrap a host array, moved to ``dev``, as a new tensor."""
    t = _make(_to_device_array(arr, dev))
    if requires_grad:
        _check_grad_dtype(t.dtype)
        t._requires_grad = True
    return t


def _type_name(obj) -> str:
    """Python's ``tp_name`` of ``type(obj)``, which PyTorch's messages print."""
    t = type(obj)
    if isinstance(obj, Tensor) or t.__module__ == "builtins":
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


# -- scalars ------------------------------------------------------------------------------------

# The C++ type names c10's checked_convert prints (``Scalar::to<T>``).
_C_TYPE = {"bool": "bool", "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t",
           "int32": "int", "int64": "int64_t", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
           "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _overflow(name: str) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def _number(v):
    """A Python number or 0-d tensor as PyTorch's argument parser reads a ``Scalar``."""
    if isinstance(v, Tensor):
        if v.ndim:
            raise TypeError(f"expected a number, got a Tensor with {v.ndim} dimension(s)")
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    if type(v) is builtins.int and not -(1 << 63) <= v < (1 << 64):
        raise OverflowError("int too big to convert" if v > 0
                            else "can't convert negative int to unsigned")
    return v


def _scalar_to(v, dt: _dtype.dtype, name: str | None = None):
    """``Scalar::to<T>`` for dtype ``dt``: a Python value in range for it, else PyTorch's
    overflow error (integers wrap to unsigned types only from negative values)."""
    name = name or _C_TYPE[dt.name]
    cat = dt.category
    if cat == 3:
        return complex(v)
    if cat == 0:
        return builtins.bool(v)
    if isinstance(v, complex):
        if v.imag != 0:
            raise _overflow(name)
        v = v.real
    if cat == 2:
        # a double beyond float's range overflows float; an unsigned 64-bit one overflows half
        f = builtins.float(v)
        big = dt is _dtype.float32 and math.isfinite(f) or type(v) is builtins.int and v >= 2**63
        if big and abs(f) > _dtype.finfo(dt).max:
            raise _overflow(name)
        return f
    info = np.iinfo(dt.np)
    if isinstance(v, builtins.float) and not math.isfinite(v):
        raise _overflow(name)
    lo = -info.max if info.min == 0 else info.min
    if not lo <= v <= info.max:
        raise _overflow(name)
    return builtins.int(v) % (info.max + 1) if info.min == 0 else builtins.int(v)


# -- tensor(): PyTorch's internal_new_from_data -------------------------------------------------

_PY_CATEGORY = {builtins.bool: 0, builtins.int: 1, builtins.float: 2, builtins.complex: 3}


def _complex_default() -> _dtype.dtype:
    if _dtype.get_default_dtype() is _dtype.bfloat16:
        raise RuntimeError("invalid default scalar type for complex")
    return _dtype.default_complex()


def _category_dtype(cat: int) -> _dtype.dtype:
    if cat == 3:
        return _complex_default()
    return (_dtype.bool, _dtype.int64, _dtype.get_default_dtype())[cat]


def _np_dtype(np_dtype) -> _dtype.dtype:
    d = _dtype.FROM_NP.get(np_dtype)
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported "
            "types are: float64, float32, float16, complex64, complex128, int64, int32, int16, "
            "int8, uint8, and bool.")
    return d


def _is_sequence(obj) -> bool:
    # CPython's PySequence_Check, except that tensors are read as scalars (as PyTorch does)
    t = type(obj)
    if t is list or t is tuple:
        return True
    if isinstance(obj, (Tensor, dict)):
        return False
    return hasattr(t, "__getitem__") and hasattr(t, "__len__")


def _infer(obj) -> _dtype.dtype:
    """PyTorch's infer_scalar_type: the promotion of every leaf's dtype."""
    cat = _PY_CATEGORY.get(type(obj))
    if cat is not None:
        return _category_dtype(cat)
    if isinstance(obj, (np.ndarray, np.generic)):
        return _np_dtype(obj.dtype)
    if isinstance(obj, builtins.float):
        return _category_dtype(2)
    if isinstance(obj, builtins.bool):
        return _dtype.bool
    if isinstance(obj, builtins.int):
        return _dtype.int64
    if isinstance(obj, builtins.complex):
        return _category_dtype(3)
    if isinstance(obj, Tensor):
        return obj.dtype
    if isinstance(obj, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{_type_name(obj)}'")
    if _is_sequence(obj):
        if not len(obj):
            return _dtype.get_default_dtype()
        types = set(map(type, obj))
        if types <= _PY_CATEGORY.keys():  # only Python numbers: their categories form a chain
            return _category_dtype(max(_PY_CATEGORY[t] for t in types))
        result = None
        for item in obj:
            d = _infer(item)
            result = d if result is None else _dtype.promote_types(result, d)
            if result is _dtype.complex128:
                break
        return result
    raise RuntimeError(f"Could not infer dtype of {_type_name(obj)}")


def _sizes(obj) -> list:
    """PyTorch's compute_sizes: lengths along the first element of each level."""
    sizes: list = []
    while True:
        if isinstance(obj, np.ndarray):
            if obj.ndim == 0:
                raise TypeError("len() of unsized object")
            sizes.extend(obj.shape)
            break
        if isinstance(obj, str) and obj:
            raise ValueError("too many dimensions 'str'")
        if not _is_sequence(obj):
            break
        n = len(obj)
        sizes.append(n)
        if len(sizes) > 128:
            raise ValueError(f"too many dimensions '{_type_name(obj)}'")
        if n == 0:
            break
        obj = obj[0]
    return sizes


def _collect(obj, sizes: list, dim: int, flat: list) -> None:
    """PyTorch's recursive_store, gathering the leaves into ``flat`` in row-major order."""
    if isinstance(obj, np.ndarray):
        if obj.ndim and obj.shape == tuple(sizes[dim:]):
            flat.extend(obj.reshape(-1).tolist())
            return
        if obj.ndim == 0:
            raise TypeError("len() of unsized object")
        obj = list(obj)
    elif type(obj) is not list and type(obj) is not tuple:
        if not _is_sequence(obj):
            raise TypeError("not a sequence")
        obj = list(obj)
    n = sizes[dim]
    if len(obj) != n:
        raise ValueError(f"expected sequence of length {n} at dim {dim} (got {len(obj)})")
    if dim == len(sizes) - 1:
        flat.extend(obj)
    else:
        for item in obj:
            _collect(item, sizes, dim + 1, flat)


def _leaf(v, dt: _dtype.dtype):
    """One non-Python-number leaf as the Python number ``store_scalar`` would read."""
    cat = dt.category
    if isinstance(v, Tensor):
        if cat == 2:
            return builtins.float(v)
        return complex(v) if cat == 3 else v.__index__()
    if isinstance(v, np.generic):
        if cat <= 1 and v.dtype.kind == "f" and not isinstance(v, builtins.float):
            raise TypeError(f"'{_type_name(v)}' object cannot be interpreted as an integer")
        return v.item()
    for t in (builtins.bool, builtins.int, builtins.float, builtins.complex):
        if isinstance(v, t):
            return t(v)
    if cat <= 1:
        raise TypeError(f"'{_type_name(v)}' object cannot be interpreted as an integer")
    raise TypeError(f"must be real number, not {_type_name(v)}")


def _convert(flat: list, dt: _dtype.dtype) -> np.ndarray:
    """Leaves (Python numbers after ``_leaf``) as a 1-D array of ``dt``, converted as PyTorch's
    store_scalar does: floats truncate into integers with a range check, complex values only
    go to complex or bool."""
    types = set(map(type, flat))
    if not types <= _PY_CATEGORY.keys():
        flat = [_leaf(v, dt) for v in flat]
        types = set(map(type, flat))
    cat = dt.category
    if cat == 3:
        return np.array(flat, np.complex128).astype(dt.np)
    if cat == 0:
        return np.array(flat, np.bool_)
    if builtins.complex in types:
        if cat == 1:
            raise TypeError("'complex' object cannot be interpreted as an integer")
        raise TypeError("must be real number, not complex")
    if cat == 2:
        a = np.array(flat, np.float64)
        # c10 converts through float: half and bfloat16 round twice, as PyTorch's do
        return a if dt is _dtype.float64 else a.astype(np.float32).astype(dt.np)
    info = np.iinfo(dt.np)
    lo = -info.max if info.min == 0 else info.min
    if builtins.float in types:
        a = np.array(flat, np.float64)
        if not (np.isfinite(a).all() and lo <= a.min() and a.max() <= info.max):
            raise _overflow(dt.name)
        a = a.astype(np.int64)
    else:
        try:
            a = np.array(flat, np.int64)
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
        if a.size and (a.min() < lo or a.max() > info.max):
            raise _overflow(dt.name)
    return a.astype(dt.np)


_WIDE_UNSIGNED = frozenset(np.dtype(t) for t in (np.uint16, np.uint32, np.uint64))


def _torch_strides_if_empty(arr: np.ndarray) -> np.ndarray:
    """NumPy gives an empty array zero strides; PyTorch's are the contiguous ones, which its
    views (a transpose) then carry."""
    if arr.size or arr.ndim < 2:
        return arr
    st = tuple(s * arr.itemsize for s in _contiguous_strides(arr.shape))
    return np.lib.stride_tricks.as_strided(arr, strides=st)


def _check_numpy(arr: np.ndarray) -> _dtype.dtype:
    """PyTorch's tensor_from_numpy checks; the array's ember dtype."""
    if arr.dtype.byteorder not in "=|" and not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order."
                         " Conversion between byte orders is currently not supported.")
    dt = _np_dtype(arr.dtype)
    if any(s < 0 for s in arr.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) ")
    if any(s % arr.itemsize for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. "
                         "Copy the numpy array to reallocate the memory.")
    return dt


def _foreign(data):
    """A tensor aliasing a CuPy array or a DLPack exporter (a PyTorch tensor, ...), or None."""
    if hasattr(data, "__dlpack__") and not isinstance(data, (Tensor, np.ndarray)):
        return from_dlpack(data)
    return None


def _from_data(data, dtype: _dtype.dtype | None) -> np.ndarray:
    """A new host array holding ``data`` (PyTorch's internal_new_from_data)."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{_type_name(data)}'")
    if isinstance(data, np.ndarray):
        if dtype is not None and data.dtype in _WIDE_UNSIGNED:
            return np.array(data, dtype.np)  # dtypes ember lacks, converted as asked
        src = _check_numpy(data)
        return np.array(data, (dtype or src).np)
    sizes = _sizes(data)
    dt = dtype or _infer(data)
    if 0 in sizes:
        return _torch_strides_if_empty(np.empty(sizes, dt.np))
    if not sizes:
        return _convert([data], dt).reshape(())
    flat: list = []
    _collect(data, sizes, 0, flat)
    return _convert(flat, dt).reshape(sizes)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested sequences, arrays, tensors):
    ``ember.tensor([[1., 2.], [3., 4.]])``."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "ember.tensor(sourceTensor).", UserWarning, stacklevel=2)
        out = _copy_keeping_layout(data, dtype, device)
    else:
        t = _foreign(data)
        if t is not None:
            out = _copy_keeping_layout(t, dtype, device)
        else:
            return _finish(_from_data(data, dtype), device, requires_grad)
    if requires_grad:
        _check_grad_dtype(out.dtype)
        out._requires_grad = True
    return out


def _copy_keeping_layout(t: Tensor, dtype, device) -> Tensor:
    # PyTorch's to(copy=True) keeps a dense tensor's strides (``order="K"``)
    src = t._data
    xp = for_device(t.device).xp
    out = _make(xp.array(src, dtype=(dtype or t.dtype).np, order="K", copy=True))
    return out.to(device) if device is not None else out


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a tensor, NumPy array or DLPack exporter when
    no conversion is needed: ``ember.as_tensor(np_array)``."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray):
        return from_numpy(data).to(dtype=dtype, device=device)
    t = _foreign(data)
    if t is not None:
        return t.to(dtype=dtype, device=device)
    return _finish(_from_data(data, dtype), device, False)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None) -> Tensor:
    """``obj`` as a tensor: shared with a tensor/array/DLPack exporter when ``copy`` is not
    True and dtype and device allow, copied when ``copy=True``; ``copy=False`` forbids a copy:
    ``ember.asarray(np_array, copy=False)``."""
    t = obj if isinstance(obj, Tensor) else (
        from_numpy(obj) if isinstance(obj, np.ndarray) else _foreign(obj))
    if t is None:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        return _finish(_from_data(obj, dtype), device, builtins.bool(requires_grad))
    dev = None if device is None else _device(device)
    wrong_device = dev is not None and dev != t.device
    wrong_dtype = dtype is not None and dtype is not t.dtype
    if copy:
        t = t.to(dtype=dtype, device=dev, copy=True)
    elif wrong_device or wrong_dtype:
        if copy is False:
            if wrong_device:
                raise ValueError(f"can't alias tensor from device '{t.device}' to '{dev}'.")
            raise ValueError(f"can't alias tensor with dtype '{t.dtype.word}' into dtype "
                             f"'{dtype.word}'.")
        t = t.to(dtype=dtype, device=dev)
    if requires_grad is None:
        if t._requires_grad:
            warnings.warn(
                "ember.asarray: unspecified requires_grad now defaults to obj.requires_grad "
                "instead of False. Pass requires_grad=False explicitly to get the old behavior "
                "and silence this warning.", UserWarning, stacklevel=2)
        return t
    if requires_grad and t._grad_fn is not None:
        t = t.clone()  # requires_grad can only be set on a leaf
    return t.requires_grad_(requires_grad)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: writes to one show in the other,
    ``ember.from_numpy(np.zeros(3))``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(ndarray)})")
    _check_numpy(ndarray)
    if not ndarray.flags.writeable:
        warnings.warn(
            "The given NumPy array is not writable, and ember does not support non-writable "
            "tensors: in-place writes to this tensor will fail. You may want to copy the array "
            "to protect its data or make it writable before converting it to a tensor.",
            UserWarning, stacklevel=2)
    return _make(ndarray)


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with any DLPack exporter (NumPy, CuPy, PyTorch, ...):
    ``ember.from_dlpack(torch_tensor)``."""
    if isinstance(ext_tensor, Tensor):
        return _make(ext_tensor._data)
    dev_type, _ = ext_tensor.__dlpack_device__()
    if dev_type == 1:  # kDLCPU
        return _make(np.from_dlpack(ext_tensor))
    import cupy
    return _make(cupy.from_dlpack(ext_tensor))


# -- sized factories ----------------------------------------------------------------------------

def _size(size, fname: str, kw: dict | None = None) -> tuple:
    """PyTorch's ``size`` argument: ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``, ``f(Size)``,
    ``f(size=(2, 3))`` (``kw`` holds the keyword form)."""
    if kw:
        if size or set(kw) != {"size"}:
            bad = next(k for k in kw if k != "size" or size)
            raise TypeError(f"{fname}() got an unexpected keyword argument '{bad}'")
        size = (kw["size"],)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    elif not size:
        raise TypeError(f'{fname}() missing 1 required positional arguments: "size"')
    out = []
    for i, s in enumerate(size):
        if type(s) is not builtins.int:
            if isinstance(s, builtins.bool) or not hasattr(s, "__index__") or (
                    isinstance(s, Tensor) and s.ndim):
                if len(size) == 1:
                    raise TypeError(f"{fname}(): argument 'size' (position 1) must be tuple of "
                                    f"ints, not {_type_name(s)}")
                raise TypeError(f"{fname}(): argument 'size' failed to unpack the object at pos "
                                f"{i + 1} with error \"type must be tuple of ints,but got "
                                f"{_type_name(s)}\"")
            s = s.__index__()
        out.append(s)
    return tuple(out)


def _check_size(size: tuple, fname: str) -> None:
    for s in size:
        if s < 0:
            if fname == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(size)}")


def _into_out(out: Tensor, t: Tensor) -> Tensor:
    """Write a factory's result into ``out=`` (resizing it as PyTorch does)."""
    if out._data.shape != t._data.shape:
        if out._data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(t.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=3)
        out._data = t._data
        out._bump_version("resize_")
        return out
    return out.copy_(t)


def _out_dtype(out, dtype):
    if out is None or dtype is None:
        return dtype if out is None else out.dtype
    if dtype is not out.dtype:
        raise RuntimeError(f"dtype {dtype.word} does not match dtype of out parameter "
                           f"({out.dtype.word})")
    return dtype


def _fill_array(xp, fill, size: tuple, dtype):
    if fill is None:
        return xp.empty(size, dtype.np)
    if fill == 0 and not isinstance(fill, complex):
        return xp.zeros(size, dtype.np)
    return xp.full(size, _scalar_to(fill, dtype), dtype.np)


def _filled(fill, size: tuple, dtype, dev, requires_grad, out=None) -> Tensor:
    dtype = _out_dtype(out, dtype) or _dtype.get_default_dtype()
    d = _device(dev)
    if d.type == "cpu":
        arr = _torch_strides_if_empty(_fill_array(np, fill, size, dtype))
    else:
        backend = for_device(d)
        with backend.on(d):  # made on ``d``, not on the current device
            arr = _fill_array(backend.xp, fill, size, dtype)
    t = _make(arr)
    if requires_grad:
        _check_grad_dtype(dtype)
        t._requires_grad = True
    return t if out is None else _into_out(out, t)


def zeros(*size, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, **size_kw) -> Tensor:
    """A tensor of zeros: ``ember.zeros(2, 3)``."""
    size = _size(size, "zeros", size_kw)
    _check_size(size, "zeros")
    return _filled(0, size, dtype, device, requires_grad, out)


def ones(*size, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, **size_kw) -> Tensor:
    """A tensor of ones: ``ember.ones(2, 3)``."""
    size = _size(size, "ones", size_kw)
    _check_size(size, "ones")
    return _filled(1, size, dtype, device, requires_grad, out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None, **size_kw) -> Tensor:
    """An uninitialised tensor: ``ember.empty(2, 3)``."""
    size = _size(size, "empty", size_kw)
    _check_size(size, "empty")
    return _filled(None, size, dtype, device, requires_grad, out)


def _fill_dtype(v) -> _dtype.dtype:
    # a fill value is a Scalar: Python's types decide (a float64 0-d tensor gives the default)
    return (_dtype.bool, _dtype.int64, _dtype.get_default_dtype(), _dtype.default_complex())[
        _dtype._category_of_number(v)]


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (dtype inferred from it): ``ember.full((2,), 7)``."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{_type_name(size)}")
    if isinstance(fill_value, Tensor) and fill_value.ndim or fill_value is None or isinstance(
            fill_value, (str, bytes, list, tuple)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{_type_name(fill_value)}")
    size = _size((size,), "full")
    _check_size(size, "full")
    fill_value = _number(fill_value)
    return _filled(fill_value, size, dtype or _fill_dtype(fill_value), device, requires_grad,
                   out)


# -- _like: PyTorch's memory_format=torch.preserve_format ---------------------------------------

def _non_overlapping_and_dense(shape, strides) -> bool:
    dims = sorted((i for i in range(len(shape)) if shape[i] >= 2), key=lambda i: strides[i])
    expected = 1
    for i in dims:
        if strides[i] != expected:
            return False
        expected *= shape[i]
    return True


def _dense_strides(shape, strides) -> tuple:
    """ATen's infer_dense_strides: contiguous strides in the order of ``strides``."""
    perm = list(range(len(shape)))[::-1]

    def should_swap(a, b):
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa != sb:
            return 1 if sa > sb else -1
        return 1 if shape[a] > shape[b] else 0

    for i in range(1, len(perm)):
        d1 = i
        for j in range(1, i + 1):
            d0 = i - j
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    out, cur = [0] * len(shape), 1
    for i in perm:
        out[i] = cur
        cur *= max(shape[i], 1)
    return tuple(out)


def _like_strides(t: Tensor, memory_format) -> tuple | None:
    """Element strides ``empty_like`` gives, or None when they are the contiguous ones."""
    a = t._data
    shape = a.shape
    if memory_format is None or memory_format is preserve_format:
        if a.flags.c_contiguous and 1 not in shape:  # NumPy's strides are PyTorch's then
            return None
        strides = t.stride()
        if _non_overlapping_and_dense(shape, strides):
            return None if strides == _contiguous_strides(shape) else strides
        return _dense_strides(shape, strides)
    strides = format_strides(shape, memory_format)
    return None if memory_format is contiguous_format else strides


def is_contiguous_strides(shape, strides) -> bool:
    """PyTorch's is_contiguous: row-major, ignoring size-1 dims."""
    expected = 1
    for n, st in zip(reversed(shape), reversed(strides)):
        if n != 1:
            if st != expected:
                return False
            expected *= n
    return True


def _with_strides(flat, shape, strides):
    """``flat`` (a fresh 1-D array) viewed with element ``strides``."""
    from ._ops.shape import strided
    return strided(flat, shape, strides)


def _like(t: Tensor, fill, dtype, device, requires_grad, memory_format) -> Tensor:
    dtype = dtype or t.dtype
    dev = t.device if device is None else _device(device)
    if t.is_sparse:
        from ._sparse import zeros_like_sparse
        return zeros_like_sparse(t, fill, dtype, dev, requires_grad)
    strides = _like_strides(t, memory_format)
    if strides is None:
        return _filled(fill, tuple(t.shape), dtype, dev, requires_grad)
    flat = _filled(fill, (t.numel(),), dtype, dev, requires_grad)
    flat._data = _with_strides(flat._data, t._data.shape, strides)
    return flat


def _check_input(fname, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(input)}")


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """Zeros of ``input``'s shape, dtype, device and layout: ``ember.zeros_like(x)``."""
    _check_input("zeros_like", input)
    return _like(input, 0, dtype, device, requires_grad, memory_format)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """Ones of ``input``'s shape, dtype, device and layout: ``ember.ones_like(x)``."""
    _check_input("ones_like", input)
    return _like(input, 1, dtype, device, requires_grad, memory_format)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """An uninitialised tensor of ``input``'s shape, dtype, device and layout:
    ``ember.empty_like(x)``."""
    _check_input("empty_like", input)
    return _like(input, None, dtype, device, requires_grad, memory_format)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """``fill_value`` in ``input``'s shape, dtype, device and layout:
    ``ember.full_like(x, 7)``."""
    _check_input("full_like", input)
    return _like(input, _number(fill_value), dtype, device, requires_grad, memory_format)


# -- ranges -------------------------------------------------------------------------------------

def _acc(dt: _dtype.dtype) -> _dtype.dtype:
    """ATen's CPU accumulate type (``at::acc_type<T, false>``)."""
    if dt.category == 1:
        return _dtype.int64
    return _dtype.float32 if dt.itemsize == 2 else _dtype.float64


def _fma(a, b, c, acc: _dtype.dtype):
    """``a * b + c`` rounded once in ``acc`` (with FMA, as the AVX2 build compiles it) or twice
    (the default build)."""
    if not _SIMD:
        return np.asarray(a, acc.np) * acc.np.type(b) + np.asarray(c, acc.np)
    if acc is _dtype.float64:
        return _fma64(np.asarray(a, np.float64), builtins.float(b), c)
    return _fma32(np.asarray(a, np.float32), np.float32(b), np.asarray(c, np.float32))


def _arange_values(start, step, n: int, dt: _dtype.dtype) -> np.ndarray:
    """ATen's arange kernel: ``start + step * i`` in the accumulate type, except that full pairs of
    256-bit vectors take ``base + j * step`` from a base rounded to the output dtype (a fused
    multiply-add, except in bfloat16's vectors, which add a rounded product). Each of
    ``parallel_for``'s chunks starts its own vectors."""
    acc = _acc(dt)
    if acc is _dtype.int64:
        return (start + step * np.arange(n, dtype=np.int64)).astype(dt.np)
    v = 32 // dt.itemsize
    out = np.empty(n, dt.np)
    for begin, end in _parallel_chunks(n):
        m = begin + (end - begin) // (2 * v) * 2 * v
        if m < end:
            out[m:end] = _fma(np.arange(m, end, dtype=np.int64), step, start, acc)
        if m > begin:
            chunk = np.arange(begin, m, v, dtype=np.int64)
            base = np.repeat(_fma(chunk, step, start, acc).astype(dt.np).astype(acc.np), v)
            j = np.tile(np.arange(v, dtype=np.int64), len(chunk))
            if dt is _dtype.bfloat16:
                vec = base + (j * np.float32(step)).astype(np.float32)
            else:
                vec = _fma(j, step, base, acc)
            out[begin:m] = vec
    return out


_GRAIN_SIZE = 32768  # at::internal::GRAIN_SIZE


def _parallel_chunks(n: int) -> list:
    """The ranges ATen's OpenMP ``parallel_for(0, n, GRAIN_SIZE)`` hands its threads
    (NOTE [ Thread count ])."""
    threads = min(get_num_threads(), -(-n // _GRAIN_SIZE))
    if n < _GRAIN_SIZE or threads <= 1:
        return [(0, n)]
    size = -(-n // threads)
    return [(b, min(n, b + size)) for b in range(0, n, size)]


def _range_number(v, name: str):
    if isinstance(v, Tensor) and v.ndim:
        raise TypeError(f"arange(): argument '{name}' (position 1) must be Number, not Tensor")
    return _number(v)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values ``start, start+step, ...`` below ``end``: ``ember.arange(5)``, with PyTorch's
    exact floating values."""
    if end is None:
        start, end = 0, start
    start, end = _range_number(start, "start"), _range_number(end, "end")
    step = _range_number(step, "step")
    dtype = _out_dtype(out, dtype)
    if dtype is None:
        is_float = builtins.any(isinstance(v, (builtins.float, complex))
                                for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    if dtype.category in (0, 3):
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{dtype.word}'")
    # bounds are checked in double; values come from the accumulate type
    dstart, dend, dstep = (_scalar_to(v, _dtype.float64) for v in (start, end, step))
    if dstep == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(dstart) and math.isfinite(dend)):
        raise RuntimeError(f"unsupported range: {dstart:g} -> {dend:g}")
    if not ((dstep > 0 and dend >= dstart) or (dstep < 0 and dend <= dstart)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    acc = _acc(dtype)
    name = _C_TYPE[acc.name]
    xstart, xend, xstep = (_scalar_to(v, acc, name) for v in (start, end, step))
    if dtype is _dtype.int64:
        if xstep == 0:
            raise ValueError("step must be nonzero")
        # int64 arithmetic, wrapping as C++'s does
        span = (xend - xstart + xstep - (1 if xstep > 0 else -1) + 2**63) % 2**64 - 2**63
        size = abs(span) // abs(xstep) * (1 if (span < 0) == (xstep < 0) else -1)
        if size < 0:
            raise RuntimeError("invalid size, possible overflow?")
    else:
        size_d = (dend - dstart) / dstep
        if not 0 <= size_d <= 2.0**63:
            raise RuntimeError("invalid size, possible overflow?")
        size = math.ceil(size_d)
    t = _finish(_arange_values(xstart, xstep, size, dtype), device, requires_grad)
    return t if out is None else _into_out(out, t)


def _linspace_values(start, end, steps: int, dt: _dtype.dtype) -> np.ndarray:
    """ATen's linspace kernel: from ``start`` up to the midpoint, from ``end`` down after it,
    in the output dtype (double for integers, each part for complex), contracted into FMAs in
    the AVX2 build."""
    if dt.itemsize == 2:
        return _linspace_half(start, end, steps, dt)
    if dt.category == 3:
        s, e = (dt.np.type(_scalar_to(v, dt)) for v in (start, end))
        out = np.empty(steps, dt.np)
        out.real = _linspace_part(s.real, e.real, steps, dt.to_real())
        out.imag = _linspace_part(s.imag, e.imag, steps, dt.to_real())
        return out
    if dt.category == 1:
        s, e = _scalar_to(start, dt), _scalar_to(end, dt)
        return _linspace_part(builtins.float(s), builtins.float(e), steps,
                              _dtype.float64).astype(dt.np)
    s, e = (dt.np.type(_scalar_to(v, dt)) for v in (start, end))
    return _linspace_part(s, e, steps, dt)


def _linspace_part(s, e, steps: int, acc: _dtype.dtype) -> np.ndarray:
    i = np.arange(steps, dtype=np.int64)
    half = steps // 2
    with np.errstate(all="ignore"):
        step = (acc.np.type(e) - acc.np.type(s)) / acc.np.type(steps - 1)
        lo = _fma(i[:half], step, s, acc)
        hi = _fma(steps - i[half:] - 1, -step, e, acc)
    return np.concatenate([lo, hi]).astype(acc.np)


def _linspace_half(start, end, steps: int, dt: _dtype.dtype) -> np.ndarray:
    # c10::Half/BFloat16 arithmetic rounds every operation (and integer operands) to the type
    r = dt.np.type
    f32 = np.float32
    s, e = r(_scalar_to(start, dt)), r(_scalar_to(end, dt))
    with np.errstate(all="ignore"):
        step = r(f32(r(f32(e) - f32(s))) / f32(r(steps - 1)))
        i = np.arange(steps, dtype=np.int64)
        half = steps // 2
        k_lo = i[:half].astype(dt.np).astype(f32)
        k_hi = (steps - i[half:] - 1).astype(dt.np).astype(f32)
        lo = (f32(s) + (f32(step) * k_lo).astype(dt.np).astype(f32)).astype(dt.np)
        hi = (f32(e) - (f32(step) * k_hi).astype(dt.np).astype(f32)).astype(dt.np)
    return np.concatenate([lo, hi])


def _endpoint(v, name: str):
    if isinstance(v, Tensor) and v.ndim:
        raise RuntimeError(f"linspace only supports 0-dimensional start and end tensors, but got "
                           f"{name} with {v.ndim} dimension(s).")
    return _number(v)


def _steps(steps) -> int:
    if isinstance(steps, builtins.bool) or not isinstance(steps, (builtins.int, np.integer)):
        raise TypeError(f"expected an int for steps, got {_type_name(steps)}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return builtins.int(steps)


def _space_args(start, end, steps, out, dtype, name: str):
    """linspace/logspace's shared argument handling (PyTorch's dtype default and checks)."""
    start, end = _endpoint(start, "start"), _endpoint(end, "end")
    steps = _steps(steps)
    dtype = _out_dtype(out, dtype) or (
        _dtype.default_complex() if builtins.any(isinstance(v, complex) for v in (start, end))
        else _dtype.get_default_dtype())
    if dtype is _dtype.bool:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
    return start, end, steps, dtype


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, PyTorch's exact
    values: ``ember.linspace(0, 1, 5)``."""
    start, end, steps, dtype = _space_args(start, end, steps, out, dtype, "linspace")
    if steps == 0:
        arr = np.empty(0, dtype.np)
    elif steps == 1:
        arr = np.array([_scalar_to(start, dtype)], dtype.np)
    else:
        arr = _linspace_values(start, end, steps, dtype)
    t = _finish(arr, device, requires_grad)
    return t if out is None else _into_out(out, t)


def logspace(start, end, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``, computed as PyTorch's kernel does (exponents in
    double from the endpoints in the output dtype, then ``pow`` in double):
    ``ember.logspace(0, 2, 3)`` is ``[1., 10., 100.]``."""
    start, end, steps, dtype = _space_args(start, end, steps, out, dtype, "logspace")
    if steps == 0:
        arr = np.empty(0, dtype.np)
    elif dtype.category == 3:  # (not bit-exact: PyTorch's complex pow is its own)
        s, e = (dtype.np.type(_scalar_to(v, dtype)) for v in (start, end))
        exps = np.linspace(s, e, steps) if steps > 1 else np.array([complex(start)])
        with np.errstate(all="ignore"):
            arr = np.power(np.complex128(base), exps.astype(np.complex128)).astype(dtype.np)
    else:
        if steps == 1:
            exps = [_scalar_to(start, _dtype.float64)]
        else:
            s, e = (dtype.np.type(_scalar_to(v, dtype)) for v in (start, end))
            with np.errstate(all="ignore"):
                step = builtins.float(e - s) / (steps - 1)  # the difference in the output dtype
            i = np.arange(steps, dtype=np.int64)
            half = steps // 2
            exps = np.concatenate([builtins.float(s) + step * i[:half],
                                   builtins.float(e) - step * (steps - i[half:] - 1)]).tolist()
        # integer outputs take a float base ("avoid promotion to double"), then libm's pow
        b = builtins.float(np.float32(base)) if dtype.category == 1 else builtins.float(base)
        arr = np.array([_libm_pow(b, x) for x in exps])
        arr = (arr.astype(np.float32) if dtype.itemsize == 2 else arr).astype(dtype.np)
    t = _finish(arr, device, requires_grad)
    return t if out is None else _into_out(out, t)


def _libm_pow(b: float, x: float) -> float:
    """C's ``pow`` (Python's ``math.pow`` is libm's; NumPy may use an approximate SIMD one)."""
    try:
        return math.pow(b, x)
    except OverflowError:
        return math.inf if b > 0 or builtins.float(x).is_integer() and x % 2 == 0 else -math.inf
    except ValueError:
        return math.nan


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` x ``m``): ``ember.eye(3)``."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and (isinstance(v, builtins.bool) or not hasattr(v, "__index__")):
            raise TypeError(f"eye(): argument '{name}' (position 1) must be int, not "
                            f"{_type_name(v)}")
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    m = n if m is None else m
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dtype = _out_dtype(out, dtype) or _dtype.get_default_dtype()
    t = _finish(np.eye(n, m, dtype=dtype.np), device, requires_grad)
    return t if out is None else _into_out(out, t)


def legacy_new(cls, *args, device=None, **kwargs):
    """``ember.Tensor(...)``: sizes give an uninitialised tensor of the default dtype, a sequence
    gives a copy converted to it, a tensor of that dtype is returned as an alias."""
    if kwargs:
        raise TypeError(
            f"new() received an invalid combination of arguments - got unexpected keyword "
            f"arguments {sorted(kwargs)}")
    default = _dtype.get_default_dtype()
    if not args:
        t = empty(0, device=device)
    elif len(args) == 1 and isinstance(args[0], Tensor):
        t = _make(args[0]._data)
    elif builtins.all(isinstance(a, (builtins.int, np.integer)) and
                      not isinstance(a, builtins.bool) for a in args):
        size = tuple(builtins.int(a) for a in args)
        _check_size(size, "Tensor")
        t = empty(size, device=device)
    elif len(args) == 1 and isinstance(args[0], Size):
        t = empty(tuple(args[0]), device=device)
    elif len(args) == 1:
        data = args[0]
        if not (_is_sequence(data) or isinstance(data, np.ndarray)) or isinstance(
                data, (str, bytes)):
            raise TypeError(f"new(): data must be a sequence (got {_type_name(data)})")
        t = _finish(_from_data(data, default), device, False)
    else:
        raise TypeError(
            f"new() received an invalid combination of arguments - got "
            f"({', '.join(_type_name(a) for a in args)})")
    if cls is Tensor:
        return t
    from ._tensor import _as_subclass
    return _as_subclass(t, cls)
