"""Elementwise ops: unary math, broadcasting binary arithmetic, comparisons, logic, where,
clamp, casts.

Each op is one table row: the backend function, the dtype rule, what backward saves and the
VJP (in ember ops, so it is itself differentiable).
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .registry import register
from .rules import broadcast_shapes, is_array, operand, promote, to_float

# -- dtype support --------------------------------------------------------------------------------
#
# NOTE [ Unsupported dtypes ]
# An op states the dtype categories it accepts as letters: b(ool), i(nteger), f(loat),
# c(omplex). ``check_dtype`` raises what PyTorch raises for any other: by default its
# NotImplementedError naming the missing kernel (``"floor_vml_cpu" not implemented for
# 'Bool'``), or the op's own message from ``DTYPE_ERRORS``. Ops in other modules add their
# messages to that table.

_CATEGORY = "bifc"
ALL_KINDS = "bifc"


def unsupported(kernel: str, dt: _dtype.dtype) -> NotImplementedError:
    """PyTorch's error for a kernel without an implementation for ``dt``."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{dt.word}'")


def check_dtype(name: str, dt: _dtype.dtype, allowed: str) -> None:
    """Raise PyTorch's error if op ``name`` does not accept dtype ``dt`` (see NOTE [
    Unsupported dtypes ])."""
    cat = _CATEGORY[dt.category]
    if cat not in allowed:
        make = DTYPE_ERRORS.get((name, cat))
        raise make(dt) if make is not None else unsupported(name + "_cpu", dt)


def dtype_error(kind, text):
    """A ``DTYPE_ERRORS`` entry raising ``kind(text)``."""
    return lambda dt: kind(text)


DTYPE_ERRORS = {
    ("neg", "b"): dtype_error(
        RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you "
        "are trying to invert a mask, use the `~` or `logical_not()` operator instead."),
    ("abs", "b"): lambda dt: unsupported("abs_cpu", dt),
    ("relu", "b"): dtype_error(RuntimeError, "Boolean inputs not supported for relu"),
    ("relu", "c"): dtype_error(NotImplementedError, "clamp is not supported for complex types"),
    ("clamp", "c"): dtype_error(NotImplementedError, "clamp is not supported for complex types"),
    ("sign", "c"): dtype_error(
        NotImplementedError, "Unlike NumPy, torch.sign is not intended to support complex "
        "numbers. Please use torch.sgn instead."),
    ("round", "b"): lambda dt: unsupported("round_vml_cpu", dt),
    ("round", "c"): lambda dt: unsupported("round_vml_cpu", dt),
    ("round_decimals", "b"): lambda dt: unsupported("round_cpu", dt),
    ("round_decimals", "i"): lambda dt: unsupported("round_cpu", dt),
    ("round_decimals", "c"): lambda dt: unsupported("round_cpu", dt),
    ("maximum", "c"): dtype_error(RuntimeError, "maximum not implemented for complex tensors."),
    ("minimum", "c"): dtype_error(RuntimeError, "minimum not implemented for complex tensors."),
    ("floor_divide", "b"): lambda dt: unsupported("div_floor_cpu", dt),
    ("floor_divide", "c"): lambda dt: unsupported("div_floor_cpu", dt),
    ("div_floor", "b"): lambda dt: unsupported("div_floor_cpu", dt),
    ("div_floor", "c"): lambda dt: unsupported("div_floor_cpu", dt),
    ("div_trunc", "b"): lambda dt: unsupported("div_trunc_cpu", dt),
    ("div_trunc", "c"): lambda dt: unsupported("div_trunc_cpu", dt),
    ("pow", "b"): lambda dt: unsupported("pow", dt),
}
for _n in ("floor", "ceil", "trunc"):
    DTYPE_ERRORS[_n, "b"] = (lambda n: lambda dt: unsupported(n + "_vml_cpu", dt))(_n)
    DTYPE_ERRORS[_n, "c"] = dtype_error(NotImplementedError,
                                        f"{_n} is not supported for complex inputs")


