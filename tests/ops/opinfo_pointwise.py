"""Op table entries: pointwise ops (see ``opinfo.py``).

Besides the new ops, ``*_dtypes`` entries run the core elementwise ops on every dtype (values
where PyTorch computes, its exception type where it refuses), and ``*_cgrad`` entries check
gradients through complex inputs (their samples are complex128 whatever dtype is asked for).
"""

from __future__ import annotations

import numpy as np

from .opinfo import (
    ALL,
    ALL_REAL,
    COMPLEX,
    FLOATS,
    HALF,
    INTS,
    A,
    ErrorCase,
    Sample,
    add,
    arr,
    binary_samples,
    unary_samples,
)

_F32 = np.float32
_NO_HALF = ("bool",) + INTS + ("bfloat16",) + FLOATS + COMPLEX  # no complex32 in ember
_SPECIAL = [1.5, -2.0, np.inf, -np.inf, np.nan, 0.0, -0.0, 0.25]


def _m(name):
    return lambda m, *a, **k: getattr(m, name)(*a, **k)


def _small(low=-2.0, high=2.0):
    """Every-dtype samples: a matrix, a 0-d tensor and a non-contiguous one."""
    return unary_samples(low, high, shapes=[(3, 4), ()])


def _special_values(dtype, rng):
    """Infinities, NaN and signed zeros where the dtype has them (random values otherwise)."""
    if dtype in INTS or dtype == "bool":
        return [Sample((A(arr(rng, (2, 4), dtype)),))]
    real = np.array(_SPECIAL, dtype=np.float64)
    if dtype in COMPLEX:
        vals = (real[:, None] + 1j * real[None, ::-1]).reshape(-1).astype(dtype)
    else:
        vals = real.astype(arr(rng, (1,), dtype).dtype)
    return [Sample((A(vals),), name="special"), Sample((A(arr(rng, (3,), dtype)),))]


def _complex_only(gen):
    """``gen``'s samples in complex128 whatever dtype is asked for (complex gradients)."""
    return lambda dtype, rng: gen("complex128", rng)


# -- the core elementwise ops on every dtype ------------------------------------------------------

_CORE_UNARY = {
    "neg": (-2, 2), "abs": (-2, 2), "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2),
    "log": (0.1, 3), "log2": (0.1, 3), "log10": (0.1, 3), "log1p": (-0.5, 3), "sqrt": (0.1, 3),
    "rsqrt": (0.1, 3), "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-3, 3),
    "asinh": (-3, 3), "acosh": (1.1, 3), "atanh": (-0.9, 0.9), "sigmoid": (-5, 5),
    "relu": (-2, 2), "reciprocal": (0.5, 3), "square": (-2, 2), "sign": (-2, 2), "sgn": (-2, 2),
    "floor": (-3, 3), "ceil": (-3, 3), "trunc": (-3, 3), "frac": (-3, 3), "round": (-3, 3),
    "fix": (-3, 3), "logical_not": (-2, 2), "bitwise_not": (-2, 2), "isnan": (-2, 2),
    "isinf": (-2, 2), "isfinite": (-2, 2), "conj": (-2, 2), "positive": (-2, 2),
    "real": (-2, 2), "imag": (-2, 2),
}
for _n, (_lo, _hi) in _CORE_UNARY.items():
    add(f"{_n}_dtypes", fn=_m(_n), samples=_small(_lo, _hi), dtypes=ALL, grad=False,
        atol=1e-4, rtol=1e-4, inplace=None if _n in (
            "isnan", "isinf", "isfinite", "conj", "positive", "real", "imag") else _n + "_")
add("round_decimals_dtypes", fn=lambda m, x: m.round(x, decimals=1), samples=_small(-3, 3),
    dtypes=ALL, grad=False, atol=1e-3)
for _n in ("isnan", "isinf", "isfinite"):
    add(f"{_n}_special", fn=_m(_n), samples=_special_values, dtypes=ALL, grad=False)

# complex gradients of the core unary math (|z| kept inside every function's domain)
for _n in ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
           "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
           "atanh", "sigmoid", "reciprocal", "square", "abs", "sgn", "conj"):
    add(f"{_n}_cgrad", fn=_m(_n), samples=_complex_only(unary_samples(0.2, 0.7, shapes=[(3,)])),
        dtypes=("float64",), atol=1e-4)

