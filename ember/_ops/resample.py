"""Resampling ops: interpolation (``upsample_*``), grid sampling and affine grids.

# NOTE [ Separable resampling ]
Every interpolation mode of ``interpolate`` is separable: along each spatial dim an output
position reads a few input positions with weights that depend only on that dim's sizes. So
each mode reduces to one small matrix per spatial dim, ``W_d`` (``out_d x in_d``), built
from PyTorch's index and weight formulas (``aten/src/ATen/native/UpSample.h`` and the CPU
kernels), and the op is ``x`` multiplied by ``W_d`` along each dim in turn (BLAS matmuls; for
4-D input ``W_h @ x @ W_w^T``). The backward is the same with ``W_d^T``, written in ember ops
(matmuls with constant matrices), so it is differentiable again. Nearest modes are gathers
(``take`` along each dim) and their backward is ``index_add``.

Weights are computed in the dtype PyTorch's kernels use (float32 for float32 and half
inputs, float64 for float64), so that index choices that depend on rounding (nearest,
truncated ranges) are PyTorch's. Half inputs compute in float32 and round once.

# NOTE [ Grid sampling ]
``grid_sampler`` reads, for each output point, a few taps per spatial axis (1 nearest, 2
bilinear, 4 bicubic) and multiplies the per-axis tap weights. ``_taps`` computes, from the
grid's values, each axis's tap indices, in-bounds masks, the fractional coordinate ``t`` and
its slope ``dt/dgrid`` (the unnormalisation factor times the border/reflection multiplier,
as PyTorch's ``*_set_grad`` helpers compute it). The forward gathers in NumPy. The backward
rebuilds ``t`` as ``grid * slope + offset`` in ember ops, so the tap weights (polynomials of
``t``) are differentiable in the grid, and is then: the gradient of the input a scatter-add
(``put`` with accumulate) of ``grad * weight``, that of the grid a sum of ``grad * value *
dweight/dt * slope``. ``take``/``put`` differentiate into each other, so double backward
comes from autograd.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import _make
from ..backends import _BY_ARRAY_TYPE
from .index_ops import INDEX_ADD, PUT, TAKE
from .registry import REGISTRY as R
from .registry import register

_F32 = np.float32
_HALF = (_dtype.float16.np, _dtype.bfloat16.np)


def _const(like, array):
    """A constant tensor on ``like``'s backend."""
    return _make(_BY_ARRAY_TYPE[type(like._data)].xp.asarray(array))


def _not_implemented(kernel: str, x):
    return NotImplementedError(
        f"\"{kernel}\" not implemented for '{_dtype.FROM_NP[x.dtype].word}'")


def _compute_dtype(kernel: str, x):
    """The dtype a kernel computes in: float32 for half types, else the input's float dtype."""
    if x.dtype in _HALF:
        return _F32
    if x.dtype.kind == "f":
        return x.dtype.type
    raise _not_implemented(kernel, x)


# -- per-dim index and weight rules (PyTorch's UpSample.h) ---------------------------------------

def _scales_value(scale, n_in: int, n_out: int, ct):
    """``compute_scales_value``: 1 / the given scale, else in / out."""
    return ct(1.0 / scale) if scale is not None and scale > 0 else ct(n_in) / ct(n_out)


def _pixel_scale(n_in: int, n_out: int, align_corners: bool, scale, ct):
    """``area_pixel_compute_scale``."""
    if align_corners:
        return ct(n_in - 1) / ct(n_out - 1) if n_out > 1 else ct(0)
    return _scales_value(scale, n_in, n_out, ct)


def _source_index(scale, n_out: int, align_corners: bool, cubic: bool, ct):
    """``area_pixel_compute_source_index`` for every output index."""
    i = np.arange(n_out, dtype=ct)
    if align_corners:
        return scale * i
    src = scale * (i + ct(0.5)) - ct(0.5)
    return src if cubic else np.maximum(src, ct(0))


