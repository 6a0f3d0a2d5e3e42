"""Activation functions of ``nn.functional`` (gelu, elu, softplus, hardtanh, ...): one registry
entry each, with the VJP in ember ops.

# NOTE [ Blocked activation kernels ]
An activation is a chain of elementwise steps (gelu's erfc is ~30 multiply-adds). NumPy runs
each step over the whole array, so a large input streams through memory once per step. On the
CPU backend an activation over a large array therefore runs in blocks that fit the cache
(``_blocked``), which measured ~3x faster than whole-array steps. Half types compute in
float32 and round once, as PyTorch's CPU kernels do.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .elementwise import opmath_vjp
from .registry import inplace_overload, register

_BF16 = _dtype.bfloat16.np
_HALF = (np.dtype(np.float16), np.dtype(_BF16))
_BLOCK = 1 << 15
_HALF_DTYPES = (_dtype.float16, _dtype.bfloat16)
_SIXTH = float(np.float32(1 / 6))  # hardsigmoid_backward's factor, a float even for double


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


# -- gelu -----------------------------------------------------------------------------------------
# NOTE [ GELU kernels ]
# ``gelu(x) = x/2 (1 + erf(x/sqrt2))`` needs erf; ``erf(|z|) = 1 - erfc(|z|)``, so one rational
# approximation of erfc serves the whole line: ``erfc(a) = exp(-a^2) P(a)/Q(a)``, with Hart &
# Cheney's #5667 in double (~1e-16 absolute on [0, 10], 0 beyond) and a shorter fit in float32.
# The op's second (internal) output is ``s = 1 + erf(z)`` (``1 + tanh(u)`` for the tanh form),
# which the backward reuses, so it needs no erf or tanh of its own:
# ``gelu' = s/2 + x phi(x)``, resp. ``s/2 + x/2 s (2 - s) u'``.

_P2 = (0.18263348842295112592168999e4, 0.28980293292167655611275846e4,
       0.2320439590251635247384768711e4, 0.1143262070703886173606073338e4,
       0.3685196154710010637133875746e3, 0.7708161730368428609781633646e2,
       0.9675807882987265400604202961e1, 0.5641877825507397413087057563e0)
_Q2 = (0.18263348842295112595576438e4, 0.495882756472114071495438422e4,
       0.60895424232724435504633068e4, 0.4429612803883682726711528526e4,
       0.2094384367789539593790281779e4, 0.6617361207107653469211984771e3,
       0.1371255960500622202878443578e3, 0.1714980943627607849376131193e2, 1.0)
# float32 (and half types): a (3, 4) rational fitted here to erfc(a) exp(a^2) on [0, 4]
# (relative error 6e-8, below float32's rounding); erfc(4) rounds 1 - erfc to 1 in float32
_P4 = (0.9999999418156355, 0.9428871850807814, 0.41538013481368496, 0.076353915991766)
_Q4 = (1.0, 2.0712615027901293, 1.7526136747955932, 0.7346108843943375, 0.1354213611486575)
_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_K_BETA = math.sqrt(2 / math.pi)
_K_KAPPA = 0.044715


def _poly(xp, coef, z):
    r = xp.full_like(z, coef[-1])
    for c in coef[-2::-1]:
        r *= z
        r += c
    return r


def _one_plus_erf(xp, z):
    wide = z.dtype == np.float64
    a = xp.minimum(xp.abs(z), 10 if wide else 4)
    e = xp.exp(-a * a)
    e *= _poly(xp, _P2 if wide else _P4, a)
    e /= _poly(xp, _Q2 if wide else _Q4, a)
    # erf(|z|) = 1 - e rounded to the dtype, so that 1 + erf(z) rounds as PyTorch's does
    t = xp.copysign(1 - e, z)
    t += 1
    return t


def _gelu(xp, x, approximate="none"):
    """``(gelu(x), s)`` (NOTE [ GELU kernels ])."""
    if approximate == "tanh":
        s = 1 + xp.tanh(_K_BETA * (x + _K_KAPPA * x * x * x))
        return 0.5 * x * s, s
    s = _one_plus_erf(xp, x * x.dtype.type(_SQRT1_2))
    return x * 0.5 * s, s


def _gelu_grad(xp, x, s, approximate="none"):
    """d gelu / dx from x and the forward's ``s``."""
    if approximate == "tanh":
        return 0.5 * s + 0.5 * x * s * (2 - s) * (_K_BETA * (1 + 3 * _K_KAPPA * x * x))
    return 0.5 * s + x * xp.exp(-0.5 * x * x) * x.dtype.type(_INV_SQRT_2PI)


