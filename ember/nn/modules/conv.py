"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d and their Lazy forms, with
PyTorch's constructor arguments, attributes, parameter shapes, initialization and reprs. A
wrong channel count gets a clearer message than the functional op's, which the module's path
is then put in front of (NOTE [ Module paths in errors ] in module.py).
"""

from __future__ import annotations

import math

from ... import _creation
from ..._tensor import Tensor, contiguous_format
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module
from .utils import _pair, _reverse_repeat_tuple, _single, _triple

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]


class _ConvNd(Module):
    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode",
                     "output_padding", "in_channels", "out_channels", "kernel_size"]

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple, stride: tuple,
                 padding, dilation: tuple, transposed: bool, output_padding: tuple,
                 groups: int, bias: bool, padding_mode: str, device=None, dtype=None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_padding_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{valid_padding_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_padding_modes:
            raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups))
        self.weight = Parameter(_creation.empty((*shape, *kernel_size), device=device,
                                                dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform weight (``a=sqrt(5)``), bias uniform in +-1/sqrt(fan_in), drawn in
        PyTorch's order (the same values for the same seed)."""
        with no_grad():
            if not self.weight.is_contiguous():
                temp = _creation.empty_like(self.weight,
                                            memory_format=contiguous_format)
                init.kaiming_uniform_(temp, a=math.sqrt(5))
                self.weight.copy_(temp)
            else:
                init.kaiming_uniform_(self.weight, a=math.sqrt(5))
            if self.bias is not None:
                fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"

    def _error_summary(self) -> str:
        return f"{self._get_name()} {self.in_channels}->{self.out_channels}"

    def _check_channels(self, input: Tensor, err: RuntimeError) -> None:
        """For a wrong channel count, a RuntimeError that says so in a few words instead of
        the functional op's ``err`` (chained to it)."""
        d = len(self.kernel_size)
        w = self.weight
        expected = w.shape[0] if self.transposed else w.shape[1] * self.groups
        if input.ndim in (d + 1, d + 2) and input.shape[-d - 1] != expected:
            raise RuntimeError(f"expected input with {expected} channels, got "
                               f"{list(input.shape)}") from err


def _conv_class(d: int, ntuple, fn: str):
    # ``fn`` names the nn.functional op, looked up per call (autocast wraps nn.functional)
    name = f"Conv{d}d"

    class ConvNd(_ConvNd):
        def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                     padding=0, dilation=1, groups: int = 1, bias: bool = True,
                     padding_mode: str = "zeros", device=None, dtype=None) -> None:
            super().__init__(in_channels, out_channels, ntuple(kernel_size), ntuple(stride),
                             padding if isinstance(padding, str) else ntuple(padding),
                             ntuple(dilation), False, ntuple(0), groups, bias, padding_mode,
                             device=device, dtype=dtype)

        def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
            try:
                conv = getattr(F, fn)
                if self.padding_mode != "zeros":
                    padded = F.pad(input, self._reversed_padding_repeated_twice,
                                   mode=self.padding_mode)
                    return conv(padded, weight, bias, self.stride, ntuple(0), self.dilation,
                                self.groups)
                return conv(input, weight, bias, self.stride, self.padding, self.dilation,
                            self.groups)
            except RuntimeError as e:
                self._check_channels(input, e)
                raise

        def forward(self, input: Tensor) -> Tensor:
            return self._conv_forward(input, self.weight, self.bias)

    ConvNd.__name__ = ConvNd.__qualname__ = name
    ConvNd.__doc__ = (
        f"{d}-D convolution over (N, C_in, *spatial) or unbatched inputs, weight of shape "
        f"(out_channels, in_channels // groups, *kernel_size).\n\n"
        f"    >>> ember.nn.{name}(3, 8, 3, padding='same')(ember.ones(2, 3{', 5' * d})).shape\n"
        f"    ember.Size([2, 8{', 5' * d}])\n")
    return ConvNd


