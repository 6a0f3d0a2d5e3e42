"""``nn.functional``: losses and embeddings.

Losses are composites of registry ops, written as PyTorch's own ATen composites are (so values
and gradients agree, edge cases included); ``ctc_loss``, the embeddings and cross entropy
with class-index targets (NOTE [ Fused cross entropy ]) are registry ops
(``ember/_ops/loss.py``).
"""

from __future__ import annotations

import math
import warnings

from .. import _dtype
from .. import _functional as F
from .._creation import arange, tensor
from .._functional import _export, broadcast_shapes, broadcast_tensors
from .._ops import REGISTRY as R
from .._ops.registry import apply, apply_inplace
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed
from ..autograd.grad_mode import is_grad_enabled, no_grad
from .activation import _no_grad_clamp_min, logsigmoid, pairwise_distance

__all__ = [
    "l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "smooth_l1_loss", "huber_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
    "multi_margin_loss", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "ctc_loss", "embedding", "embedding_bag",
]

_ENUM = {0: "none", 1: "mean", 2: "sum"}


def _legacy(size_average, reduce, reduction: str) -> str:
    """PyTorch's ``size_average``/``reduce`` arguments as a ``reduction`` string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _check(reduction) -> str:
    reduction = _ENUM.get(reduction, reduction) if isinstance(reduction, int) else reduction
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _not_differentiable(fn: str, arg: str, t: Tensor | None) -> None:
    """PyTorch's error for a tensor requiring grad where its op has no derivative for it."""
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3)


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str) -> Tensor:
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# -- regression losses ----------------------------------------------------------------------------

@autocast_listed
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: ``F.l1_loss(pred, target)``."""
    _size_warning(input, target)
    reduction = _check(_legacy(size_average, reduce, reduction))
    a, b = broadcast_tensors(input, target)
    loss = (a - b).abs()
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input,
                                                                      reduction)


@autocast_listed
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: ``F.mse_loss(pred, target)``."""
    _size_warning(input, target)
    reduction = _check(_legacy(size_average, reduce, reduction))
    a, b = broadcast_tensors(input, target)
    d = a - b
    return _reduce(d * d, reduction) if weight is None else _weighted(d * d, weight, input,
                                                                       reduction)


@autocast_listed
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Squared error (halved, over ``beta``) below ``beta``, absolute error above."""
    _size_warning(input, target)
    reduction = _check(_legacy(size_average, reduce, reduction))
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    a, b = broadcast_tensors(input, target)
    d = (a - b).abs()
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce((0.5 * d * d / beta).where(d < beta, d - 0.5 * beta), reduction)


@autocast_listed
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Half squared error below ``delta``, ``delta * (|d| - delta / 2)`` above."""
    _size_warning(input, target)
    reduction = _check(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    a, b = broadcast_tensors(input, target)
    d = (a - b).abs()
    loss = (0.5 * d * d).where(d < delta, delta * (d - 0.5 * delta))
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input,
                                                                      reduction)


@autocast_listed
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target ~ Poisson(input)`` (``exp(input)`` if log_input),
    with Stirling's term if ``full``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target ~ N(input, var)`` (var clamped below at ``eps``
    without changing its gradient, as PyTorch does)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and
                  sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = _no_grad_clamp_min(var, eps)
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- classification losses ------------------------------------------------------------------------

def _log_softmax(x: Tensor, dim: int) -> Tensor:
    return F.log_softmax(x, dim)


