"""Pointwise ops beyond the core elementwise set: more math (logit, sinc, xlogy, hypot,
logaddexp, ...), interpolation (lerp, addcmul, addcdiv), floating-point inspection (signbit,
frexp, nextafter, nan_to_num, ...), integer ops (gcd, lcm, shifts) and complex numbers (angle,
complex, polar, view_as_real, view_as_complex).

Ops PyTorch writes as compositions (float_power, isclose, allclose, equal, isreal) are
composites in ``ember/_api/pointwise.py`` and have no entry here.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import dtype_words
from .elementwise import (
    DTYPE_ERRORS,
    FLOAT,
    FLOAT_REAL,
    _cj,
    binary_impl,
    check_dtype,
    dtype_error,
    unary_impl,
    unsupported,
)
from .registry import REGISTRY, register
from .rules import is_array, operand, promote

_BF16 = _dtype.bfloat16.np


DTYPE_ERRORS.update({
    ("fmax", "c"): dtype_error(RuntimeError, "fmax not implemented for complex tensors."),
    ("fmin", "c"): dtype_error(RuntimeError, "fmin not implemented for complex tensors."),
    ("signbit", "c"): dtype_error(NotImplementedError,
                                  "signbit is not implemented for complex tensors."),
    ("addcmul", "b"): lambda dt: unsupported("addcmul_cpu_out", dt),
    ("frexp", "b"): dtype_error(RuntimeError, "frexp() only supports floating-point dtypes"),
})
for _c in "ic":
    DTYPE_ERRORS["frexp", _c] = DTYPE_ERRORS["frexp", "b"]
for _n, _k in (("bitwise_left_shift", "lshift_cpu"), ("bitwise_right_shift", "rshift_cpu")):
    for _c in "bfc":
        DTYPE_ERRORS[_n, _c] = (lambda k: lambda dt: unsupported(k, dt))(_k)
for _n in ("deg2rad", "rad2deg"):
    DTYPE_ERRORS[_n, "c"] = dtype_error(RuntimeError, f"{_n} is not supported for complex tensors.")


def _half_in_float32(fn):
    """Run ``fn`` on float16/bfloat16 arrays in float32 and round once, as PyTorch's CPU
    kernels do for the half types."""
    def impl(xp, *args, **params):
        dt = args[0].dtype
        if dt == np.float16 or dt == _BF16:
            args = [a.astype(np.float32) if is_array(a) and a.dtype == dt else a for a in args]
            return fn(xp, *args, **params).astype(dt)
        return fn(xp, *args, **params)
    return impl


# -- unary math -----------------------------------------------------------------------------------

@_half_in_float32
def _logit(xp, x, eps=None):
    if eps is not None:
        x = xp.clip(x, x.dtype.type(eps), x.dtype.type(1 - eps))
    return xp.log(x / (1 - x))


def _logit_vjp(c, g):
    x, eps = c.inputs[0], c.params.get("eps")
    gx = g / (x * (1 - x))
    if eps is None:  # outside [0, 1] the derivative is NaN, as in PyTorch
        return (gx.masked_fill((x < 0) | (x > 1), math.nan),)
    return (gx.masked_fill((x < eps) | (x > 1 - eps), 0),)


@_half_in_float32
def _sinc(xp, x):
    px = x * x.dtype.type(math.pi)
    return xp.where(x == 0, x.dtype.type(1), xp.sin(px) / px)


def _sinc_vjp(c, g):
    x = c.inputs[0]
    px = x * math.pi
    d = ((px * px.cos() - px.sin()) / (px * x)).masked_fill(x == 0, 0)
    return (g * _cj(d),)


register("logit", unary_impl("logit", _logit, FLOAT_REAL), save=(0,), vjp=_logit_vjp)
for _name, _factor, _bw in (("deg2rad", math.pi / 180, "Deg2RadBackward0"),
                           ("rad2deg", 180 / math.pi, "Rad2DegBackward0")):
    register(_name, unary_impl(_name, (lambda f: lambda xp, x: x * x.dtype.type(f))(_factor),
                               FLOAT_REAL),
             vjp=(lambda f: lambda c, g: (g * f,))(_factor), backward_name=_bw)
# conj_physical computes what ember's conj does (ember has no lazy conjugate bit); its own op
# gives it PyTorch's backward name
register("conj_physical", REGISTRY["conj"].impl, vjp=lambda c, g: (g.conj(),))
register("sinc", unary_impl("sinc", _sinc, FLOAT), save=(0,), vjp=_sinc_vjp)


def _angle(xp, x):
    if x.dtype.kind == "c":
        return xp.angle(x)
    # real inputs: 0 for x >= 0, pi for x < 0, NaN kept (computed in x's float dtype)
    y = x if x.dtype.kind == "f" or x.dtype == _BF16 else operand(
        xp, x, _dtype.get_default_dtype())
    out = xp.where(y < 0, y.dtype.type(math.pi), y.dtype.type(0))
    return xp.where(xp.isnan(y), y, out)


def _angle_vjp(c, g):
    x = c.inputs[0]
    if not x.is_complex():
        return (g * 0,)
    return ((g * x / (x.abs() ** 2) * 1j).masked_fill(x == 0, 0),)


register("angle", _angle, save=(0,), vjp=_angle_vjp)


# -- floating-point inspection --------------------------------------------------------------------

def _isinf_signed(name, sign):
    def impl(xp, x):
        if x.dtype.kind == "c":
            raise RuntimeError(f"{name} does not support complex inputs.")
        if x.dtype.kind in "biu":
            return xp.zeros(x.shape, dtype=np.bool_)
        return x == sign * math.inf
    return impl


register("isposinf", _isinf_signed("isposinf", 1))
register("isneginf", _isinf_signed("isneginf", -1))


def _signbit(xp, x):
    check_dtype("signbit", _dtype.FROM_NP[x.dtype], "bif")
    if x.dtype.kind in "bu":
        return xp.zeros(x.shape, dtype=np.bool_)
    if x.dtype == _BF16:  # (ml_dtypes' signbit misses -0.0; float32 keeps the sign)
        x = x.astype(np.float32)
    return x < 0 if x.dtype.kind == "i" else xp.signbit(x)


register("signbit", _signbit)


def _nan_to_num(xp, x, nan=0.0, posinf=None, neginf=None):
    if x.dtype.kind == "c":
        out = x.copy()
        out.real = _nan_to_num(xp, x.real, nan, posinf, neginf)
        out.imag = _nan_to_num(xp, x.imag, nan, posinf, neginf)
        return out
    if x.dtype.kind in "biu":
        return x.copy()
    t, info = x.dtype.type, ml_dtypes.finfo(x.dtype)
    hi = info.max if posinf is None else t(posinf)
    lo = info.min if neginf is None else t(neginf)
    return xp.where(xp.isnan(x), t(nan), xp.where(x == math.inf, hi,
                                                   xp.where(x == -math.inf, lo, x)))


register("nan_to_num", _nan_to_num, save=(0,), vjp=lambda c, g: (g * c.inputs[0].isfinite(),))


def _frexp(xp, x):
    check_dtype("frexp", _dtype.FROM_NP[x.dtype], "f")
    mantissa, exponent = xp.frexp(x)
    return mantissa, exponent.astype(np.int32)


def _frexp_vjp(c, grads):
    g = grads[0]
    return (None if g is None else g / c.out[1].exp2(),)


register("frexp", _frexp, nout=2, save=("out",), vjp=_frexp_vjp)


# -- binary math ----------------------------------------------------------------------------------

def _xlogy(xp, x, y):
    out = x * xp.log(y)
    return xp.where((x == 0) & ~xp.isnan(y), out.dtype.type(0), out)


def _xlogy_vjp(c, g):
    x, y = c.inputs
    gx = gy = None
    if c.needs_input_grad[0]:
        gx = XLOGY(g, y)
        zero = (x == 0) & (y <= 0) if isinstance(y, Tensor) else (x == 0) if y <= 0 else None
        gx = gx if zero is None else gx.masked_fill(zero, 0)
    if c.needs_input_grad[1]:
        gy = g * x / y
    return gx, gy


def _hypot_vjp(c, g):
    a, b = c.inputs
    out = c.out
    return (g * a / out if c.needs_input_grad[0] else None,
            g * b / out if c.needs_input_grad[1] else None)


def _copysign_vjp(c, g):
    a, b = c.inputs
    ratio = (c.out / a).masked_fill(a == 0, 0)
    return g * ratio, g * 0 if isinstance(b, Tensor) and c.needs_input_grad[1] else None


def _fmax_vjp(c, g, pick):
    a, b = c.inputs
    take_a = pick(a, b) | b.isnan()
    return (g.masked_fill(~take_a, 0) if c.needs_input_grad[0] else None,
            g.masked_fill(take_a, 0) if c.needs_input_grad[1] else None)


def _logaddexp(xp, a, b):
    if a.dtype.kind != "c":
        return xp.logaddexp(a, b)
    # the operand with the larger real part leads: max + log1p(exp(min - max))
    swap = a.real < b.real
    hi, lo = xp.where(swap, b, a), xp.where(swap, a, b)
    return hi + xp.log1p(xp.exp(lo - hi))


def _logaddexp_vjp(base):
    def vjp(c, g):
        a, b = c.inputs
        if base == 2:
            return (g / (1 + 2 ** (b - a)) if c.needs_input_grad[0] else None,
                    g / (1 + 2 ** (a - b)) if c.needs_input_grad[1] else None)
        return (g / _cj(1 + (b - a).exp()) if c.needs_input_grad[0] else None,
                g / _cj(1 + (a - b).exp()) if c.needs_input_grad[1] else None)
    return vjp


def _heaviside(xp, x, values):
    if x.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if x.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    return xp.where(x == 0, values, (x > 0).astype(x.dtype))


def _no_derivative(name):
    # PyTorch defines no derivative for these ops: its backward raises this error
    def vjp(c, g):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return vjp


def _shift(xp, a, b, left):
    # PyTorch defines shifts by a negative amount or by the width or more (C leaves them
    # undefined): 0 for left shifts, the sign (0 or -1) for right shifts
    bits = a.dtype.itemsize * 8
    out_of_range = (b < 0) | (b >= bits)
    b = xp.clip(b, 0, bits - 1)
    if left:
        return xp.where(out_of_range, a.dtype.type(0), xp.left_shift(a, b))
    sign = xp.right_shift(a, a.dtype.type(bits - 1)) if a.dtype.kind == "i" else a.dtype.type(0)
    return xp.where(out_of_range, sign, xp.right_shift(a, b))


_BINARY = {
    # name: (backend function, dtype rule, accepted categories, save, vjp)
    "xlogy": (_xlogy, "float", "bif", (0, 1), _xlogy_vjp),
    "hypot": ("hypot", "promote", "f", (0, 1, "out"), _hypot_vjp),
    "copysign": (_half_in_float32(lambda xp, a, b: xp.copysign(a, b)), "float", "bif",
                 (0, "out"), _copysign_vjp),
    "fmax": ("fmax", "promote", "bif", (0, 1), lambda c, g: _fmax_vjp(c, g, lambda a, b: a >= b)),
    "fmin": ("fmin", "promote", "bif", (0, 1), lambda c, g: _fmax_vjp(c, g, lambda a, b: a <= b)),
    "logaddexp": (_half_in_float32(_logaddexp), "promote", "fc", (0, 1), _logaddexp_vjp(math.e)),
    "logaddexp2": (_half_in_float32(lambda xp, a, b: xp.logaddexp2(a, b)), "promote", "f",
                   (0, 1), _logaddexp_vjp(2)),
    "nextafter": ("nextafter", "promote", "f", (),
                  lambda c, g: (g, g * 0 if c.needs_input_grad[1] else None)),
    "gcd": ("gcd", "promote", "i", (), None),
    "lcm": ("lcm", "promote", "i", (), None),
    "bitwise_left_shift": (lambda xp, a, b: _shift(xp, a, b, left=True), "promote", "i", (),
                           None),
    "bitwise_right_shift": (lambda xp, a, b: _shift(xp, a, b, left=False), "promote", "i", (),
                            None),
}


def _overload_name(base):
    """PyTorch's backward names by overload: Tensor-Tensor 0, Scalar self 1, Scalar other 2
    (``XlogyBackward1``)."""
    return lambda node: (f"{base}1" if node.in_meta[0] is None else
                         f"{base}2" if node.in_meta[1] is None else f"{base}0")


_NAMES = {"xlogy": _overload_name("XlogyBackward"),
          "copysign": lambda node: f"CopysignBackward{int(node.in_meta[1] is None)}"}
for _name, (_fn, _rule, _allowed, _save, _vjp) in _BINARY.items():
    register(_name, binary_impl(_name, _fn, _rule, _allowed), save=_save, vjp=_vjp,
             backward_name=_NAMES.get(_name))
XLOGY = REGISTRY["xlogy"]


def _ldexp(xp, x, other):
    return x * xp.exp2(other)


def _ldexp_vjp(c, g):
    x, other = c.inputs
    # PyTorch's derivative uses pow(2, other): integer exponents below 0 give 0 for self
    return (g * REGISTRY["pow"](2, other) if c.needs_input_grad[0] else None,
            g * c.out * math.log(2) if c.needs_input_grad[1] else None)


register("ldexp", binary_impl("ldexp", _ldexp, "float"), save=(1, "out"), vjp=_ldexp_vjp)
register("heaviside", _heaviside, vjp=_no_derivative("heaviside"), backward_name="NotImplemented")


# -- interpolation --------------------------------------------------------------------------------

def _cpp(dt) -> str:
    return dtype_words(_dtype.FROM_NP[dt])[0]


def _lerp(xp, x, end, weight):
    if end.dtype != x.dtype:
        raise RuntimeError(f"expected dtype {_cpp(x.dtype)} for `end` but got dtype "
                           f"{_cpp(end.dtype)}")
    tensor_weight = is_array(weight)
    if tensor_weight and weight.ndim and weight.dtype != x.dtype:
        raise RuntimeError(f"expected dtype {_cpp(x.dtype)} for `weight` but got dtype "
                           f"{_cpp(weight.dtype)}")
    # a 0-d weight tensor takes part in type promotion (lerp(int, int, tensor(0.5)) is float)
    dt = promote(x, weight) if tensor_weight else _dtype.FROM_NP[x.dtype]
    if dt.category < 2:
        raise unsupported("lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar", dt)
    if isinstance(weight, complex) and not dt.is_complex:
        raise RuntimeError(f"value cannot be converted to type {_cpp(x.dtype)} without overflow")
    return _lerp_kernel(xp, operand(xp, x, dt), operand(xp, end, dt), operand(xp, weight, dt))


@_half_in_float32
def _lerp_kernel(xp, x, end, w):
    # PyTorch's form, exact at both ends: from x below weight 0.5, from end above
    diff = end - x
    return xp.where(xp.abs(w) < 0.5, x + w * diff, end - diff * (1 - w))


def _lerp_vjp(c, g):
    x, end, w = c.inputs
    wc = _cj(w) if isinstance(w, Tensor) else w.conjugate()
    return (g * (1 - wc) if c.needs_input_grad[0] else None,
            g * wc if c.needs_input_grad[1] else None,
            g * _cj(end - x) if isinstance(w, Tensor) and c.needs_input_grad[2] else None)


register("lerp", _lerp, save=(0, 1, 2), vjp=_lerp_vjp,
         backward_name=lambda node: f"LerpBackward{int(node.in_meta[2] is not None)}")


def _addcmul(xp, x, t1, t2, value=1):
    ct = promote(x, t1, t2)
    check_dtype("addcmul", ct, "ifc")
    v = operand(xp, value, ct)
    return operand(xp, x, ct) + v * operand(xp, t1, ct) * operand(xp, t2, ct)


def _addcdiv(xp, x, t1, t2, value=1):
    if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    ct = promote(x, t1, t2)
    v = operand(xp, value, ct)
    return operand(xp, x, ct) + v * operand(xp, t1, ct) / operand(xp, t2, ct)


def _addcmul_vjp(c, g):
    _, t1, t2 = c.inputs
    v = c.params.get("value", 1)
    return (g, g * _cj(t2 * v) if c.needs_input_grad[1] else None,
            g * _cj(t1 * v) if c.needs_input_grad[2] else None)


def _addcdiv_vjp(c, g):
    _, t1, t2 = c.inputs
    v = c.params.get("value", 1)
    return (g, g * _cj(v / t2) if c.needs_input_grad[1] else None,
            -g * _cj(v * t1 / (t2 * t2)) if c.needs_input_grad[2] else None)


register("addcmul", _addcmul, save={1: (2,), 2: (1,)}, vjp=_addcmul_vjp)
register("addcdiv", _addcdiv, save={1: (2,), 2: (1, 2)}, vjp=_addcdiv_vjp)


# -- complex numbers ------------------------------------------------------------------------------

def _complex_parts(xp, a, b):
    """The broadcast real operands of complex()/polar() and their complex dtype, checked as
    PyTorch checks them."""
    da, db = _dtype.FROM_NP[a.dtype], _dtype.FROM_NP[b.dtype]
    if not all(d in (_dtype.float16, _dtype.float32, _dtype.float64) for d in (da, db)):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{da.word} and {db.word}")
    if da is not db:
        raise RuntimeError(f"Expected object of scalar type {da.word} but got scalar type "
                           f"{db.word} for second argument")
    if da is _dtype.float16:
        raise RuntimeError("complex32 (ComplexHalf) tensors are not supported by ember; convert "
                           "the Half inputs to float first")
    a, b = xp.broadcast_arrays(a, b)
    return a, b, da.to_complex().np


def _complex(xp, real, imag):
    real, imag, ct = _complex_parts(xp, real, imag)
    out = xp.empty(real.shape, dtype=ct)
    out.real, out.imag = real, imag  # part by part: inf and NaN parts stay as they are
    return out


def _polar(xp, abs, angle):  # noqa: A002 - PyTorch's argument name
    abs, angle, ct = _complex_parts(xp, abs, angle)
    out = xp.empty(abs.shape, dtype=ct)
    out.real, out.imag = abs * xp.cos(angle), abs * xp.sin(angle)
    return out


def _polar_vjp(c, g):
    out, gc = c.out, g.conj()
    return ((gc * out.sgn()).real if c.needs_input_grad[0] else None,
            (gc * out * 1j).real if c.needs_input_grad[1] else None)


register("complex", _complex, vjp=lambda c, g: (g.real, g.imag))
register("polar", _polar, save=("out",), vjp=_polar_vjp)


def _view_as_real(xp, x):
    if x.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    re = x.real
    return xp.lib.stride_tricks.as_strided(re, x.shape + (2,), re.strides + (re.itemsize,))


def _view_as_complex(xp, x):
    dt = _dtype.FROM_NP[x.dtype]
    if dt not in (_dtype.float32, _dtype.float64):
        if dt is _dtype.float16:
            raise RuntimeError("view_as_complex: complex32 (ComplexHalf) tensors are not "
                               "supported by ember; convert the Half tensor to float first")
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {dt.word}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.strides[-1] != x.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s // x.itemsize % 2 for s in x.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return x.view(dt.to_complex().np)[..., 0]


VIEW_AS_REAL = register("view_as_real", _view_as_real, view=True,
                        vjp=lambda c, g: (VIEW_AS_COMPLEX(g.contiguous()),))
VIEW_AS_COMPLEX = register("view_as_complex", _view_as_complex, view=True,
                           vjp=lambda c, g: (VIEW_AS_REAL(g),))
