"""Public functions: pointwise math beyond the core, interpolation, floating-point inspection,
integer ops, comparisons of whole tensors and complex numbers."""

from __future__ import annotations

import builtins
from collections import namedtuple

from .. import _dtype
from .._creation import ones_like
from .._functional import METHODS, _export, _inplace, clamp_, pow
from .._ops import REGISTRY as R
from .._ops.registry import apply, apply_inplace
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled

_NO_PARAMS: dict = {}


def _need_tensor(name: str, value, arg: str, pos: int) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(value).__name__}")


def _need_one_tensor(name: str, input, other) -> None:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}), but expected a "
                        "Tensor for at least one of them")


def _binary(name: str, scalars: str = "", arg: str = "other"):
    """The public function of binary op ``name``; ``scalars`` says which operands may be
    Python numbers: "" (neither), "other", or "both" (either one, as ``xlogy(2, t)``)."""
    op = R[name]

    def fn(input, other) -> Tensor:
        if scalars == "both":
            _need_one_tensor(name, input, other)
        else:
            _need_tensor(name, input, "input", 1)
            if not scalars:
                _need_tensor(name, other, arg, 2)
        return apply(op, (input, other), _NO_PARAMS)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` with broadcasting and PyTorch's type promotion: "
                  f"``ember.{name}(a, b)``.")
    return fn


def _inplace_binary(name: str, scalars: str, arg: str):
    """``input.name_(other)``, refusing a number ``other`` where PyTorch does."""
    op = R[name]

    def fn(input: Tensor, other) -> Tensor:
        if not scalars:
            _need_tensor(name + "_", other, arg, 1)
        return apply_inplace(op, input, (other,), _NO_PARAMS)

    fn.__name__ = fn.__qualname__ = name + "_"
    return fn


for _n, _scalars, _arg in [
        ("xlogy", "both", "other"), ("hypot", "", "other"), ("copysign", "other", "other"),
        ("fmax", "", "other"), ("fmin", "", "other"), ("logaddexp", "", "other"),
        ("logaddexp2", "", "other"), ("nextafter", "", "other"), ("gcd", "", "other"),
        ("lcm", "", "other"), ("heaviside", "", "values"),
        ("bitwise_left_shift", "both", "other"), ("bitwise_right_shift", "both", "other"),
        ("ldexp", "", "other"), ("fmod", "other", "other")]:
    _export(_binary(_n, _scalars, _arg))
    if _n not in ("fmax", "fmin", "logaddexp", "logaddexp2"):
        _export(_inplace_binary(_n, _scalars, _arg))
for _n, _al in (("atan2", ("arctan2_",)), ("logical_and", ()), ("logical_or", ()),
                ("logical_xor", ())):
    _export(_inplace_binary(_n, "", "other"), *_al)


def _operator(name, reflected=False):
    op = R[name]
    if reflected:
        return lambda self, other: apply(op, (other, self), _NO_PARAMS)
    return lambda self, other: apply(op, (self, other), _NO_PARAMS)


for _d, _n in (("lshift", "bitwise_left_shift"), ("rshift", "bitwise_right_shift")):
    METHODS[f"__{_d}__"] = _operator(_n)
    METHODS[f"__r{_d}__"] = _operator(_n, reflected=True)
    METHODS[f"__i{_d}__"] = (lambda op: lambda self, other: apply_inplace(
        op, self, (other,), _NO_PARAMS))(R[_n])


# -- unary math -----------------------------------------------------------------------------------

def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given:
    ``ember.logit(ember.tensor([0.25]))``."""
    return apply(R["logit"], (input,), _NO_PARAMS if eps is None else {"eps": eps})


def logit_(input: Tensor, eps: float | None = None) -> Tensor:
    return apply_inplace(R["logit"], input, (), _NO_PARAMS if eps is None else {"eps": eps})


def sinc(input: Tensor) -> Tensor:
    """The normalized sinc, ``sin(pi x) / (pi x)`` (1 at 0): ``ember.sinc(ember.tensor([0.5]))``."""
    return apply(R["sinc"], (input,), _NO_PARAMS)


def angle(input: Tensor) -> Tensor:
    """The argument of complex values (0 or pi for real ones):
    ``ember.angle(ember.tensor([1j]))``."""
    return apply(R["angle"], (input,), _NO_PARAMS)


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians: ``ember.deg2rad(ember.tensor([180.0]))``."""
    return apply(R["deg2rad"], (input,), _NO_PARAMS)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees: ``ember.rad2deg(ember.tensor([3.14159]))``."""
    return apply(R["rad2deg"], (input,), _NO_PARAMS)


for _f in (logit, logit_, sinc, angle, deg2rad, rad2deg):
    _export(_f)
for _n in ("sinc", "deg2rad", "rad2deg"):
    _export(_inplace(_n))


# -- floating-point inspection --------------------------------------------------------------------

def isposinf(input: Tensor) -> Tensor:
    """Where values are +inf: ``ember.isposinf(ember.tensor([1.0, float('inf')]))``."""
    return apply(R["isposinf"], (input,), _NO_PARAMS)


def isneginf(input: Tensor) -> Tensor:
    """Where values are -inf."""
    return apply(R["isneginf"], (input,), _NO_PARAMS)


def signbit(input: Tensor) -> Tensor:
    """Where the sign bit is set (``-0.0`` included): ``ember.signbit(ember.tensor([-0.0]))``."""
    return apply(R["signbit"], (input,), _NO_PARAMS)


def isreal(input: Tensor) -> Tensor:
    """Where values have no imaginary part (everywhere for real dtypes)."""
    if input.is_complex():
        return input.imag == 0
    return ones_like(input, dtype=_dtype.bool)


def _nan_to_num_params(nan, posinf, neginf) -> dict:
    return {"nan": 0.0 if nan is None else nan, "posinf": posinf, "neginf": neginf}


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and
    the dtype's largest and lowest values): ``ember.nan_to_num(t, nan=0.0)``."""
    if input.requires_grad and input.is_complex() and is_grad_enabled():
        raise RuntimeError("nan_to_num does not support automatic differentiation for outputs "
                           "with complex dtype.")
    return apply(R["nan_to_num"], (input,), _nan_to_num_params(nan, posinf, neginf))


def nan_to_num_(input: Tensor, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    return apply_inplace(R["nan_to_num"], input, (), _nan_to_num_params(nan, posinf, neginf))


FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input: Tensor):
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent`` and ``|mantissa|`` in
    ``[0.5, 1)``; exponents are int32."""
    return FrexpResult(*apply(R["frexp"], (input,), _NO_PARAMS))


for _f in (isposinf, isneginf, signbit, isreal, nan_to_num, nan_to_num_, frexp):
    _export(_f)


# -- compositions PyTorch also writes as compositions ---------------------------------------------

def _float_power_dtype(input, exponent) -> _dtype.dtype:
    cplx = any(isinstance(v, builtins.complex) or isinstance(v, Tensor) and v.is_complex()
               for v in (input, exponent))
    return _dtype.complex128 if cplx else _dtype.float64


def _as(value, dt: _dtype.dtype):
    if isinstance(value, Tensor):
        return value.to(dt)
    return builtins.complex(value) if dt.is_complex else float(value)


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in double precision (float64, or complex128 for complex
    operands): ``ember.float_power(ember.tensor([2]), 0.5)``."""
    _need_one_tensor("float_power", input, exponent)
    dt = _float_power_dtype(input, exponent)
    return pow(_as(input, dt), _as(exponent, dt))


def float_power_(input: Tensor, exponent) -> Tensor:
    dt = _float_power_dtype(input, exponent)
    if input.dtype is not dt:
        raise RuntimeError(f"the base given to float_power_ has dtype {input.dtype.word} but the "
                           f"operation's result requires dtype {dt.word}")
    return input.pow_(_as(exponent, dt))


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate as a new tensor (a real tensor is returned as it is)."""
    return apply(R["conj_physical"], (input,), _NO_PARAMS) if input.is_complex() else input


def conj_physical_(input: Tensor) -> Tensor:
    return apply_inplace(R["conj_physical"], input, (), _NO_PARAMS)


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: ember's conjugates are always materialized (no lazy conj bit)."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: ember has no lazy negation bit."""
    return input


def is_conj(input: Tensor) -> bool:
    """False: ember's conjugates are always materialized."""
    return False


def is_neg(input: Tensor) -> bool:
    """False: ember has no lazy negation bit."""
    return False


def abs_(input: Tensor) -> Tensor:
    if input.is_complex():
        raise RuntimeError("In-place abs is not supported for complex tensors.")
    return apply_inplace(R["abs"], input, (), _NO_PARAMS)


def clamp_min_(input: Tensor, min) -> Tensor:  # noqa: A002 - PyTorch's argument name
    return clamp_(input, min=min)


def clamp_max_(input: Tensor, max) -> Tensor:  # noqa: A002
    return clamp_(input, max=max)


for _f in (float_power, float_power_, conj_physical, conj_physical_,
           resolve_conj, resolve_neg, is_conj, is_neg, clamp_min_, clamp_max_):
    _export(_f)
_export(abs_, "absolute_")
for _n, _al in (("gt", "greater"), ("ge", "greater_equal"), ("lt", "less"),
                ("le", "less_equal"), ("ne", "not_equal")):
    _export(_inplace(_n), _al + "_")


# -- comparisons of whole tensors -----------------------------------------------------------------

def _to_float(t: Tensor) -> Tensor:
    return t if t.dtype.category >= 2 else t.to(_dtype.get_default_dtype())


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (and equal values, and NaNs
    if ``equal_nan``); integers compare in the default float dtype, as in PyTorch."""
    _need_tensor("isclose", other, "other", 2)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype.word} did not match {other.dtype.word}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = input == other
    if equal_nan and (input.is_floating_point() or input.is_complex()):
        close = close | (input.isnan() & other.isnan())
    if rtol == 0 and atol == 0:
        return close
    a, b = _to_float(input), _to_float(other)
    allowed = atol + (rtol * b).abs()
    actual = (a - b).abs()
    return close | (actual.isfinite() & (actual <= allowed))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether ``isclose`` holds everywhere: ``ember.allclose(a, b, atol=1e-6)``."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape and (promoted) values: ``ember.equal(a, b)``."""
    _need_tensor("equal", other, "other", 2)
    return input.shape == other.shape and bool((input == other).all())


for _f in (isclose, allclose, equal):
    _export(_f)


# -- interpolation --------------------------------------------------------------------------------

def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` a number or a tensor:
    ``ember.lerp(a, b, 0.25)``."""
    _need_tensor("lerp", end, "end", 2)
    return apply(R["lerp"], (input, end, weight), _NO_PARAMS)


def lerp_(input: Tensor, end: Tensor, weight) -> Tensor:
    _need_tensor("lerp_", end, "end", 1)
    return apply_inplace(R["lerp"], input, (end, weight), _NO_PARAMS)


def _value(value) -> dict:
    if value == 1 and not isinstance(value, builtins.complex):
        return _NO_PARAMS
    return {"value": value}


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``: ``ember.addcmul(x, a, b, value=0.5)``."""
    return apply(R["addcmul"], (input, tensor1, tensor2), _value(value))


