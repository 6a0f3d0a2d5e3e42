"""Helpers shared by the distributions (``torch.distributions.utils``)."""

from __future__ import annotations

from numbers import Number

from .. import _dtype
from .._creation import tensor
from .._functional import clamp, logsumexp, sigmoid
from .._tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits"]


def broadcast_all(*values) -> tuple:
    """Tensors of the broadcast shape from tensors and numbers (numbers take the tensors'
    dtype, else the default dtype): ``loc, scale = broadcast_all(0., ember.ones(3))``."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        opts = ({"dtype": _dtype.get_default_dtype()} if like is None
                else {"dtype": like.dtype, "device": like.device})
        values = [v if isinstance(v, Tensor) else tensor(v, **opts) for v in values]
    from .._ops.rules import broadcast_shapes
    shape = tuple(broadcast_shapes("broadcast_all", *(tuple(v.shape) for v in values)))
    return tuple(v.expand(shape) for v in values)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities clamped into [eps, 1 - eps]."""
    eps = _dtype.finfo(probs.dtype).eps
    return clamp(probs, min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Sigmoid (binary) or softmax over the last dim."""
    if is_binary:
        return sigmoid(logits)
    return (logits - logsumexp(logits, -1, keepdim=True)).exp()


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (binary) or log-probabilities of clamped ``probs``."""
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


def softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` without overflow."""
    return clamp(x, min=0) + (-x.abs()).exp().log1p()


def _standard_normal(shape, dtype, device) -> Tensor:
    from .._creation import empty
    return empty(shape, dtype=dtype, device=device).normal_()


class lazy_property:  # noqa: N801 - PyTorch's name
    """A property computed once on first access and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
