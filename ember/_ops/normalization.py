"""Normalisation ops: ``native_batch_norm``, ``native_layer_norm``, ``native_group_norm`` and
``rms_norm``, one fused forward each, with a hand-written VJP.

# NOTE [ Normalisation VJPs ]
Each op normalises groups of elements: ``xhat = (x - mean) * rstd``, then scales and shifts per
channel. Viewed in a "grouped" layout whose reduced dims hold one group's elements (layer:
``(M, N)`` over dim 1; batch: ``(N, C, L)`` over dims 0 and 2; group: ``(N, G, D*L)`` over dim 2)
all three share one backward (``norm_backward``):

    gx = rstd * (gh - (sum(gh) + xhat * sum(gh * xhat)) / n),   gh = g * weight

plus the terms of the saved statistics (mean and rstd are outputs too, and receive gradients
in double backward): ``(gmean - grstd * rstd^2 * xhat) / n``. That formula is written in ember
ops, so second derivatives come from autograd through it. A plain first-order backward (no
``create_graph``, no gradient on the statistics) instead runs one fused NumPy kernel
(``native_*_norm_backward``, ``rms_norm_backward``: PyTorch's kernels' formulas over cache-sized
blocks, as the forwards run), several times faster than the op-by-op formula on large inputs.
Batch norm's reductions use NumPy's own sums and einsum (a threaded gemv was measured far slower
on a busy host); the row norms' are BLAS products with a block's rows (NOTE [ Layer norm
kernels ]). Half types compute in float32 and round once.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import STATE as _GRAD
from ..backends import cpu
from .activation import check_floating
from .registry import register

_HALF = (np.dtype(np.float16), np.dtype(_dtype.bfloat16.np))
_BLOCK = 1 << 16


def _acc(x):
    return x.astype(np.float32) if x.dtype in _HALF else x


def _blocks(xp, rows: int, row_size: int):
    """Slices of ``rows`` rows of ``row_size`` elements, each block cache-sized on the CPU
    (NOTE [ Blocked activation kernels ]); one block on other backends."""
    step = rows if xp is not np else max(1, _BLOCK // max(row_size, 1))
    return [slice(i, min(i + step, rows)) for i in range(0, rows, max(step, 1))]


# -- the shared backward --------------------------------------------------------------------------

def _sum(t, red):
    for d in sorted(red, reverse=True):
        t = t.sum(d, keepdim=True)
    return t


def norm_backward(x, mean, rstd, gh, gmean, grstd, red):
    """Gradient of ``x`` through ``xhat = (x - mean) * rstd`` given ``gh`` = gradient of xhat
    (None if none) and gradients of the statistics (see NOTE [ Normalisation VJPs ])."""
    n = max(math.prod(x.shape[d] for d in red), 1)
    xhat = (x - mean) * rstd
    gx = None
    if gh is not None:
        a = _sum(gh, red) / n
        b = _sum(gh * xhat, red) / n
        gx = (gh - (xhat * b + a)) * rstd
    if grstd is not None:
        t = xhat * (grstd * rstd * rstd / -n)
        gx = t if gx is None else gx + t
    if gmean is not None:
        gx = gmean / n if gx is None else gx + gmean / n
    return gx


def _affine_grads(c, g, xhat_fn, red_channel):
    """Gradients of weight and bias (inputs 1 and 2): sums of ``g * xhat`` and ``g``."""
    gw = gb = None
    if c.needs_input_grad[1]:
        gw = _sum(g * xhat_fn(), red_channel)
    if c.needs_input_grad[2]:
        gb = _sum(g, red_channel)
    return gw, gb


# -- layer norm -----------------------------------------------------------------------------------

# NOTE [ Layer norm kernels ]
# On the CPU, layer norm's forward and backward run as one C kernel each where native kernels
# are built (``backends/kernels/norm.c``, NOTE [ Native CPU kernels ]): per row, the mean and
# the centred variance, then the output, in cache; the backward computes PyTorch's formula below
# per row and the weight and bias gradients as column sums. That took LayerNorm(512) fwd+bwd on
# (32, 128, 512) from 2.5x PyTorch's time to 1.1-1.2x. Batch norm has C kernels too (the
# per-channel statistics, the per-channel scale and shift, the backward's per-channel sums and
# its input gradient): BatchNorm2d(64) fwd+bwd on (32, 64, 32, 32) went from 1.35x to 0.6x.
# What follows is the NumPy path, which runs without a compiler, on other backends, and for RMS
# and group norm.
# Layer and RMS norm work on an (M, N) view, rows of N normalised elements, over blocks of rows
# that fit the cache (``_blocks``), computing in float32 for half types. The costs on the CPU,
# measured per (rows, N) block with NumPy 2: a BLAS reduction (``rows @ ones``, ``_row_dot``) is
# cheapest; a ufunc on two operands of the same shape next; a row operand (weight, bias) costs
# about 1.5 times that and a per-row column ``(rows, 1)`` twice (NumPy's iterator buffers the
# broadcast operand). So:
# - forward: ``mean = x @ ones / n`` and ``var = rowdot(xc, xc) / n`` with ``xc = x - mean``
#   written straight into ``y`` (two passes, centred as PyTorch's Welford is: ``E[x^2] - mean^2``
#   loses float32 digits when the mean is large, and would not save a pass, as ``y`` needs
#   ``x - mean`` anyway), then ``y *= rstd``, ``y *= weight``, ``y += bias`` in place; the weight
#   and bias are copied to a block's rows once (``_rows``) when there are several blocks.
# - backward: PyTorch's CPU kernel's formula, uncentred (same rounding behaviour as PyTorch's):
#   ``s1 = sum(gh)`` and ``s2 = rowdot(gh, x)``, ``gx = rstd * gh + b * x + c``; the weight's
#   gradient is ``rstd @ (x * g) - (rstd * mean) @ g``, the bias's ``ones @ g`` (gemv). That is
#   three column ufuncs and three plain ones a block, no ``x - mean`` pass and no allocation in
#   the loop (one scratch block); the per-row factors of ``b`` and ``c`` are computed for all
#   rows before it.
# RMS norm is the same without the mean (``y = x * rstd * weight``, rounded once for half types,
# as PyTorch's composite computes it). Group norm takes (sample, group) rows of D * HxW for the
# statistics and the same block as (rows * D, HxW) channel rows for the per-channel scale and
# shift; its backward is PyTorch's formula with per-channel-row sums ``rowdot(g, x)`` and
# ``g @ ones``, combined per group. Measured against the previous kernels (single
# thread, fwd+bwd): layer norm about 10-15% faster, RMS norm 2.5x, group norm 2x.

def _check_layer_norm(x, w, b, shape):
    shape = tuple(shape)
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k:] != shape or x.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(x.shape)}")
    for what, t in (("weight", w), ("bias", b)):
        if t is not None and t.shape != shape:
            raise RuntimeError(
                f"Expected {what} to be of same shape as normalized_shape, but got {what} of "
                f"shape {list(t.shape)} and normalized_shape = {list(shape)}")
    return x.ndim - k


def _row_dot(xp, a, b):
    """Per-row dot products of two (M, N) arrays as (M,): a batch of BLAS dots."""
    return xp.matmul(a[:, None, :], b[:, :, None])[:, 0, 0]


def _standardize(xp, xb, yb, mu, r, ones, cn, eps):
    """Rows of ``xb`` centred into ``yb``; their means into ``mu`` and reciprocal standard
    deviations into ``r`` (two passes, NOTE [ Layer norm kernels ])."""
    xp.divide(xb @ ones, cn, out=mu)
    xp.subtract(xb, mu[:, None], out=yb)
    xp.divide(_row_dot(xp, yb, yb), cn, out=r)
    r += eps
    xp.sqrt(r, out=r)
    xp.divide(1, r, out=r)


def _rows(xp, v, blocks, n, dt):
    """``v`` (None or N elements) as the right operand of a block's ``(rows, N)`` ufuncs, sliced
    ``[:rows]``: one row, or with several blocks a block's rows of copies (NOTE [ Layer norm
    kernels ])."""
    if v is None:
        return None
    v = v.reshape(1, n).astype(dt, copy=False)
    if len(blocks) < 2:
        return v
    rows = blocks[0].stop - blocks[0].start
    return xp.ascontiguousarray(xp.broadcast_to(v, (rows, n)))


def _layer_norm(xp, x, w, b, normalized_shape, eps):
    check_floating("LayerNormKernelImpl", x)
    axis = _check_layer_norm(x, w, b, normalized_shape)
    m, n = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    xa = _acc(x).reshape(m, n)
    dt = xa.dtype
    stat = x.shape[:axis] + (1,) * (x.ndim - axis)
    res = cpu.layer_norm_rows(xa, w, b, eps) if xp is np and m * n else None
    if res is not None:
        y, mean, rstd = res
        return (y.reshape(x.shape).astype(x.dtype, copy=False),
                mean.reshape(stat).astype(x.dtype, copy=False),
                rstd.reshape(stat).astype(x.dtype, copy=False))
    ct, cn = dt.type, dt.type(max(n, 1))
    blocks = _blocks(xp, m, n)
    wr, br = _rows(xp, w, blocks, n, dt), _rows(xp, b, blocks, n, dt)
    ones = xp.ones(n, dt)
    y = xp.empty((m, n), dt)
    mean, rstd = xp.empty(m, dt), xp.empty(m, dt)
    for blk in blocks:
        xb, yb, r = xa[blk], y[blk], rstd[blk]
        k = len(xb)
        _standardize(xp, xb, yb, mean[blk], r, ones, cn, ct(eps))
        yb *= r[:, None]
        if wr is not None:
            yb *= wr[:k]
        if br is not None:
            yb += br[:k]
    return (y.reshape(x.shape).astype(x.dtype, copy=False),
            mean.reshape(stat).astype(x.dtype, copy=False),
            rstd.reshape(stat).astype(x.dtype, copy=False))


def _layer_norm_backward(xp, g, x, mean, rstd, w, normalized_shape, mask):
    """Fused first-order backward of native_layer_norm: ``(gx, gweight, gbias)`` (those not in
    ``mask`` are returned empty). PyTorch's kernel's formula: with ``gh = g * weight``,
    ``s1 = sum(gh)`` and ``s2 = sum(gh * x)`` per row, ``gx = rstd * gh + b * x + c`` where
    ``b = (s1 * mean - s2) * rstd^3 / n`` and ``c = -b * mean - s1 * rstd / n``; and
    ``gweight = sum over rows of g * (rstd * x - rstd * mean)`` (NOTE [ Layer norm kernels ])."""
    axis = x.ndim - len(normalized_shape)
    m, n = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    xa, ga = _acc(x).reshape(m, n), _acc(g).reshape(m, n)
    dt = xa.dtype
    empty = xp.empty((0,), x.dtype)
    res = cpu.layer_norm_rows_backward(ga, xa, mean, rstd, w, mask, x.shape) \
        if xp is np and m * n else None
    if res is not None:
        gx, gw, gb = res
        return (empty if gx is None else gx.astype(x.dtype, copy=False),
                gw.reshape(w.shape).astype(w.dtype) if mask[1] else empty.copy(),
                gb.reshape(normalized_shape).astype(x.dtype) if mask[2] else empty.copy())
    mu = mean.reshape(m).astype(dt, copy=False)
    r = rstd.reshape(m).astype(dt, copy=False)
    blocks = _blocks(xp, m, n)
    rows = blocks[0].stop - blocks[0].start if blocks else 0
    wr = _rows(xp, w, blocks, n, dt)
    # per-row factors, for all rows at once
    rn = r / dt.type(n)
    r3n = r * r * rn
    rmu = -r * mu
    ones_n, ones_m = xp.ones(n, dt), xp.ones(rows, dt)
    t_buf = xp.empty((rows, n), dt) if mask[0] or mask[1] else None
    # gx is allocated in its final shape where it can be, so that it owns its memory (a
    # gradient the engine can hand to a leaf without a copy)
    gx = gx2 = None
    if mask[0]:
        gx = xp.empty(x.shape, dt)
        gx2 = gx.reshape(m, n)
    gw, gb = xp.zeros(n, dt), xp.zeros(n, dt)
    for blk in blocks:
        xb, gr = xa[blk], ga[blk]
        k = len(gr)
        if mask[1]:
            gw += r[blk] @ xp.multiply(xb, gr, out=t_buf[:k])
            gw += rmu[blk] @ gr
        if mask[2]:
            gb += ones_m[:k] @ gr
        if mask[0]:
            gxb, mub = gx2[blk], mu[blk]
            gh = gr if wr is None else xp.multiply(gr, wr[:k], out=gxb)
            s1 = gh @ ones_n
            b = (s1 * mub - _row_dot(xp, gh, xb)) * r3n[blk]
            c = b * mub
            c += s1 * rn[blk]
            xp.multiply(gh, r[blk, None], out=gxb)
            gxb += xp.multiply(xb, b[:, None], out=t_buf[:k])
            gxb -= c[:, None]
    return (empty if gx is None else gx.astype(x.dtype, copy=False),
            gw.reshape(w.shape).astype(w.dtype) if mask[1] else empty.copy(),
            gb.reshape(normalized_shape).astype(x.dtype) if mask[2] else empty.copy())


LAYER_NORM_BACKWARD = register("native_layer_norm_backward", _layer_norm_backward, nout=3)


def _layer_norm_vjp(c, grads):
    g, gmean, grstd = grads
    x, w = c.inputs[0], c.inputs[1]
    _, mean, rstd = c.out
    if g is not None and gmean is None and grstd is None and not _GRAD.grad_enabled:
        # a first-order backward: the fused kernel (create_graph takes the ember-op formula)
        need = c.needs_input_grad
        gx, gw, gb = LAYER_NORM_BACKWARD(g, x, mean, rstd, w, mask=need,
                                         normalized_shape=c.params["normalized_shape"])
        return gx if need[0] else None, gw if need[1] else None, gb if need[2] else None
    axis = x.ndim - len(c.params["normalized_shape"])
    m, n = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    x2, mean2, rstd2 = x.reshape(m, n), mean.reshape(m, 1), rstd.reshape(m, 1)
    gx = gw = gb = None
    if g is not None:
        g2 = g.reshape(m, n)
        gh = g2 if w is None else g2 * w.reshape(-1)
        if c.needs_input_grad[0]:
            gx = norm_backward(x2, mean2, rstd2, gh, _flat_or_none(gmean, m),
                               _flat_or_none(grstd, m), (1,))
        if c.needs_input_grad[1]:
            gw = (g2 * ((x2 - mean2) * rstd2)).sum(0).reshape(w.shape)
        if c.needs_input_grad[2]:
            gb = g2.sum(0).reshape(c.in_meta[2][0])
    elif c.needs_input_grad[0]:
        gx = norm_backward(x2, mean2, rstd2, None, _flat_or_none(gmean, m),
                           _flat_or_none(grstd, m), (1,))
    return (None if gx is None else gx.reshape(x.shape), gw, gb)


def _flat_or_none(t, m):
    return None if t is None else t.reshape(m, 1)


register("native_layer_norm", _layer_norm, save=(0, 1, "out1", "out2"), nout=3,
         vjp=_layer_norm_vjp)


# -- batch norm -----------------------------------------------------------------------------------

def _grouped3(shape):
    """``(N, C, *)`` as ``(N, C, L)``."""
    return (shape[0], shape[1], math.prod(shape[2:])) if len(shape) > 1 else (shape[0], 1, 1)


def _update_running(running_mean, running_var, mean, var, momentum, n):
    """PyTorch's running-statistics update, in double precision and in place (as PyTorch's
    kernel writes them: the version counters do not move): ``r = m * stat + (1 - m) * r``
    with the unbiased variance."""
    if running_mean is not None:
        new = momentum * mean.reshape(-1).astype(np.float64) + \
            (1 - momentum) * running_mean.reshape(-1).astype(np.float64)
        running_mean[...] = new.reshape(running_mean.shape).astype(running_mean.dtype)
    if running_var is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            unbiased = var.reshape(-1).astype(np.float64) * n / np.float64(n - 1)
        new = momentum * unbiased + (1 - momentum) * running_var.reshape(-1).astype(np.float64)
        running_var[...] = new.reshape(running_var.shape).astype(running_var.dtype)


def _batch_norm(xp, x, w, b, running_mean, running_var, training, momentum, eps):
    check_floating("batch_norm", x)
    if x.ndim < 2:
        raise RuntimeError(f"batch_norm(): Expected input to have at least 2 dims, but got "
                           f"{x.ndim}")
    c = x.shape[1]
    # PyTorch's order of checks: the running statistics first
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", w), ("bias", b)):
        if t is not None and t.size != c:
            raise RuntimeError(f"{what} should contain {c} elements not {t.size}")
    xa = _acc(x).reshape(_grouped3(x.shape))
    ct = xa.dtype.type
    blocks = _blocks(xp, xa.shape[0], xa.shape[1] * xa.shape[2])
    cnt = max(xa.shape[0] * xa.shape[2], 1)
    stats = cpu.batch_norm_stats(xa) if training and xp is np and xa.size else None
    if stats is not None:
        mean, var = stats
        rstd = 1 / xp.sqrt(var + ct(eps))
        _update_running(running_mean, running_var, mean, var, momentum, cnt)
        shift_from = mean
    elif training:
        # two passes over cache-sized blocks of samples: the mean, then the squared deviations
        mean = sum(xp.einsum("ncl->c", xa[blk]) for blk in blocks) / ct(cnt) if blocks else \
            xp.zeros(c, xa.dtype)
        var = sum(xp.einsum("ncl,ncl->c", d, d) for d in (xa[blk] - mean[:, None]
                                                           for blk in blocks)) / ct(cnt) \
            if blocks else xp.zeros(c, xa.dtype)
        mean, var = xp.asarray(mean, xa.dtype), xp.asarray(var, xa.dtype)
        rstd = 1 / xp.sqrt(var + ct(eps))
        _update_running(running_mean, running_var, mean, var, momentum, cnt)
        shift_from = mean
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation "
                               "mode")
        shift_from = running_mean.astype(xa.dtype).reshape(c)
        rstd = 1 / xp.sqrt(running_var.astype(xa.dtype).reshape(c) + ct(eps))
    # y = (x - mean) * rstd * w + b = x * scale + shift, per channel
    scale = rstd if w is None else rstd * w.astype(xa.dtype).reshape(c)
    shift = -shift_from * scale
    if b is not None:
        shift = shift + b.astype(xa.dtype).reshape(c)
    y = cpu.batch_norm_apply(xa, scale, shift) if xp is np and xa.size else None
    if y is None:
        y = xp.empty(xa.shape, xa.dtype)
        for blk in blocks:
            yb = xa[blk] * scale[:, None]
            yb += shift[:, None]
            y[blk] = yb
    y = y.reshape(x.shape).astype(x.dtype, copy=False)
    if not training:
        empty = xp.empty((0,), x.dtype)
        return y, empty, empty.copy()
    return y, mean.astype(x.dtype), rstd.astype(x.dtype)


def _batch_norm_backward(xp, g, x, w, mean, rstd, training, mask):
    """Fused first-order backward of native_batch_norm (``mean``/``rstd``: the saved batch
    statistics, or the running ones in evaluation): ``(gx, gweight, gbias)``."""
    shape3 = _grouped3(x.shape)
    xa, ga = _acc(x).reshape(shape3), _acc(g).reshape(shape3)
    ct = xa.dtype.type
    c = shape3[1]
    empty = xp.empty((0,), x.dtype)
    res = cpu.batch_norm_backward(ga, xa, mean, rstd, w, training, mask[0]) \
        if xp is np and xa.size else None
    if res is not None:
        gx, sum_g, sum_gxh = res
        return (empty if gx is None else gx.reshape(x.shape).astype(x.dtype, copy=False),
                sum_gxh.astype(w.dtype) if mask[1] else empty.copy(),
                sum_g.astype(x.dtype) if mask[2] else empty.copy())
    mu, r = mean.astype(xa.dtype).reshape(c, 1), rstd.astype(xa.dtype).reshape(c, 1)
    blocks = _blocks(xp, shape3[0], c * shape3[2])
    sum_g, sum_gxh = xp.zeros(c, xa.dtype), xp.zeros(c, xa.dtype)
    if mask[1] or mask[2] or training:
        for blk in blocks:
            sum_g += xp.einsum("ncl->c", ga[blk])
            sum_gxh += xp.einsum("ncl,ncl->c", ga[blk], (xa[blk] - mu) * r)
    gx = None
    if mask[0]:
        rw = r if w is None else r * w.astype(xa.dtype).reshape(c, 1)
        gx = xp.empty(shape3, xa.dtype)
        cnt = ct(max(shape3[0] * shape3[2], 1))
        for blk in blocks:
            if training:
                t = (xa[blk] - mu) * (r * (sum_gxh / cnt)[:, None])
                t += (sum_g / cnt)[:, None]
                gx[blk] = (ga[blk] - t) * rw
            else:
                gx[blk] = ga[blk] * rw
    return (empty if gx is None else gx.reshape(x.shape).astype(x.dtype, copy=False),
            sum_gxh.astype(w.dtype) if mask[1] else empty.copy(),
            sum_g.astype(x.dtype) if mask[2] else empty.copy())


BATCH_NORM_BACKWARD = register("native_batch_norm_backward", _batch_norm_backward, nout=3)


def _batch_norm_vjp(c, grads):
    g, gmean, grstd = grads
    x, w, running_var = c.inputs[0], c.inputs[1], c.inputs[4]
    p = c.params
    if g is not None and gmean is None and grstd is None and not _GRAD.grad_enabled:
        # a first-order backward: the fused kernel (create_graph takes the ember-op formula)
        if p["training"]:
            mean, rstd = c.out[1], c.out[2]
        else:
            mean = c.inputs[3].detach()
            rstd = (running_var.detach().to(x.dtype) + p["eps"]).rsqrt()
        need = c.needs_input_grad
        gx, gw, gb = BATCH_NORM_BACKWARD(g, x, w, mean, rstd, training=p["training"],
                                         mask=need[:3])
        return gx if need[0] else None, gw if need[1] else None, gb if need[2] else None, \
            None, None
    shape3 = _grouped3(x.shape)
    ch = shape3[1]
    x3 = x.reshape(shape3)
    if p["training"]:
        _, mean, rstd = c.out
        mean, rstd = mean.reshape(1, ch, 1), rstd.reshape(1, ch, 1)
    else:
        mean = c.inputs[3].detach().to(x.dtype).reshape(1, ch, 1)
        rstd = (running_var.detach().to(x.dtype).reshape(1, ch, 1) + p["eps"]).rsqrt()
    gx = gw = gb = None
    g3 = None if g is None else g.reshape(shape3)
    if c.needs_input_grad[0]:
        gh = None if g3 is None else (g3 if w is None else g3 * w.reshape(1, ch, 1))
        if p["training"]:
            gx = norm_backward(x3, mean, rstd, gh, None if gmean is None else
                               gmean.reshape(1, ch, 1), None if grstd is None else
                               grstd.reshape(1, ch, 1), (0, 2))
        elif gh is not None:
            gx = gh * rstd
        gx = None if gx is None else gx.reshape(x.shape)
    if g3 is not None and c.needs_input_grad[1]:
        gw = _sum(g3 * ((x3 - mean) * rstd), (0, 2)).reshape(ch)
    if g3 is not None and c.needs_input_grad[2]:
        gb = _sum(g3, (0, 2)).reshape(ch)
    return gx, gw, gb, None, None


register("native_batch_norm", _batch_norm, save=(0, 1, 3, 4, "out1", "out2"), nout=3,
         vjp=_batch_norm_vjp)


# -- group norm -----------------------------------------------------------------------------------

def _group_norm(xp, x, w, b, N, C, HxW, group, eps):
    check_floating("GroupNormKernelImpl", x)
    if C % group:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(x.shape)} and num_groups={group}")
    for what, t in (("weight", w), ("bias", b)):
        if t is not None and (t.ndim != 1 or t.size != C):
            raise RuntimeError(
                f"Expected {what} to be a vector of size equal to the number of channels in "
                f"input, but got {what} of shape {list(t.shape)} and input of shape "
                f"{list(x.shape)}")
    xa = _acc(x).reshape(N * group, C // group * HxW)
    dt = xa.dtype
    ct, cn = dt.type, dt.type(max(xa.shape[1], 1))
    d = C // group
    # per (sample, group) rows of D * HxW elements (NOTE [ Layer norm kernels ]); a block's
    # rows, as (rows * D, HxW) channel rows, are then scaled and shifted per channel
    wc, bc = _group_params(xp, w, N, group, d, dt), _group_params(xp, b, N, group, d, dt)
    ones = xp.ones(xa.shape[1], dt)
    y = xp.empty(xa.shape, dt)
    mean, rstd = xp.empty(N * group, dt), xp.empty(N * group, dt)
    for blk in _blocks(xp, N * group, xa.shape[1]):
        xb, yb, r = xa[blk], y[blk], rstd[blk]
        _standardize(xp, xb, yb, mean[blk], r, ones, cn, ct(eps))
        yc = yb.reshape(len(yb) * d, HxW)
        scale = xp.broadcast_to(r[:, None], (len(r), d)) if wc is None else r[:, None] * wc[blk]
        yc *= scale.reshape(-1, 1)
        if bc is not None:
            yc += bc[blk].reshape(-1, 1)
    return (y.reshape(x.shape).astype(x.dtype, copy=False),
            mean.reshape(N, group).astype(x.dtype), rstd.reshape(N, group).astype(x.dtype))


def _group_params(xp, v, N, group, d, dt):
    """A per-channel parameter (None or C elements) as (N * group, D): the row of each
    (sample, group) row."""
    if v is None:
        return None
    return xp.tile(v.astype(dt, copy=False).reshape(group, d), (N, 1))


def _group_norm_backward(xp, g, x, mean, rstd, w, N, C, HxW, group, mask):
    """Fused first-order backward of native_group_norm: ``(gx, gweight, gbias)`` (those not in
    ``mask`` are returned empty). PyTorch's kernel's formula: per channel row ``ds = sum(g * x)``
    and ``db = sum(g)``; per group their sums weighted by the weight, ``sg`` and ``bg``;
    ``gx = rstd * weight * g + b * x + c`` with ``b = (bg * mean - sg) * rstd^3 / (D * HxW)`` and
    ``c = -b * mean - bg * rstd / (D * HxW)``; ``gweight = sum over samples of
    (ds - db * mean) * rstd``, ``gbias = sum over samples of db``."""
    d = C // group
    xa, ga = _acc(x).reshape(N * group, d * HxW), _acc(g).reshape(N * group, d * HxW)
    dt = xa.dtype
    mu, r = mean.reshape(-1).astype(dt, copy=False), rstd.reshape(-1).astype(dt, copy=False)
    wc = _group_params(xp, w, N, group, d, dt)
    ds, db = xp.empty((N * group, d), dt), xp.empty((N * group, d), dt)
    blocks = _blocks(xp, N * group, xa.shape[1])
    rows = blocks[0].stop - blocks[0].start if blocks else 0
    ones = xp.ones(HxW, dt)
    t_buf = xp.empty((rows * d, HxW), dt) if mask[0] else None
    gx = xp.empty(xa.shape, dt) if mask[0] else None
    inv = dt.type(1 / max(d * HxW, 1))
    for blk in blocks:
        k = (blk.stop - blk.start) * d  # the block's channel rows
        xc, gc = xa[blk].reshape(k, HxW), ga[blk].reshape(k, HxW)
        dsb, dbb = ds[blk], db[blk]
        dsb.reshape(-1)[...] = _row_dot(xp, gc, xc)
        dbb.reshape(-1)[...] = gc @ ones
        if mask[0]:
            rb, mub = r[blk], mu[blk]
            sg, bg = ((dsb, dbb) if wc is None else (dsb * wc[blk], dbb * wc[blk]))
            sg, bg = sg.sum(1), bg.sum(1)
            b = (bg * mub - sg) * (rb * rb * rb * inv)
            c = -b * mub - bg * rb * inv
            a = xp.broadcast_to(rb[:, None], dsb.shape) if wc is None else rb[:, None] * wc[blk]
            gxc = gx[blk].reshape(k, HxW)
            xp.multiply(gc, a.reshape(k, 1), out=gxc)
            t = xp.multiply(xa[blk], b[:, None], out=t_buf[:k].reshape(len(rb), -1))
            t += c[:, None]
            gxc += t.reshape(k, HxW)
    empty = xp.empty((0,), x.dtype)
    gw = gb = None
    if mask[1]:
        gw = ((ds - db * mu[:, None]) * r[:, None]).reshape(N, C).sum(0)
    if mask[2]:
        gb = db.reshape(N, C).sum(0)
    return (empty if gx is None else gx.reshape(x.shape).astype(x.dtype, copy=False),
            gw.astype(w.dtype) if mask[1] else empty.copy(),
            gb.astype(x.dtype) if mask[2] else empty.copy())


GROUP_NORM_BACKWARD = register("native_group_norm_backward", _group_norm_backward, nout=3)


def _group_norm_vjp(c, grads):
    g, gmean, grstd = grads
    x, w = c.inputs[0], c.inputs[1]
    p = c.params
    n, ch, grp = p["N"], p["C"], p["group"]
    _, mean, rstd = c.out
    if g is not None and gmean is None and grstd is None and not _GRAD.grad_enabled:
        # a first-order backward: the fused kernel (create_graph takes the ember-op formula)
        need = c.needs_input_grad
        gx, gw, gb = GROUP_NORM_BACKWARD(g, x, mean, rstd, w, mask=need, **{
            k: p[k] for k in ("N", "C", "HxW", "group")})
        return gx if need[0] else None, gw if need[1] else None, gb if need[2] else None
    xg = x.reshape(n, grp, -1)
    mean, rstd = mean.reshape(n, grp, 1), rstd.reshape(n, grp, 1)
    gx = gw = gb = None
    g3 = None if g is None else g.reshape(n, ch, -1)
    if c.needs_input_grad[0]:
        gh = None if g3 is None else (g3 if w is None else g3 * w.reshape(1, ch, 1))
        gx = norm_backward(xg, mean, rstd, None if gh is None else gh.reshape(n, grp, -1),
                           None if gmean is None else gmean.reshape(n, grp, 1),
                           None if grstd is None else grstd.reshape(n, grp, 1), (2,))
        gx = gx.reshape(x.shape)
    if g3 is not None and c.needs_input_grad[1]:
        xhat = ((xg - mean) * rstd).reshape(n, ch, -1)
        gw = _sum(g3 * xhat, (0, 2)).reshape(ch)
    if g3 is not None and c.needs_input_grad[2]:
        gb = _sum(g3, (0, 2)).reshape(ch)
    return gx, gw, gb


register("native_group_norm", _group_norm, save=(0, 1, "out1", "out2"), nout=3,
         vjp=_group_norm_vjp)


# -- rms norm -------------------------------------------------------------------------------------

def _rms_norm(xp, x, w, normalized_shape, eps):
    check_floating("rms_norm", x)
    axis = _check_layer_norm(x, w, None, normalized_shape)
    m, n = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    xa = _acc(x).reshape(m, n)
    dt = xa.dtype
    ct = dt.type
    # PyTorch's default eps is that of the compute type (float32 for half types)
    e = ct(np.finfo(dt).eps if eps is None else eps)
    blocks = _blocks(xp, m, n)
    wr = _rows(xp, w, blocks, n, dt)
    y = xp.empty((m, n), dt)
    rstd = xp.empty(m, dt)
    for blk in blocks:
        # NOTE [ Layer norm kernels ]: y = x * rstd * weight, in float32 for half types and
        # rounded once, as PyTorch's
        xb, yb, r = xa[blk], y[blk], rstd[blk]
        xp.divide(_row_dot(xp, xb, xb), ct(max(n, 1)), out=r)
        r += e
        xp.sqrt(r, out=r)
        xp.divide(1, r, out=r)
        xp.multiply(xb, r[:, None], out=yb)
        if wr is not None:
            yb *= wr[:len(yb)]
    stat = x.shape[:axis] + (1,) * (x.ndim - axis)
    return (y.reshape(x.shape).astype(x.dtype, copy=False),
            rstd.reshape(stat).astype(x.dtype, copy=False))


def _rms_norm_backward(xp, g, x, rstd, w, normalized_shape, mask):
    """Fused first-order backward of rms_norm: ``(gx, gweight)`` (those not in ``mask`` are
    returned empty). With ``gh = g * weight`` per row: ``gx = rstd * gh + b * x`` with
    ``b = -sum(gh * x) * rstd^3 / n``; ``gweight = sum over rows of rstd * x * g``."""
    axis = x.ndim - len(normalized_shape)
    m, n = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    xa, ga = _acc(x).reshape(m, n), _acc(g).reshape(m, n)
    dt = xa.dtype
    r = rstd.reshape(m).astype(dt, copy=False)
    blocks = _blocks(xp, m, n)
    rows = blocks[0].stop - blocks[0].start if blocks else 0
    wr = _rows(xp, w, blocks, n, dt)
    r3n = r * r * r / dt.type(-max(n, 1))
    t_buf = xp.empty((rows, n), dt)
    gx = gx2 = None
    if mask[0]:
        gx = xp.empty(x.shape, dt)
        gx2 = gx.reshape(m, n)
    gw = xp.zeros(n, dt)
    for blk in blocks:
        xb, gr = xa[blk], ga[blk]
        k = len(gr)
        if mask[1]:
            gw += r[blk] @ xp.multiply(xb, gr, out=t_buf[:k])
        if mask[0]:
            gxb = gx2[blk]
            gh = gr if wr is None else xp.multiply(gr, wr[:k], out=gxb)
            b = _row_dot(xp, gh, xb) * r3n[blk]
            xp.multiply(gh, r[blk, None], out=gxb)
            gxb += xp.multiply(xb, b[:, None], out=t_buf[:k])
    empty = xp.empty((0,), x.dtype)
    return (empty if gx is None else gx.astype(x.dtype, copy=False),
            gw.reshape(w.shape).astype(w.dtype) if mask[1] else empty.copy())


RMS_NORM_BACKWARD = register("rms_norm_backward", _rms_norm_backward, nout=2)


def _rms_norm_vjp(c, grads):
    g, grstd = grads
    x, w = c.inputs
    _, rstd = c.out
    if g is not None and grstd is None and not _GRAD.grad_enabled:
        # a first-order backward: the fused kernel (create_graph takes the ember-op formula)
        need = c.needs_input_grad
        gx, gw = RMS_NORM_BACKWARD(g, x, rstd, w, mask=need,
                                   normalized_shape=c.params["normalized_shape"])
        return gx if need[0] else None, gw if need[1] else None
    axis = x.ndim - len(c.params["normalized_shape"])
    m, n = math.prod(x.shape[:axis]), math.prod(x.shape[axis:])
    x2, r2 = x.reshape(m, n), rstd.reshape(m, 1)
    gx = gw = None
    if c.needs_input_grad[0]:
        # y = x * r with r = (mean(x^2) + eps)^-1/2: dr/dx = -r^3 x / n; coef collects the
        # gradient reaching r
        coef = None
        if g is not None:
            g2 = g.reshape(m, n)
            gh = g2 if w is None else g2 * w.reshape(-1)
            gx = gh * r2
            coef = (gh * x2).sum(1, keepdim=True)
        if grstd is not None:
            gr = grstd.reshape(m, 1)
            coef = gr if coef is None else coef + gr
        if coef is not None:
            t = x2 * (coef * r2 * r2 * r2 / -n)
            gx = t if gx is None else gx + t
        gx = None if gx is None else gx.reshape(x.shape)
    if g is not None and c.needs_input_grad[1]:
        gw = (g.reshape(m, n) * (x2 * r2)).sum(0).reshape(w.shape)
    return gx, gw


register("rms_norm", _rms_norm, save=(0, 1, "out1"), nout=2, vjp=_rms_norm_vjp)