def _guard(src, n_in: int):
    """``guard_index_and_lambda``: the first tap and the fraction, both kept in range."""
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    return i0, np.clip(src - i0.astype(src.dtype), 0, 1).astype(src.dtype)


def _matrix(n_out: int, n_in: int, index, weight, ct):
    """The ``n_out x n_in`` matrix with ``weight[k, i]`` added at ``(i, index[k, i])``."""
    w = np.zeros((n_out, n_in), ct)
    rows = np.broadcast_to(np.arange(n_out), index.shape)
    np.add.at(w, (rows, index), weight.astype(ct))
    return w


def nearest_index(n_in: int, n_out: int, scale, exact: bool, shortcut: bool = False):
    """Source index of each output index for 'nearest' (PyTorch's, OpenCV's rounding down of
    ``i * scale``) and 'nearest-exact' (``(i + 0.5) * scale``, as Pillow); float32 math.
    With ``shortcut`` (PyTorch's ``nearest_idx``, used by the 2-D forward kernel and every
    backward kernel of 'nearest') a dim whose size is kept is copied and one whose size
    doubles halves the index, whatever the scale factor."""
    i = np.arange(n_out)
    if shortcut and not exact and n_out in (n_in, 2 * n_in):
        return i if n_out == n_in else i >> 1
    s = _scales_value(scale, n_in, n_out, _F32)
    src = ((i + 0.5) * np.float64(s)).astype(_F32) if exact else i.astype(_F32) * s
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1)


def linear_weights(n_in, n_out, align_corners, scale, ct):
    if n_in == n_out:
        return np.eye(n_in, dtype=ct)
    s = _pixel_scale(n_in, n_out, align_corners, scale, ct)
    i0, lam = _guard(_source_index(s, n_out, align_corners, False, ct), n_in)
    i1 = i0 + (i0 < n_in - 1)
    return _matrix(n_out, n_in, np.stack([i0, i1]), np.stack([1 - lam, lam]), ct)


_A = -0.75  # the cubic convolution constant of upsample_bicubic2d and grid_sampler


def _cc1(x, a, k=float):
    return (k(a + 2) * x - k(a + 3)) * x * x + 1


def _cc2(x, a, k=float):
    return ((k(a) * x - k(5 * a)) * x + k(8 * a)) * x - k(4 * a)


def _dcc1(x, a, k=float):
    return (k(3 * (a + 2)) * x - k(2 * (a + 3))) * x


def _dcc2(x, a, k=float):
    return (k(3 * a) * x - k(10 * a)) * x + k(8 * a)


def _scalar_type(t):
    # constants of an array's own type: NumPy promotes bfloat16 with a Python float to float32
    return t.dtype.type if isinstance(t, np.ndarray) else float


def cubic_coefficients(t, a=_A):
    """The 4 tap weights at fraction ``t`` (arrays or ember tensors)."""
    k = _scalar_type(t)
    return [_cc2(t + 1, a, k), _cc1(t, a, k), _cc1(1 - t, a, k), _cc2(2 - t, a, k)]


def _cubic_derivatives(t, a=_A):
    k = _scalar_type(t)
    return [_dcc2(t + 1, a, k), _dcc1(t, a, k), -_dcc1(1 - t, a, k), -_dcc2(2 - t, a, k)]


def cubic_grad_weights(n_in, n_out, align_corners, scale, ct):
    """The backward kernel's: it copies a dim whose size does not change (the forward does
    not)."""
    if n_in == n_out:
        return np.eye(n_in, dtype=ct)
    return cubic_weights(n_in, n_out, align_corners, scale, ct)


def cubic_weights(n_in, n_out, align_corners, scale, ct):
    s = _pixel_scale(n_in, n_out, align_corners, scale, ct)
    i0, t = _guard(_source_index(s, n_out, align_corners, True, ct), n_in)
    index = np.clip(i0 + np.arange(-1, 3)[:, None], 0, n_in - 1)
    return _matrix(n_out, n_in, index, np.stack(cubic_coefficients(t)), ct)


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0)