def _gelu_impl(xp, x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. (got "
                           f"{approximate!r})")
    check_floating("GeluKernelImpl", x)
    xa = x.astype(np.float32) if x.dtype in _HALF else x
    if xp is np and x.size >= 4 * _BLOCK:
        flat = np.ascontiguousarray(xa).reshape(-1)
        y, s = np.empty(flat.shape, flat.dtype), np.empty(flat.shape, flat.dtype)
        for i in range(0, flat.size, _BLOCK):
            y[i:i + _BLOCK], s[i:i + _BLOCK] = _gelu(xp, flat[i:i + _BLOCK], approximate)
        y, s = y.reshape(x.shape), s.reshape(x.shape)
    else:
        y, s = _gelu(xp, xa, approximate)
    return y.astype(x.dtype, copy=False), s


def _gelu_backward_impl(xp, g, x, s, approximate="none"):
    check_floating("GeluBackwardKernelImpl", x)
    xa = x.astype(np.float32) if x.dtype in _HALF else x
    if xp is np and x.size >= 4 * _BLOCK:
        xf = np.ascontiguousarray(xa).reshape(-1)
        sf = np.ascontiguousarray(s).reshape(-1)
        d = np.empty(xf.shape, xf.dtype)
        for i in range(0, xf.size, _BLOCK):
            d[i:i + _BLOCK] = _gelu_grad(xp, xf[i:i + _BLOCK], sf[i:i + _BLOCK], approximate)
        d = d.reshape(x.shape)
    else:
        d = _gelu_grad(xp, xa, s, approximate)
    return (g * d).astype(g.dtype, copy=False)


def _gelu_second(x, approximate):
    """d^2 gelu / dx^2, in ember ops."""
    if approximate == "tanh":
        x2 = x * x
        t = (_K_BETA * (x + _K_KAPPA * x2 * x)).tanh()
        du = _K_BETA * (1 + 3 * _K_KAPPA * x2)
        return (1 - t * t) * (du + 0.5 * x * (6 * _K_BETA * _K_KAPPA * x - 2 * t * du * du))
    return (-0.5 * x * x).exp() * _INV_SQRT_2PI * (2 - x * x)


# gelu_backward(grad, x, s): s is the forward's internal output, read for its value only
GELU_BACKWARD = register(
    "gelu_backward", _gelu_backward_impl, save=(0, 1, 2),
    vjp=lambda c, gg: (
        GELU_BACKWARD(gg, c.inputs[1], c.inputs[2], **c.params)
        if c.needs_input_grad[0] else None,
        gg * c.inputs[0] * _gelu_second(c.inputs[1], c.params.get("approximate", "none"))
        if c.needs_input_grad[1] else None, None))


def _gelu_vjp(c, grads):
    g = grads[0]
    if g is None:
        return (None,)
    return (GELU_BACKWARD(g, c.inputs[0], c.out[1].detach(), **c.params),)


register("gelu", _gelu_impl, save=(0, "out"), nout=2, vjp=_gelu_vjp)


# -- the rest -------------------------------------------------------------------------------------

def _elu(xp, x, alpha=1.0, scale=1.0, input_scale=1.0):
    neg = xp.expm1(xp.minimum(x, 0) * x.dtype.type(input_scale)) * x.dtype.type(alpha * scale)
    return xp.where(x > 0, x * x.dtype.type(scale), neg)


def _elu_vjp(c, g):
    # elu_backward(is_result=False): x <= 0: g * input_scale * alpha*scale * exp(x * input_scale)
    (x,) = c.inputs
    p = c.params
    a, s, i = p.get("alpha", 1.0), p.get("scale", 1.0), p.get("input_scale", 1.0)
    return ((g * s).where(x > 0, g * i * (a * s) * (x * i).exp()),)


def _softplus(xp, x, beta=1.0, threshold=20.0):
    bx = x * x.dtype.type(beta)
    with np.errstate(over="ignore"):
        soft = xp.log1p(xp.exp(bx)) / x.dtype.type(beta)
    return xp.where(bx > threshold, x, soft)


def _softplus_vjp(c, g):
    (x,) = c.inputs
    b, t = c.params.get("beta", 1.0), c.params.get("threshold", 20.0)
    bx = x * b
    z = bx.exp()
    return (g.where(bx > t, g * z / (z + 1)),)


SOFTPLUS = register("softplus", _float_act("softplus_cpu", _softplus), save=(0,),
                    vjp=opmath_vjp(_softplus_vjp))


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
    s = 1 / (1 + (-x).exp())
    return (g * s * (1 + x * (1 - s)),)


def _leaky_relu(xp, x, negative_slope=0.01):
    return xp.where(x > 0, x, x * x.dtype.type(negative_slope))


def _log_sigmoid(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _log_sigmoid_vjp(c, g):
    # log_sigmoid_backward: 1 - r (x < 0) or r, r = b / (1 + b), from the forward's buffer
    # b = exp(-|x|) in x's dtype; half types then compute in float32 (NOTE [ Half-type
    # backward kernels ])
    (x,) = c.inputs
    b = (-x.abs()).exp()
    half = b.dtype in _HALF_DTYPES
    if half:
        b, g = b.float(), g.float()
    r = b / (1 + b)
    d = (1 - r).where(x < 0, r) * g
    return (d.to(x.dtype) if half else d,)


def _hardsigmoid(xp, x):
    return xp.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)


def _hardswish(xp, x):
    return x * xp.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)