_CORE_BINARY = {
    # name: (lhs low, high, rhs low, high): division-like ops keep integer divisors nonzero
    "remainder": (-5, 5, 4, 6), "fmod": (-5, 5, 4, 6), "floor_divide": (-5, 5, 4, 6),
    "maximum": (-2, 2, -2, 2), "minimum": (-2, 2, -2, 2), "atan2": (-2, 2, -2, 2),
    "pow": (0.5, 2, 0, 2), "lt": (-2, 2, -2, 2), "le": (-2, 2, -2, 2), "gt": (-2, 2, -2, 2),
    "ge": (-2, 2, -2, 2), "eq": (-2, 2, -2, 2), "logical_and": (-2, 2, -2, 2),
    "bitwise_and": (-5, 5, -5, 5), "bitwise_or": (-5, 5, -5, 5), "bitwise_xor": (-5, 5, -5, 5),
    "mul": (-2, 2, -2, 2), "true_divide": (-2, 2, 4, 6),
}
_PAIR = [((3, 4), (4,)), ((), ())]
for _n, (_lo, _hi, _rlo, _rhi) in _CORE_BINARY.items():
    add(f"{_n}_dtypes", fn=_m(_n), samples=binary_samples(_lo, _hi, _rlo, _rhi, scalars=(2,),
                                                           shapes=_PAIR),
        dtypes=ALL, grad=False, atol=1e-4, rtol=1e-4,
        inplace=None if _n in ("eq", "lt", "le", "gt", "ge", "maximum", "minimum") else _n + "_")
for _mode in ("trunc", "floor"):
    add(f"div_{_mode}_dtypes", fn=(lambda md: lambda m, a, b: m.div(a, b, rounding_mode=md))(
        _mode), samples=binary_samples(-5, 5, 4, 6, scalars=(), shapes=_PAIR), dtypes=ALL,
        grad=False)
add("true_divide", samples=binary_samples(rhs_low=0.5, rhs_high=2), dtypes=FLOATS,
    inplace="true_divide_")
add("fmod_scalar_self", fn=lambda m, x: m.fmod(2, x), samples=_small(), dtypes=("float32",),
    grad=False)
add("clamp_dtypes", fn=lambda m, x: m.clamp(x, -1, 1), samples=_small(), dtypes=ALL,
    grad=False, inplace="clamp_")
add("clamp_tensors_dtypes", fn=lambda m, x, lo: m.clamp(x, lo, None), samples=binary_samples(
    scalars=(), shapes=_PAIR), dtypes=ALL, grad=False)
for _n in ("clamp_min", "clamp_max"):
    add(_n, samples=binary_samples(scalars=(0.5, -1), shapes=[((3, 4), (4,))]),
        dtypes=INTS[1:] + FLOATS, inplace=_n + "_")


# -- new unary math -------------------------------------------------------------------------------

add("logit", samples=unary_samples(0.05, 0.95), dtypes=ALL, inplace="logit_", atol=1e-4,
    rtol=1e-4)
add("logit_eps", fn=lambda m, x: m.logit(x, eps=0.2), samples=unary_samples(-0.5, 1.5),
    dtypes=ALL, inplace=None, atol=1e-4, rtol=1e-4)
add("logit_outside", fn=_m("logit"), samples=_special_values, dtypes=FLOATS, grad=False)
add("sinc", samples=unary_samples(-2, 2), dtypes=ALL, inplace="sinc_", atol=1e-4, rtol=1e-4)
add("sinc_zero", fn=_m("sinc"), samples=lambda d, r: [
    Sample((A(np.array([0.0, 0.5, -1.0], dtype=d)),))], dtypes=FLOATS, gradgrad=False)
add("angle", samples=unary_samples(), dtypes=ALL, atol=1e-4)
add("angle_special", fn=_m("angle"), samples=_special_values, dtypes=ALL, grad=False)
for _n in ("deg2rad", "rad2deg"):
    add(_n, samples=unary_samples(-90, 90), dtypes=ALL, inplace=_n + "_", atol=1e-4, rtol=1e-4)
add("conj_physical", samples=unary_samples(), dtypes=ALL, inplace="conj_physical_")
for _n in ("sinc", "angle", "conj_physical"):
    add(f"{_n}_cgrad", fn=_m(_n), samples=_complex_only(unary_samples(0.2, 0.9, shapes=[(3,)])),
        dtypes=("float64",), atol=1e-4)

# floating-point inspection
for _n in ("isposinf", "isneginf", "isreal"):
    add(_n, samples=_special_values, dtypes=ALL, grad=False)


