"""Backends: one per device type, each exposing an array module with NumPy's API.

# NOTE [ Backends ]
Ops are written once against the array API that NumPy and CuPy share and receive the array
module (``xp``) of their inputs, Chainer's ``get_array_module`` pattern. A backend may replace an
op's generic implementation with a kernel of its own (``OpDef.kernels[backend.name]``). The
backend of an array is found from the array's type, so the hot path costs one dict lookup.
"""

from __future__ import annotations

from .._device import device
from . import cpu

_BY_ARRAY_TYPE = {cpu.ndarray: cpu.BACKEND}
_BY_DEVICE_TYPE = {"cpu": cpu.BACKEND}


def _load(device_type: str):
    if device_type == "cuda":
        from . import cuda

        backend = cuda.load()
        _BY_ARRAY_TYPE[backend.array_type] = backend
        _BY_DEVICE_TYPE["cuda"] = backend
        return backend
    raise RuntimeError(f"ember has no backend for device type '{device_type}'")


def for_device(dev: device):
    """The backend that holds tensors on ``dev``."""
    b = _BY_DEVICE_TYPE.get(dev.type)
    return b if b is not None else _load(dev.type)


def of_array(arr):
    """The backend owning ``arr``."""
    return _BY_ARRAY_TYPE[type(arr)]
