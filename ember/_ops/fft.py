"""Discrete Fourier transforms (the ops behind ember.fft).

# NOTE [ FFT primitives ]
As in PyTorch, every public transform (``ember.fft.*``) is a composite over three primitives,
so that their gradients follow PyTorch's conventions exactly:

- ``_fft_c2c(x, dim, normalization, forward)``: complex to complex over ``dim``;
- ``_fft_r2c(x, dim, normalization, onesided)``: real to complex (a forward transform; only
  the non-redundant half of the last dim when ``onesided``);
- ``_fft_c2r(x, dim, normalization, last_dim_size)``: a Hermitian half-spectrum to a real
  signal (an inverse transform), ``last_dim_size`` long in the last dim.

``normalization`` is PyTorch's integer: 0 none, 1 by 1/sqrt(n), 2 by 1/n (n the signal size
over ``dim``). The public functions resize (crop or zero-pad) their input first with ordinary
ops, so the primitives never resize. NumPy's pocketfft computes all three.

Backward, as PyTorch derives it: c2c's is the c2c of the other direction; r2c's zero-fills the
missing half, transforms back and keeps the real part; c2r's is the r2c of the gradient with
the entries whose mirror image lies outside the half-spectrum doubled.
"""

from __future__ import annotations

from .registry import REGISTRY as R
from .registry import register

# (normalization, forward) -> NumPy's norm, which names the direction that is scaled
_NP_NORM = {(0, True): "backward", (1, True): "ortho", (2, True): "forward",
            (0, False): "forward", (1, False): "ortho", (2, False): "backward"}


def _c2c(xp, x, dim, normalization, forward):
    if not dim:
        return x.copy()
    f = xp.fft.fftn if forward else xp.fft.ifftn
    return f(x, axes=dim, norm=_NP_NORM[normalization, forward])


def _r2c(xp, x, dim, normalization, onesided):
    norm = _NP_NORM[normalization, True]
    if onesided:
        return xp.fft.rfftn(x, axes=dim, norm=norm)
    return xp.fft.fftn(x, axes=dim, norm=norm)


def _c2r(xp, x, dim, normalization, last_dim_size):
    s = [x.shape[d] for d in dim[:-1]] + [last_dim_size]
    return xp.fft.irfftn(x, s=s, axes=dim, norm=_NP_NORM[normalization, False])


def _c2c_vjp(ctx, g):
    p = ctx.params
    return (fft_c2c(g, p["dim"], p["normalization"], not p["forward"]),)


def _r2c_vjp(ctx, g):
    p = ctx.params
    dim = p["dim"]
    if p["onesided"]:
        last = dim[-1]
        missing = ctx.in_meta[0][0][last] - g.shape[last]
        if missing > 0:
            shape = list(g.shape)
            shape[last] = missing
            g = R["cat"](g, g.new_zeros(shape), dim=last)
    return (fft_c2c(g, dim, p["normalization"], False).real,)


def _c2r_vjp(ctx, g):
    p = ctx.params
    dim = p["dim"]
    gi = fft_r2c(g, dim, p["normalization"], True)
    last = dim[-1]
    half = gi.shape[last]
    double = g.shape[last] - half
    if double > 0:
        # the entries whose mirror image (n - k) lies outside the half-spectrum count twice
        w = g.new_ones(half)
        w[1:1 + double] = 2
        gi = gi * w.reshape([half] + [1] * (g.ndim - 1 - last))
    return (gi,)


_C2C = register("_fft_c2c", _c2c, vjp=_c2c_vjp, backward_name="FftC2CBackward0")
_R2C = register("_fft_r2c", _r2c, vjp=_r2c_vjp, backward_name="FftR2CBackward0")
_C2R = register("_fft_c2r", _c2r, vjp=_c2r_vjp, backward_name="FftC2RBackward0")


def fft_c2c(x, dim, normalization: int, forward: bool):
    return _C2C(x, dim=tuple(dim), normalization=normalization, forward=forward)


def fft_r2c(x, dim, normalization: int, onesided: bool):
    return _R2C(x, dim=tuple(dim), normalization=normalization, onesided=onesided)


def fft_c2r(x, dim, normalization: int, last_dim_size: int):
    return _C2R(x, dim=tuple(dim), normalization=normalization, last_dim_size=last_dim_size)