def _no_nan(dtype, rng):
    # (NaN's sign bit depends on how it was made: PyTorch's float -> bfloat16 sets it)
    return [Sample((A(s.args[0].array[~np.isnan(s.args[0].array.astype(np.complex128))]),))
            for s in _special_values(dtype, rng)]


add("signbit", samples=_no_nan, dtypes=ALL, grad=False)
add("nan_to_num", samples=_special_values, dtypes=ALL, inplace="nan_to_num_")
add("nan_to_num_values", fn=lambda m, x: m.nan_to_num(x, nan=1.5, posinf=10.0, neginf=-1e30),
    samples=_special_values, dtypes=ALL, inplace=None, grad=False)
add("nan_to_num_cgrad", fn=_m("nan_to_num"), samples=_complex_only(_special_values),
    dtypes=("float64",))
add("frexp", samples=unary_samples(-100, 100), dtypes=ALL)
add("frexp_special", fn=_m("frexp"), samples=_special_values, dtypes=HALF + FLOATS, grad=False)


# -- new binary math ------------------------------------------------------------------------------

def _with_zeros(dtype, rng):
    """x with exact zeros (xlogy, heaviside, copysign treat 0 specially)."""
    x = arr(rng, (2, 4), dtype)
    x[0] = 0
    return [Sample((A(x), A(arr(rng, (4,), dtype, 0.2, 2))), name="zeros")]


def _and(*gens):
    return lambda d, r: [s for g in gens for s in g(d, r)]


add("xlogy", samples=binary_samples(0.0, 2.0, rhs_low=0.1, rhs_high=3.0, scalars=(2, 0.5)),
    dtypes=ALL, inplace="xlogy_", atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((2, 3), match="xlogy"),))
add("xlogy_zeros", fn=_m("xlogy"), samples=_with_zeros, dtypes=FLOATS, gradgrad=False)
add("xlogy_scalar_self", fn=lambda m, y: m.xlogy(2.0, y), samples=unary_samples(0.1, 3),
    dtypes=ALL, atol=1e-4)
add("hypot", samples=binary_samples(scalars=()), dtypes=ALL, inplace="hypot_",
    errors=(ErrorCase((A(np.ones(3, _F32)), 2.0), match="Tensor"),))
add("copysign", samples=binary_samples(scalars=(2, -1.5, True)), dtypes=ALL,
    inplace="copysign_")
add("copysign_zeros", fn=_m("copysign"), samples=_with_zeros, dtypes=FLOATS, gradgrad=False)
for _n in ("fmax", "fmin"):
    add(_n, samples=binary_samples(scalars=()), dtypes=ALL)
    add(f"{_n}_nan", fn=_m(_n), samples=lambda d, r: [Sample((
        A(np.array([1.0, np.nan, np.nan, -2.0], dtype=d)),
        A(np.array([np.nan, 2.0, np.nan, -3.0], dtype=d))), name="nan")], dtypes=FLOATS,
        gradgrad=False, skip_gradcheck_samples=("nan",))
add("logaddexp", samples=binary_samples(-3, 3, scalars=()), dtypes=ALL, atol=1e-4, rtol=1e-4)
add("logaddexp2", samples=binary_samples(-3, 3, scalars=()), dtypes=ALL, atol=1e-4, rtol=1e-4)
add("logaddexp_cgrad", fn=_m("logaddexp"), samples=_complex_only(binary_samples(
    scalars=(), shapes=[((3,), (3,))])), dtypes=("float64",), atol=1e-4)
add("nextafter", samples=binary_samples(scalars=()), dtypes=ALL)
add("heaviside", samples=_and(binary_samples(scalars=()), _with_zeros), dtypes=ALL,
    grad=False, inplace="heaviside_",
    errors=(ErrorCase((A(np.ones(3, _F32)), A(np.ones(3, np.float64))), match="dtypes"),
            ErrorCase((A(np.ones(3, _F32)), 0.5), match="values")))
for _n in ("gcd", "lcm"):
    add(_n, samples=binary_samples(-6, 6, scalars=()), dtypes=ALL, grad=False,
        inplace=_n + "_")
for _n in ("bitwise_left_shift", "bitwise_right_shift"):
    add(_n, samples=binary_samples(-5, 5, rhs_low=-1, rhs_high=5, scalars=(2, True)),
        dtypes=ALL, grad=False, inplace=_n + "_")
    add(_n + "_scalar_self", fn=(lambda n: lambda m, x: getattr(m, n)(3, x))(_n),
        samples=_small(0, 5), dtypes=ALL, grad=False)
