"""Activation functions of ``nn.functional`` (gelu, elu, softplus, hardtanh, ...): one registry
entry each, with the VJP in ember ops.

# NOTE [ Blocked activation kernels ]
An activation is a chain of elementwise steps (gelu's erf is ~50 multiply-adds). NumPy runs
each step over the whole array, so a large input streams through memory once per step. On the
CPU backend an activation over a large array therefore runs in blocks that fit the cache
(``_blocked``), which measured ~3x faster than whole-array steps. Half types compute in
float32 and round once, as PyTorch's CPU kernels do.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .registry import register

_BF16 = _dtype.bfloat16.np
_HALF = (np.dtype(np.float16), np.dtype(_BF16))
_BLOCK = 1 << 15


def is_floating(x) -> bool:
    return x.dtype.kind == "f" or x.dtype == _BF16


def check_floating(kernel: str, x) -> None:
    """PyTorch's dispatch error for a float-only kernel given another dtype."""
    if not is_floating(x):
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_dtype.FROM_NP[x.dtype].word}'")


def _blocked(xp, fn, x, **params):
    """``fn(xp, x, **params)`` (elementwise), over cache-sized blocks on the CPU backend."""
    if xp is not np or x.size < 4 * _BLOCK:
        return fn(xp, x, **params)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.shape, flat.dtype)
    for i in range(0, flat.size, _BLOCK):
        out[i:i + _BLOCK] = fn(xp, flat[i:i + _BLOCK], **params)
    return out.reshape(x.shape)


def _float_act(kernel, fn):
    """An impl computing ``fn`` elementwise (half types in float32)."""
    def impl(xp, x, **params):
        check_floating(kernel, x)
        y = x.astype(np.float32) if x.dtype in _HALF else x
        return _blocked(xp, fn, y, **params).astype(x.dtype, copy=False)
    return impl


# -- erf (for gelu) -------------------------------------------------------------------------------
# Rational approximations of Hart & Cheney (#5667, 18.7 digits): erf(x) = x P1(x^2)/Q1(x^2) for
# |x| < 0.5, and 1 - exp(-x^2) P2(|x|)/Q2(|x|) beyond (exactly 1 from |x| = 10 on).

_P1 = (0.804373630960840172832162e5, 0.740407142710151470082064e4, 0.301782788536507577809226e4,
       0.380140318123903008244444e2, 0.143383842191748205576712e2, -.288805137207594084924010e0,
       0.007547728033418631287834e0)
_Q1 = (0.804373630960840172826266e5, 0.342165257924628539769006e5, 0.637960017324428279487120e4,
       0.658070155459240506326937e3, 0.380190713951939403753468e2, 1.0)
_P2 = (0.18263348842295112592168999e4, 0.28980293292167655611275846e4,
       0.2320439590251635247384768711e4, 0.1143262070703886173606073338e4,
       0.3685196154710010637133875746e3, 0.7708161730368428609781633646e2,
       0.9675807882987265400604202961e1, 0.5641877825507397413087057563e0)
_Q2 = (0.18263348842295112595576438e4, 0.495882756472114071495438422e4,
       0.60895424232724435504633068e4, 0.4429612803883682726711528526e4,
       0.2094384367789539593790281779e4, 0.6617361207107653469211984771e3,
       0.1371255960500622202878443578e3, 0.1714980943627607849376131193e2, 1.0)
_TWO_OVER_SQRT_PI = 1.1283791670955125738961589031


def _poly(xp, coef, z):
    r = xp.full_like(z, coef[-1])
    for c in coef[-2::-1]:
        r *= z
        r += c
    return r


def erf(xp, x):
    """The error function of a float array (its own dtype), to ~1 ulp in float64."""
    x = xp.clip(x, -10, 10)
    a = xp.abs(x)
    z = x * x
    small = x * _TWO_OVER_SQRT_PI * _poly(xp, _P1, z) / _poly(xp, _Q1, z)
    big = 1 - xp.exp(-z) * _poly(xp, _P2, a) / _poly(xp, _Q2, a)
    return xp.where(a < 0.5, small, xp.copysign(big, x))