def _cj(t):
    """Conjugate for complex gradients (PyTorch's convention: grad * conj(df/dz)); ``t`` a
    tensor or a Python number."""
    if isinstance(t, Tensor):
        return t.conj() if t._data.dtype.kind == "c" else t
    return t.conjugate() if isinstance(t, complex) else t


# -- unary ----------------------------------------------------------------------------------------

# dtype rules: (accepted categories, whether bool/integer inputs compute in the default float)
FLOAT = ("bifc", True)
FLOAT_REAL = ("bif", True)
ANY = ("bifc", False)
NO_BOOL = ("ifc", False)
REAL = ("bif", False)
ROUNDING = ("if", False)  # integers are returned as they are
FLOAT_ONLY = ("f", False)
INTEGRAL = ("bi", False)


def unary_impl(name, fn, rule):
    """The impl of a unary op: ``fn`` (a backend function name or ``fn(xp, x)``) under the
    dtype ``rule``."""
    allowed, to_f = rule
    every = allowed == ALL_KINDS

    def impl(xp, x, **params):
        dt = _dtype.FROM_NP[x.dtype]
        if not every:
            check_dtype(name, dt, allowed)
        if to_f and dt.category < 2:
            x = operand(xp, x, _dtype.get_default_dtype())
        return getattr(xp, fn)(x) if isinstance(fn, str) else fn(xp, x, **params)
    return impl


def _rounding(fn):
    def impl(xp, x):
        return x.copy() if x.dtype.kind in "iu" else getattr(xp, fn)(x)
    return impl


def _square(xp, x):
    # PyTorch's square is pow(x, 2): bool squares to int64
    return xp.square(x.astype(np.int64) if x.dtype == np.bool_ else x)


def _sign_impl(xp, x):
    if x.dtype.kind == "b":
        return x.copy()
    if x.dtype.kind == "c":
        a = xp.abs(x)
        return xp.where(a == 0, 0, x / xp.where(a == 0, 1, a)).astype(x.dtype)
    return xp.sign(x)


# NOTE [ Half-type backward kernels ]
# PyTorch's dedicated backward kernels (``tanh_backward``, ``sigmoid_backward``,
# ``silu_backward``, ...) compute bfloat16 (most also float16) in float32 and round once, where
# a formula in ember ops would round after every step. ``opmath_vjp`` runs a VJP on float32
# copies of the saved tensors and of the gradient for those dtypes and rounds its results once;
# other dtypes run the VJP as it is. The VJP's formula follows the kernel's order of operations.

class _Opmath:
    """A graph node seen with its saved half-type tensors as float32."""

    __slots__ = ("_node", "inputs", "out")

    def __init__(self, node):
        self._node = node
        self.inputs = tuple(t.float() if isinstance(t, Tensor) else t for t in node.inputs)
        out = getattr(node, "out", None)  # absent where the op saves no output
        self.out = out.float() if isinstance(out, Tensor) else out

    def __getattr__(self, name):
        return getattr(self._node, name)


_HALF_TYPES = (_dtype.bfloat16, _dtype.float16)


def opmath_vjp(vjp, dtypes=_HALF_TYPES):
    """``vjp`` computed in float32 for gradients of ``dtypes`` (NOTE [ Half-type backward
    kernels ])."""
    def wrapped(c, g):
        if g.dtype not in dtypes:
            return vjp(c, g)
        return tuple(None if r is None else r.to(g.dtype) for r in vjp(_Opmath(c), g.float()))
    return wrapped


def _tanh_vjp(c, g):
    y = c.out
    return (g * (1 - y * y) if y.dtype.is_floating_point else g * _cj(1 - y * y),)


def _sigmoid_vjp(c, g):
    # float16 runs PyTorch's generic kernel, in float16 arithmetic
    y = c.out
    return (g * (1 - y) * y if y.dtype.is_floating_point else g * _cj((1 - y) * y),)


def _relu(xp, x):
    return xp.maximum(x, x.dtype.type(0))


