"""Public functions: the special functions (erf, lgamma, digamma, ...) and softmax.

Those PyTorch has at the top level (``torch.erf``) are exported as ``ember.<name>`` and Tensor
methods; the rest (``torch.special.i0e``, ...) are collected by ``ember.special``.
"""

from __future__ import annotations

import math
import warnings

from .. import _dtype
from .._functional import METHODS, _export
from .._ops import REGISTRY as R
from .._ops.registry import apply, apply_inplace
from .._tensor import Tensor


def _unary(name, op_name=None, doc=""):
    op = R[op_name or name]

    def fn(input: Tensor) -> Tensor:
        return apply(op, (input,), {})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _inplace(name):
    op = R[name]

    def fn(input: Tensor) -> Tensor:
        return apply_inplace(op, input, (), {})

    fn.__name__ = fn.__qualname__ = name + "_"
    return fn


_TOP_LEVEL = {
    "erf": "The error function: ``ember.erf(ember.tensor([0.5]))`` is ``tensor([0.5205])``.",
    "erfc": "``1 - erf(x)``, accurate in the tail: ``ember.erfc(ember.tensor([5.]))``.",
    "erfinv": "The inverse error function on (-1, 1): ``ember.erfinv(ember.tensor([0.5]))``.",
    "lgamma": "``log|gamma(x)|``: ``ember.lgamma(ember.tensor([0.5]))`` is ``0.5724``.",
    "digamma": "The logarithmic derivative of gamma: ``ember.digamma(ember.tensor([1.]))``.",
    "i0": "The modified Bessel function I0: ``ember.i0(ember.tensor([1.]))`` is ``1.2661``.",
}
for _n, _doc in _TOP_LEVEL.items():
    _export(_unary(_n, doc=_doc))
    _export(_inplace(_n))


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of digamma: ``ember.polygamma(1, ember.tensor([1.]))`` is
    ``pi**2 / 6``."""
    return apply(R["polygamma"], (input,), {"n": int(n)})


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


def polygamma_(self: Tensor, n: int) -> Tensor:
    return apply_inplace(R["polygamma"], self, (), {"n": int(n)})


_export(polygamma)
METHODS["polygamma"] = _polygamma_method
METHODS["polygamma_"] = polygamma_


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``:
    ``ember.mvlgamma(ember.tensor([2.5]), 2)``."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    from .._creation import arange
    dt = input.dtype if input.dtype.is_floating_point else _dtype.get_default_dtype()
    args = arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=dt, device=input.device) + input.unsqueeze(-1)
    return args.lgamma().sum(-1) + p * (p - 1) * math.log(math.pi) / 4


def mvlgamma_(input: Tensor, p: int) -> Tensor:
    out = mvlgamma(input, p)
    if out.dtype is not input.dtype:
        raise RuntimeError(f"mvlgamma: result type {input.dtype.word} can't be cast to the "
                           f"desired output type {out.dtype.word}")
    return input.copy_(out)


_export(mvlgamma)
_export(mvlgamma_)


# -- softmax --------------------------------------------------------------------------------------

def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax(name, input, dim, _stacklevel, dtype):
    if isinstance(_stacklevel, _dtype.dtype):  # torch.softmax(x, dim, dtype) positionally
        dtype, _stacklevel = _stacklevel, 3
    if dim is None:
        dim = _implicit_dim(name, input.ndim, _stacklevel + 1)
    if dtype is not None:
        input = input.to(dtype)
    return apply(R[name], (input,), {"dim": dim})


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / exp(x).sum(dim)``, computed stably (in ``dtype`` if given):
    ``ember.softmax(ember.tensor([1., 2., 3.]), dim=0)``."""
    return _softmax("softmax", input, dim, _stacklevel, dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``log(softmax(x, dim))`` without the underflow: ``ember.log_softmax(x, dim=-1)``."""
    return _softmax("log_softmax", input, dim, _stacklevel, dtype)


_export(softmax)
_export(log_softmax)


# -- functions only in ember.special --------------------------------------------------------------

_SPECIAL_ONLY = {
    "i0e": "``exp(-|x|) i0(x)``: ``ember.special.i0e(ember.tensor([1.]))``.",
    "i1": "The modified Bessel function I1: ``ember.special.i1(ember.tensor([1.]))``.",
    "i1e": "``exp(-|x|) i1(x)``: ``ember.special.i1e(ember.tensor([1.]))``.",
    "erfcx": "``exp(x**2) erfc(x)``: ``ember.special.erfcx(ember.tensor([30.]))``.",
    "ndtr": "The standard normal CDF: ``ember.special.ndtr(ember.tensor([0.]))`` is ``0.5``.",
    "log_ndtr": "``log(ndtr(x))``, finite far in the left tail.",
    "ndtri": "The inverse of ndtr: ``ember.special.ndtri(ember.tensor([0.975]))``.",
    "entr": "``-x log(x)`` (0 at 0, -inf below): ``ember.special.entr(ember.tensor([0.5]))``.",
}
i0e, i1, i1e, erfcx, ndtr, log_ndtr, ndtri, entr = (
    _unary(n, "special_" + n, doc) for n, doc in _SPECIAL_ONLY.items())


def _two_args(name, input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    return apply(R["special_" + name], (input, other), {})


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0 (either may be a number):
    ``ember.special.xlog1py(ember.tensor([0., 2.]), ember.tensor([-1., 3.]))``."""
    return _two_args("xlog1py", input, other)


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function ``sum_k (k + other)**-input`` (either may be a number):
    ``ember.special.zeta(2., ember.tensor([1.]))`` is ``pi**2 / 6``."""
    return _two_args("zeta", input, other)


# -- regularized incomplete gamma -----------------------------------------------------------------

def _igamma_fn(name):
    op = R[name]
    upper = name == "igammac"

    def fn(input: Tensor, other: Tensor) -> Tensor:
        for i, (arg, v) in enumerate((("input", input), ("other", other))):
            if not isinstance(v, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {i + 1}) must be Tensor, "
                                f"not {type(v).__name__}")
        return apply(op, (input, other), {})

    def fn_(input: Tensor, other: Tensor) -> Tensor:
        return apply_inplace(op, input, (other,), {})

    fn.__name__ = fn.__qualname__ = name
    fn_.__name__ = fn_.__qualname__ = name + "_"
    fn.__doc__ = (f"The regularized {'upper' if upper else 'lower'} incomplete gamma function "
                  f"{'Q' if upper else 'P'}(input, other): ``ember.{name}(a, x)``.")
    return fn, fn_


for _n in ("igamma", "igammac"):
    for _f in _igamma_fn(_n):
        _export(_f)