def addcmul_(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return apply_inplace(R["addcmul"], input, (tensor1, tensor2), _value(value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (true division; integer tensor1 and tensor2 are an
    error, as in PyTorch): ``ember.addcdiv(x, a, b, value=-0.1)``."""
    return apply(R["addcdiv"], (input, tensor1, tensor2), _value(value))


def addcdiv_(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return apply_inplace(R["addcdiv"], input, (tensor1, tensor2), _value(value))


for _f in (lerp, lerp_, addcmul, addcmul_, addcdiv, addcdiv_):
    _export(_f)


# -- complex numbers ------------------------------------------------------------------------------

def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """The complex tensor ``real + i imag`` (both float32 or both float64):
    ``ember.complex(ember.tensor([1.0]), ember.tensor([2.0]))``."""
    _need_tensor("complex", real, "real", 1)
    _need_tensor("complex", imag, "imag", 2)
    return apply(R["complex"], (real, imag), _NO_PARAMS)


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """The complex tensor ``abs * (cos(angle) + i sin(angle))``."""
    _need_tensor("polar", abs, "abs", 1)
    _need_tensor("polar", angle, "angle", 2)
    return apply(R["polar"], (abs, angle), _NO_PARAMS)


def view_as_real(input: Tensor) -> Tensor:
    """A real view of a complex tensor with a last dim of 2 (real, imaginary): it shares
    memory with ``input``."""
    return apply(R["view_as_real"], (input,), _NO_PARAMS)


def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a real tensor whose last dim is 2 (real, imaginary) with stride 1:
    it shares memory with ``input``."""
    if input.storage_offset() % 2 and input.dtype in (_dtype.float32, _dtype.float64):
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return apply(R["view_as_complex"], (input,), _NO_PARAMS)


def view_as_real_copy(input: Tensor) -> Tensor:
    """``view_as_real`` as a new tensor."""
    return view_as_real(input).clone()


def view_as_complex_copy(input: Tensor) -> Tensor:
    """``view_as_complex`` as a new tensor."""
    return view_as_complex(input).clone()


for _f in (complex, polar, view_as_real, view_as_complex, view_as_real_copy,
           view_as_complex_copy):
    _export(_f, method=False)