def _sigmoid(xp, x):
    # exp(-|x|) never overflows; float16/bfloat16 computed in float32 and rounded once
    ct = np.float32 if x.dtype.itemsize < 4 and x.dtype.kind == "f" or x.dtype == \
        _dtype.bfloat16.np else x.dtype
    y = x.astype(ct, copy=False)
    if y.dtype.kind == "c":
        return (1 / (1 + xp.exp(-y))).astype(x.dtype)
    e = xp.exp(-xp.abs(y))
    return xp.where(y >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _rsqrt(xp, x):
    return 1 / xp.sqrt(x)


def _round(xp, x, decimals=0):
    check_dtype("round_decimals" if decimals else "round", _dtype.FROM_NP[x.dtype],
                "f" if decimals else "if")
    if x.dtype.kind in "iu":
        return x.copy()
    if decimals == 0:
        return xp.round(x)
    if x.dtype == np.float16 or x.dtype == _dtype.bfloat16.np:  # scaled in float32
        return _round(xp, x.astype(np.float32), decimals).astype(x.dtype)
    # PyTorch scales, rounds half-to-even and unscales in the tensor's own dtype.
    if decimals > 0:
        s = x.dtype.type(10.0 ** decimals)
        return xp.round(x * s) / s
    s = x.dtype.type(10.0 ** -decimals)
    return xp.round(x / s) * s


def _zero(c, g):
    return (g * 0,)


_UNARY = {
    # name: (backend function, dtype rule, save, vjp)
    "neg": ("negative", NO_BOOL, (), lambda c, g: (-g,)),
    "abs": ("abs", NO_BOOL, (0,), lambda c, g: (g * c.inputs[0].sgn(),)),
    "exp": ("exp", FLOAT, ("out",), lambda c, g: (g * _cj(c.out),)),
    "exp2": ("exp2", FLOAT, ("out",), lambda c, g: (g * _cj(c.out) * 0.6931471805599453,)),
    "expm1": ("expm1", FLOAT, ("out",), lambda c, g: (g * (_cj(c.out) + 1),)),
    "log": ("log", FLOAT, (0,), lambda c, g: (g / _cj(c.inputs[0]),)),
    "log2": ("log2", FLOAT, (0,), lambda c, g: (g / (_cj(c.inputs[0]) * 0.6931471805599453),)),
    "log10": ("log10", FLOAT, (0,),
              lambda c, g: (g / (_cj(c.inputs[0]) * 2.302585092994046),)),
    "log1p": ("log1p", FLOAT, (0,), lambda c, g: (g / (_cj(c.inputs[0]) + 1),)),
    "sqrt": ("sqrt", FLOAT, ("out",), lambda c, g: (g / (2 * _cj(c.out)),)),
    "rsqrt": (_rsqrt, FLOAT, ("out",), lambda c, g: (-0.5 * g * _cj(c.out) ** 3,)),
    "sin": ("sin", FLOAT, (0,), lambda c, g: (g * _cj(c.inputs[0].cos()),)),
    "cos": ("cos", FLOAT, (0,), lambda c, g: (-g * _cj(c.inputs[0].sin()),)),
    "tan": ("tan", FLOAT, ("out",), lambda c, g: (g * (1 + _cj(c.out) ** 2),)),
    "asin": ("arcsin", FLOAT, (0,),
             lambda c, g: (g * _cj((1 - c.inputs[0] ** 2).rsqrt()),)),
    "acos": ("arccos", FLOAT, (0,),
             lambda c, g: (-g * _cj((1 - c.inputs[0] ** 2).rsqrt()),)),
    "atan": ("arctan", FLOAT, (0,), lambda c, g: (g / _cj(1 + c.inputs[0] ** 2),)),
    "sinh": ("sinh", FLOAT, (0,), lambda c, g: (g * _cj(c.inputs[0].cosh()),)),
    "cosh": ("cosh", FLOAT, (0,), lambda c, g: (g * _cj(c.inputs[0].sinh()),)),
    "tanh": ("tanh", FLOAT, ("out",), opmath_vjp(_tanh_vjp)),
    "asinh": ("arcsinh", FLOAT, (0,),
              lambda c, g: (g * _cj((c.inputs[0] ** 2 + 1).rsqrt()),)),
    "acosh": ("arccosh", FLOAT, (0,),
              lambda c, g: (g * _cj((c.inputs[0] ** 2 - 1).rsqrt()),)),
    "atanh": ("arctanh", FLOAT, (0,), lambda c, g: (g / _cj(1 - c.inputs[0] ** 2),)),
    "sigmoid": (_sigmoid, FLOAT, ("out",), opmath_vjp(_sigmoid_vjp, (_dtype.bfloat16,))),
    "relu": (_relu, ("if", False), ("out",), lambda c, g: (g * (c.out > 0),)),
    "reciprocal": ("reciprocal", FLOAT, ("out",), lambda c, g: (-g * _cj(c.out * c.out),)),
    "square": (_square, ANY, (0,), lambda c, g: (2 * g * _cj(c.inputs[0]),)),
    "sign": (_sign_impl, REAL, (), _zero),
    "sgn": (_sign_impl, ANY, (0,), lambda c, g: (_sgn_vjp(c.inputs[0], g),)),
    "floor": (_rounding("floor"), ROUNDING, (), _zero),
    "ceil": (_rounding("ceil"), ROUNDING, (), _zero),
    "trunc": (_rounding("trunc"), ROUNDING, (), _zero),
    "frac": (lambda xp, x: x - xp.trunc(x), FLOAT_ONLY, (), lambda c, g: (g,)),
    "conj": (lambda xp, x: xp.conj(x) if x.dtype.kind == "c" else x.copy(), ANY, (),
             lambda c, g: (g.conj(),)),
    "logical_not": ("logical_not", ANY, (), None),
    "bitwise_not": ("invert", INTEGRAL, (), None),
    "isnan": ("isnan", ANY, (), None),
    "isinf": ("isinf", ANY, (), None),
    "isfinite": ("isfinite", ANY, (), None),
}


def _mul_vjp(c, g):
    a, b = c.inputs
    ea, eb = c.edges
    return (None if ea is None else g * _cj(b), None if eb is None else g * _cj(a))


def _sgn_vjp(x, g):
    if not x.is_complex():
        return g * 0
    a = x.abs()
    # d sgn(z): (g - re(g * conj(sgn z)) sgn z) / |z|, zero at z = 0
    s = x / a.clamp(min=1e-300)
    return (g - (g * s.conj()).real * s) / a.clamp(min=1e-300) * (a != 0)


for _name, (_fn, _rule, _save, _vjp) in _UNARY.items():
    register(_name, unary_impl(_name, _fn, _rule), save=_save, vjp=_vjp,
             backward_name="PowBackward0" if _name == "square" else None)

register("round", lambda xp, x, decimals=0: _round(xp, x, decimals), vjp=_zero,
         backward_name=lambda node: f"RoundBackward{int('decimals' in node.params)}")


# -- binary ---------------------------------------------------------------------------------------

_KINDS = {"b": "b", "i": "iu", "f": "f", "c": "c"}


def binary_impl(name, fn, rule="promote", allowed=ALL_KINDS):
    """The impl of a broadcasting binary op: operands promoted as PyTorch does (then to the
    default float if ``rule == "float"``), the dtype categories ``allowed`` checked, then ``fn``
    (a backend function name or ``fn(xp, x, y, **params)``)."""
    ufunc = getattr(np, fn) if isinstance(fn, str) else None
    to_f = rule == "float"
    every = allowed == ALL_KINDS
    check = _CHECKS.get(name)
    fast = ufunc is not None and not to_f and check is None
    fast_kinds = "".join(_KINDS[c] for c in allowed)

    def impl(xp, a, b, **params):
        if fast and type(b) is type(a) and a.dtype is b.dtype and a.dtype.kind in fast_kinds:
            # same dtype on both sides (the common case): nothing to promote or cast
            return (ufunc if xp is np else getattr(xp, fn))(a, b)
        ct = promote(a, b)
        if not every:
            check_dtype(name, ct, allowed)
        if to_f:
            ct = to_float(ct)
        if check is not None:
            check(ct, a, b)
        x, y = operand(xp, a, ct), operand(xp, b, ct)
        if ufunc is not None:
            return (ufunc if xp is np else getattr(xp, fn))(x, y)
        return fn(xp, x, y, **params)
    return impl


def _is_bool(x) -> bool:
    return x.dtype == np.bool_ if is_array(x) else isinstance(x, (bool, np.bool_))


def _no_bool_sub(ct, a, b):
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead.")
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _int_zero_div(ct, a, b):
    if ct.category <= 1:
        bad = (b == 0).any() if is_array(b) else b == 0
        if bad:
            raise RuntimeError("ZeroDivisionError")


def _pow_check(ct, a, b):
    if ct.category == 1 and not is_array(b) and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _pow(xp, a, b):
    if a.dtype.kind in "iu" and is_array(b) and (b < 0).any():
        # integer powers with negative tensor exponents: 1 and -1 stay finite, others give 0
        neg = b < 0
        r = xp.power(a, xp.where(neg, 0, b))
        one = xp.ones_like(r)
        alt = xp.where(b % 2 == 0, one, -one) if a.dtype.kind == "i" else one
        at_neg = xp.where(a == 1, one, xp.where(a == -1, alt, xp.zeros_like(r)))
        return xp.where(neg, at_neg, r)
    if b.ndim == 0 and (a.dtype.kind == "f" or a.dtype == _dtype.bfloat16.np):
        fast = _POW_BY_SCALAR.get(float(b))
        if fast is not None:
            return fast(xp, a)
    return xp.power(a, b)


# PyTorch's pow with these scalar exponents multiplies instead of calling pow (same results)
_POW_BY_SCALAR = {
    2.0: lambda xp, a: a * a, 3.0: lambda xp, a: a * a * a, 0.5: lambda xp, a: xp.sqrt(a),
    -0.5: lambda xp, a: 1 / xp.sqrt(a), -1.0: lambda xp, a: 1 / a,
    -2.0: lambda xp, a: 1 / (a * a), 1.0: lambda xp, a: a.copy(),
}


_CHECKS = {"sub": _no_bool_sub, "floor_divide": _int_zero_div, "remainder": _int_zero_div,
           "fmod": _int_zero_div, "div": _int_zero_div,
           "pow": _pow_check}


_BINARY_INPLACE_FNS = {"add": "add", "sub": "subtract"}


def _add(xp, a, b, alpha=1):
    return xp.add(a, b if alpha == 1 else b * a.dtype.type(alpha))


def _sub(xp, a, b, alpha=1):
    return xp.subtract(a, b if alpha == 1 else b * a.dtype.type(alpha))


def _div(xp, a, b, rounding_mode=None):
    if rounding_mode is None:
        return xp.true_divide(a, b)
    if rounding_mode == "trunc":
        if a.dtype.kind in "iub":
            q = xp.floor_divide(a, b)
            return q + ((q < 0) & (q * b != a)).astype(q.dtype)
        return xp.trunc(xp.true_divide(a, b))
    if rounding_mode == "floor":
        return xp.floor_divide(a, b)
    raise RuntimeError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
        f"'{rounding_mode}'")


