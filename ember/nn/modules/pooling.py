"""Pooling layers: max, average, adaptive, power-average (Lp), fractional max pooling and max
unpooling in 1, 2 and 3 dims, with PyTorch's constructor arguments, attributes and reprs."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module
from .utils import _pair, _single, _triple

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "AvgPool1d", "AvgPool2d", "AvgPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
           "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"]


def _named(cls, d: int, doc: str):
    """Give a generated class its public name and a docstring with an example."""
    cls.__name__ = cls.__qualname__ = cls.__name__.replace("Nd", f"{d}d")
    cls.__doc__ = doc
    return cls


def _input(d: int) -> str:
    return "ember.ones(1, 2" + ", 8" * d + ")"


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices",
                     "ceil_mode"]

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}"
                ", dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))


def _max_pool(d: int, fn):
    class MaxPoolNd(_MaxPoolNd):
        def forward(self, input: Tensor):
            return fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                      ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    return _named(MaxPoolNd, d, (
        f"{d}-D max pooling over (N, C, *spatial) or unbatched inputs; "
        f"``return_indices=True`` also returns where each max came from (for MaxUnpool{d}d).\n\n"
        f"    >>> ember.nn.MaxPool{d}d(2)({_input(d)}).shape\n"
        f"    ember.Size([1, 2{', 4' * d}])\n"))


MaxPool1d = _max_pool(1, F.max_pool1d)
MaxPool2d = _max_pool(2, F.max_pool2d)
MaxPool3d = _max_pool(3, F.max_pool3d)


class _MaxUnpoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _max_unpool(d: int, ntuple, fn):
    class MaxUnpoolNd(_MaxUnpoolNd):
        def __init__(self, kernel_size, stride=None, padding=0) -> None:
            super().__init__()
            self.kernel_size = ntuple(kernel_size)
            self.stride = ntuple(stride if (stride is not None) else kernel_size)
            self.padding = ntuple(padding)

        def forward(self, input: Tensor, indices: Tensor,
                    output_size: list[int] | None = None) -> Tensor:
            return fn(input, indices, self.kernel_size, self.stride, self.padding,
                      output_size)

    return _named(MaxUnpoolNd, d, (
        f"Partial inverse of MaxPool{d}d: each value goes back to the index it came from, "
        f"zeros elsewhere.\n\n"
        f"    >>> y, i = ember.nn.MaxPool{d}d(2, return_indices=True)({_input(d)})\n"
        f"    >>> ember.nn.MaxUnpool{d}d(2)(y, i).shape\n"
        f"    ember.Size([1, 2{', 8' * d}])\n"))


MaxUnpool1d = _max_unpool(1, _single, F.max_unpool1d)
MaxUnpool2d = _max_unpool(2, _pair, F.max_unpool2d)
MaxUnpool3d = _max_unpool(3, _triple, F.max_unpool3d)


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over (N, C, L) or (C, L) inputs.

    >>> ember.nn.AvgPool1d(2)(ember.ones(1, 2, 8)).shape
    ember.Size([1, 2, 4])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad)


def _avg_pool(d: int, fn):
    class AvgPoolNd(_AvgPoolNd):
        __constants__ = [*_AvgPoolNd.__constants__, "divisor_override"]

        def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                     count_include_pad: bool = True, divisor_override: int | None = None):
            super().__init__()
            self.kernel_size = kernel_size
            self.stride = stride if (stride is not None) else kernel_size
            self.padding = padding
            self.ceil_mode = ceil_mode
            self.count_include_pad = count_include_pad
            self.divisor_override = divisor_override

        def forward(self, input: Tensor) -> Tensor:
            return fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                      self.count_include_pad, self.divisor_override)

        def __setstate__(self, state) -> None:
            super().__setstate__(state)
            self.__dict__.setdefault("padding", 0)
            self.__dict__.setdefault("ceil_mode", False)
            self.__dict__.setdefault("count_include_pad", True)

    return _named(AvgPoolNd, d, (
        f"{d}-D average pooling over (N, C, *spatial) or unbatched inputs; "
        f"``divisor_override`` replaces the window size as the divisor.\n\n"
        f"    >>> ember.nn.AvgPool{d}d(2)({_input(d)}).shape\n"
        f"    ember.Size([1, 2{', 4' * d}])\n"))


AvgPool2d = _avg_pool(2, F.avg_pool2d)
AvgPool3d = _avg_pool(3, F.avg_pool3d)


def _fractional_max_pool(d: int, ntuple, fn):
    name = f"FractionalMaxPool{d}d"

    class FractionalMaxPoolNd(Module):
        __constants__ = ["kernel_size", "return_indices", "output_size", "output_ratio"]

        def __init__(self, kernel_size, output_size=None, output_ratio=None,
                     return_indices: bool = False, _random_samples=None) -> None:
            super().__init__()
            if d == 3 and ((isinstance(kernel_size, int) and kernel_size <= 0) or (
                    isinstance(kernel_size, (tuple, list))
                    and not all(k > 0 for k in kernel_size))):
                raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
            self.kernel_size = ntuple(kernel_size)
            self.return_indices = return_indices
            self.register_buffer("_random_samples", _random_samples)
            self.output_size = ntuple(output_size) if output_size is not None else None
            self.output_ratio = ntuple(output_ratio) if output_ratio is not None else None
            if output_size is None and output_ratio is None:
                raise ValueError(f"{name} requires specifying either an output size, or a "
                                 "pooling ratio")
            if output_size is not None and output_ratio is not None:
                raise ValueError("only one of output_size and output_ratio may be specified")
            if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
                raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

        def forward(self, input: Tensor):
            return fn(input, self.kernel_size, self.output_size, self.output_ratio,
                      self.return_indices, _random_samples=self._random_samples)

    return _named(FractionalMaxPoolNd, d, (
        f"{d}-D fractional max pooling (Graham, 2014): pseudo-random windows that shrink the "
        f"input by a non-integer ratio.\n\n"
        f"    >>> ember.nn.{name}(2, output_ratio=0.5)({_input(d)}).shape\n"
        f"    ember.Size([1, 2{', 4' * d}])\n"))


FractionalMaxPool2d = _fractional_max_pool(2, _pair, F.fractional_max_pool2d)
FractionalMaxPool3d = _fractional_max_pool(3, _triple, F.fractional_max_pool3d)


class _LPPoolNd(Module):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]

    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, "
                "ceil_mode={ceil_mode}".format(**self.__dict__))


def _lp_pool(d: int, fn):
    class LPPoolNd(_LPPoolNd):
        def forward(self, input: Tensor) -> Tensor:
            return fn(input, float(self.norm_type), self.kernel_size, self.stride,
                      self.ceil_mode)

    return _named(LPPoolNd, d, (
        f"{d}-D power-average pooling: ``(sum over the window of x**p) ** (1/p)``.\n\n"
        f"    >>> ember.nn.LPPool{d}d(2, 2)({_input(d)}).shape\n"
        f"    ember.Size([1, 2{', 4' * d}])\n"))


LPPool1d = _lp_pool(1, F.lp_pool1d)
LPPool2d = _lp_pool(2, F.lp_pool2d)
LPPool3d = _lp_pool(3, F.lp_pool3d)


class _AdaptiveMaxPoolNd(Module):
    __constants__ = ["output_size", "return_indices"]

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def _adaptive_max_pool(d: int, fn):
    class AdaptiveMaxPoolNd(_AdaptiveMaxPoolNd):
        def forward(self, input: Tensor):
            return fn(input, self.output_size, self.return_indices)

    return _named(AdaptiveMaxPoolNd, d, (
        f"{d}-D max pooling to a fixed ``output_size`` (None keeps that dim's size).\n\n"
        f"    >>> ember.nn.AdaptiveMaxPool{d}d(3)({_input(d)}).shape\n"
        f"    ember.Size([1, 2{', 3' * d}])\n"))


AdaptiveMaxPool1d = _adaptive_max_pool(1, F.adaptive_max_pool1d)
AdaptiveMaxPool2d = _adaptive_max_pool(2, F.adaptive_max_pool2d)
AdaptiveMaxPool3d = _adaptive_max_pool(3, F.adaptive_max_pool3d)


class _AdaptiveAvgPoolNd(Module):
    __constants__ = ["output_size"]

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def _adaptive_avg_pool(d: int, fn):
    class AdaptiveAvgPoolNd(_AdaptiveAvgPoolNd):
        def forward(self, input: Tensor) -> Tensor:
            return fn(input, self.output_size)

    return _named(AdaptiveAvgPoolNd, d, (
        f"{d}-D average pooling to a fixed ``output_size`` (None keeps that dim's size).\n\n"
        f"    >>> ember.nn.AdaptiveAvgPool{d}d(1)({_input(d)}).shape\n"
        f"    ember.Size([1, 2{', 1' * d}])\n"))


AdaptiveAvgPool1d = _adaptive_avg_pool(1, F.adaptive_avg_pool1d)
AdaptiveAvgPool2d = _adaptive_avg_pool(2, F.adaptive_avg_pool2d)
AdaptiveAvgPool3d = _adaptive_avg_pool(3, F.adaptive_avg_pool3d)