def _nll_args(input: Tensor, target: Tensor, weight: Tensor | None, fn: str):
    """PyTorch's checks of nll_loss's arguments; ``(input, target, unbatched)`` with a batch
    dim added to unbatched ones and the target as int64."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{target.dtype.word}")
    one = input.dim() == 1
    x = input.unsqueeze(0) if one else input
    t = target.reshape(1) if one and target.dim() == 0 else target
    if t.dim() == 0 or x.shape[0] != t.shape[0]:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                         f"batch_size ({t.shape[0] if t.dim() else 0}).")
    if x.dim() > 2 and tuple(t.shape) != (x.shape[0],) + tuple(x.shape[2:]):
        raise RuntimeError(f"Expected target size {[x.shape[0]] + list(x.shape[2:])}, got "
                           f"{list(t.shape)}")
    c = x.shape[1]
    _not_differentiable(fn, "weight", weight)
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    return x, t.long(), one


@autocast_listed
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class-index targets given log-probabilities
    ``(N, C, d1, ...)``, with class weights and an ignored index."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    x, t, one = _nll_args(input, target, weight, "nll_loss_forward")
    c = x.shape[1]
    valid = t != ignore_index
    ts = t.masked_fill(~valid, 0)
    if ts.numel():
        bad = (ts < 0) | (ts >= c)
        if bool(bad.any()):
            raise IndexError(f"Target {int(ts[bad][0])} is out of bounds.")
    picked = x.gather(1, ts.unsqueeze(1)).squeeze(1)
    w = valid.to(x.dtype) if weight is None else \
        weight.gather(0, ts.reshape(-1)).view(ts.shape) * valid
    loss = -picked * w
    if reduction == "none":
        return loss.squeeze(0) if one else loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def _class_weight(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


@autocast_listed
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits ``(N, C, d1, ...)`` with class-index targets (weights,
    ignore_index) or class probabilities, optionally label-smoothed:
    ``F.cross_entropy(logits, labels, label_smoothing=0.1)``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    class_dim = 0 if input.dim() == 1 else 1
    c = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    if target.is_floating_point():
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target size {list(input.shape)}, got "
                               f"{list(target.shape)}")
        tgt = target * (1 - label_smoothing) + label_smoothing / c if label_smoothing > 0 \
            else target
        prod = _log_softmax(input, class_dim) * tgt
        if weight is not None:
            prod = prod * _class_weight(weight, input.dim(), class_dim)
        if reduction == "none":
            return -prod.sum(class_dim)
        if reduction == "sum":
            return -prod.sum()
        n = input.numel() // c if c else 0
        return -prod.sum() / n if n else -prod.sum() * math.nan
    if input.dtype in (_dtype.float32, _dtype.float64) and \
            (weight is None or weight.dtype == input.dtype):
        # one fused op (NOTE [ Fused cross entropy ])
        x, t, one = _nll_args(input, target, weight, "nll_loss_forward")
        loss = apply(R["cross_entropy_loss"], (x, t, weight),
                     {"ignore_index": ignore_index, "reduction": reduction,
                      "label_smoothing": float(label_smoothing)})[0]
        return loss.squeeze(0) if one and reduction == "none" else loss
    lp = _log_softmax(input, class_dim)
    nll = nll_loss(lp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0:
        return nll
    w = None if weight is None else _class_weight(weight, input.dim(), class_dim)
    smooth = -(lp if w is None else lp * w).sum(class_dim)
    ignore = target == ignore_index
    smooth = smooth.masked_fill(ignore, 0)
    if reduction == "mean":
        keep = ~ignore
        if weight is None:
            ret = smooth.sum() / keep.sum()
        else:
            ret = smooth.sum() / (weight.gather(0, target.masked_fill(ignore, 0).reshape(-1))
                                  * keep.reshape(-1)).sum()
    else:
        ret = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


@autocast_listed
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` for probabilities ``x`` (logs clamped at -100)."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if weight is not None:
        _not_differentiable("binary_cross_entropy", "weight", weight)
        weight = weight.expand(broadcast_shapes(target.shape, weight.shape))
    return _reduce(apply(R["binary_cross_entropy"], (input, target, weight), {}), reduction)


@autocast_listed
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of logits, computed stably through ``logsigmoid``; ``pos_weight``
    weighs the positive term: ``F.binary_cross_entropy_with_logits(z, t)``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    _not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    ls = logsigmoid(input)
    if pos_weight is not None:
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * ls
    else:
        loss = (1 - target) * input - ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_listed
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence of ``target`` from the log-probabilities ``input`` (``reduction=
    'batchmean'`` divides the sum by the batch size)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2)
    red = _check("sum" if reduction == "batchmean" else reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target * target.masked_fill(target == 0, 1).log() - target * input
    out = _reduce(loss, red)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.shape[0]
    return out


@autocast_listed
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    _not_differentiable("soft_margin_loss", "target", target)
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss averaged over classes (the last dim)."""
    reduction = _legacy(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def _margin_inputs(input: Tensor, target: Tensor, name: str):
    if input.dim() > 2:
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim "
                           f"batch size, but got: {list(input.shape)}")
    return input.reshape(1, -1) if input.dim() < 2 else input


