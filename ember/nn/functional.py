"""``ember.nn.functional``: the functional forms of the layers (``torch.nn.functional``)."""

from __future__ import annotations

import math

from .. import _functional as F
from .._api import activation as _activation
from .._api import attention as _attention
from .._api import conv as _conv
from .._api import loss as _loss
from .._api import normalization as _normalization
from .._api import resample as _resample
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed

__all__ = ["linear", "bilinear", "linear_cross_entropy"]


@autocast_listed
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: the affine map of ``nn.Linear``.

    >>> F.linear(ember.ones(2, 3), ember.ones(4, 3)).shape
    ember.Size([2, 4])
    """
    if bias is not None:
        if input.dim() == 2:
            return F.addmm(bias, input, weight.t())  # one fused op, as PyTorch's 2-D case
        if bias.dim() == 1 and input.is_contiguous():  # PyTorch's _flatten_nd_linear
            rows = math.prod(input.shape[:-1])
            out = F.addmm(bias, input.view(rows, input.shape[-1]), weight.t())
            return out.view(*input.shape[:-1], out.shape[-1])
    out = F.matmul(input, weight.t())
    return out if bias is None else out + bias


@autocast_listed
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

    >>> F.bilinear(ember.ones(5, 2), ember.ones(5, 3), ember.ones(4, 2, 3)).shape
    ember.Size([5, 4])
    """
    d1, d2 = input1.dim(), input2.dim()
    if d1 != d2:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {d1} and {d2}")
    for i, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got {a} and {b}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {weight.shape[2]}")
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {weight.shape[0]}")
    out = F.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0) -> Tensor:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target)``, with the logits
    shaped ``(N, C, *out_features)`` for ``linear_weight`` of shape ``(C, *out_features,
    in_features)`` (PyTorch's reference path; its chunked ``options`` path is not here).

    >>> F.linear_cross_entropy(ember.ones(2, 3), ember.ones(4, 3), ember.tensor([0, 1]))
    tensor(1.3863)
    """
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    num_batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not num_batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    if out_features:
        rows = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(rows, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return _loss.cross_entropy(logits, target, weight=weight, reduction=reduction,
                               ignore_index=-100 if ignore_index is None else ignore_index,
                               label_smoothing=label_smoothing)


# NOTE [ nn.functional by area ]
# The functional forms of the layers live with their ops' areas (``ember/_api/conv.py``, ...),
# which name what ``torch.nn.functional`` has; this module gathers them.
def _gather(names, module) -> None:
    for name in names:
        globals()[name] = getattr(module, name)
        if name not in __all__:
            __all__.append(name)


_gather(_conv.FUNCTIONAL, _conv)
_gather(_resample.__all__, _resample)
for _area in (_activation, _normalization, _loss, _attention):
    _gather(_area.__all__, _area)
_gather(("softmax", "log_softmax"), F)
_canonical_mask = _attention._canonical_mask
_none_or_dtype = _attention._none_or_dtype