def _hardswish_vjp(c, g):
    # hardswish_backward: 0 for x <= -3, g for x >= 3
    (x,) = c.inputs
    mid = g * (x / 3 + 0.5)
    return (g.where(x >= 3, mid).masked_fill(x <= -3, 0),)


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
    # name: (kernel name for dtype errors, forward, save, vjp); the VJPs follow PyTorch's
    # backward kernels (NOTE [ Half-type backward kernels ])
    "leaky_relu": ("leaky_relu_cpu", _leaky_relu, (0,), lambda c, g: (
        g.where(c.inputs[0] > 0, g * c.params.get("negative_slope", 0.01)),)),
    "elu": ("elu_cpu", _elu, (0,), _elu_vjp),
    "silu": ("silu_cpu", _silu, (0,), _silu_vjp),
    "mish": ("mish_cpu", _mish, (0,), _mish_vjp),
    "hardsigmoid": ("hardsigmoid_cpu", _hardsigmoid, (0,), lambda c, g: (
        (g * _SIXTH).where((c.inputs[0] > -3) & (c.inputs[0] < 3), 0),)),
    "hardswish": ("hardswish_cpu", _hardswish, (0,), _hardswish_vjp),
}
_ELU_NAMES, _CELU_NAMES = inplace_overload("Elu"), inplace_overload("Celu")
# ops whose in-place form PyTorch differentiates as its own overload (``...Backward1``); celu is
# elu with an ``input_scale`` (only ``F.celu`` passes one), named as PyTorch's own celu
_NAMES = {"leaky_relu": inplace_overload("LeakyRelu"),
          "elu": lambda node: (_CELU_NAMES if "input_scale" in node.params else _ELU_NAMES)(node)}
for _name, (_kernel, _fn, _save, _vjp) in _UNARY.items():
    register(_name, _float_act(_kernel, _fn), save=_save, vjp=opmath_vjp(_vjp),
             backward_name=_NAMES.get(_name))
register("log_sigmoid", _float_act("log_sigmoid_cpu", _log_sigmoid), save=(0,),
         vjp=_log_sigmoid_vjp)
register("hardshrink", _float_act("hardshrink_cpu", _hardshrink), save=(0,), vjp=_shrink_vjp)
register("softshrink", _softshrink_impl, save=(0,), vjp=_shrink_vjp)


def _rrelu(xp, x, noise):
    """``x * noise`` with the noise in x's opmath dtype (NOTE [ RReLU noise ])."""
    return (x.astype(noise.dtype, copy=False) * noise).astype(x.dtype, copy=False)


# rrelu(x, noise): training RReLU; the backward multiplies by the noise stored in x's dtype
register("rrelu", _rrelu, save=(1,), backward_name=inplace_overload("RreluWithNoise"),
         vjp=lambda c, g: (g * c.inputs[1].to(g.dtype), None))


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
    v = xp.asarray(value).astype(x.dtype)
    return xp.where(x <= threshold, v, x)


register("threshold", _threshold, save=(0,), backward_name=inplace_overload("Threshold"),
         vjp=lambda c, g: (g * (c.inputs[0] > c.inputs[1]), None, None))