def _keys(x):
    # the antialiasing bicubic filter uses a = -0.5 (Keys), not upsample_bicubic2d's -0.75
    x = np.abs(x)
    return np.where(x < 1, _cc1(x, -0.5), np.where(x < 2, _cc2(x, -0.5), 0))


def _lanczos(x):
    # Lanczos-3: sinc(x) sinc(x / 3) on (-3, 3)
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0)


def _aa_weights(interp_size: int, kernel, skip_same_size=True):
    """Antialiased weights (``_compute_indices_min_size_weights_aa``): the filter is
    stretched by the downscaling factor and each row normalised to sum 1. The forward kernel
    copies a dim whose size does not change (even with a scale factor); the backward kernel
    does not (``skip_same_size=False``)."""
    def weights(n_in, n_out, align_corners, scale, ct):
        if n_in == n_out and skip_same_size:
            return np.eye(n_in, dtype=ct)
        s = _pixel_scale(n_in, n_out, align_corners, scale, ct)
        support = ct(interp_size * 0.5) * s if s >= 1 else ct(interp_size * 0.5)
        max_size = int(np.ceil(support)) * 2 + 1
        invscale = ct(1.0) / s if s >= 1 else ct(1.0)
        center = (s * (np.arange(n_out) + 0.5)).astype(ct)
        xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
        xsize = np.minimum((center + support + 0.5).astype(np.int64), n_in) - xmin
        xsize = np.clip(xsize, 0, max_size)
        j = np.arange(max_size)[:, None]
        w = kernel(((j + xmin - center) + 0.5).astype(ct) * invscale).astype(ct)
        w = np.where(j < xsize, w, ct(0))
        total = w.sum(axis=0)
        w = np.where(total != 0, w / np.where(total != 0, total, ct(1)), w)
        return _matrix(n_out, n_in, np.minimum(xmin + j, n_in - 1), w, ct)
    return weights


