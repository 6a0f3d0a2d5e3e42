"""Tensor creation: tensor/as_tensor/from_numpy, zeros/ones/full/empty (and ``_like``), arange,
linspace, logspace, eye; the default device."""

from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from . import _dtype
from ._device import CPU, device
from ._tensor import Size, Tensor, _make
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


def _finish(arr: np.ndarray, dev, requires_grad: bool) -> Tensor:
    t = _make(_to_device_array(arr, dev))
    if requires_grad:
        t.requires_grad_(True)
    return t


_SUPPORTED = frozenset(d.np for d in _dtype.ALL)


def _check_np_dtype(arr: np.ndarray) -> None:
    if arr.dtype not in _SUPPORTED:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{arr.dtype}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, "
            "and bool.")


def _scan(data, depth=0, shape=None):
    """Infer category and check that nested sequences are rectangular (PyTorch's errors)."""
    if isinstance(data, Tensor):
        return data.dtype.category
    if isinstance(data, (builtins.bool, np.bool_)):
        return 0
    if isinstance(data, numbers.Integral):
        return 1
    if isinstance(data, numbers.Real):
        return 2
    if isinstance(data, numbers.Complex):
        return 3
    if isinstance(data, np.ndarray):
        return _dtype.FROM_NP[data.dtype].category if data.dtype in _SUPPORTED else 2
    if isinstance(data, (list, tuple)):
        cat = 0
        n = None
        for item in data:
            if isinstance(item, (list, tuple)):
                if n is None:
                    n = len(item)
                elif len(item) != n:
                    raise ValueError(
                        f"expected sequence of length {n} at dim {depth + 1} (got {len(item)})")
            cat = max(cat, _scan(item, depth + 1))
        return cat
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _from_data(data, dtype) -> np.ndarray:
    if isinstance(data, Tensor):
        arr = data.detach()._host()
        return arr.astype(dtype.np) if dtype is not None else arr.copy()
    if isinstance(data, np.ndarray):
        _check_np_dtype(data)
        return np.array(data, dtype=None if dtype is None else dtype.np)
    if isinstance(data, np.generic) and dtype is None:
        return np.array(data)
    cat = _scan(data)
    if isinstance(data, (list, tuple)):
        data = _unwrap_tensors(data)
    if dtype is None:
        dtype = (_dtype.bool, _dtype.int64, _dtype.get_default_dtype(),
                 _dtype.default_complex())[cat]
    try:
        return np.array(data, dtype=dtype.np)
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow") \
            from None
    except (TypeError, ValueError):
        # out-of-range ints for small dtypes wrap in PyTorch
        return np.array(data).astype(dtype.np)


