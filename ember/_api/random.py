"""Public functions: sampling ops (bernoulli, multinomial, poisson, _standard_gamma) and the
in-place random fills (``uniform_``, ``normal_``, ``random_``, ``exponential_``, ...).

# NOTE [ Random fills follow PyTorch's kernels ]
Every fill draws from the ``_random`` engine exactly as ATen's CPU kernel does, so a seed gives
PyTorch's numbers bit for bit. The serial kernels (all but ``normal_`` on a contiguous tensor)
draw one value per element in TensorIterator order, which for one output is memory order
(``_in_memory_order``). The values are written with the ``copy`` op, so autograd treats self
as overwritten (zero gradient for its old value), as PyTorch's ``*Backward0`` nodes do.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._creation import _finish, _type_name
from .._functional import METHODS, _export
from .._ops import REGISTRY as R
from .._ops.registry import apply_inplace
from .._random import _COMPLEX_PART, _CPP_NAMES, _digits, _to_float_dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE as _GRAD
from ..random import Sampled, _gen

_UNSET = object()
# dtypes whose ``random_(int64 min, None)`` takes the full 64-bit kernel
_FULL_RANGE = (_dtype.int64, _dtype.float32, _dtype.float64, _dtype.bfloat16)


def _in_memory_order(values: np.ndarray, t: Tensor) -> np.ndarray:
    """``values`` (flat, in draw order) laid out in ``t``'s shape so that the k-th value lands
    on the k-th element in memory order (TensorIterator's order for one output)."""
    shape, strides = tuple(t.shape), t.stride()
    dims = sorted(range(len(shape)), key=lambda d: -strides[d])
    arr = values.reshape([shape[d] for d in dims])
    return arr.transpose(np.argsort(dims)) if dims else arr.reshape(shape)


def _check_writable(self: Tensor, name: str) -> None:
    if (_GRAD.grad_enabled and self._requires_grad and self._grad_fn is None
            and self._base is None):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           f"operation. The in-place op was {name}.")


def _fill(self: Tensor, values: np.ndarray, name: str, ordered: bool = True) -> Tensor:
    """Write ``values`` (draw order if ``ordered``, else already in shape) into ``self``."""
    if ordered:
        values = _in_memory_order(values, self)
    src = _finish(np.asarray(values).astype(self._data.dtype, copy=False), self.device, False)
    apply_inplace(R["copy"], self, (src,), {})
    return self


def _np(self: Tensor) -> np.dtype:
    return self._data.dtype


def _require(self: Tensor, kernel: str, ints: bool = False, complex_: bool = False) -> None:
    """PyTorch's dispatch error for a dtype a kernel lacks."""
    dt = self.dtype
    ok = dt.category >= 2 or (ints and dt.category == 1)
    if dt.is_complex and not complex_:
        ok = False
    if not ok:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt.word}'")


def _continuous(self: Tensor, what: str, spell) -> None:
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {spell(self)}")


# -- in-place fills -------------------------------------------------------------------------------

def uniform_(self: Tensor, from_: float = 0, to: float = 1, *, generator=None,
             **kw) -> Tensor:
    """Fill with uniform samples on [from, to): ``t.uniform_(-1, 1)``."""
    from_ = kw.pop("from", from_)
    _check_writable(self, "uniform_")
    _require(self, "check_uniform_bounds", complex_=True)
    vals = _gen(generator, self.device).uniform((self.numel(),), _np(self), from_, to)
    return _fill(self, vals, "uniform_")


def normal_(self: Tensor, mean: float = 0, std: float = 1, *, generator=None) -> Tensor:
    """Fill with normal samples: ``t.normal_(0, 0.02)``. A contiguous tensor of 16 or more
    elements takes PyTorch's vectorised Box-Muller, anything else the serial kernel."""
    _check_writable(self, "normal_")
    _require(self, "normal_kernel_cpu", complex_=True)
    eng, n, dt = _gen(generator, self.device), self.numel(), _np(self)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if self.is_contiguous():
        return _fill(self, eng.normal((n,), dt, mean, std), "normal_")
    if dt in _COMPLEX_PART:  # view_as_real(self).normal_(mean, std / sqrt(2))
        part = eng.normal_serial(2 * n, _COMPLEX_PART[dt], mean, std / math.sqrt(2))
        return _fill(self, part.view(dt), "normal_")
    return _fill(self, eng.normal_serial(n, dt, mean, std), "normal_")