# -- gelu -----------------------------------------------------------------------------------------

_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K_BETA = math.sqrt(2 / math.pi)
_K_KAPPA = 0.044715


def _gelu(xp, x, approximate="none"):
    if approximate == "tanh":
        inner = _K_BETA * (x + _K_KAPPA * x * x * x)
        return 0.5 * x * (1 + xp.tanh(inner))
    return x * 0.5 * (1 + erf(xp, x * x.dtype.type(_SQRT1_2)))


def _gelu_grad(xp, x, approximate="none"):
    """d gelu / dx."""
    if approximate == "tanh":
        x2 = x * x
        t = xp.tanh(_K_BETA * (x + _K_KAPPA * x2 * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_K_BETA * (1 + 3 * _K_KAPPA * x2))
    cdf = 0.5 * (1 + erf(xp, x * x.dtype.type(_SQRT1_2)))
    return cdf + x * xp.exp(-0.5 * x * x) * x.dtype.type(_INV_SQRT_2PI)


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. (got "
                           f"{approximate!r})")


def _gelu_impl(xp, x, approximate="none"):
    _check_approximate(approximate)
    return _float_act("GeluKernelImpl", _gelu)(xp, x, approximate=approximate)


def _gelu_backward_impl(xp, g, x, approximate="none"):
    check_floating("GeluBackwardKernelImpl", x)
    y = x.astype(np.float32) if x.dtype in _HALF else x
    d = _blocked(xp, _gelu_grad, y, approximate=approximate)
    return (g * d).astype(x.dtype, copy=False)


def _gelu_second(x, approximate):
    """d^2 gelu / dx^2, in ember ops."""
    if approximate == "tanh":
        x2 = x * x
        t = (_K_BETA * (x + _K_KAPPA * x2 * x)).tanh()
        du = _K_BETA * (1 + 3 * _K_KAPPA * x2)
        return (1 - t * t) * (du + 0.5 * x * (6 * _K_BETA * _K_KAPPA * x - 2 * t * du * du))
    return (-0.5 * x * x).exp() * _INV_SQRT_2PI * (2 - x * x)


GELU_BACKWARD = register(
    "gelu_backward", _gelu_backward_impl, save=(0, 1),
    vjp=lambda c, gg: (
        GELU_BACKWARD(gg, c.inputs[1], **c.params) if c.needs_input_grad[0] else None,
        gg * c.inputs[0] * _gelu_second(c.inputs[1], c.params.get("approximate", "none"))
        if c.needs_input_grad[1] else None))
register("gelu", _gelu_impl, save=(0,),
         vjp=lambda c, g: (GELU_BACKWARD(g, c.inputs[0], **c.params),))


# -- the rest -------------------------------------------------------------------------------------

def _elu(xp, x, alpha=1.0, scale=1.0, input_scale=1.0):
    neg = xp.expm1(xp.minimum(x, 0) * x.dtype.type(input_scale)) * x.dtype.type(alpha * scale)
    return xp.where(x > 0, x * x.dtype.type(scale), neg)


def _elu_vjp(c, g):
    (x,), out = c.inputs, c.out
    p = c.params
    a, s, i = p.get("alpha", 1.0), p.get("scale", 1.0), p.get("input_scale", 1.0)
    # for x <= 0: d/dx alpha*scale*(exp(i x) - 1) = i * (out + alpha*scale)
    return ((g * s).where(x > 0, g * i * (out + a * s)),)


def _softplus(xp, x, beta=1.0, threshold=20.0):
    bx = x * x.dtype.type(beta)
    with np.errstate(over="ignore"):
        soft = xp.log1p(xp.exp(bx)) / x.dtype.type(beta)
    return xp.where(bx > threshold, x, soft)


def _softplus_vjp(c, g):
    (x,) = c.inputs
    b, t = c.params.get("beta", 1.0), c.params.get("threshold", 20.0)
    bx = x * b
    return (g.where(bx > t, g * bx.sigmoid()),)


SOFTPLUS = register("softplus", _float_act("softplus_cpu", _softplus), save=(0,),
                    vjp=_softplus_vjp)


def _mish(xp, x):
    with np.errstate(over="ignore"):
        return x * xp.tanh(xp.log1p(xp.exp(x)))


def _mish_vjp(c, g):
    (x,) = c.inputs
    t = SOFTPLUS(x).tanh()
    return (g * (t + x * x.sigmoid() * (1 - t * t)),)


def _silu(xp, x):
    with np.errstate(over="ignore"):
        return x / (1 + xp.exp(-x))


def _silu_vjp(c, g):
    (x,) = c.inputs
    s = x.sigmoid()
    return (g * s * (1 + x * (1 - s)),)


def _leaky_relu(xp, x, negative_slope=0.01):
    return xp.where(x > 0, x, x * x.dtype.type(negative_slope))


def _log_sigmoid(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _hardsigmoid(xp, x):
    return xp.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1)


def _hardswish(xp, x):
    return x * xp.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)