add("lshift_operators", fn=lambda m, a, b: (a << b, a >> b, 3 << b, 100 >> b, a << 2),
    samples=binary_samples(-5, 5, rhs_low=0, rhs_high=5, scalars=(), shapes=_PAIR),
    dtypes=ALL, grad=False)
add("lshift_widths", fn=lambda m, a, b: (a << b, a >> b), samples=lambda d, r: [Sample((
    A(np.array([1, -2, 100, -128, 200], dtype=np.int64).astype(d)),
    A(np.array([7, 8, 9, -1, 7], dtype=np.int64).astype(d))))] + [Sample((
        A(np.array([1, -2, 5], dtype=np.int64).astype(d)),
        A(np.array([63, 64, 70], dtype=np.int64))), name="int64 amounts")],
    dtypes=INTS, grad=False)


def _ishift(m, a, b):
    a <<= b
    a >>= 1
    return a


add("ishift_operators", fn=_ishift, samples=binary_samples(0, 5, rhs_low=0, rhs_high=3,
                                                           scalars=(), shapes=[((3,), (3,))]),
    dtypes=INTS, grad=False)
add("float_power", samples=binary_samples(0.5, 2, rhs_low=-2, rhs_high=2,
                                          scalars=(2, 0.5, -1, 1j)),
    dtypes=ALL, inplace="float_power_", atol=1e-4, rtol=1e-4)
add("float_power_scalar_base", fn=lambda m, x: m.float_power(2, x), samples=_small(),
    dtypes=ALL, atol=1e-4)
add("float_power_cgrad", fn=_m("float_power"), samples=_complex_only(binary_samples(
    0.5, 2, scalars=(), shapes=[((3,), (3,))])), dtypes=("float64",), atol=1e-4)


def _ldexp_samples(dtype, rng):
    e = rng.integers(-4, 5, size=(3, 4))
    return [Sample((A(arr(rng, (3, 4), dtype)), A(e)), name="int exponent"),
            Sample((A(arr(rng, (4,), dtype)), A(e.astype(np.int32))), name="int32 exponent"),
            Sample((A(arr(rng, (3, 1), dtype)), A(arr(rng, (4,), dtype))), name="same dtype")]


# PyTorch differentiates ldexp through pow(2, other): 0 for negative integer exponents, which
# finite differences disagree with, so those samples skip gradcheck
add("ldexp", samples=_ldexp_samples, dtypes=ALL, inplace="ldexp_", atol=1e-4, rtol=1e-4,
    skip_gradcheck_samples=("int exponent", "int32 exponent"),
    errors=(ErrorCase((A(np.ones(3, _F32)), 2), match="Tensor"),))


# -- interpolation --------------------------------------------------------------------------------

def _lerp_samples(dtype, rng):
    a = lambda s: A(arr(rng, s, dtype))  # noqa: E731
    return [Sample((a((3, 4)), a((3, 4)), 0.3)), Sample((a((3, 4)), a((3, 4)), 0.8)),
            Sample((a((3, 4)), a((3, 4)), a((3, 4))), name="tensor weight"),
            Sample((a((3, 1)), a((1, 4)), a((4,))), name="broadcast"),
            Sample((a((3, 4)), a((4,)), A(np.array(0.6))), name="0-d float64 weight"),
            Sample((a(()), a(()), 2.5), name="0-d"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True),
                    A(arr(rng, (4, 3), dtype), noncontig=True), 0.5), name="noncontig")]


add("lerp", samples=_lerp_samples, dtypes=ALL, inplace="lerp_", atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(np.ones(3, _F32)), A(np.ones(3)), 0.5), match="`end`"),
            ErrorCase((A(np.ones(3, _F32)), A(np.ones(3, _F32)), A(np.ones(3))),
                      match="`weight`")))
add("lerp_cgrad", fn=_m("lerp"), samples=lambda d, r: [
    s for s in _lerp_samples("complex128", r) if s.name != "0-d float64 weight"],
    dtypes=("float64",), atol=1e-4)


