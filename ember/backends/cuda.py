"""The CUDA backend (CuPy arrays), loaded lazily when a CUDA device is first used, and
``torch.backends.cuda``'s switches (``ember.backends.cuda.matmul.allow_tf32``).

# NOTE [ The CUDA backend ]
- Ops run through the same ``impl(xp, ...)`` as on the CPU with ``xp = cupy``. CuPy launches
  on the current device, while PyTorch runs an op on its inputs' device: ``call`` checks that
  the inputs share one device (PyTorch's error otherwise) and makes it current for the call.
  The CPU fast path in ``registry.apply`` never reaches here (``CPUBackend.call is None``).
- Transfers: host to device copies from pinned memory are asynchronous on the current stream
  when ``non_blocking=True``; device to host with ``non_blocking=True`` lands in pinned memory
  (the caller synchronizes, as in PyTorch); device to device goes peer to peer.
- bfloat16: CuPy has no bfloat16 dtype, so bfloat16 tensors cannot live on CUDA here; moving
  one there raises (docs/cuda.md says what the plan is). Autocast on CUDA uses float16.
- TF32: ``set_float32_matmul_precision('high')`` (or ``matmul.allow_tf32 = True``) selects
  cuBLAS's TF32 compute type for float32 matmuls through CuPy's ``set_compute_type``.
- Memory comes from ember's caching allocator (NOTE [ Caching allocator ]).
"""

from __future__ import annotations

import functools
import importlib.util
import warnings

from .._device import device

_PRECISIONS = ("highest", "high", "medium")
_STATE = {"precision": "highest"}
BACKEND = None  # the loaded backend, once a CUDA device was used


class DeviceMismatch(RuntimeError):
    """Inputs of one op on two CUDA devices; the registry words it as PyTorch does."""


@functools.cache
def available() -> bool:
    """Whether CuPy is installed and sees a GPU."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any driver failure means "no GPU"
        return False


def is_built() -> bool:
    """Whether ember can use CUDA at all here: CuPy is installed (``torch.backends.cuda``)."""
    return importlib.util.find_spec("cupy") is not None


# -- TF32 and matmul precision ---------------------------------------------------------------------

def set_float32_matmul_precision(precision: str) -> None:
    """The internal precision of float32 matmuls: ``'highest'`` (float32), ``'high'`` or
    ``'medium'`` (TF32 tensor cores on CUDA; no effect on CPU).

    >>> ember.set_float32_matmul_precision("high")
    """
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _STATE["precision"] = precision
    _apply_math_mode()


def get_float32_matmul_precision() -> str:
    """The precision set by ``set_float32_matmul_precision`` (``'highest'`` by default)."""
    return _STATE["precision"]


class _Matmul:
    """``ember.backends.cuda.matmul``: cuBLAS switches."""

    _FLAGS = ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction",
              "allow_fp16_accumulation")

    def __init__(self):
        object.__setattr__(self, "_flags", {"allow_fp16_reduced_precision_reduction": True,
                                            "allow_bf16_reduced_precision_reduction": True,
                                            "allow_fp16_accumulation": False})

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _STATE["precision"] != "highest"
        if name in self._FLAGS:
            return self._flags[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name != "allow_tf32" and name not in self._FLAGS:
            raise AttributeError(f"Unknown attribute {name}")
        if not isinstance(value, bool):
            raise RuntimeError(f"set_{name} expects a bool, but got {type(value).__name__}"
                               if name != "allow_tf32" else
                               f"set_allow_tf32_cublas expects a bool, but got "
                               f"{type(value).__name__}")
        if name == "allow_tf32":
            if not value:
                _STATE["precision"] = "highest"
            elif _STATE["precision"] == "highest":
                _STATE["precision"] = "high"
            _apply_math_mode()
        else:
            self._flags[name] = value


matmul = _Matmul()


def _apply_math_mode() -> None:
    if BACKEND is None:
        return
    import numpy as np
    from cupy._core import _routines_linalg as linalg
    mode = linalg.COMPUTE_TYPE_FP32 if _STATE["precision"] == "highest" else \
        linalg.COMPUTE_TYPE_TF32
    linalg.set_compute_type(np.dtype(np.float32), mode)
    linalg.set_compute_type(np.dtype(np.complex64), mode)


# -- the backend -----------------------------------------------------------------------------------

def load():
    """The CUDA backend; installs ember's allocator on first use."""
    global BACKEND
    if BACKEND is not None:
        return BACKEND
    if not available():
        from ..cuda import _unavailable
        raise _unavailable()
    BACKEND = _make_backend()
    from ..cuda import memory
    memory._install()
    _apply_math_mode()
    return BACKEND


def _make_backend():
    import cupy
    import cupyx
    import ml_dtypes
    import numpy as np

    runtime = cupy.cuda.runtime
    Device = cupy.cuda.Device
    ndarray = cupy.ndarray
    devices = [device("cuda", i) for i in range(runtime.getDeviceCount())]
    bf16 = np.dtype(ml_dtypes.bfloat16)

    def index(dev) -> int:
        return runtime.getDevice() if dev.index is None else dev.index

    def check_dtype(dtype) -> None:
        if dtype == bf16:
            raise TypeError("ember's CUDA backend has no bfloat16 (CuPy has no bfloat16 "
                            "dtype): use float16 or float32 on CUDA (see docs/cuda.md)")

    class CUDABackend:
        name = "cuda"
        xp = cupy
        array_type = ndarray

        @staticmethod
        def device_of(arr):
            return devices[arr.data.device_id]

        @staticmethod
        def call(fn, arrays, params):
            """``fn(cupy, *arrays, **params)`` on the device of the arrays."""
            dev = -1
            for a in arrays:
                if type(a) is ndarray:
                    i = a.data.device_id
                    if dev < 0:
                        dev = i
                    elif i != dev:
                        raise DeviceMismatch
            if dev < 0 or dev == runtime.getDevice():
                return fn(cupy, *arrays, **params)
            with Device(dev):
                return fn(cupy, *arrays, **params)

        @staticmethod
        def on(dev):
            """A context making ``dev`` the current device."""
            return Device(index(dev))

        @staticmethod
        def to_numpy(arr, non_blocking=False):
            if not non_blocking:
                return cupy.asnumpy(arr)
            with Device(arr.data.device_id):
                out = cupyx.empty_pinned(arr.shape, arr.dtype)
                cupy.ascontiguousarray(arr).get(out=out, blocking=False)
            return out

        @staticmethod
        def from_numpy(arr, dev, non_blocking=False):
            check_dtype(arr.dtype)
            with Device(index(dev)):
                if non_blocking and is_pinned(arr):
                    out = cupy.empty(arr.shape, arr.dtype)
                    out.set(np.ascontiguousarray(arr))
                    return out
                return cupy.asarray(arr)

        @staticmethod
        def to_device(arr, dev, non_blocking=False):
            """A copy of ``arr`` on another CUDA device (peer to peer)."""
            with Device(index(dev)):
                return arr.copy()

        @staticmethod
        def pin(arr):
            """A pinned (page-locked) host copy of the host array ``arr``."""
            out = cupyx.empty_pinned(arr.shape, arr.dtype)
            out[...] = arr
            return out

    return CUDABackend()


def is_pinned(arr) -> bool:
    """Whether the host array ``arr`` lives in CuPy's pinned memory."""
    import cupy
    base = arr
    while base is not None and not isinstance(base, cupy.cuda.PinnedMemoryPointer):
        base = getattr(base, "base", None)
    return base is not None