def _hardswish_vjp(c, g):
    (x,) = c.inputs
    mid = g * (x / 3 + 0.5)
    return (g.where(x > 3, mid).masked_fill(x < -3, 0),)


def _softshrink(xp, x, lambd=0.5):
    lam = x.dtype.type(lambd)
    return xp.where(x > lam, x - lam, xp.where(x < -lam, x + lam, xp.zeros_like(x)))


def _hardshrink(xp, x, lambd=0.5):
    return xp.where((x >= -lambd) & (x <= lambd), xp.zeros_like(x), x)


def _shrink_vjp(c, g):
    (x,) = c.inputs
    lam = c.params.get("lambd", 0.5)
    return (g * ((x < -lam) | (x > lam)),)


def _softshrink_impl(xp, x, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _float_act("softshrink_cpu", _softshrink)(xp, x, lambd=lambd)


_UNARY = {
    # name: (kernel name for dtype errors, forward, save, vjp)
    "leaky_relu": ("leaky_relu_cpu", _leaky_relu, (0,), lambda c, g: (
        g.where(c.inputs[0] > 0, g * c.params.get("negative_slope", 0.01)),)),
    "elu": ("elu_cpu", _elu, (0, "out"), _elu_vjp),
    "silu": ("silu_cpu", _silu, (0,), _silu_vjp),
    "mish": ("mish_cpu", _mish, (0,), _mish_vjp),
    "log_sigmoid": ("log_sigmoid_cpu", _log_sigmoid, (0,),
                    lambda c, g: (g * (-c.inputs[0]).sigmoid(),)),
    "hardsigmoid": ("hardsigmoid_cpu", _hardsigmoid, (0,), lambda c, g: (
        g * ((c.inputs[0] > -3) & (c.inputs[0] < 3)) / 6,)),
    "hardswish": ("hardswish_cpu", _hardswish, (0,), _hardswish_vjp),
    "hardshrink": ("hardshrink_cpu", _hardshrink, (0,), _shrink_vjp),
}
for _name, (_kernel, _fn, _save, _vjp) in _UNARY.items():
    register(_name, _float_act(_kernel, _fn), save=_save, vjp=_vjp)
register("softshrink", _softshrink_impl, save=(0,), vjp=_shrink_vjp)


def _hardtanh(xp, x, min_val=-1.0, max_val=1.0):
    if x.dtype == np.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if x.dtype == np.uint8 and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    if is_floating(x):
        return xp.minimum(xp.maximum(x, x.dtype.type(min_val)), x.dtype.type(max_val))
    return xp.clip(x, math.ceil(min_val), math.floor(max_val)).astype(x.dtype)


register("hardtanh", _hardtanh, save=(0,), vjp=lambda c, g: (
    g * ((c.inputs[0] > c.params.get("min_val", -1.0)) &
         (c.inputs[0] < c.params.get("max_val", 1.0))),))


def _threshold(xp, x, threshold, value):
    if x.dtype == np.bool_:
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    v = np.asarray(value).astype(x.dtype)
    return xp.where(x <= threshold, v, x)


register("threshold", _threshold, save=(0,),
         vjp=lambda c, g: (g * (c.inputs[0] > c.inputs[1]), None, None))
