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

__all__ = ["linear", "bilinear"]


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