def _div_rule_impl():
    base = binary_impl("div", _div)
    floor = binary_impl("floor_divide", _div)

    def impl(xp, a, b, rounding_mode=None):
        if rounding_mode is not None:
            ct = promote(a, b)
            if rounding_mode in ("trunc", "floor"):
                check_dtype("div_" + rounding_mode, ct, "if")
            _int_zero_div(ct, a, b)
        if rounding_mode is None:
            ct = to_float(promote(a, b))
            return xp.true_divide(operand(xp, a, ct), operand(xp, b, ct))
        return (floor if rounding_mode == "floor" else base)(xp, a, b,
                                                             rounding_mode=rounding_mode)
    return impl


def _maximum_vjp(c, g, sign):
    a, b = c.inputs
    eq = (a == b)
    ga = g * ((a > b) if sign > 0 else (a < b)) + g * eq * 0.5
    gb = g * ((b > a) if sign > 0 else (b < a)) + g * eq * 0.5
    return ga, gb


def _pow_vjp(c, g):
    a, b = c.inputs
    ga = gb = None
    if c.needs_input_grad[0]:
        if isinstance(b, Tensor):
            ga = (g * _cj(b * a ** (b - 1))).masked_fill(b == 0, 0)
        else:
            ga = g * _cj(b * a ** (b - 1)) if b != 0 else g * 0
    if c.needs_input_grad[1]:
        out = a ** b
        if isinstance(a, Tensor):
            gb = g * _cj(out * a.log())
            gb = gb.masked_fill((a == 0) & ((b.real if b.is_complex() else b) >= 0), 0)
        else:
            log_a = math.log(a) if not isinstance(a, complex) and a > 0 else cmath.log(a)
            gb = g * _cj(out * log_a) if a != 0 else g * 0
    return ga, gb