def area_weights(n_in, n_out, align_corners, scale, ct):
    """Adaptive average pooling: output ``i`` averages ``[floor(i*in/out), ceil((i+1)*in/out))``."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    j = np.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(ct)


# -- interpolation ops -----------------------------------------------------------------------------

def _along(xp, x, w, axis: int):
    """``x`` multiplied by the matrix ``w`` (``out x in``) along ``axis``."""
    if axis == x.ndim - 1:
        return xp.matmul(x, w.T)
    return xp.moveaxis(xp.matmul(w, xp.moveaxis(x, axis, -2)), -2, axis)


def _check_sizes(x, output_size, kernel=""):
    """``upsample_{1,2,3}d_common_check``: non-empty sizes (an empty batch is allowed)."""
    nd = len(output_size)
    names = "DHW"[3 - nd:]
    ins = x.shape[2:]
    if min(ins) <= 0 or min(output_size) <= 0:
        inp = ", ".join(f"{n}: {s}" for n, s in zip(names, ins))
        out = ", ".join(f"{n}: {s}" for n, s in zip(names, output_size))
        sep = " and output" if nd == 1 else " output"
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({inp}){sep} "
            f"({out})")
    if x.size == 0 and x.shape[0] != 0 or x.ndim != nd + 2:
        raise RuntimeError(f"Non-empty {nd + 2}D data tensor expected but got a tensor with "
                           f"sizes {list(x.shape)}")


def _separable(name: str, kernel, weights, backward, check=_check_sizes, grad_check=None,
               grad_weights=None, half_ok=True, uint8_in_pytorch=False):
    """A registry op resampling with one weight matrix per spatial dim (NOTE [ Separable
    resampling ]); ``kernel(nd)`` is PyTorch's kernel name (for errors), ``backward(nd)`` its
    backward node's name, ``check``/``grad_check`` its shape checks of the input and of the
    output gradient, ``grad_weights`` the backward kernel's weights where they differ.
    ``uint8_in_pytorch``: PyTorch has a uint8 kernel for the 2-D op (fixed-point weights,
    rounding between passes), which ember does not reproduce."""

    def mats(x_shape, output_size, scales, align_corners, ct, fn=weights):
        return [fn(n_in, n_out, align_corners, s, ct)
                for n_in, n_out, s in zip(x_shape[2:], output_size, scales)]

    def impl(xp, x, output_size, scales, align_corners=False):
        nd = len(output_size)
        if not half_ok and x.dtype in _HALF:
            raise _not_implemented(kernel(nd), x)
        if uint8_in_pytorch and nd == 2 and x.dtype == np.uint8:
            raise NotImplementedError(
                "uint8 input is not supported in ember (PyTorch's fixed-point uint8 kernel is "
                "not reproduced); convert the input to a float dtype first")
        ct = _compute_dtype(kernel(nd), x)
        check(x, output_size, kernel(nd))
        y = x.astype(ct, copy=False)
        for d, w in enumerate(mats(x.shape, output_size, scales, align_corners, ct)):
            if w.shape[0] != w.shape[1] or not _is_eye(w):
                y = _along(xp, y, xp.asarray(w), 2 + d)
        return y.astype(x.dtype) if y.dtype != x.dtype else (y if y is not x else y.copy())

    def vjp(c, g):
        p = c.params
        shape = c.in_meta[0][0]
        if grad_check is not None:
            grad_check(g._data, p["output_size"], kernel(len(shape) - 2) + "_backward")
        acc = _F32 if g._data.dtype in _HALF else g._data.dtype.type
        gi = g.to(_dtype.FROM_NP[np.dtype(acc)]) if acc is not g._data.dtype.type else g
        ws = mats(shape, p["output_size"], p["scales"], p.get("align_corners", False), acc,
                  grad_weights or weights)
        for d, w in enumerate(ws):
            if w.shape[0] == w.shape[1] and _is_eye(w):
                continue
            wt = _const(g, w)
            axis = 2 + d
            gi = (gi.movedim(axis, -1) @ wt).movedim(-1, axis)
        return (gi.to(g.dtype) if gi.dtype is not g.dtype else gi),

    def node_name(node):
        return backward(len(node.params["output_size"]))

    return register(name, impl, vjp=vjp, backward_name=node_name)


def _check_pool_input(x, output_size, kernel):
    """``adaptive_avg_pool{2,3}d``'s check: every non-batch dim non-empty (the 2-D pool
    allows no channels)."""
    what = "grad_output" if kernel.endswith("_backward") else "input"
    shape = list(x.shape)
    for i in range(2 if len(shape) == 4 else 1, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(
                f"{kernel}(): Expected {what} to have non-zero size for non-batch dimensions, "
                f"but {what} has sizes {shape} with dimension {i} being empty")


def _is_eye(w) -> bool:
    return bool(np.array_equal(w, np.eye(w.shape[0], dtype=w.dtype)))


_LINEAR = {1: "linear1d", 2: "bilinear2d", 3: "trilinear3d"}

UPSAMPLE_LINEAR = _separable(
    "upsample_linear", lambda nd: f"upsample_{_LINEAR[nd]}", linear_weights,
    lambda nd: f"Upsample{_LINEAR[nd].capitalize()[:-1]}DBackward0", uint8_in_pytorch=True)
UPSAMPLE_BICUBIC = _separable(
    "upsample_bicubic", lambda nd: "upsample_bicubic2d", cubic_weights,
    lambda nd: "UpsampleBicubic2DBackward0", grad_weights=cubic_grad_weights,
    uint8_in_pytorch=True)
UPSAMPLE_BILINEAR_AA = _separable(
    "upsample_bilinear_aa", lambda nd: "compute_index_ranges_weights",
    _aa_weights(2, _triangle), lambda nd: "UpsampleBilinear2DAaBackward0",
    grad_weights=_aa_weights(2, _triangle, skip_same_size=False), half_ok=False,
    uint8_in_pytorch=True)
UPSAMPLE_BICUBIC_AA = _separable(
    "upsample_bicubic_aa", lambda nd: "compute_index_ranges_weights", _aa_weights(4, _keys),
    lambda nd: "UpsampleBicubic2DAaBackward0",
    grad_weights=_aa_weights(4, _keys, skip_same_size=False), half_ok=False,
    uint8_in_pytorch=True)
UPSAMPLE_LANCZOS_AA = _separable(
    "upsample_lanczos_aa", lambda nd: "compute_index_ranges_weights", _aa_weights(6, _lanczos),
    lambda nd: "UpsampleLanczos2DAaBackward0",
    grad_weights=_aa_weights(6, _lanczos, skip_same_size=False), half_ok=False,
    uint8_in_pytorch=True)
UPSAMPLE_AREA = _separable(
    "upsample_area", lambda nd: f"adaptive_avg_pool{nd}d", area_weights,
    lambda nd: f"AdaptiveAvgPool{nd}DBackward0", check=_check_pool_input,
    grad_check=_check_pool_input)


def _nearest(xp, x, output_size, scales, exact=False):
    nd = len(output_size)
    kernel = f"{'_' if exact else ''}upsample_nearest{'_exact' if exact else ''}{nd}d"
    if x.dtype != np.uint8 and x.dtype.kind != "f" and x.dtype not in _HALF:
        raise _not_implemented(kernel, x)
    _check_sizes(x, output_size)
    y = x
    for d, (n_in, n_out, s) in enumerate(zip(x.shape[2:], output_size, scales)):
        y = xp.take(y, xp.asarray(nearest_index(n_in, n_out, s, exact, nd == 2)), axis=2 + d)
    return y if y is not x else y.copy()


def _nearest_vjp(c, g):
    p = c.params
    shape = c.in_meta[0][0]
    exact = p.get("exact", False)
    for d, (n_in, n_out, s) in enumerate(zip(shape[2:], p["output_size"], p["scales"])):
        axis = 2 + d
        zshape = list(g.shape)
        zshape[axis] = n_in
        index = _const(g, nearest_index(n_in, n_out, s, exact, shortcut=True))
        g = INDEX_ADD(g.new_zeros(zshape), index, g, dim=axis)
    return g,


UPSAMPLE_NEAREST = register(
    "upsample_nearest", _nearest, vjp=_nearest_vjp, backward_name=lambda node: (
        f"UpsampleNearest{'Exact' if node.params.get('exact') else ''}"
        f"{len(node.params['output_size'])}DBackward0"))


# -- grid sampling ---------------------------------------------------------------------------------

def _unnormalize(coord, size: int, align_corners: bool, vectorized: bool):
    """Grid coordinate in [-1, 1] -> pixel coordinate, and its slope, in the operation order
    of PyTorch's vectorised 2-D kernel or of its scalar 3-D one (they round differently)."""
    one = coord.dtype.type(1)
    if vectorized:
        slope = coord.dtype.type((size - 1) / 2 if align_corners else size / 2)
        c = (coord + one) * slope
        return (c if align_corners else c - coord.dtype.type(0.5)), slope
    if align_corners:
        return (coord + one) / 2 * (size - 1), coord.dtype.type((size - 1) / 2)
    return ((coord + one) * size - one) / 2, coord.dtype.type(size / 2)