def _addc_samples(dtype, rng):
    a = lambda s, lo=-2, hi=2: A(arr(rng, s, dtype, lo, hi))  # noqa: E731
    return [Sample((a((3, 4)), a((3, 4)), a((3, 4), 0.5, 2))),
            Sample((a((3, 4)), a((3, 1)), a((4,), 0.5, 2)), {"value": 0.5}, name="broadcast"),
            Sample((a((4,)), a((3, 4)), a((3, 4), 0.5, 2)), {"value": -2}, name="wide"),
            Sample((a(()), a(()), a((), 0.5, 2)), {"value": 2}, name="0-d"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), a((3, 4)), a((3, 4), 0.5, 2)),
                   name="noncontig")]


for _n in ("addcmul", "addcdiv"):
    add(_n, samples=_addc_samples, dtypes=ALL, inplace=_n + "_", atol=1e-4, rtol=1e-4)
    add(f"{_n}_cgrad", fn=_m(_n), samples=_complex_only(_addc_samples), dtypes=("float64",),
        atol=1e-4)
add("addcmul_mixed", fn=lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), samples=lambda d, r: [
    Sample((A(arr(r, (3,), "int64")), A(arr(r, (3,), "int64")), A(arr(r, (3,), "int32"))))],
    dtypes=("int64",), grad=False)


# -- comparisons of whole tensors -----------------------------------------------------------------

def _close_samples(dtype, rng):
    x = arr(rng, (3, 4), dtype)
    noise = arr(rng, (3, 4), dtype, -1e-5, 1e-5) if dtype not in INTS + ("bool",) else 0
    y = (x + noise).astype(x.dtype) if dtype != "bool" else x.copy()
    y[0, 0] = y[0, 1] = 1
    kwargs = [{}, {"rtol": 0.5}, {"atol": 1, "rtol": 0}, {"rtol": 0, "atol": 0},
              {"equal_nan": True}]
    out = [Sample((A(x), A(y)), k, name=str(k)) for k in kwargs]
    return out + [Sample((A(x), A(y[1])), name="broadcast")] + [
        Sample((A(v), A(v)), k, name=f"special {k}") for k in ({}, {"equal_nan": True})
        for v in [s.args[0].array for s in _special_values(dtype, rng)[:1]]]


add("isclose", samples=_close_samples, dtypes=ALL, grad=False,
    errors=(ErrorCase((A(np.ones(3, _F32)), A(np.ones(3))), match="did not match"),
            ErrorCase((A(np.ones(3, _F32)), A(np.ones(3, _F32))), {"rtol": -1}, match="rtol"),
            ErrorCase((A(np.ones(3, _F32)), 1.0), match="Tensor")))
add("allclose", samples=_close_samples, dtypes=ALL, grad=False)
add("equal", samples=lambda d, r: [
    Sample((A(arr(r, (3,), d)), A(arr(r, (3,), d)))),
    Sample((A(np.ones(3, dtype=d)), A(np.ones(3, dtype=d)))),
    Sample((A(np.ones(3, dtype=d)), A(np.ones(2, dtype=d)))),
    Sample((A(np.ones(3, dtype=d)), A(np.ones(3, dtype="float64"))), name="promote")],
    dtypes=ALL_REAL, grad=False)


# -- complex numbers ------------------------------------------------------------------------------

def _pair_samples(dtype, rng):
    a = lambda s: A(arr(rng, s, dtype, 0.2, 2))  # noqa: E731
    return [Sample((a((3, 4)), a((3, 4)))), Sample((a((3, 1)), a((4,))), name="broadcast"),
            Sample((a(()), a(())), name="0-d"), Sample((a((0, 2)), a((2,))), name="empty"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), a((3, 4))), name="noncontig")]


for _n in ("complex", "polar"):
    add(_n, samples=_pair_samples, dtypes=_NO_HALF, atol=1e-4, rtol=1e-4,
        errors=(ErrorCase((A(np.ones(3, _F32)), A(np.ones(3))), match="Double"),
                ErrorCase((A(np.ones(3, _F32)), 1.0), match="Tensor")))
add("view_as_real", samples=unary_samples(), dtypes=_NO_HALF)
add("view_as_complex", samples=lambda d, r: [
    Sample((A(arr(r, s, d)),), name=str(s)) for s in [(3, 2), (2, 3, 2), (2,), (0, 2), (3, 3)]] + [
    Sample((A(arr(r, (2, 3), d), noncontig=True),), name="last stride")], dtypes=_NO_HALF)
add("view_as_real_cgrad", fn=_m("view_as_real"), samples=_complex_only(unary_samples(
    shapes=[(3,), ()])), dtypes=("float64",))