def _div_vjp(c, g):
    a, b = c.inputs
    if c.params.get("rounding_mode") is not None:
        return tuple(g * 0 if need else None for need in c.needs_input_grad)
    ga = g / _cj(b) if c.needs_input_grad[0] else None
    gb = -g * _cj(a / b / b) if c.needs_input_grad[1] else None  # PyTorch's order
    return ga, gb


def _remainder_vjp(c, g):
    a, b = c.inputs
    gb = -g * a.div(b, rounding_mode="floor") if c.needs_input_grad[1] else None
    return g, gb


_BINARY = {
    # name: (backend function, dtype rule, save, vjp)
    "add": (_add, "promote", (),
            lambda c, g: (g, g * _cj(c.params["alpha"]) if "alpha" in c.params else g)),
    "sub": (_sub, "promote", (),
            lambda c, g: (g, -g * _cj(c.params["alpha"]) if "alpha" in c.params else -g)),
    "mul": ("multiply", "promote", {0: (1,), 1: (0,)}, lambda c, g: _mul_vjp(c, g)),
    "floor_divide": ("floor_divide", "promote", (), None),
    "remainder": ("remainder", "promote", (0, 1), _remainder_vjp),
    "fmod": ("fmod", "promote", (0, 1), lambda c, g: (
        g, -g * c.inputs[0].div(c.inputs[1], rounding_mode="trunc")
        if c.needs_input_grad[1] else None)),
    "pow": (_pow, "promote", (0, 1), _pow_vjp),
    "maximum": ("maximum", "promote", (0, 1), lambda c, g: _maximum_vjp(c, g, 1)),
    "minimum": ("minimum", "promote", (0, 1), lambda c, g: _maximum_vjp(c, g, -1)),
    "atan2": ("arctan2", "float", (0, 1),
              lambda c, g: (g * c.inputs[1] / (c.inputs[0] ** 2 + c.inputs[1] ** 2),
                            -g * c.inputs[0] / (c.inputs[0] ** 2 + c.inputs[1] ** 2))),
    "eq": ("equal", "promote", (), None),
    "ne": ("not_equal", "promote", (), None),
    "lt": ("less", "promote", (), None),
    "le": ("less_equal", "promote", (), None),
    "gt": ("greater", "promote", (), None),
    "ge": ("greater_equal", "promote", (), None),
    "logical_and": ("logical_and", "promote", (), None),
    "logical_or": ("logical_or", "promote", (), None),
    "logical_xor": ("logical_xor", "promote", (), None),
    "bitwise_and": ("bitwise_and", "promote", (), None),
    "bitwise_or": ("bitwise_or", "promote", (), None),
    "bitwise_xor": ("bitwise_xor", "promote", (), None),
}