def _clip(xp, c, size: int):
    """Border padding (``clip_coordinates_set_grad``): the clipped coordinate and the slope
    factor (0 at or past the borders). NaN clips to 0, as in PyTorch."""
    k = c.dtype.type
    return xp.minimum(xp.fmax(c, k(0)), k(size - 1)), ((c > 0) & (c < size - 1)).astype(k)


def _reflect(xp, c, twice_low: int, twice_high: int):
    """``reflect_coordinates_set_grad``: the coordinate reflected into the span, and the slope
    factor (+1 or -1)."""
    if twice_low == twice_high:
        return xp.zeros_like(c), xp.zeros_like(c)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = c - c.dtype.type(lo)
    sign = xp.where(c < 0, -1, 1).astype(c.dtype)
    c = xp.abs(c)
    extra = xp.fmod(c, c.dtype.type(span))
    even = xp.floor(c / c.dtype.type(span)) % 2 == 0
    out = xp.where(even, extra + c.dtype.type(lo), c.dtype.type(span) - extra + c.dtype.type(lo))
    return out.astype(c.dtype), xp.where(even, sign, -sign)


def _pad(xp, c, size: int, padding: str, align_corners: bool):
    """``compute_coordinates``: a pixel coordinate under a padding mode, and its slope."""
    if padding == "border":
        return _clip(xp, c, size)
    if padding == "reflection":
        c, m = (_reflect(xp, c, 0, 2 * (size - 1)) if align_corners else
                 _reflect(xp, c, -1, 2 * size - 1))
        c, m2 = _clip(xp, c, size)
        return c, m * m2
    return c, xp.ones_like(c)


