"""safetensors files of ember tensors: ``safetensors.torch``'s API over the ``safetensors``
package's framework-neutral (NumPy) core.

``safetensors`` is an optional extra (``pip install ember[safetensors]``), imported on first use.
Files are interchangeable with ``safetensors.torch``'s. Saving to a path is atomic
(NOTE [ Atomic saves ]).

>>> from ember.utils.safetensors import load_file, save_file
>>> save_file({"w": ember.ones(2, 3)}, "model.safetensors")
>>> load_file("model.safetensors")["w"].shape
ember.Size([2, 3])
"""

from __future__ import annotations

import os

import numpy as np

from .. import _dtype
from .._creation import _to_device_array
from .._device import device as _device
from .._tensor import Tensor, _make, _root_array
from ..backends import of_array

__all__ = ["save_file", "load_file", "save", "load", "safe_open"]

# the header's dtype codes; safetensors has no complex128
_CODES = {_dtype.float64: "F64", _dtype.float32: "F32", _dtype.float16: "F16",
          _dtype.bfloat16: "BF16", _dtype.int64: "I64", _dtype.int32: "I32", _dtype.int16: "I16",
          _dtype.int8: "I8", _dtype.uint8: "U8", _dtype.bool: "BOOL", _dtype.complex64: "C64"}
_FROM_CODE = {code: d for d, code in _CODES.items()}


def _safetensors():
    try:
        import safetensors
    except ImportError as e:
        raise ImportError("ember.utils.safetensors needs the safetensors package: pip install "
                          "safetensors (or ember[safetensors])") from e
    return safetensors


def _check(tensors) -> None:
    """safetensors.torch's checks: a dict of dense tensors, none sharing memory."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors)}")
    areas: dict[int, list] = {}
    for k, v in tensors.items():
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected ember.Tensor but received {type(v)}")
        root = _root_array(v._data)
        if v.numel() and root.nbytes:
            start = v.data_ptr()
            end = start + (sum((n - 1) * s for n, s in zip(v.shape, v.stride())) + 1) * \
                v.element_size()
            areas.setdefault(id(root), []).append((start, end, k))
    failing = []
    for group in areas.values():
        group.sort()
        shared, last_stop = [{group[0][2]}], group[0][1]
        for start, stop, name in group[1:]:
            if start >= last_stop:
                shared.append({name})
            else:
                shared[-1].add(name)
            last_stop = stop
        failing += [names for names in shared if len(names) > 1]
    if failing:
        raise RuntimeError(
            "Some tensors share memory, this will lead to duplicate memory on disk and potential "
            f"differences when loading them again: {failing}.\nA potential way to correctly save "
            "your model is to use `save_model`.")
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It "
                "either means you are trying to save tensors which are reference of each other in "
                "which case it's recommended to save only the full tensors, and reslice at load "
                "time, or simply call `.contiguous()` on your tensor to pack it before saving.")


def _specs(tensors: dict, keep: list) -> dict:
    """``TensorSpec``s (dtype name, shape, host pointer) of ``tensors``; the host arrays they
    point into are appended to ``keep``, which must outlive serialisation."""
    st = _safetensors()
    _check(tensors)
    out = {}
    for k, v in tensors.items():
        if v.dtype not in _CODES:
            raise ValueError(f"safetensors cannot store {v.dtype} (tensor `{k}`)")
        host = np.require(of_array(v._data).to_numpy(v._data), requirements="C")
        keep.append(host)
        out[k] = st.TensorSpec(dtype=v.dtype.name, shape=list(host.shape),
                               data_ptr=host.ctypes.data, data_len=host.nbytes)
    return out


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of a dict of tensors.

    >>> data = save({"w": ember.ones(2)})
    """
    keep: list = []
    return bytes(_safetensors().serialize(_specs(tensors, keep), metadata=metadata))


def save_file(tensors: dict[str, Tensor], filename, metadata: dict[str, str] | None = None):
    """Write a dict of tensors to ``filename`` in safetensors format (atomically).

    >>> save_file({"w": ember.ones(2)}, "model.safetensors")
    """
    from ..serialization import _atomic_path
    keep: list = []
    specs = _specs(tensors, keep)
    with _atomic_path(filename) as tmp:
        _safetensors().serialize_file(specs, tmp, metadata=metadata)


def _tensor(arr: np.ndarray, device) -> Tensor:
    return _make(_to_device_array(np.require(arr, requirements=["C", "W"]), device))


def load(data: bytes) -> dict[str, Tensor]:
    """The tensors (on the CPU) of safetensors bytes.

    >>> load(save({"w": ember.ones(2)}))["w"]
    tensor([1., 1.])
    """
    out = {}
    for name, view in _safetensors().deserialize(data):
        dt = _FROM_CODE.get(view["dtype"])
        if dt is None:
            raise ValueError(f"ember has no dtype for safetensors' {view['dtype']} (`{name}`)")
        out[name] = _make(np.frombuffer(bytearray(view["data"]), dt.np).reshape(view["shape"]))
    return out


def load_file(filename, device: str | int = "cpu") -> dict[str, Tensor]:
    """The tensors of a safetensors file, placed on ``device``.

    >>> load_file("model.safetensors", device="cpu")
    {'w': tensor([1., 1.])}
    """
    with safe_open(filename, framework="pt", device=device) as f:
        return {k: f.get_tensor(k) for k in f.offset_keys()}


class _Slice:
    """A tensor in a safetensors file read part by part: ``f.get_slice("w")[:, :8]``."""

    def __init__(self, view, device):
        self._view, self._device = view, device

    def get_shape(self) -> list[int]:
        return self._view.get_shape()

    def get_dtype(self) -> str:
        return self._view.get_dtype()

    def __getitem__(self, index) -> Tensor:
        return _tensor(self._view[index], self._device)


class safe_open:
    """Open a safetensors file lazily, as ``safetensors.safe_open(..., framework="pt")``.

    >>> with safe_open("model.safetensors", framework="pt", device="cpu") as f:
    ...     w = f.get_tensor("w")
    """

    def __init__(self, filename, framework: str = "pt", device: str | int = "cpu"):
        if framework not in ("pt", "torch", "ember"):
            raise ValueError(f"ember's safe_open returns ember tensors (framework='pt'), got "
                             f"framework={framework!r}")
        self._device = _device(device)
        self._file = _safetensors().safe_open(os.fspath(filename), framework="np")

    def __enter__(self):
        self._file.__enter__()
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)

    def keys(self) -> list[str]:
        return self._file.keys()

    def offset_keys(self) -> list[str]:
        return self._file.offset_keys()

    def metadata(self) -> dict[str, str] | None:
        return self._file.metadata()

    def get_tensor(self, name: str) -> Tensor:
        return _tensor(self._file.get_tensor(name), self._device)

    def get_slice(self, name: str) -> _Slice:
        return _Slice(self._file.get_slice(name), self._device)