def _binary_inplace(name, ufunc_name, impl):
    """``dst op= b`` straight into ``dst`` when no graph is recorded (the optimizer step, grad
    accumulation): computed in the promoted dtype, cast into dst as PyTorch does."""

    allowed = _BINARY_DTYPES.get(name)

    def inplace(xp, dst, b, **params):
        ct = promote(dst, b)
        if allowed is not None:
            check_dtype(name, ct, allowed)
        st = _dtype.FROM_NP[dst.dtype]
        if ct is not st and not _dtype.can_cast(ct, st):
            raise RuntimeError(f"{name}_: result type {ct.word} can't be cast to the "
                               f"desired output type {st.word}")
        if is_array(b) and b.shape != dst.shape:
            shape = broadcast_shapes(name + "_", dst.shape, b.shape)
            if shape != dst.shape:
                raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the "
                                   f"broadcast shape {list(shape)}")
        if params:  # alpha
            dst[...] = impl(xp, dst, b, **params)
            return
        check = _CHECKS.get(name)
        if check is not None:
            check(ct, dst, b)
        getattr(xp, ufunc_name)(dst, operand(xp, b, ct), out=dst, casting="unsafe")
    return inplace


# the dtype categories each binary op accepts (NOTE [ Unsupported dtypes ]); others take all
_BINARY_DTYPES = {
    "floor_divide": "if", "remainder": "if", "fmod": "if", "pow": "ifc", "maximum": "bif",
    "minimum": "bif", "atan2": "bif", "lt": "bif", "le": "bif", "gt": "bif", "ge": "bif",
    "bitwise_and": "bi", "bitwise_or": "bi", "bitwise_xor": "bi",
}
_NOT_INPLACE_FAST = {"eq", "ne", "lt", "le", "gt", "ge", "pow"}
_BINARY_NAMES = {
    "sub": lambda node: "RsubBackward1" if node.in_meta[0] is None else "SubBackward0",
    "pow": lambda node: ("PowBackward2" if node.in_meta[0] is None else
                         "PowBackward0" if node.in_meta[1] is None else "PowBackward1"),
}
for _name, (_fn, _rule, _save, _vjp) in _BINARY.items():
    _impl = binary_impl(_name, _fn, _rule, _BINARY_DTYPES.get(_name, ALL_KINDS))
    _uf = _BINARY_INPLACE_FNS.get(_name, _fn)
    register(_name, _impl, save=_save, vjp=_vjp, backward_name=_BINARY_NAMES.get(_name),
             inplace=_binary_inplace(_name, _uf, _impl) if isinstance(_uf, str) and
             _rule == "promote" and _name not in _NOT_INPLACE_FAST else None)

