"""Layer, group, RMS and local-response normalisation layers
(``torch.nn.modules.normalization``)."""

from __future__ import annotations

import numbers

from ... import _creation
from ... import _functional as EF
from ..._tensor import Tensor
from ...autograd.function import Function
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LocalResponseNorm", "CrossMapLRN2d", "LayerNorm", "GroupNorm", "RMSNorm"]


class LocalResponseNorm(Module):
    """Divide each channel by ``(k + alpha / size * sum of squares over size neighbouring
    channels) ** beta``: ``ember.nn.LocalResponseNorm(2)(ember.ones(1, 4, 3))``."""

    __constants__ = ["size", "alpha", "beta", "k"]

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _channel_window_sum(t: Tensor, before: int, after: int) -> Tensor:
    """``out[:, c] = sum(t[:, c - before : c + after + 1])`` (zero outside the channels)."""
    n, c = t.shape[0], t.shape[1]
    rest = tuple(t.shape[2:])
    padded = EF.cat([t.new_zeros((n, before) + rest), t, t.new_zeros((n, after) + rest)], 1)
    cum = EF.cat([t.new_zeros((n, 1) + rest), padded.cumsum(1)], 1)
    width = before + after + 1
    return cum[:, width:width + c] - cum[:, :c]


class _CrossMapLRN2dFunction(Function):
    """Torch7's cross-map LRN of ``(N, C, H, W)`` inputs, with its legacy quirks kept so that
    values and gradients are PyTorch's.

    # NOTE [ CrossMapLRN2d quirks ]
    PyTorch's ``CrossMapLRN2d`` (a port of Lua Torch's ``SpatialCrossMapLRN``) builds the
    scale with a running window whose first channel is never subtracted: channel ``c`` sums
    the squares of channels ``[c - P + 1, c + P - 1]`` (``P = (size - 1) // 2 + 1``) plus
    channel 0 once the window has moved past it. Its hand-written backward is the textbook
    LRN gradient over the window ``[c - I, c + size - 1 - I]`` (``I = size - (size - 1) // 2``
    after truncation), not the derivative of that forward. Both are reproduced here.
    """

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        if input.dim() != 4:
            raise ValueError(
                f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        pre = int((size - 1) / 2 + 1)
        sq = input * input
        scale = _channel_window_sum(sq, pre - 1, pre - 1)
        past_first = _creation.arange(input.shape[1]) >= pre
        scale = scale + sq[:, :1] * past_first.view(1, -1, 1, 1).to(input.dtype)
        scale = scale * (alpha / size) + k
        output = scale.pow(-beta) * input
        ctx.size, ctx.alpha, ctx.beta, ctx.scale = size, alpha, beta, scale
        ctx.save_for_backward(input, output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, output = ctx.saved_tensors
        size, scale = ctx.size, ctx.scale
        inverse_pre = int(size - (size - 1) / 2)
        ratio = grad_output * output / scale
        accum = _channel_window_sum(ratio, inverse_pre, size - 1 - inverse_pre)
        coeff = 2 * ctx.alpha * ctx.beta / size
        return scale.pow(-ctx.beta) * grad_output - coeff * input * accum, None, None, None, None


class CrossMapLRN2d(Module):
    """Legacy cross-channel LRN of ``(N, C, H, W)`` inputs (NOTE [ CrossMapLRN2d quirks ]):
    ``ember.nn.CrossMapLRN2d(3)(ember.ones(1, 4, 2, 2))``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return _CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (normalized_shape,)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and
    shift by ``bias`` (both of that shape) when ``elementwise_affine``.

    >>> ember.nn.LayerNorm(512)(ember.randn(2, 7, 512)).shape
    ember.Size([2, 7, 512])
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        kw = {"device": device, "dtype": dtype}
        if elementwise_affine:
            self.weight = Parameter(_creation.empty(self.normalized_shape, **kw))
            if bias:
                self.bias = Parameter(_creation.empty(self.normalized_shape, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight`` to 1, ``bias`` to 0."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")

    def _error_summary(self) -> str:
        return f"{self._get_name()} {self.normalized_shape}"


class GroupNorm(Module):
    """Normalise each sample's channels in ``num_groups`` groups, then scale and shift per
    channel when ``affine``.

    >>> ember.nn.GroupNorm(2, 4)(ember.randn(3, 4, 5)).shape
    ember.Size([3, 4, 5])
    """

    __constants__ = ["num_groups", "num_channels", "eps", "affine"]

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        kw = {"device": device, "dtype": dtype}
        if affine:
            self.weight = Parameter(_creation.empty(num_channels, **kw))
            if bias:
                self.bias = Parameter(_creation.empty(num_channels, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight`` to 1, ``bias`` to 0."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims
    (``eps`` None: the machine epsilon of the input's dtype).

    >>> ember.nn.RMSNorm([2, 3])(ember.randn(4, 2, 3)).shape
    ember.Size([4, 2, 3])
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_creation.empty(self.normalized_shape, device=device,
                                                    dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``weight`` to 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")

    def _error_summary(self) -> str:
        return f"{self._get_name()} {self.normalized_shape}"