Conv1d = _conv_class(1, _single, "conv1d")
Conv2d = _conv_class(2, _pair, "conv2d")
Conv3d = _conv_class(3, _triple, "conv3d")


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {self.__class__.__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode,
                         device=device, dtype=dtype)

    def _output_padding(self, input: Tensor, output_size, stride, padding, kernel_size,
                        num_spatial_dims: int, dilation=None) -> list[int]:
        """The output_padding giving ``output_size`` (PyTorch's checks and messages)."""
        if output_size is None:
            return _single(self.output_padding)
        non_spatial = 2 if input.dim() == num_spatial_dims + 2 else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + num_spatial_dims:
            output_size = output_size[non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must "
                f"have {num_spatial_dims} or {non_spatial + num_spatial_dims} elements (got "
                f"{len(output_size)})")
        min_sizes = [(input.size(d + non_spatial) - 1) * stride[d] - 2 * padding[d]
                     + (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1) + 1
                     for d in range(num_spatial_dims)]
        max_sizes = [lo + st - 1 for lo, st in zip(min_sizes, stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range "
                    f"from {min_sizes} to {max_sizes} (for an input of {input.size()[2:]})")
        return [size - lo for size, lo in zip(output_size, min_sizes)]


def _conv_transpose_class(d: int, ntuple, fn: str):
    name = f"ConvTranspose{d}d"

    class ConvTransposeNd(_ConvTransposeNd):
        def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                     padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                     dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:
            super().__init__(in_channels, out_channels, ntuple(kernel_size), ntuple(stride),
                             ntuple(padding), ntuple(dilation), True, ntuple(output_padding),
                             groups, bias, padding_mode, device=device, dtype=dtype)

        def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:
            if self.padding_mode != "zeros":
                raise ValueError(f"Only `zeros` padding mode is supported for {name}")
            output_padding = self._output_padding(input, output_size, self.stride,
                                                  self.padding, self.kernel_size, d,
                                                  self.dilation)
            try:
                return getattr(F, fn)(input, self.weight, self.bias, self.stride, self.padding,
                          output_padding, self.groups, self.dilation)
            except RuntimeError as e:
                self._check_channels(input, e)
                raise

    ConvTransposeNd.__name__ = ConvTransposeNd.__qualname__ = name
    ConvTransposeNd.__doc__ = (
        f"{d}-D transposed convolution (the adjoint of {d}-D convolution), weight of shape "
        f"(in_channels, out_channels // groups, *kernel_size); ``forward(x, output_size)`` "
        f"picks among the output sizes a stride allows.\n\n"
        f"    >>> m = ember.nn.{name}(4, 2, 3, stride=2)\n"
        f"    >>> m(ember.ones(1, 4{', 5' * d}), output_size=[{', '.join(['12'] * d)}]).shape\n"
        f"    ember.Size([1, 2{', 12' * d}])\n")
    return ConvTransposeNd


ConvTranspose1d = _conv_transpose_class(1, _single, "conv_transpose1d")
ConvTranspose2d = _conv_transpose_class(2, _pair, "conv_transpose2d")
ConvTranspose3d = _conv_transpose_class(3, _triple, "conv_transpose3d")


class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` (and the weight) come from the first input's channel dim."""

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            shape = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                     else (self.out_channels, self.in_channels // self.groups))
            with no_grad():
                self.weight.materialize((*shape, *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        unbatched = len(self.kernel_size) + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(
                f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to "
                f"{self.__class__.__name__}, but got input of size: {input.shape}")
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]

    def _uninitialize(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


def _lazy_conv_class(base, d: int):
    name = f"Lazy{base.__name__}"
    if issubclass(base, _ConvTransposeNd):
        class LazyConv(_LazyConvXdMixin, base):
            cls_to_become = base

            def __init__(self, out_channels: int, kernel_size, stride=1, padding=0,
                         output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                         padding_mode: str = "zeros", device=None, dtype=None) -> None:
                super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups,
                                 False, dilation, padding_mode, device=device, dtype=dtype)
                self._uninitialize(out_channels, bias, device, dtype)
    else:
        class LazyConv(_LazyConvXdMixin, base):
            cls_to_become = base

            def __init__(self, out_channels: int, kernel_size, stride=1, padding=0,
                         dilation=1, groups: int = 1, bias: bool = True,
                         padding_mode: str = "zeros", device=None, dtype=None) -> None:
                super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                                 padding_mode, device=device, dtype=dtype)
                self._uninitialize(out_channels, bias, device, dtype)

    LazyConv.__name__ = LazyConv.__qualname__ = name
    LazyConv.__doc__ = (f"A {base.__name__} whose ``in_channels`` is taken from the first "
                        f"input; it then becomes a {base.__name__}.\n\n"
                        f"    >>> m = ember.nn.{name}(8, 3)\n"
                        f"    >>> _ = m(ember.ones(1, 4{', 5' * d}))\n"
                        f"    >>> m.in_channels, type(m).__name__\n"
                        f"    (4, '{base.__name__}')\n")
    return LazyConv


LazyConv1d, LazyConv2d, LazyConv3d = (
    _lazy_conv_class(c, d) for d, c in enumerate((Conv1d, Conv2d, Conv3d), 1))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv_class(c, d) for d, c in enumerate((ConvTranspose1d, ConvTranspose2d,
                                                   ConvTranspose3d), 1))