def _div_name(node) -> str:
    if node.in_meta[0] is None:
        return "MulBackward0"  # PyTorch computes number / x as reciprocal(x) * number
    if "rounding_mode" in node.params:
        return "DivBackward2" if node.in_meta[1] is None else "DivBackward1"
    return "DivBackward0"


register("div", _div_rule_impl(), save={0: (1,), 1: (0, 1)}, vjp=_div_vjp,
         backward_name=_div_name)


# -- where, clamp, casts, copies ------------------------------------------------------------------

def _where(xp, cond, a, b):
    if cond.dtype != np.bool_:
        if cond.dtype != np.uint8:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{_dtype.FROM_NP[cond.dtype].word}")
        cond = cond.astype(bool)
    ct = promote(a, b)
    return xp.where(cond, operand(xp, a, ct), operand(xp, b, ct))


register("where", _where, save=(0,),
         vjp=lambda c, g: (None, g * c.inputs[0] if c.needs_input_grad[1] else None,
                           g * c.inputs[0].logical_not() if c.needs_input_grad[2] else None))


def _clamp(xp, x, lo, hi):
    if lo is None and hi is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    ct = promote(*(v for v in (x, lo, hi) if v is not None))
    # bool clamps only between bool tensors
    check_dtype("clamp", ct, "bif" if is_array(lo) or is_array(hi) else "if")
    y = operand(xp, x, ct)
    if lo is not None:
        y = xp.maximum(y, operand(xp, lo, ct))
    if hi is not None:
        y = xp.minimum(y, operand(xp, hi, ct))
    # NaN in the input propagates (maximum/minimum already do); NaN bounds give NaN as in torch
    return y