def _unwrap_tensors(data):
    if isinstance(data, Tensor):
        if data.numel() != 1 or data.ndim:
            if data.ndim == 0:
                return data.item()
            return _unwrap_tensors(data.tolist())
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_unwrap_tensors(d) for d in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays):
    ``ember.tensor([[1., 2.], [3., 4.]])``."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.clone()."
            "detach() or sourceTensor.clone().detach().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    return _finish(_from_data(data, dtype), device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a tensor or NumPy array when no conversion is
    needed."""
    if isinstance(data, Tensor):
        if (dtype is None or data.dtype is dtype) and (device is None or
                                                       data.device == _device(device)):
            return data
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype.np) and \
            _device(device).type == "cpu":
        _check_np_dtype(data)
        return from_numpy(data) if data.flags.writeable and all(
            s >= 0 for s in data.strides) else _make(data.copy())
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = t.clone()
    return t.requires_grad_(requires_grad) if requires_grad else t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: writes to one show in the other."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _check_np_dtype(ndarray)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array with array.copy().) ")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order."
                         " Conversion between byte orders is currently not supported.")
    return _make(ndarray)


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with any DLPack-capable array (NumPy, CuPy, PyTorch, ...)."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    dev_type, _ = ext_tensor.__dlpack_device__()
    if dev_type == 1:  # kDLCPU
        return _make(np.from_dlpack(ext_tensor))
    import cupy
    return _make(cupy.from_dlpack(ext_tensor))


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = tuple(builtins.int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(out)}")
    return out


def _filled(fill, size, dtype, dev, requires_grad):
    dtype = dtype or _dtype.get_default_dtype()
    d = _device(dev)
    xp = for_device(d).xp
    if d.type == "cpu":
        arr = np.full(size, fill, dtype=dtype.np) if fill is not None else np.empty(size,
                                                                                     dtype.np)
        return _finish(arr, d, requires_grad)
    arr = xp.full(size, fill, dtype=dtype.np) if fill is not None else xp.empty(size, dtype.np)
    t = _make(arr)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``ember.zeros(2, 3)``."""
    return _filled(0, _size(size), dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ember.ones(2, 3)``."""
    return _filled(1, _size(size), dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None) -> Tensor:
    """An uninitialised tensor: ``ember.empty(2, 3)``."""
    return _filled(None, _size(size), dtype, device, requires_grad)


def _fill_dtype(v):
    if isinstance(v, Tensor):
        return v.dtype
    return _dtype.scalar_dtype(v) if not isinstance(v, np.generic) else \
        _dtype.scalar_dtype(v.item())


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (dtype inferred from it): ``ember.full((2,), 7)``."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled(fill_value, _size((size,)), dtype or _fill_dtype(fill_value), device,
                   requires_grad)


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """Zeros of ``input``'s shape, dtype and device."""
    return zeros(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """Ones of ``input``'s shape, dtype and device."""
    return ones(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """An uninitialised tensor of ``input``'s shape, dtype and device."""
    return empty(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """``fill_value`` in ``input``'s shape, dtype and device."""
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def _num(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values ``start, start+step, ...`` below ``end``: ``ember.arange(5)``."""
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = builtins.any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    n = builtins.max(math.ceil((end - start) / step), 0)
    # PyTorch computes start + i * step in double (int64 for integer dtypes), then casts
    if dtype.category <= 1 and builtins.all(isinstance(v, builtins.int)
                                            for v in (start, end, step)):
        arr = (start + np.arange(n, dtype=np.int64) * step).astype(dtype.np)
    else:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dtype.np)
    return _finish(arr, device, requires_grad)


def _linspace_values(start, end, steps, dt: np.dtype) -> np.ndarray:
    # PyTorch's kernel: the first half counts up from start, the second half down from end,
    # all in the output dtype, so the ends are exact and the halves symmetric.
    work = dt if dt.kind in "fc" or dt == _dtype.bfloat16.np else np.dtype(np.float64)
    if dt.kind == "f" and dt.itemsize < 4 or dt == _dtype.bfloat16.np:
        work = np.dtype(np.float32)
    s, e = work.type(start), work.type(end)
    if steps == 1:
        return np.array([s], dtype=work).astype(dt)
    step = (e - s) / work.type(steps - 1)
    i = np.arange(steps)
    half = steps // 2
    lo = s + step * i[:half].astype(work)
    hi = e - step * (steps - i[half:] - 1).astype(work)
    return np.concatenate([lo, hi]).astype(dt)


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or (_dtype.default_complex() if builtins.any(
        isinstance(v, complex) for v in (start, end)) else _dtype.get_default_dtype())
    arr = _linspace_values(start, end, steps, dtype.np) if steps else np.empty(0, dtype.np)
    return _finish(arr, device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    dtype = dtype or _dtype.get_default_dtype()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    work = np.float64 if dtype is _dtype.float64 else np.float32
    exps = _linspace_values(_num(start), _num(end), steps, np.dtype(work)) if steps else \
        np.empty(0, work)
    arr = np.power(work(base), exps).astype(dtype.np)
    return _finish(arr, device, requires_grad)


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    m = n if m is None else m
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    arr = np.eye(n, m, dtype=(dtype or _dtype.get_default_dtype()).np)
    return _finish(arr, device, requires_grad)


def legacy_new(cls, *args, device=None, **kwargs):
    """``ember.Tensor(...)``: sizes give an uninitialised float tensor, data gives a copy."""
    if kwargs:
        raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
    if not args:
        t = empty(0, device=device)
    elif builtins.all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool)
                      for a in args):
        t = empty(*args, device=device)
    elif len(args) == 1 and isinstance(args[0], Size):
        t = empty(*args[0], device=device)
    else:
        if len(args) != 1:
            raise TypeError("Tensor(): expected a sequence or sizes")
        data = args[0]
        if isinstance(data, Tensor):
            return data
        t = tensor(data, dtype=_dtype.get_default_dtype(), device=device)
    if cls is Tensor:
        return t
    from ._tensor import _as_subclass
    return _as_subclass(t, cls)
