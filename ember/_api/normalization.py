"""``nn.functional``: normalisation (batch, instance, layer, group, RMS, local response).

The fused ops and their VJPs are in ``ember/_ops/normalization.py`` (NOTE [ Normalisation
VJPs ]). ``torch.batch_norm`` & co. are published too, with PyTorch's top-level signatures.
"""

from __future__ import annotations

import math

from .._functional import _export, cat
from .._ops import REGISTRY as R
from .._ops.registry import apply
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed
from ..autograd.grad_mode import no_grad

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm"]


def _verify_batch_size(size) -> None:
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {size}")


def _native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                       eps):
    return apply(R["native_batch_norm"], (input, weight, bias, running_mean, running_var),
                 {"training": bool(training), "momentum": momentum, "eps": eps})


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims; when training, update
    the running statistics in place (``r = momentum * batch + (1 - momentum) * r``, unbiased
    variance): ``F.batch_norm(x, rm, rv, training=True)``."""
    if momentum is None:  # (nn.BatchNorm's momentum=None passes 1 / num_batches_tracked)
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not "
                        "NoneType")
    if training:
        _verify_batch_size(tuple(input.shape))
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _native_batch_norm(input, weight, bias, running_mean, running_var, training,
                              momentum, eps)[0]


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims (PyTorch's batch norm of
    the ``(1, N*C, *)`` view): ``F.instance_norm(x)``."""
    if use_input_stats:
        size = tuple(input.shape)
        if math.prod(size[2:]) == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {list(size)}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    b, c = input.shape[0], input.shape[1]

    def rep(t):
        return None if t is None else t.repeat(b)
    rm, rv = rep(running_mean), rep(running_var)
    x = input.contiguous().view((1, b * c) + tuple(input.shape[2:]))
    out = _native_batch_norm(x, rep(weight), rep(bias), rm, rv, use_input_stats, momentum,
                             eps)[0]
    with no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.view(b, c).mean(0))
        if running_var is not None:
            running_var.copy_(rv.view(b, c).mean(0))
    return out.view(input.shape)


def _shape(normalized_shape, name: str) -> tuple:
    if isinstance(normalized_shape, int):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of "
                        "ints, not int")
    return tuple(normalized_shape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims: ``F.layer_norm(x, (512,))``."""
    return apply(R["native_layer_norm"], (input, weight, bias),
                 {"normalized_shape": _shape(normalized_shape, "layer_norm"), "eps": eps})[0]


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing dims (``eps`` defaults to the
    machine epsilon of the compute type): ``F.rms_norm(x, (512,))``."""
    return apply(R["rms_norm"], (input, weight),
                 {"normalized_shape": _shape(normalized_shape, "rms_norm"), "eps": eps})[0]


def _native_group_norm(input, weight, bias, n, c, hxw, group, eps):
    return apply(R["native_group_norm"], (input, weight, bias),
                 {"N": n, "C": c, "HxW": hxw, "group": group, "eps": eps})


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise groups of channels of each sample: ``F.group_norm(x, 4)``."""
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    size = tuple(input.shape)
    _verify_batch_size([size[0] * size[1] // num_groups, num_groups] + list(size[2:]))
    return _native_group_norm(input, weight, bias, size[0], size[1], math.prod(size[2:]),
                              num_groups, eps)[0]


@autocast_listed
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Divide by ``(k + alpha * mean of squares over size neighbouring channels) ** beta``:
    ``F.local_response_norm(x, 2)``."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    pad = [sq.new_zeros((sq.shape[0], n) + tuple(sq.shape[2:]))
           for n in (size // 2, (size - 1) // 2)]
    padded = cat([pad[0], sq, pad[1]], 1)
    div = padded.unfold(1, size, 1).mean(-1) if size > 0 else sq * 0
    return input / (div * alpha + k).pow(beta)


# -- PyTorch's top-level forms --------------------------------------------------------------------

def _top(name: str, fn) -> None:
    fn.__name__ = fn.__qualname__ = name
    _export(fn, method=False)


def _batch_norm_top(input, weight, bias, running_mean, running_var, training, momentum, eps,
                    cudnn_enabled=True):
    return _native_batch_norm(input, weight, bias, running_mean, running_var, training,
                              momentum, eps)[0]


def _instance_norm_top(input, weight, bias, running_mean, running_var, use_input_stats,
                       momentum, eps, cudnn_enabled=True):
    return instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                         momentum, eps)


def _layer_norm_top(input, normalized_shape, weight=None, bias=None, eps=1e-5,
                    cudnn_enable=True):
    return layer_norm(input, normalized_shape, weight, bias, eps)


def _group_norm_top(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return group_norm(input, num_groups, weight, bias, eps)


def _native_layer_norm_top(input, normalized_shape, weight, bias, eps):
    return apply(R["native_layer_norm"], (input, weight, bias),
                 {"normalized_shape": _shape(normalized_shape, "native_layer_norm"),
                  "eps": eps})


_top("batch_norm", _batch_norm_top)
_top("instance_norm", _instance_norm_top)
_top("layer_norm", _layer_norm_top)
_top("group_norm", _group_norm_top)
_top("native_batch_norm", _native_batch_norm)
_top("native_group_norm", _native_group_norm)
_top("native_layer_norm", _native_layer_norm_top)
_export(rms_norm, method=False)
