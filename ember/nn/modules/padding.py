"""Padding layers: zero, constant, reflection, replication and circular padding of the last
1, 2 or 3 dims, with PyTorch's constructor arguments, attributes and reprs (``padding`` is
(left, right[, top, bottom[, front, back]]), as for ``F.pad``)."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module
from .utils import _ntuple, _pair

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d"]

_NTUPLE = {1: _pair, 2: _ntuple(4, "_quadruple"), 3: _ntuple(6)}


class _PadNd(Module):
    """``F.pad(input, self.padding, self.mode)``; subclasses set ``mode`` and ``_dims``."""

    __constants__ = ["padding"]
    mode: str
    _dims: int

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _NTUPLE[self._dims](padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        d = self._dims
        if input.dim() not in (d + 1, d + 2):
            raise ValueError(f"expected {d + 1}D or {d + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadMixin:
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _pad_class(name: str, bases: tuple, d: int, doc: str, args: str = "1"):
    doc += (f"\n\n    >>> ember.nn.{name}({args})(ember.ones(1, 2{', 3' * d})).shape\n"
            f"    ember.Size([1, 2{', 5' * d}])\n")
    return type(name, bases, {"_dims": d, "__doc__": doc, "__module__": __name__,
                              "__qualname__": name})


CircularPad1d, CircularPad2d, CircularPad3d = (
    _pad_class(f"CircularPad{d}d", (_CircularPadNd,), d,
               "Pads by wrapping around: the start continues after the end.") for d in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (
    _pad_class(f"ReflectionPad{d}d", (_ReflectionPadNd,), d,
               "Pads with the input reflected about its edges.") for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _pad_class(f"ReplicationPad{d}d", (_ReplicationPadNd,), d,
               "Pads by repeating the input's edge values.") for d in (1, 2, 3))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (
    _pad_class(f"ConstantPad{d}d", (_ConstantPadNd,), d, "Pads with a constant ``value``.",
               "1, 3.5") for d in (1, 2, 3))
ZeroPad1d, ZeroPad2d, ZeroPad3d = (
    _pad_class(f"ZeroPad{d}d", (_ZeroPadMixin, c), d, "Pads with zeros.")
    for d, c in ((1, ConstantPad1d), (2, ConstantPad2d), (3, ConstantPad3d)))