@autocast_listed
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Hinge loss between each target class (listed in ``target``, ended by -1) and each
    non-target class, averaged over classes."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    one = input.dim() < 2
    x = _margin_inputs(input, target, "multilabel_margin_loss")
    t = target.reshape(x.shape) if target.numel() == x.numel() else None
    if t is None:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    c = x.shape[1]
    if t.numel() and bool(((t < -1) | (t >= c)).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    t = t.long()
    ends = t == -1
    first = ends.long().argmax(1).masked_fill(~ends.any(1), c) if c else t.new_zeros((0,))
    valid = arange(c, device=input.device) < first.unsqueeze(1)
    tc = t.clamp(min=0)
    is_target = x.new_zeros(x.shape).scatter_add(1, tc, valid.to(x.dtype)) > 0
    xt = x.gather(1, tc)
    # hinge of target k against class i: relu(1 - x[t_k] + x[i]) over valid k, non-target i
    h = (1 - xt.unsqueeze(2) + x.unsqueeze(1)).relu()
    h = h * (valid.unsqueeze(2) & ~is_target.unsqueeze(1))
    loss = h.sum((1, 2)) / c
    if one:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


@autocast_listed
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss ``sum_j max(0, margin - x[y] + x[j])^p / C`` (j != y)."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _not_differentiable("multi_margin_loss", "weight", weight)
    one = input.dim() < 2
    x = _margin_inputs(input, target, "multi_margin_loss")
    c = x.shape[1]
    t = target.reshape(-1).long()
    if t.numel() != x.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x.shape[0]} but got "
                           f"{list(target.shape)}")
    if t.numel() and bool(((t < 0) | (t >= c)).any()):
        raise RuntimeError("target out of range")
    xy = x.gather(1, t.unsqueeze(1))
    z = (margin - xy + x).relu()
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.gather(0, t).unsqueeze(1)
    z = z.masked_fill(arange(c, device=input.device) == t.unsqueeze(1), 0)
    loss = z.sum(1) / c
    if one:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


@autocast_listed
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@autocast_listed
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    zeros = input.new_zeros(())
    out = (margin - input).clamp_min(0).where(target != 1, zeros) + \
        input.where(target != -1, zeros)
    return _reduce(out, reduction)


@autocast_listed
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``y == -1``."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    if td == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12
    prod = (input1 * input2).sum(td)
    m1 = (input1 * input1).sum(td) + eps
    m2 = (input2 * input2).sum(td) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros = cos.new_zeros(())
    out = (1 - cos).where(target == 1, zeros) + (cos - margin).clamp_min(0).where(
        target == -1, zeros)
    return _reduce(out, reduction)


@autocast_listed
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with p-norm pairwise distances."""
    reduction = _check(_legacy(size_average, reduce, reduction))
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(anchor, positive, negative,
                    lambda a, b: pairwise_distance(a, b, p, eps), margin, swap, reduction)


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    a, pd, nd = anchor.dim(), positive.dim(), negative.dim()
    if not a == pd == nd:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {pd}D, and negative {nd}D inputs")
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet loss with any ``distance_function`` (default: ``pairwise_distance``)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin,
                    swap, reduction)


def _lengths(v, device) -> Tensor:
    return v if isinstance(v, Tensor) else tensor(list(v), dtype=_dtype.int64, device=device)


@autocast_listed
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss of ``log_probs (T, N, C)`` (from
    log_softmax) against padded ``(N, S)`` or concatenated targets:
    ``F.ctc_loss(lp, targets, input_lengths, target_lengths)``."""
    reduction = _check(reduction)
    il, tl = _lengths(input_lengths, log_probs.device), _lengths(target_lengths,
                                                                 log_probs.device)
    one = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if one else log_probs
    tg = targets.unsqueeze(0) if one and targets.dim() == 1 else targets
    if one:
        il, tl = il.reshape(1), tl.reshape(1)
    nll, _ = apply(R["ctc_loss"], (lp, tg, il, tl),
                   {"blank": blank, "zero_infinity": zero_infinity})
    if reduction == "mean":
        return (nll / tl.clamp(min=1).to(nll.dtype)).mean()
    if reduction == "sum":
        return nll.sum()
    return nll.squeeze(0) if one else nll


# -- embeddings -----------------------------------------------------------------------------------

def embedding_renorm_(weight: Tensor, indices: Tensor, max_norm: float,
                      norm_type: float) -> Tensor:
    """Rescale (in place) the rows of ``weight`` listed in ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` to norm ``max_norm``."""
    return apply_inplace(R["embedding_renorm"], weight, (indices,),
                         {"max_norm": max_norm, "norm_type": norm_type})


