"""Backends: one per device type, each exposing an array module with NumPy's API.

# NOTE [ Backends ]
Ops are written once against the array API that NumPy and CuPy share and receive the array
module (``xp``) of their inputs, Chainer's ``get_array_module`` pattern. A backend may replace an
op's generic implementation with a kernel of its own (``OpDef.kernels[backend.name]``). The
backend of an array is found from the array's type, so the hot path costs one dict lookup.

A backend has ``name``, ``xp``, ``array_type``, ``device_of(arr)``, ``to_numpy(arr,
non_blocking)``, ``from_numpy(arr, device, non_blocking)`` and ``call``: None where one array
type is one device (the CPU: the registry calls ``impl(xp, ...)`` directly), else
``call(fn, arrays, params)``, which runs ``fn(xp, *arrays, **params)`` on the arrays' device
and raises ``DeviceMismatch`` for arrays on two devices of the backend. A backend with several
devices also has ``to_device(arr, device, non_blocking)`` and ``on(device)`` (a context that
makes ``device`` current).
"""

from __future__ import annotations

from .._device import device
from . import cpu, cuda, cudnn  # noqa: F401 - torch.backends.cuda / .cudnn
from .cuda import DeviceMismatch

_BY_ARRAY_TYPE = {cpu.ndarray: cpu.BACKEND}
_BY_DEVICE_TYPE = {"cpu": cpu.BACKEND}

__all__ = ["DeviceMismatch", "for_device", "of_array", "transfer"]


def _load(device_type: str):
    if device_type == "cuda":
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


def transfer(arr, dev: device, non_blocking: bool = False):
    """``arr`` copied to ``dev`` (another device, or another device of its backend)."""
    src = _BY_ARRAY_TYPE[type(arr)]
    dst = for_device(dev)
    if src is dst:
        return src.to_device(arr, dev, non_blocking)
    return dst.from_numpy(src.to_numpy(arr, non_blocking), dev, non_blocking)
