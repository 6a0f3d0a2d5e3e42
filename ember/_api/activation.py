"""``nn.functional``: activations, distances, ``one_hot`` and the dropout family.

Each name in ``__all__`` is PyTorch's ``torch.nn.functional`` function of that name; the ones
PyTorch also has at top level (``torch.selu``, ``torch.dropout``, ...) are published with
``_export`` too, with PyTorch's top-level signature where it differs.

# NOTE [ Dropout masks ]
Dropout draws its mask as PyTorch's CPU path does (``empty_like(input).bernoulli_(1 - p)``,
then scaled), from ember's default generator; ``p == 0``, ``training=False`` and empty inputs
return the input itself and ``p == 1`` multiplies by zero, exactly as PyTorch. Where PyTorch's
CPU ``bernoulli_`` takes a vendor (MKL) path the masks differ from PyTorch's bit for bit; their
statistics do not.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _creation, _dtype, _functional
from .._creation import arange
from .._functional import _export, triu_indices
from .._ops import REGISTRY as R
from .._ops.registry import apply, apply_inplace
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed
from ..autograd.grad_mode import no_grad
from ..random import _gen

__all__ = [
    "threshold", "threshold_", "relu", "relu_", "glu", "hardtanh", "hardtanh_", "relu6", "elu",
    "elu_", "selu", "selu_", "celu", "celu_", "leaky_relu", "leaky_relu_", "prelu", "rrelu",
    "rrelu_", "logsigmoid", "gelu", "hardshrink", "tanhshrink", "softsign", "softplus",
    "softmin", "softshrink", "sigmoid", "tanh", "hardsigmoid", "silu", "mish", "hardswish",
    "normalize", "cosine_similarity", "pairwise_distance", "pdist", "one_hot", "dropout",
    "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout",
]

sigmoid = _functional.sigmoid
tanh = _functional.tanh


def _act(name: str, input: Tensor, inplace: bool, params: dict) -> Tensor:
    if inplace:
        return apply_inplace(R[name], input, (), params)
    return apply(R[name], (input,), params)


# -- activations ----------------------------------------------------------------------------------

def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``value`` where ``input <= threshold``, else ``input``:
    ``F.threshold(x, 0.1, 20.0)``."""
    if inplace:
        return apply_inplace(R["threshold"], input, (threshold, value), {})
    return apply(R["threshold"], (input, threshold, value), {})


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return apply_inplace(R["threshold"], input, (threshold, value), {})


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``: ``F.relu(x)``."""
    return _act("relu", input, inplace, {})


def relu_(input: Tensor) -> Tensor:
    return _act("relu", input, True, {})


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``input`` clamped to ``[min_val, max_val]``: ``F.hardtanh(x, -2.0, 2.0)``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _act("hardtanh", input, inplace, {"min_val": min_val, "max_val": max_val})


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``: ``F.relu6(x)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``: ``F.elu(x, alpha=0.5)``."""
    return _act("elu", input, inplace, {"alpha": alpha})


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalising constants: ``F.selu(x)``."""
    return _act("elu", input, inplace, {"alpha": _SELU_ALPHA, "scale": _SELU_SCALE})


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``: ``F.celu(x, alpha=2.0)``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _act("elu", input, inplace, {"alpha": alpha, "input_scale": 1 / alpha})


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``: ``F.leaky_relu(x, 0.2)``."""
    return _act("leaky_relu", input, inplace, {"negative_slope": negative_slope})


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