def _renorm(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    with no_grad():
        embedding_renorm_(weight.detach(), input, max_norm, norm_type)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the indices ``input``; ``padding_idx``'s row gets no
    gradient; ``max_norm`` renormalises the used rows of ``weight`` in place first:
    ``F.embedding(ids, table)``. With ``sparse=True`` the gradient of ``weight`` is a sparse
    COO tensor."""
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= weight.shape[0] or \
                padding_idx < 0 and padding_idx < -weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % weight.shape[0]
    else:
        padding_idx = -1
    if max_norm is not None:
        input = input.contiguous()
        _renorm(weight, input, max_norm, norm_type)
    return _embedding_op(weight, input, padding_idx, scale_grad_by_freq, sparse)


def _embedding_op(weight, input, padding_idx, scale_grad_by_freq, sparse):
    params = {"padding_idx": padding_idx, "scale_grad_by_freq": scale_grad_by_freq}
    if sparse:
        params["sparse"] = True
    return apply(R["embedding"], (weight, input), params)


def _embedding_bag(weight, input, offsets, scale_grad_by_freq, mode, per_sample_weights,
                   include_last_offset, padding_idx, sparse=False):
    params = {"mode": mode, "padding_idx": -1 if padding_idx is None else padding_idx,
              "include_last_offset": include_last_offset,
              "scale_grad_by_freq": scale_grad_by_freq}
    if sparse:
        params["sparse"] = True
    return apply(R["embedding_bag"], (weight, input, offsets, per_sample_weights), params)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings: ``input`` 2-D (one bag per row) or 1-D
    with bag starts in ``offsets``: ``F.embedding_bag(ids, table, offsets, mode='sum')``."""
    if weight.dtype is _dtype.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(
            f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        offsets = arange(0, input.numel(), max(input.shape[1], 1), dtype=input.dtype,
                         device=input.device)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    modes = {"sum": 0, "mean": 1, "max": 2}
    if mode not in modes:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _renorm(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    if padding_idx is not None:
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -"
                               f"{weight.shape[0]} through {weight.shape[0] - 1}, but got "
                               f"{padding_idx}")
        padding_idx %= weight.shape[0]
    return _embedding_bag(weight, input, offsets, scale_grad_by_freq, modes[mode],
                          per_sample_weights, include_last_offset, padding_idx, sparse)[0]


# -- PyTorch's top-level forms --------------------------------------------------------------------
# These take PyTorch's integer reduction codes (0 none, 1 mean, 2 sum); as PyTorch's bindings do,
# they leave the loss unreduced by default.

def _top(name: str, fn) -> None:
    fn.__name__ = fn.__qualname__ = name
    _export(fn, method=False)


def _embedding_top(weight, input, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _embedding_op(weight, input, padding_idx, scale_grad_by_freq, sparse)


def _embedding_bag_top(weight, input, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                       per_sample_weights=None, include_last_offset=False, padding_idx=None):
    return _embedding_bag(weight, input, offsets, scale_grad_by_freq, mode, per_sample_weights,
                          include_last_offset, padding_idx, sparse)


def _bce_logits_top(input, target, weight=None, pos_weight=None, reduction=0):
    return binary_cross_entropy_with_logits(input, target, weight, reduction=_check(reduction),
                                            pos_weight=pos_weight)


def _kl_div_top(input, target, reduction=0, log_target=False):
    return kl_div(input, target, reduction=_check(reduction), log_target=log_target)


def _ctc_top(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                    _check(reduction), zero_infinity)


def _hinge_top(input, target, margin=1.0, reduction=0):
    return hinge_embedding_loss(input, target, margin, reduction=_check(reduction))


def _ranking_top(input1, input2, target, margin=0.0, reduction=0):
    return margin_ranking_loss(input1, input2, target, margin, reduction=_check(reduction))


def _cosine_top(input1, input2, target, margin=0.0, reduction=0):
    return cosine_embedding_loss(input1, input2, target, margin, reduction=_check(reduction))


def _poisson_top(input, target, log_input, full, eps, reduction):
    return poisson_nll_loss(input, target, log_input, full, eps=eps,
                            reduction=_check(reduction))


def _triplet_top(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                 reduction=0):
    return triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                               reduction=_check(reduction))


_top("embedding", _embedding_top)
_top("embedding_bag", _embedding_bag_top)
_top("binary_cross_entropy_with_logits", _bce_logits_top)
_top("kl_div", _kl_div_top)
_top("ctc_loss", _ctc_top)
_top("hinge_embedding_loss", _hinge_top)
_top("margin_ranking_loss", _ranking_top)
_top("cosine_embedding_loss", _cosine_top)
_top("poisson_nll_loss", _poisson_top)
_top("triplet_margin_loss", _triplet_top)
_export(embedding_renorm_, method=False)