def _taps(xp, grid, sizes, mode: str, padding: str, align_corners: bool):
    """Per spatial axis (in grid order x, y[, z], i.e. from the last input dim): the tap
    indices (a list of int arrays), their in-bounds masks, the fraction ``t`` and the slope
    ``dt/dgrid`` (NOTE [ Grid sampling ])."""
    out = []
    for a, size in enumerate(sizes):
        c, slope = _unnormalize(grid[..., a], size, align_corners, len(sizes) == 2)
        if mode == "bicubic":  # padding applies per tap
            i0 = xp.floor(c)
            t = c - i0
            idx, masks = [], []
            for k in range(-1, 3):
                p, _ = _pad(xp, i0 + k, size, padding, align_corners)
                idx.append(p.astype(np.int64))
                masks.append((p >= 0) & (p < size))
            out.append((idx, masks, t, xp.full_like(c, slope)))
            continue
        c, m = _pad(xp, c, size, padding, align_corners)
        if mode == "nearest":
            i = xp.rint(c)
            out.append(([xp.clip(i, -1, size).astype(np.int64)], [(i >= 0) & (i < size)],
                        xp.zeros_like(c), xp.zeros_like(c)))
            continue
        i0 = xp.floor(c)
        idx = [i0, i0 + 1]
        out.append(([xp.clip(i, -1, size).astype(np.int64) for i in idx],
                    [(i >= 0) & (i < size) for i in idx], c - i0, m * slope))
    return out


def _tap_weights(mode: str, t):
    if mode == "bilinear":
        return [1 - t, t]
    if mode == "bicubic":
        return cubic_coefficients(t)
    return [t * 0 + 1]


def _tap_derivatives(mode: str, t):
    if mode == "bilinear":
        return [t * 0 - 1, t * 0 + 1]
    if mode == "bicubic":
        return _cubic_derivatives(t)
    return [t * 0]


def _combine(xp, taps, strides):
    """Flat spatial indices (T, N, *out) and masks of all tap combinations, axis 0 varying
    slowest in the order (z, y, x) of the input's dims."""
    flat, mask = None, None
    for (idx, masks, _, _), stride in reversed(list(zip(taps, strides))):
        f = xp.stack([xp.where(m, i, 0) * stride for i, m in zip(idx, masks)])
        m = xp.stack(masks)
        if flat is None:
            flat, mask = f, m
        else:
            flat = (flat[:, None] + f[None]).reshape((-1,) + f.shape[1:])
            mask = (mask[:, None] & m[None]).reshape((-1,) + m.shape[1:])
    return flat, mask


def _combined_weights(ws):
    """Products of per-axis tap weights (lists over taps, given in x, y, z order) in
    ``_combine``'s order."""
    out = None
    for w in reversed(ws):
        out = list(w) if out is None else [a * b for a in out for b in w]
    return out