@autocast_listed
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learnt slope per channel (dim 1): ``F.prelu(x, torch.tensor([0.25]))``.
    """
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    n = weight.numel()
    if n != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {n} and channel size = {channels}.")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for '{input.dtype.word}'")
    w = weight.reshape((1, n) + (1,) * (input.dim() - 2) if n != 1 and input.dim() >= 2
                       else (n,) if n != 1 else ())
    return input.where(input > 0, w * input)


# NOTE [ RReLU noise ]
# PyTorch's CPU kernel (``_rrelu_with_noise_train``) walks the input in C order and, for each
# element ``<= 0`` only, draws ``uniform_real_distribution<double>(lower, upper)`` (53 bits of
# one ``random64()``, ``u * (upper - lower) + lower`` in double with the bounds first rounded
# to the opmath type), rounds it to the opmath type (float for float32 and bfloat16) and
# multiplies; other elements get noise 1. The noise kept for backward is in the input's dtype.

_RRELU_DTYPES = (_dtype.float32, _dtype.float64, _dtype.bfloat16)


def _rrelu_noise(input: Tensor, lower: float, upper: float) -> Tensor:
    """The noise of a training RReLU (NOTE [ RReLU noise ]), in the input's opmath dtype."""
    op = np.float64 if input.dtype is _dtype.float64 else np.float32
    neg = (input.detach() <= 0).cpu().numpy().reshape(-1)
    lo, hi = float(op(lower)), float(op(upper))
    u = _gen(None)._uniform01(int(neg.sum()), np.dtype(np.float64))
    noise = np.ones(neg.shape, op)
    noise[neg] = (u * (hi - lo) + lo).astype(op)
    return _creation._finish(noise.reshape(tuple(input.shape)), input.device, False)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope in ``[lower, upper]`` per non-positive element when
    training (drawn from ember's generator as PyTorch's CPU kernel draws), their mean
    otherwise: ``F.rrelu(x, training=True)``."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if input.dtype not in _RRELU_DTYPES:
        raise NotImplementedError(
            f"\"rrelu_with_noise_out_cpu\" not implemented for '{input.dtype.word}'")
    noise = _rrelu_noise(input, lower, upper)
    if inplace:
        return apply_inplace(R["rrelu"], input, (noise,), {})
    return apply(R["rrelu"], (input, noise), {})


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, True)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, stable for large ``|x|``: ``F.logsigmoid(x)``."""
    return apply(R["log_sigmoid"], (input,), {})


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (``approximate='tanh'``: the tanh formula): ``F.gelu(x)``."""
    return apply(R["gelu"], (input,), {"approximate": approximate})[0]


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """0 where ``|x| <= lambd``, else ``x``: ``F.hardshrink(x, 0.5)``."""
    return apply(R["hardshrink"], (input,), {"lambd": lambd})


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    return apply(R["softshrink"], (input,), {"lambd": lambd})


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - input.tanh()


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    return apply(R["softplus"], (input,), {"beta": beta, "threshold": threshold})


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``softmax(-input)`` along ``dim``: ``F.softmin(x, dim=1)``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    x = -input
    if dtype is not None:
        x = x.to(dtype)
    elif not x.is_floating_point():
        raise NotImplementedError(
            f"\"softmax_lastdim_kernel_impl\" not implemented for '{x.dtype.word}'")
    return _functional.softmax(x, dim)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return _act("hardsigmoid", input, inplace, {})


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    return _act("silu", input, inplace, {})


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return _act("mish", input, inplace, {})


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return _act("hardswish", input, inplace, {})


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves ``a, b`` of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"glu_cpu\" not implemented for '{input.dtype.word}'")
    d = dim % input.dim() if -input.dim() <= dim < input.dim() else dim
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * b.sigmoid()


# -- distances ------------------------------------------------------------------------------------