def _clamp_vjp(c, g):
    x, lo, hi = c.inputs
    inside = True
    if lo is not None:
        inside = (x >= lo) if isinstance(inside, bool) else inside & (x >= lo)
    if hi is not None:
        inside = (x <= hi) if isinstance(inside, bool) else inside & (x <= hi)
    gx = g * inside if c.needs_input_grad[0] else None
    glo = g * (x < lo) if isinstance(lo, Tensor) and c.needs_input_grad[1] else None
    ghi = g * (x > hi) if isinstance(hi, Tensor) and c.needs_input_grad[2] else None
    if glo is not None and hi is not None:
        glo = glo * (lo <= hi) if isinstance(hi, Tensor) else glo
    return gx, glo, ghi


register("clamp", _clamp, save=(0, 1, 2), vjp=_clamp_vjp, backward_name=lambda node: (
    "ClampBackward1" if node.in_meta[1] is None and node.in_meta[2] is None
    else "ClampBackward0"))


def _cast(xp, x, dtype):
    return x.astype(dtype.np, copy=True)


register("_to_copy", _cast,
         vjp=lambda c, g: (g.real.to(_dtype.FROM_NP[c.in_meta[0][1]])
                           if g.is_complex() and c.in_meta[0][1].kind != "c"
                           else g.to(_dtype.FROM_NP[c.in_meta[0][1]]),),
         backward_name="ToCopyBackward0")
def _clone(xp, x, contiguous=False):
    # PyTorch's preserve_format keeps the input's order of strides (NumPy's order "K"), but an
    # expanded input (a zero stride) comes out contiguous
    expanded = any(st == 0 and d > 1 for d, st in zip(x.shape, x.strides))
    return x.copy(order="C" if contiguous or expanded else "K")


register("clone", _clone,
         vjp=lambda c, g: (g,))


def _fill(xp, x, value):
    return xp.full(x.shape, operand(xp, value, _dtype.FROM_NP[x.dtype]), dtype=x.dtype)


def _fill_inplace(xp, dst, value):
    dst[...] = operand(xp, value, _dtype.FROM_NP[dst.dtype])


def _fill_vjp(c, g):
    return g * 0, g.sum() if c.needs_input_grad[1] else None


def _copy(xp, x, src):
    src = operand(xp, src, _dtype.FROM_NP[x.dtype])
    try:
        return xp.broadcast_to(src, x.shape).copy()
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({x.shape[-1] if x.ndim else 1}) must match the size of "
            f"tensor b ({src.shape[-1] if src.ndim else 1}) at non-singleton dimension "
            f"{max(x.ndim - 1, 0)}") from None


def _copy_inplace(xp, dst, src):
    dst[...] = _copy(xp, dst, src)


register("fill", _fill, vjp=_fill_vjp, inplace=_fill_inplace)
register("copy", _copy, vjp=lambda c, g: (g * 0, g), inplace=_copy_inplace)


def _to_device(xp, x, device, source, non_blocking=False):
    from ..backends import transfer
    return transfer(x, device, non_blocking)


register("_to_device", _to_device, backward_name="ToCopyBackward0",
         vjp=lambda c, g: (g.to(c.params["source"]),))


def _real(xp, x):
    return x.real if x.dtype.kind == "c" else x.view()


def _imag(xp, x):
    if x.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return x.imag


# views of the real/imaginary parts; the engine casts the real gradient back to complex
register("real", _real, view=True, vjp=lambda c, g: (g,))
register("imag", _imag, view=True, vjp=lambda c, g: (g * 1j,))