def _check_grid(x, grid, mode: str):
    """PyTorch's checks, in its order (``check_grid_sampler_common``, then the 2-D or 3-D
    kernel's)."""
    nd = x.ndim
    if x.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {list(x.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != nd - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {nd - 2} in last dimension, but got "
            f"grid with sizes {list(grid.shape)}")
    for i in range(2, nd):
        if x.shape[i] <= 0:
            raise RuntimeError(
                f"grid_sampler(): expected input to have non-empty spatial dimensions, but "
                f"input has sizes {list(x.shape)} with dimension {i} being empty")
    want = 4 if nd == 4 else 5
    if nd != want or grid.ndim != nd:
        raise RuntimeError(
            f"grid_sampler(): expected {want}D input and grid with same number of dimensions, "
            f"but got input with sizes {list(x.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and nd == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype.kind != "f" and x.dtype not in _HALF:
        raise _not_implemented(f"grid_sampler_{nd - 2}d_cpu_kernel_impl", x)
    if x.dtype != grid.dtype:
        raise RuntimeError(
            f"expected scalar type {_dtype.FROM_NP[x.dtype].word} but found "
            f"{_dtype.FROM_NP[grid.dtype].word}")


def _grid_sampler(xp, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    _check_grid(x, grid, mode)
    n, ch = x.shape[:2]
    sizes = x.shape[2:][::-1]  # grid order: x (width), y (height), z (depth)
    out_shape = grid.shape[1:-1]
    if x.size == 0 or grid.size == 0:
        return xp.zeros((n, ch) + out_shape, x.dtype)
    # in the input's dtype, half types too: PyTorch's kernels round every operation to it
    taps = _taps(xp, grid, sizes, mode, padding_mode, align_corners)
    flat, mask = _combine(xp, taps, np.cumprod((1,) + sizes[:-1]).tolist())
    t_count = flat.shape[0]
    src = x.reshape(n, ch, -1)
    idx = flat.reshape(t_count, n, -1).transpose(1, 0, 2).reshape(n, 1, -1)
    vals = xp.take_along_axis(src, idx, axis=2).reshape(n, ch, t_count, -1)
    vals = xp.where(mask.reshape(t_count, n, -1).transpose(1, 0, 2)[:, None], vals,
                    x.dtype.type(0))
    ws = [_tap_weights(mode, t) for _, _, t, _ in taps]
    if mode == "bicubic":  # rows along x first, then those along y (PyTorch's order)
        wx, wy = ([w.reshape(n, 1, -1) for w in ax] for ax in ws)
        out = None
        for j in range(4):
            row = vals[:, :, 4 * j] * wx[0]
            for i in range(1, 4):
                row = row + vals[:, :, 4 * j + i] * wx[i]
            out = row * wy[j] if out is None else out + row * wy[j]
    else:
        out = None
        for k, w in enumerate(_combined_weights(ws)):
            term = vals[:, :, k] * w.reshape(n, 1, -1)
            out = term if out is None else out + term
    return out.reshape((n, ch) + out_shape)


def _grid_sampler_vjp(c, g):
    x, grid = c.inputs
    if x.numel() == 0 or grid.numel() == 0:
        return x * 0, grid * 0
    p = c.params
    mode, padding = p.get("mode", "bilinear"), p.get("padding_mode", "zeros")
    align = p.get("align_corners", False)
    n, ch = x.shape[:2]
    sizes = tuple(x.shape[2:][::-1])
    gd = grid._data
    xp = _BY_ARRAY_TYPE[type(gd)].xp
    taps = _taps(xp, gd, sizes, mode, padding, align)
    flat, mask = _combine(xp, taps, np.cumprod((1,) + sizes[:-1]).tolist())
    t_count = flat.shape[0]
    spatial = int(np.prod(sizes))
    # t rebuilt from the grid so that the weights are differentiable in it: t = grid*m + b
    ts = []
    for a, (_, _, t, slope) in enumerate(taps):
        coord = grid.select(-1, a)
        ts.append(coord * _const(g, slope) + _const(g, (t - gd[..., a] * slope).astype(gd.dtype)))
    maskt = _const(g, mask.astype(gd.dtype)).reshape(t_count, n, 1, -1)
    ws = [_tap_weights(mode, t) for t in ts]
    weights = [w.reshape(n, 1, -1) for w in _combined_weights(ws)]
    # the flat index of each tap into the whole input, (T, N, C, O)
    base = (xp.arange(n)[:, None] * ch + xp.arange(ch)[None, :]) * spatial
    full = flat.reshape(t_count, n, 1, -1) + base[None, :, :, None]
    index = _const(g, full)
    go = g.reshape(1, n, ch, -1)
    gx = ggrid = None
    if c.needs_input_grad[0]:
        src = go * R["stack"](*weights) * maskt
        gx = PUT(g.new_zeros(x.shape), index, src.reshape(-1), accumulate=True)
    if c.needs_input_grad[1] and mode != "nearest":
        vals = (TAKE(x, index) * maskt * go).sum(2)  # (T, N, O)
        parts = []
        for a in range(len(taps)):
            dw = [list(w) for w in ws]
            dw[a] = _tap_derivatives(mode, ts[a])
            d = R["stack"](*[w.reshape(n, -1) for w in _combined_weights(dw)])
            parts.append((vals * d).sum(0).reshape(grid.shape[:-1]) * _const(g, taps[a][3]))
        ggrid = R["stack"](*parts, dim=-1)
    elif c.needs_input_grad[1]:
        ggrid = grid * 0
    return gx, ggrid


GRID_SAMPLER = register(
    "grid_sampler", _grid_sampler, save=(0, 1), vjp=_grid_sampler_vjp,
    backward_name=lambda node: f"GridSampler{len(node.in_meta[0][0]) - 2}DBackward0")


# -- affine grids ----------------------------------------------------------------------------------

def _linspace_from_neg_one(n: int, align_corners: bool, dt):
    """PyTorch's ``linspace_from_neg_one``: ``n`` points over [-1, 1] (pixel corners when not
    ``align_corners``), with its linspace's exact values."""
    from .._creation import _linspace_values
    if n <= 1:
        return np.zeros(n, dt)
    r = _linspace_values(-1, 1, n, _dtype.FROM_NP[np.dtype(dt)])
    return r if align_corners else r * dt(n - 1) / dt(n)


def base_grid(sizes, align_corners: bool, dt):
    """The (…, len(sizes)+1) grid of homogeneous coordinates (x, y[, z], 1) for spatial
    ``sizes`` (given as (H, W) or (D, H, W))."""
    axes = [_linspace_from_neg_one(s, align_corners, dt) for s in sizes]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack(list(mesh)[::-1] + [np.ones(tuple(sizes), dt)], axis=-1)


def _affine_grid(xp, theta, size, align_corners=False):
    k = len(size) - 2
    if theta.dtype in _HALF and min(size[2:]) <= 1:
        # PyTorch builds a unit-size axis with at::tensor(0), which has no half kernel
        raise _not_implemented("tensor_cpu", theta)
    if theta.shape[0] != size[0]:  # (the batched matmul's check)
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, "
            f"{k + 1}] but got: [{theta.shape[0]}, {k + 1}].")
    dt = theta.dtype.type
    ct = _F32 if theta.dtype in _HALF else dt
    sizes = tuple(size[2:])
    base = xp.asarray(base_grid(sizes, align_corners, ct)).reshape(1, -1, len(sizes) + 1)
    grid = xp.matmul(base, xp.swapaxes(theta.astype(ct, copy=False), 1, 2))
    return grid.reshape((theta.shape[0],) + sizes + (len(sizes),)).astype(dt, copy=False)


def _affine_grid_vjp(c, g):
    size = c.params["size"]
    sizes = tuple(size[2:])
    dt = g._data.dtype.type
    base = _const(g, base_grid(sizes, c.params.get("align_corners", False), dt).reshape(
        -1, len(sizes) + 1))
    gt = base.t() @ g.reshape(g.shape[0], -1, len(sizes))  # (N, k+1, k)
    return gt.transpose(1, 2),


AFFINE_GRID = register("affine_grid_generator", _affine_grid, vjp=_affine_grid_vjp)