def random_(self: Tensor, from_=None, to=_UNSET, *, generator=None, **kw) -> Tensor:
    """Fill with integers: ``random_()`` over [0, 2**mantissa] (floats) or [0, max] (ints),
    ``random_(to)`` over [0, to), ``random_(from, to)`` over [from, to) (``to=None``: up to the
    dtype's largest value)."""
    from_ = kw.pop("from", from_)
    _check_writable(self, "random_")
    if self.dtype.is_complex:
        raise NotImplementedError(f"\"random_kernel_cpu\" not implemented for '{self.dtype.word}'")
    eng, n, dt = _gen(generator, self.device), self.numel(), _np(self)
    if from_ is None and to is _UNSET:
        return _fill(self, eng.random(n, dt), "random_")
    if to is _UNSET:
        from_, to = 0, from_
    if to is None:
        if from_ == -(1 << 63) and self.dtype in _FULL_RANGE:
            return _fill(self, eng.random_full(n, dt), "random_")
        if self.dtype.is_floating_point:
            to = (1 << _digits(dt)) + 1
        else:
            to = 2 if dt == np.bool_ else int(np.iinfo(dt).max) + 1
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than or equal to 'to', but "
                               f"got from={from_} > to={to - 1}")
    return _fill(self, eng.randint(int(from_), int(to), (n,), dt), "random_")