def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``: ``F.normalize(x, dim=-1)``."""
    res = input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is not None:
        out.copy_(res)
        return out
    return res


def _no_grad_clamp_min(t: Tensor, eps: float) -> Tensor:
    """``t`` clamped below at ``eps`` with the gradient of ``t`` (PyTorch clamps in place under
    no_grad)."""
    return t + (t.detach().clamp_min(eps) - t.detach())


@autocast_listed
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcasting)."""
    from .._dtype import promote_types
    ct = promote_types(x1.dtype, x2.dtype)
    if not ct.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{ct.word}")
    a, b = (t if t.is_floating_point() else t.to(ct) for t in (x1, x2))
    a, b = _functional.broadcast_tensors(a, b)
    na = _no_grad_clamp_min(a.norm(2, dim, keepdim=True), eps)
    nb = _no_grad_clamp_min(b.norm(2, dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim."""
    last = max(x1.dim(), x2.dim()) - 1
    return (x1 - x2 + eps).norm(p, last if last >= 0 else None, keepdim)


@autocast_listed
def pdist(input: Tensor, p: float = 2) -> Tensor:
    """p-norm distances between all pairs of rows of a 2-D input (upper triangle, row-major):
    ``F.pdist(x)``."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = triu_indices(n, n, 1)
    return (input[i] - input[j]).norm(p, 1)


@autocast_listed
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of ``x1`` and each row of ``x2`` (batched):
    ``torch.cdist(a, b)``."""
    modes = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
             "donot_use_mm_for_euclid_dist": 2}
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t.dim()}D")
        if not t.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{t.dtype.word}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    mode = modes[compute_mode]
    r1, r2 = x1.shape[-2], x2.shape[-2]
    if p == 2 and x1.numel() and x2.numel() and (mode == 1 or mode == 0 and (r1 > 25 or
                                                                             r2 > 25)):
        # PyTorch's matrix-product form: |a|^2 - 2 a.b + |b|^2, via one batched matmul
        n1 = (x1 * x1).sum(-1, keepdim=True)
        n2 = (x2 * x2).sum(-1, keepdim=True)
        a = _functional.cat([x1 * -2, n1, n1.new_ones(n1.shape)], -1)
        b = _functional.cat([x2, n2.new_ones(n2.shape), n2], -1)
        return a.matmul(b.transpose(-1, -2)).clamp_min(1e-30).sqrt()
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, -1)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dim: ``F.one_hot(torch.tensor([0, 2]), 3)``."""
    from .. import _dtype
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if int(tensor.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(tensor.max()) + 1
        elif int(tensor.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == arange(num_classes, device=tensor.device)).long()


# -- dropout --------------------------------------------------------------------------------------

_ALPHA = 1.7580993408473766


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input: Tensor, p: float, train: bool, inplace: bool, feature: bool,
             alpha: bool) -> Tensor:
    """PyTorch's ``_dropout_impl`` (see NOTE [ Dropout masks ])."""
    if p == 0 or not train or input.numel() == 0:
        return input
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        zero = input.new_zeros(())
        return input.mul_(zero) if inplace else input * zero
    with no_grad():
        # drawn in the input's memory order (empty_like keeps its strides), as PyTorch's
        if feature:
            shape = (input.shape[0], input.shape[1]) + (1,) * (input.dim() - 2)
            noise = input.new_empty(shape).bernoulli_(1 - p)
        else:
            noise = _creation.empty_like(input).bernoulli_(1 - p)
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            b = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
            noise = noise * a
        else:
            noise = noise / (1 - p)
    out = input.mul_(noise) if inplace else input * noise
    if alpha:
        out = out.add_(b) if inplace else out + b
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``:
    ``F.dropout(x, 0.2)``."""
    _check_p(p)
    return _dropout(input, p, training, inplace, False, False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance."""
    _check_p(p)
    return _dropout(input, p, training, inplace, False, True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1)."""
    _check_p(p)
    return _dropout(input, p, training, inplace, True, True)


def _unbatched(input: Tensor, batched: bool, inplace: bool, fn) -> Tensor:
    if batched:
        return fn(input)
    x = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = fn(x)
    return out.squeeze_(0) if inplace else out.squeeze(0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input."""
    _check_p(p)
    d = input.dim()
    if d not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {d}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _unbatched(input, d == 3, inplace,
                      lambda x: _dropout(x, p, training, inplace, True, False))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` input."""
    _check_p(p)
    d = input.dim()
    if d not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {d}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if d == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout(input, p, training, inplace, True, False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    _check_p(p)
    d = input.dim()
    if d not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {d}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _unbatched(input, d == 5, inplace,
                      lambda x: _dropout(x, p, training, inplace, True, False))


# -- PyTorch's top-level forms --------------------------------------------------------------------

def _top(name: str, fn, method: bool = False) -> None:
    fn.__name__ = fn.__qualname__ = name
    _export(fn, method=method)


for _f in (selu, selu_, celu, celu_, threshold, threshold_, rrelu, rrelu_, cosine_similarity,
           pairwise_distance, pdist, cdist):
    _export(_f, method=False)
_export(prelu)
_export(hardshrink)


def _dropout_top(feature: bool, alpha: bool, inplace: bool):
    def fn(input: Tensor, p: float, train: bool) -> Tensor:
        return _dropout(input, p, train, inplace, feature, alpha)
    return fn


for _feature, _alpha, _base in ((False, False, "dropout"), (False, True, "alpha_dropout"),
                                (True, False, "feature_dropout"),
                                (True, True, "feature_alpha_dropout")):
    _top(_base, _dropout_top(_feature, _alpha, False))
    _top(_base + "_", _dropout_top(_feature, _alpha, True))