def exponential_(self: Tensor, lambd: float = 1, *, generator=None) -> Tensor:
    """Fill with exponential samples of rate ``lambd``: ``t.exponential_(2.)``."""
    _check_writable(self, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    _continuous(self, "Exponential", lambda t: t.dtype.word)
    vals = _gen(generator, self.device).exponential(self.numel(), float(lambd))
    return _fill(self, _to_float_dtype(vals, _np(self)), "exponential_")


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    _check_writable(self, "geometric_")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    _require(self, "geometric_cpu", ints=True)
    vals = _gen(generator, self.device).geometric(self.numel(), float(p))
    return _fill(self, _cast(vals, _np(self)), "geometric_")


def log_normal_(self: Tensor, mean: float = 1, std: float = 2, *, generator=None) -> Tensor:
    """Fill with ``exp`` of normal(mean, std) samples."""
    _check_writable(self, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    _require(self, "log_normal_cpu")
    vals = _gen(generator, self.device).log_normal(self.numel(), float(mean), float(std))
    return _fill(self, _to_float_dtype(vals, _np(self)), "log_normal_")


def cauchy_(self: Tensor, median: float = 0, sigma: float = 1, *, generator=None) -> Tensor:
    """Fill with Cauchy(median, sigma) samples."""
    _check_writable(self, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _continuous(self, "Cauchy", lambda t: _CPP_NAMES.get(_np(t), t.dtype.word))
    vals = _gen(generator, self.device).cauchy(self.numel(), float(median), float(sigma))
    return _fill(self, _to_float_dtype(vals, _np(self)), "cauchy_")


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 0/1 draws, 1 with probability ``p`` (a number or a tensor broadcast to
    self): ``t.bernoulli_(0.3)``."""
    _check_writable(self, "bernoulli_")
    if self.dtype.is_complex:
        raise NotImplementedError(
            f"\"bernoulli_scalar_cpu_\" not implemented for '{self.dtype.word}'")
    if isinstance(p, Tensor):
        if not p.dtype.is_floating_point:
            raise NotImplementedError(
                f"\"bernoulli_tensor_cpu_p_\" not implemented for '{p.dtype.word}'")
        probs = p._host()
        try:
            probs = np.broadcast_to(probs, tuple(self.shape))
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({list(p.shape)}) must match the size of "
                               f"tensor b ({list(self.shape)})") from None
        if probs.size and not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                               "(Could this error message be improved?  If so, please report "
                               "an enhancement request to PyTorch.)")
        if probs.dtype not in (np.float32, np.float64):
            probs = probs.astype(np.float32)
        # one draw per element in self's memory order, reading p at the same element
        pos = np.argsort(_in_memory_order(np.arange(self.numel()), self).reshape(-1))
        drawn = np.empty(self.numel(), np.bool_)
        drawn[pos] = _gen(generator, self.device).bernoulli(probs.reshape(-1)[pos])
        return _fill(self, drawn.reshape(tuple(self.shape)), "bernoulli_", ordered=False)
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    eng = _gen(generator, self.device)
    return _fill(self, eng.bernoulli(np.full(self.numel(), p)), "bernoulli_")


def _cast(vals: np.ndarray, dt: np.dtype) -> np.ndarray:
    """C++ ``static_cast<scalar_t>(double)``: through float for half/bfloat16, truncation for
    integers (out-of-range values wrap as x86 does)."""
    if dt.kind in "iu":
        with np.errstate(invalid="ignore"):
            return vals.astype(np.int64).astype(dt)
    return _to_float_dtype(vals, dt)


for _f in (uniform_, normal_, random_, exponential_, geometric_, log_normal_, cauchy_,
           bernoulli_):
    METHODS[_f.__name__] = _f


# -- sampling functions ---------------------------------------------------------------------------

def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 draws with probabilities ``input`` (or a number ``p``), in input's dtype and a
    contiguous layout:
    ``ember.bernoulli(ember.full((3,), 0.5))``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(input)}")

    def draw():
        res = _finish(np.empty(tuple(input.shape), _np(input)), input.device, False)
        return bernoulli_(res, input if p is None else p, generator=generator)
    res = Sampled.apply(draw, input)
    if out is not None:
        out.copy_(res)
        return out
    return res


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None, out=None) -> Tensor:
    """Indices drawn from the rows of ``input`` (non-negative weights, 1-D or 2-D):
    ``ember.multinomial(ember.tensor([0.2, 0.8]), 4, replacement=True)``."""
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.word}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n_cat = input.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    probs = input._host()
    eng = _gen(generator, input.device)
    if not replacement or num_samples == 1:
        # Gumbel-max with exponentials: the top ``num_samples`` of p / q, q ~ Exp(1)
        if probs.size and not (np.all(probs >= 0) and np.all(probs < np.inf)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(probs.reshape(-1, n_cat).sum(-1) == 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = _to_float_dtype(eng.exponential(probs.size, 1.0), probs.dtype)
        ratio = probs / _in_memory_order(q, input)
        idx = np.argsort(-ratio.astype(np.float64), axis=-1, kind="stable")[..., :num_samples]
    else:
        rows = probs.reshape(-1, n_cat)
        if not np.all(rows >= 0):
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if not np.all(np.isfinite(rows)):
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
        acc = np.float32 if rows.dtype.itemsize < 4 else rows.dtype  # half/bf16 sum in float
        cum = np.cumsum(rows.astype(acc), axis=-1, dtype=acc)
        total = cum[:, -1:]
        if not np.all(total > 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        idx = eng.multinomial(cum / total, num_samples).reshape(
            (*probs.shape[:-1], num_samples))
    res = _finish(idx.astype(np.int64), input.device, False)
    if out is not None:
        out.copy_(res)
        return out
    return res


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson draws with rates ``input``: ``ember.poisson(ember.full((3,), 4.))``."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{input.dtype.word}'")
    rates = input._host()
    if rates.size and not np.all(rates >= 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")

    def draw():
        vals = _gen(generator, input.device).poisson(rates.astype(np.float64))
        return _finish(_to_float_dtype(vals, rates.dtype).reshape(rates.shape), input.device,
                       False)
    return Sampled.apply(draw, input)


_export(bernoulli)
_export(multinomial)
_export(poisson)


class _StandardGamma(Function):
    """Gamma(alpha, 1) samples whose gradient is the implicit reparameterisation
    ``d sample / d alpha`` (``_standard_gamma_grad``), as PyTorch's ``_standard_gamma``."""

    @staticmethod
    def forward(ctx, alpha, generator):
        a = alpha._host()
        dt = a.dtype
        if dt.kind != "f" or dt.itemsize < 4:
            raise NotImplementedError(
                f"\"gamma_cpu\" not implemented for '{alpha.dtype.word}'")
        vals = _gen(generator, alpha.device).standard_gamma(a, dt == np.float32).astype(dt)
        out = _finish(np.maximum(vals, np.finfo(dt).tiny).reshape(a.shape), alpha.device, False)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        alpha, out = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, out), None


def _standard_gamma(input: Tensor, generator=None) -> Tensor:
    """Gamma(input, 1) samples, reparameterised: ``ember._standard_gamma(ember.ones(3))``."""
    return _StandardGamma.apply(input, generator)


def _standard_gamma_grad(input: Tensor, output: Tensor) -> Tensor:
    """``d output / d input`` for Gamma(input, 1) samples ``output`` at a fixed CDF."""
    from .._ops.special import standard_gamma_grad
    g = standard_gamma_grad(input._host(), output._host())
    return _finish(g.astype(input._data.dtype), input.device, False)


def _sample_dirichlet(input: Tensor, generator=None) -> Tensor:
    """Dirichlet(input) samples along the last dim: gammas drawn in double, normalised, clamped
    into [tiny, 1) of input's dtype, as PyTorch's ``_sample_dirichlet``."""
    return _finish(dirichlet_draw(input, generator)[0], input.device, False)


def dirichlet_draw(input: Tensor, generator=None) -> tuple[np.ndarray, np.ndarray]:
    """``_sample_dirichlet``'s samples and the double gammas they normalise."""
    a = input._host()
    dt = a.dtype
    if dt.kind != "f" or dt.itemsize < 4:
        raise NotImplementedError(f"\"dirichlet\" not implemented for '{input.dtype.word}'")
    g = _gen(generator, input.device).standard_gamma(a.astype(np.float64), False).reshape(a.shape)
    g = np.maximum(g, np.finfo(np.float64).tiny)
    x = (g / g.sum(-1, keepdims=True)).astype(dt)
    return np.minimum(np.maximum(x, np.finfo(dt).tiny), np.nextafter(dt.type(1), dt.type(0))), g


for _f in (_standard_gamma, _standard_gamma_grad, _sample_dirichlet):
    _export(_f, method=False)
