"""Convolution, pooling, im2col/col2im and padding ops over 1 to 3 spatial dims.

Inputs are batched (N, C, *spatial) here; the public functions (``ember/_api/conv.py``) add
and remove the batch dim of unbatched inputs and check arguments with PyTorch's messages.

# NOTE [ Convolution as three adjoint ops ]
A convolution with given (stride, padding, dilation, groups) is bilinear in input x and weight w.
Three registry ops cover it and all of its derivatives:

- ``convolution(x, w, b)``: y = x ⋆ w, im2col + GEMM (NOTE [ im2col layout ]) or direct
  (NOTE [ Direct convolution ]);
- ``convolution_transpose(g, w, b)``: the adjoint of ``convolution`` in x, convolutions of g
  (NOTE [ Strided transposed convolution ]); it is also ``conv_transpose*d``'s forward
  (PyTorch's transposed weight layout is exactly the weight of the convolution whose adjoint
  it is);
- ``convolution_weight(x, g)``: the adjoint of ``convolution`` in w, im2col + GEMM or direct.

The VJP of each is written with the other two, so gradients of every order close over the
three. Padding is given as (lo, hi) pairs to ``convolution`` (hi may be negative: elements past
the last window are dropped), as lo only to the other two, which get the size of their large
side (``output_size``, ``kernel_size``) instead.

# NOTE [ im2col layout ]
``convolution`` and ``convolution_weight`` (so also the unit-stride ``convolution_transpose``)
take the windows in one of two layouts, chosen per call by ``_nchw_layout``:

- channels-last, (N, *out, *kernel, C), from one padded channels-last copy of the input
  (``as_strided``; the copy also does the layout change). Reshaped to (N·L, K·C) they form
  one contiguous matrix, so the convolution is one large GEMM per group whose (N·L, O) result
  is transposed once into (N, O, *out) (or is the channels-last output as it is);
- NCHW, (N, C, *kernel, *out), from the zero-padded input as it is: per image and group,
  weight (Og, Cg·K) @ columns (Cg·K, L) writes (N, O, L) directly. Neither the input nor the
  output is transposed, and an unpadded 1x1 kernel with unit stride copies nothing.

Both copy N·L·K·C elements; what differs is the contiguous run of the copy, Cg·kw elements
(a kernel row of all channels) against W_out (an output row), the two transposes, and the
GEMMs, which for NCHW are per image and small when L is. Measured single-threaded (OpenBLAS,
float32; NCHW time over channels-last, forward / weight gradient; a grid of C in 1..64,
sizes 8..64, kernels 1..7, stride 1 and 2, groups 1 and depthwise, 1-D to 3-D):

- 1x1 kernels 0.1-0.8, depthwise 0.2-0.9 at every size;
- 3->16 3x3 on (64, 3, 32, 32) 0.45 / 0.5; 64->64 3x3 on (32, 64, 32, 32) 0.85 / 0.85;
  1-D 0.3-1.1 (W_out is all of L);
- 16->32 3x3 on (64, 16, 16, 16) 1.05 / 1.05, its input gradient (32->16) 1.3; 8x8 images
  with 8 or more channels 1.2-1.8; 3-D with 16 channels on 8^3 or 16^3 1.1-1.7;
- stride 2 with 256 or more outputs per image 0.7-0.9 even at 16 to 64 channels (the
  channels-last copy of the whole input is large next to the windows);
- a channels-last input 1.0-3.1 for the forward (NCHW would transpose input and output).

So channels-last inputs keep the channels-last layout, and contiguous ones use NCHW for 1x1
and depthwise kernels, when W_out is at least 32 or 2/3 of Cg·kw, or with a stride and at
least 256 outputs per image. Over the grid this is 0.5% slower (geometric mean) than the
better layout of each case, where channels-last alone was 51% and NCHW alone 9% slower; its
worst miss is 1.6x, the input gradient of a 1-output-channel 7x7 convolution. col2im is a
loop over the kernel offsets, each adding one strided block.

# NOTE [ Direct convolution ]
A 2-D convolution with unit dilation, one group and a kernel larger than 1x1 runs on the CPU
as a direct convolution in C (``backends/kernels/conv.c``, NOTE [ Native CPU kernels ]) where
that is built and the output width fills at least three quarters of its vectors
(``cpu.direct_conv2d_fits``). The input is copied once into a zero-padded buffer whose rows
are whole vectors, and each output vector is accumulated in registers, eight output channels
at a time, from shifted input vectors times broadcast weights: no im2col copy, no GEMM.

- The input gradient is a transposed convolution: with unit stride a convolution, so the same
  kernel; with a stride, each output phase whose taps are adjacent is a unit-stride
  convolution too (NOTE [ Strided transposed convolution ]).
- ``convolution_weight`` (unit stride) has its own kernel: for eight output channels and three
  kernel columns it keeps 24 vectors of partial sums of gradient times shifted input over the
  rows of an image (of a few images when rows are short), and sums the lanes at the end. An
  empty ``asm`` pins the loaded vectors in registers: GCC otherwise reloads each for every use,
  2.5x slower.
- A strided forward becomes unit stride by space to depth (``cpu._stacked_input``): the padded
  input's stride phases are stacked as channels and tap ``s * t + p`` of the kernel becomes
  tap t of phase p, zero past the kernel; used where the zero taps at most double the work
  (3x3 with stride 2: 16 taps for 9). A strided weight gradient stays on im2col + GEMM: the
  stacked form (many channels, 2x2 taps) took 30-37 ms against the GEMM's 16 on the case below.
- With several threads (``set_num_threads``) the kernels split the images over ``parallel``
  (NOTE [ Worker threads ]; weight-gradient parts are summed) for 2**22 multiply-adds a thread
  or more, so they keep the cores that OpenBLAS's threaded GEMM used.

Measured single-threaded against im2col + OpenBLAS (Haswell kernels) and PyTorch (oneDNN):

- 3x3, (32, 64, 32, 32) 64->64: forward 12 ms against 29 and 13-14; weight gradient 13 ms
  against 35 and 15-17; fwd+bwd 1.02-1.09x PyTorch's time (was 1.94);
- 3x3, (64, 3, 32, 32) 3->16: forward 0.4 ms against 1.4 and 0.8; weight gradient 0.4 against
  2.0 and 0.5-0.8;
- 3x3, (64, 16, 16, 16) 16->32: forward 0.9 ms against 3.1 and 1.0; weight gradient 1.3-1.4
  against 3.4 and 1.0 (a 16-wide row is one vector: short loops);
- stride 2: 3x3 (32, 64, 32, 32) 64->128 forward 14.5 ms, as im2col + GEMM; 7x7 stem on
  (32, 3, 64, 64) 4 ms against 8 (fwd+bwd 0.84x PyTorch, was 3.75x);
- conv_transpose2d 4x4 stride 2 (32, 64, 32, 32) 64->32: forward 1.3x PyTorch (was 2.55x),
  fwd+bwd 1.45x (was 2.2x).

# NOTE [ Strided transposed convolution ]
A transposed convolution scatters each input element times the kernel into the output, ``st``
apart. With unit stride it is a plain convolution of g with the flipped kernel. With a stride
it splits by output phase: the outputs ``q, q + st, q + 2 st, ...`` of a dim are reached only
by the taps ``t`` with ``t * dilation - padding - q`` divisible by ``st``, so each phase (one
per combination of per-dim phases) is a stride-1 convolution of g with those taps reversed
(``_phases``), dilated by the gap between them over ``st``. Each is an im2col of one padded
channels-last copy of g and one GEMM, written into its strided slots of the output. The GEMMs
do the same multiplications as GEMM + col2im but nothing is scattered: col2im's strided adds
of a K-times larger column matrix measured slower than the whole GEMM.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import _dtype
from ..backends import cpu
from .index_ops import put_checked, take_checked
from .registry import REGISTRY, register

_HALF = (np.dtype(np.float16), _dtype.bfloat16.np)


def _compute(name, *arrays):
    """The dtype an op computes in (float32 for the half types) after PyTorch's checks that
    input, weight and bias agree."""
    x = arrays[0]
    for other, what in zip(arrays[1:], ("weight", "bias")):
        if other is not None and other.dtype != x.dtype:
            a, b = _dtype.FROM_NP[x.dtype].word, _dtype.FROM_NP[other.dtype].word
            a, b = (f"torch.{a}Tensor", f"torch.{b}Tensor") if what == "weight" else \
                (a.lower(), b.lower())
            raise RuntimeError(f"Input type ({a}) and {what} type ({b}) should be the same")
    if x.dtype == np.bool_:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
    return np.dtype(np.float32) if x.dtype in _HALF else x.dtype


def _pad(xp, a, axes, pads, value=0):
    """``a`` with ``pads[i] = (lo, hi)`` elements of ``value`` added along ``axes[i]``; a
    negative lo drops elements at the start, a negative hi is ignored (windows never reach
    there)."""
    if any(lo < 0 for lo, _ in pads):
        crop = [slice(None)] * a.ndim
        for ax, (lo, _) in zip(axes, pads):
            crop[ax] = slice(max(-lo, 0), None)
        a = a[tuple(crop)]
    pads = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if not any(lo or hi for lo, hi in pads):
        return a
    shape, inner = list(a.shape), [slice(None)] * a.ndim
    for ax, (lo, hi) in zip(axes, pads):
        shape[ax] += lo + hi
        inner[ax] = slice(lo, lo + a.shape[ax])
    out = xp.zeros(shape, a.dtype) if value == 0 else xp.full(shape, value, a.dtype)
    out[tuple(inner)] = a
    return out


def _sliding(xp, a, axes, out, kernel, stride, dilation, kpos):
    """A view of ``a``'s windows: each ``axes[i]`` becomes the ``out[i]`` window positions
    (``stride[i]`` apart) and kernel dims (``dilation[i]`` apart) are inserted at ``kpos``."""
    shape, strides = list(a.shape), list(a.strides)
    kst = [a.strides[ax] * dl for ax, dl in zip(axes, dilation)]
    for ax, o, st in zip(axes, out, stride):
        shape[ax], strides[ax] = o, strides[ax] * st
    shape[kpos:kpos] = kernel
    strides[kpos:kpos] = kst
    return xp.lib.stride_tricks.as_strided(a, tuple(shape), tuple(strides))


def _add_windows(buf, src, axes, out, kernel, stride, dilation, kpos):
    """col2im: add each window of ``src`` (kernel dims at ``kpos``) into ``buf`` at its place,
    one strided block per kernel offset (the adjoint of ``_sliding``)."""
    if 0 in out or 0 in kernel:
        return buf
    lead = (slice(None),) * kpos
    for koff in itertools.product(*(range(k) for k in kernel)):
        dst = [slice(None)] * buf.ndim
        for ax, k, o, st, dl in zip(axes, koff, out, stride, dilation):
            dst[ax] = slice(k * dl, k * dl + (o - 1) * st + 1, st)
        buf[tuple(dst)] += src[lead + koff]
    return buf


def _span(o, k, st, dl):
    """Input extent read by ``o`` windows of a kernel of ``k`` taps."""
    return (o - 1) * st + dl * (k - 1) + 1


def _out(size, lo, hi, k, st, dl):
    return (size + lo + hi - dl * (k - 1) - 1) // st + 1


def _bias_shape(b, d):
    return b.reshape((-1,) + (1,) * d)


# -- convolution ----------------------------------------------------------------------------------

def _windows_cl(xp, x, lo, hi, out, kernel, stride, dilation, dt):
    """The (N, *out, *kernel, C) windows of (N, C, *S) ``x``, channels-last (NOTE [ im2col
    layout ])."""
    d = x.ndim - 2
    axes = range(1, d + 1)
    xl = _pad(xp, xp.moveaxis(x.astype(dt, copy=False), 1, -1), axes, list(zip(lo, hi)))
    return _sliding(xp, xl, axes, out, kernel, stride, dilation, d + 1)


def _cols(xp, win, groups):
    """Windows (N, *out, *kernel, C) as the GEMM operand (G, N·L, K·Cg) (a copy)."""
    d = (win.ndim - 2) // 2
    rows = math.prod(win.shape[:1 + d])
    kk = math.prod(win.shape[1 + d:1 + 2 * d])
    cg = win.shape[-1] // groups
    if groups == 1:
        return win.reshape(1, rows, kk * cg)
    g = win.reshape(win.shape[:-1] + (groups, cg))
    return xp.moveaxis(g, -2, 0).reshape(groups, rows, kk * cg)


# NOTE [ Batch-chunked im2col ]
# The column matrix of a whole batch is K times the input (75 MB for a 3x3 convolution of a
# (32, 64, 32, 32) float32 batch): building it streams through memory, and the GEMM then
# streams it again. Taking the windows a few images at a time (about 4 MB of columns, so they
# are still in cache when the GEMM reads them) and running the GEMMs of each chunk into its
# part of the result measured 1.4x faster for that forward in the channels-last layout and
# 1.1-1.6x in the NCHW one (NOTE [ im2col layout ]); the weight gradient sums the chunks'
# products. Each chunk's channels-last GEMM is still large (a 32x32 image gives 1024 rows).
_CHUNK_BYTES = 4 << 20


def _batch_chunks(win):
    """(start, end) ranges over the batch of the windows ``win`` (batch first)."""
    n = win.shape[0]
    per_image = win.size // max(n, 1) * win.itemsize
    step = max(1, _CHUNK_BYTES // max(per_image, 1))
    return [(s, min(n, s + step)) for s in range(0, n, step)] or [(0, 0)]


def _weight_mat(xp, w, groups, dt):
    """Weight (O, Cg, *K) as (G, Og, K·Cg), matching ``_cols``."""
    o, cg = w.shape[:2]
    w = w.astype(dt, copy=False).reshape((groups, o // groups, cg, -1))
    return xp.ascontiguousarray(w.transpose(0, 1, 3, 2)).reshape(groups, o // groups, -1)


def _grad_mat(xp, g, groups, dt):
    """Output gradient (N, O, *out) as (G, N·L, Og)."""
    gl = xp.moveaxis(g.astype(dt, copy=False), 1, -1)
    o = gl.shape[-1]
    if groups == 1:
        return gl.reshape(1, -1, o)
    return xp.moveaxis(gl.reshape(-1, groups, o // groups), 1, 0)


def _channels_last(*arrays) -> bool:
    """PyTorch's choice of a channels-last output: a 4-D or 5-D input or weight laid out
    channels-last (and not also contiguous)."""
    return any(a.ndim in (4, 5) and not a.flags.c_contiguous and
               np.moveaxis(a, 1, -1).flags.c_contiguous for a in arrays)


def _from_rows(xp, y, n, out, groups, channels_last):
    """A (G, N·L, Og) GEMM result as a (N, G·Og, *out) tensor, contiguous or channels-last
    (then a view of the GEMM result when there is one group)."""
    og = y.shape[-1]
    d = len(out)
    if channels_last:
        y = xp.moveaxis(y.reshape((groups, n) + tuple(out) + (og,)), 0, -2)
        y = y.reshape((n,) + tuple(out) + (groups * og,))
        return xp.moveaxis(y, -1, 1)
    y = y.reshape((groups, n) + tuple(out) + (og,))
    y = y.transpose((1, 0, d + 2) + tuple(range(2, d + 2)))
    return xp.ascontiguousarray(y).reshape((n, groups * og) + tuple(out))


def _windows_nchw(xp, x, lo, hi, out, kernel, stride, dilation, dt):
    """The (N, C, *kernel, *out) windows of (N, C, *S) ``x``, a view of the padded input
    (NOTE [ im2col layout ])."""
    axes = range(2, x.ndim)
    xpd = _pad(xp, x.astype(dt, copy=False), axes, list(zip(lo, hi)))
    return _sliding(xp, xpd, axes, out, kernel, stride, dilation, 2)


def _nchw_layout(cg, kernel, out, stride):
    """Whether NCHW windows beat channels-last ones for a convolution of a contiguous input
    with ``cg`` channels per group, as measured (NOTE [ im2col layout ]): always for a 1x1 or
    depthwise kernel, else when the NCHW copy's runs (an output row) are 32 elements or at
    least 2/3 of the channels-last runs (``cg`` times a kernel row), or, with a stride, for at
    least 256 outputs per image (the channels-last copy of the whole input is then large next
    to the windows)."""
    return (math.prod(kernel) == 1 or cg == 1 or 1.5 * out[-1] >= min(48, cg * kernel[-1])
            or (max(stride) > 1 and math.prod(out) >= 256))


def _direct(xp, x, other, groups, stride, dilation, kernel, out, dt) -> bool:
    """Whether a convolution (or its weight gradient, ``other`` being the output gradient) runs
    on the direct C kernels (NOTE [ Direct convolution ])."""
    return xp is np and x.ndim == 4 and groups == 1 and math.prod(out) > 0 and \
        tuple(dilation) == (1, 1) and math.prod(kernel) > 1 and \
        (tuple(stride) == (1, 1) or cpu.direct_conv2d_stride_fits(kernel, stride)) and \
        not _channels_last(x, other) and cpu.direct_conv2d_fits(dt, out[1])


def _convolution(xp, x, w, b=None, *, stride, padding, dilation, groups):
    dt = _compute("convolution", x, w, b)
    kernel, d = w.shape[2:], x.ndim - 2
    lo, hi = [p[0] for p in padding], [p[1] for p in padding]
    out = [_out(s, lo_, hi_, k, st, dl) for s, lo_, hi_, k, st, dl in
           zip(x.shape[2:], lo, hi, kernel, stride, dilation)]
    n, o, rows = x.shape[0], w.shape[0], math.prod(out)
    channels_last = _channels_last(x, w)
    if _direct(xp, x, w, groups, stride, dilation, kernel, out, dt):
        y = cpu.direct_conv2d(x.astype(dt, copy=False), w.astype(dt, copy=False), lo, out,
                              stride)
    elif not channels_last and _nchw_layout(w.shape[1], kernel, out, stride):
        # per image and group: (Og, Cg·K) weight @ (Cg·K, L) columns, into (N, O, L)
        win = _windows_nchw(xp, x, lo, hi, out, kernel, stride, dilation, dt)
        ck = math.prod(w.shape[1:])
        wm = w.astype(dt, copy=False).reshape(groups, o // groups, ck)
        y = xp.empty((n, groups, o // groups, rows), dt)
        for s, e in _batch_chunks(win):
            xp.matmul(wm, win[s:e].reshape(e - s, groups, ck, rows), out=y[s:e])
        y = y.reshape((n, o) + tuple(out))
    else:
        win = _windows_cl(xp, x, lo, hi, out, kernel, stride, dilation, dt)
        wm = _weight_mat(xp, w, groups, dt).transpose(0, 2, 1)
        y = xp.empty((groups, n * rows, wm.shape[-1]), dt)
        for s, e in _batch_chunks(win):
            xp.matmul(_cols(xp, win[s:e], groups), wm, out=y[:, s * rows:e * rows])
        y = _from_rows(xp, y, n, out, groups, channels_last)
    if b is not None:
        y += _bias_shape(b.astype(dt, copy=False), d)
    return y.astype(x.dtype, copy=False)


def _convolution_transpose(xp, g, w, b=None, *, stride, padding, dilation, groups,
                           output_size):
    dt = _compute("convolution_transpose", g, w, b)
    out, kernel = g.shape[2:], w.shape[2:]
    d, cg = len(out), w.shape[1]
    c = cg * groups
    if all(st == 1 for st in stride):
        # unit stride: a convolution of g with the flipped kernel, its channel axes swapped
        # per group (measured faster than GEMM + col2im)
        wf = w.reshape((groups, w.shape[0] // groups, cg) + tuple(kernel)).swapaxes(1, 2)
        wf = wf[(Ellipsis,) + (slice(None, None, -1),) * d].reshape((c, -1) + tuple(kernel))
        pads = tuple((dl * (k - 1) - lo, s - o + lo) for dl, k, lo, s, o in
                     zip(dilation, kernel, padding, output_size, out))
        return _convolution(xp, g, xp.ascontiguousarray(wf), b, stride=stride, padding=pads,
                            dilation=dilation, groups=groups)
    y = _subpixel(xp, g, w, stride, padding, dilation, groups, output_size, dt,
                  _channels_last(g, w))
    if b is not None:
        y += _bias_shape(b.astype(dt, copy=False), d)
    return y.astype(g.dtype, copy=False)


def _phases(size, out, k, st, p, dl):
    """Per output phase ``q`` (outputs ``q, q + st, ...``) of one dim of a strided transposed
    convolution: ``(q, taps, lo, step, m)``, where output ``q + st * i`` sums input
    ``i - lo + step * j`` times tap ``taps[-1 - j]`` (NOTE [ Strided transposed
    convolution ]), ``m`` outputs."""
    res = []
    for q in range(min(st, out)):
        taps = [t for t in range(k) if (t * dl - p - q) % st == 0]
        m = -(-(out - q) // st)
        if not taps:
            res.append((q, taps, 0, 1, m))
            continue
        step = (taps[1] - taps[0]) * dl // st if len(taps) > 1 else 1
        res.append((q, taps, (taps[0] * dl - p - q) // st + (len(taps) - 1) * step, step, m))
    return res


def _subpixel(xp, g, w, stride, padding, dilation, groups, output_size, dt, channels_last):
    """``convolution_transpose`` with a stride: one stride-1 convolution per output phase
    (NOTE [ Strided transposed convolution ]), each an im2col of the input and one GEMM,
    written into its strided slots of the output."""
    n, insz, kernel = g.shape[0], g.shape[2:], w.shape[2:]
    d, cg, ci = len(insz), w.shape[1], w.shape[0] // groups
    c = cg * groups
    per_dim = [_phases(*a) for a in zip(insz, output_size, kernel, stride, padding, dilation)]
    # one channels-last copy of the input, padded for every phase (made when a phase needs it)
    lo_all = [max([0] + [ph[2] for ph in phs if ph[1]]) for phs in per_dim]
    hi_all = [max([0] + [_span(ph[4], len(ph[1]), 1, ph[3]) - ph[2] - s
                         for ph in phs if ph[1]]) for phs, s in zip(per_dim, insz)]
    axes = range(1, d + 1)
    xl = None
    # (G, Ci, Cg, *K): the weight per group, input channels first
    wg = w.astype(dt, copy=False).reshape((groups, ci, cg) + tuple(kernel))
    y = xp.zeros((n,) + tuple(output_size) + (c,), dt) if channels_last else \
        xp.zeros((n, c) + tuple(output_size), dt)
    for combo in itertools.product(*per_dim):
        if any(not ph[1] for ph in combo):
            continue  # no tap reaches these outputs: they stay 0
        m = tuple(ph[4] for ph in combo)
        taps = [np.asarray(ph[1][::-1]) for ph in combo]
        if all(ph[3] == 1 for ph in combo) and \
                _direct(xp, g, w, groups, (1,) * d, (1,) * d, [len(t) for t in taps], m, dt):
            # a plain stride-1 convolution of g, padded by ``lo`` of this phase, with these
            # taps (NOTE [ Direct convolution ])
            sub = wg[0][:, :, taps[0][:, None], taps[1][None, :]].swapaxes(0, 1)
            yp = cpu.direct_conv2d(g.astype(dt, copy=False), xp.ascontiguousarray(sub),
                                   tuple(ph[2] for ph in combo), m)
        else:
            if xl is None:
                xl = _pad(xp, xp.moveaxis(g.astype(dt, copy=False), 1, -1), axes,
                          list(zip(lo_all, hi_all)))
            start = tuple(slice(lo - ph[2], None) for lo, ph in zip(lo_all, combo))
            win = _sliding(xp, xl[(slice(None),) + start], axes, list(m),
                           [len(ph[1]) for ph in combo], (1,) * d, [ph[3] for ph in combo],
                           d + 1)
            # the taps of this phase, reversed, as a (G, Cg, J·Ci) matrix matching ``_cols``
            sub = wg[(Ellipsis,) + xp.ix_(*taps)]
            sub = xp.moveaxis(sub, 1, -1).reshape(groups, cg, -1)
            # (G, Cg, N·M): weight times columns, measured faster with OpenBLAS than the
            # transposed product for these narrow outputs
            yp = xp.matmul(sub, _cols(xp, win, groups).transpose(0, 2, 1))
            yp = xp.moveaxis(yp.reshape((c, n) + m), 0, 1)  # (N, C, *M)
        slots = tuple(slice(ph[0], None, st) for ph, st in zip(combo, stride))
        if channels_last:
            y[(slice(None),) + slots] = xp.moveaxis(yp, 1, -1)
        else:
            y[(slice(None), slice(None)) + slots] = yp
    return xp.moveaxis(y, -1, 1) if channels_last else y


def _convolution_weight(xp, x, g, *, stride, padding, dilation, groups, kernel_size):
    dt = _compute("convolution_weight", x, g)
    out, c, o = g.shape[2:], x.shape[1], g.shape[1]
    hi = [_span(o_, k, st, dl) - lo - s for o_, k, st, dl, lo, s in
          zip(out, kernel_size, stride, dilation, padding, x.shape[2:])]
    n, cg, rows = x.shape[0], c // groups, math.prod(out)
    dw = None
    if tuple(stride) == (1, 1) and _direct(xp, x, g, groups, stride, dilation, kernel_size,
                                           out, dt):
        return cpu.direct_conv2d_weight(x.astype(dt, copy=False), g.astype(dt, copy=False),
                                        padding, tuple(kernel_size)).astype(x.dtype, copy=False)
    if not _channels_last(x, g) and _nchw_layout(cg, kernel_size, out, stride):
        # per image and group: (Og, L) gradient @ (L, Cg·K) columns, summed over the images
        win = _windows_nchw(xp, x, padding, hi, out, kernel_size, stride, dilation, dt)
        ck = cg * math.prod(kernel_size)
        gm = g.astype(dt, copy=False).reshape(n, groups, o // groups, rows)
        for s, e in _batch_chunks(win):
            cols = win[s:e].reshape(e - s, groups, ck, rows)
            part = xp.matmul(gm[s:e], cols.swapaxes(-1, -2)).sum(0)
            dw = part if dw is None else xp.add(dw, part, out=dw)
        return dw.reshape((o, cg) + tuple(kernel_size)).astype(x.dtype, copy=False)
    win = _windows_cl(xp, x, padding, hi, out, kernel_size, stride, dilation, dt)
    gm = _grad_mat(xp, g, groups, dt)
    # cols^T @ g, not g^T @ cols: OpenBLAS is several times faster with the long dim inner
    for s, e in _batch_chunks(win):
        part = xp.matmul(_cols(xp, win[s:e], groups).transpose(0, 2, 1),
                         gm[:, s * rows:e * rows])
        dw = part if dw is None else xp.add(dw, part, out=dw)
    dw = dw.transpose(0, 2, 1).reshape((o,) + tuple(kernel_size) + (cg,))
    return xp.ascontiguousarray(xp.moveaxis(dw, -1, 1)).astype(x.dtype, copy=False)


def _lo_hi(lo, big, small, kernel, stride, dilation):
    """(lo, hi) pads that make ``convolution`` map size ``big`` to exactly ``small``."""
    return tuple((p, _span(o, k, st, dl) - p - s) for p, s, o, k, st, dl in
                 zip(lo, big, small, kernel, stride, dilation))


def _bias_grad(c, g, i=2):
    if len(c.needs_input_grad) > i and c.needs_input_grad[i]:
        return g.sum((0,) + tuple(range(2, g.ndim)))
    return None


def _geometry(p):
    return {"stride": p["stride"], "dilation": p["dilation"], "groups": p["groups"]}


def _convolution_vjp(c, g):
    x, w = c.inputs[:2]
    p, need = c.params, c.needs_input_grad
    lo = tuple(a for a, _ in p["padding"])
    geo = _geometry(p)
    gx = CONVOLUTION_T(g, w, None, padding=lo, output_size=tuple(x.shape[2:]), **geo) \
        if need[0] else None
    gw = CONVOLUTION_W(x, g, padding=lo, kernel_size=tuple(w.shape[2:]), **geo) \
        if need[1] else None
    return gx, gw, _bias_grad(c, g)


def _convolution_t_vjp(c, gy):
    g, w = c.inputs[:2]
    p, need = c.params, c.needs_input_grad
    geo = _geometry(p)
    kernel = tuple(w.shape[2:])
    pads = _lo_hi(p["padding"], p["output_size"], g.shape[2:], kernel, p["stride"],
                  p["dilation"])
    gg = CONVOLUTION(gy, w, None, padding=pads, **geo) if need[0] else None
    gw = CONVOLUTION_W(gy, g, padding=p["padding"], kernel_size=kernel, **geo) \
        if need[1] else None
    return gg, gw, _bias_grad(c, gy)


def _convolution_w_vjp(c, gw):
    x, g = c.inputs[:2]
    p, need = c.params, c.needs_input_grad
    geo = _geometry(p)
    gx = CONVOLUTION_T(g, gw, None, padding=p["padding"], output_size=tuple(x.shape[2:]),
                       **geo) if need[0] else None
    pads = _lo_hi(p["padding"], x.shape[2:], g.shape[2:], p["kernel_size"], p["stride"],
                  p["dilation"])
    gg = CONVOLUTION(x, gw, None, padding=pads, **geo) if need[1] else None
    return gx, gg


CONVOLUTION = register("convolution", _convolution, save=(0, 1), vjp=_convolution_vjp)
CONVOLUTION_T = register("convolution_transpose", _convolution_transpose, save=(0, 1),
                         vjp=_convolution_t_vjp, backward_name="ConvolutionBackward0")
CONVOLUTION_W = register("convolution_weight", _convolution_weight, save=(0, 1),
                         vjp=_convolution_w_vjp, backward_name="ConvolutionBackwardBackward0")


# -- im2col / col2im (F.unfold / F.fold) ----------------------------------------------------------

def _im2col(xp, x, *, kernel_size, dilation, padding, stride):
    if x.dtype.kind not in "fc" and x.dtype not in _HALF:
        raise NotImplementedError(
            f"\"im2col_out_cpu\" not implemented for '{_dtype.FROM_NP[x.dtype].word}'")
    n, c, *size = x.shape
    out = [_out(s, p, p, k, st, dl) for s, p, k, st, dl in
           zip(size, padding, kernel_size, stride, dilation)]
    xp_ = _pad(xp, x, (2, 3), [(p, p) for p in padding])
    win = _sliding(xp, xp_, (2, 3), out, kernel_size, stride, dilation, 2)
    return win.reshape(n, c * math.prod(kernel_size), math.prod(out))


def _col2im(xp, cols, *, output_size, kernel_size, dilation, padding, stride):
    n, ck, _ = cols.shape
    c = ck // math.prod(kernel_size)
    out = [_out(s, p, p, k, st, dl) for s, p, k, st, dl in
           zip(output_size, padding, kernel_size, stride, dilation)]
    dt = np.dtype(np.float32) if cols.dtype in _HALF else cols.dtype
    full = [max(s + 2 * p, _span(o, k, st, dl)) for s, p, o, k, st, dl in
            zip(output_size, padding, out, kernel_size, stride, dilation)]
    buf = xp.zeros((n, c, *full), dt)
    src = cols.astype(dt, copy=False).reshape((n, c, *kernel_size, *out))
    _add_windows(buf, src, (2, 3), out, kernel_size, stride, dilation, 2)
    crop = (slice(None), slice(None)) + tuple(slice(p, p + s)
                                              for p, s in zip(padding, output_size))
    return buf[crop].astype(cols.dtype)


def _fold_params(p):
    return {k: p[k] for k in ("kernel_size", "dilation", "padding", "stride")}


IM2COL = register("im2col", _im2col, vjp=lambda c, g: (
    COL2IM(g, output_size=tuple(c.in_meta[0][0][2:]), **_fold_params(c.params)),),
    backward_name="Im2ColBackward0")
COL2IM = register("col2im", _col2im, vjp=lambda c, g: (IM2COL(g, **_fold_params(c.params)),),
                  backward_name="Col2ImBackward0")


# -- max pooling ----------------------------------------------------------------------------------

def _lowest(dt):
    return -np.inf if dt.kind == "f" or dt in _HALF else np.iinfo(dt).min


def _pool_dtype(name, x, ints=True):
    dt = x.dtype
    if dt == np.bool_ or dt.kind == "c" or (not ints and dt.kind in "iu"):
        raise NotImplementedError(
            f"\"{name}\" not implemented for '{_dtype.FROM_NP[dt].word}'")
    return dt


def _plane_strides(size):
    return [math.prod(size[i + 1:]) for i in range(len(size))]


def _grid(xp, parts):
    """The sum of per-dim 1-D arrays ``parts[i]`` broadcast over a grid of len(parts) dims."""
    d = len(parts)
    total = 0
    for i, p in enumerate(parts):
        total = total + p.reshape((1,) * i + (-1,) + (1,) * (d - 1 - i))
    return total


def _running_max(xp, values, nan):
    """Elementwise max over the arrays ``values`` and the position of the winner in the list:
    the first of equal values, as PyTorch's kernels; with ``nan``, the last NaN wins."""
    best = values[0].copy()
    kbest = xp.zeros(best.shape, np.int16 if len(values) < 1 << 15 else np.int64)
    for i, v in enumerate(values[1:], 1):
        upd = v > best
        if nan:
            upd |= v != v
            xp.copyto(best, v, where=upd)
        else:
            xp.maximum(best, v, out=best)
        xp.copyto(kbest, i, where=upd)
    return best, kbest


# NOTE [ Max pooling without indices ]
# ``F.max_pool*d`` without ``return_indices`` runs ``max_pool_values``: a running maximum
# over the window offsets (one strided ``maximum`` per offset), no argmax. Its backward,
# ``max_pool_backward``, finds each window's winner again from the saved input and output:
# per offset in PyTorch's scan order, the elements equal to the window's max that no earlier
# offset claimed take the window's gradient (the first of equal values wins, as PyTorch's
# kernels pick it; ties are common after a ReLU). Each offset's windows are distinct inputs,
# so the gradient goes in with strided writes, no scatter. Windows whose max is NaN (PyTorch
# takes the last NaN) or the lowest value (PyTorch takes the first element inside the
# input) are rare and take the argmax of ``_running_max`` instead of the equality test.
# Measured on (64, 16, 32, 32), kernel 2, single thread: forward 0.4 ms against 3.5 ms with
# indices (PyTorch: 4.9 ms), backward 1.1 ms against 1.5 ms for the index scatter.

def _pool_windows(xp, x, kernel_size, stride, padding, dilation, out, fill):
    """``x`` padded with ``fill`` and the view of its windows (N, C, *out, *kernel), with
    the kernel offsets in PyTorch's scan order."""
    size, d = x.shape[2:], len(kernel_size)
    axes = tuple(range(2, 2 + d))
    hi = [max(0, _span(o, k, st, dl) - p - s) for o, k, st, dl, p, s in
          zip(out, kernel_size, stride, dilation, padding, size)]
    xpd = _pad(xp, x, axes, list(zip(padding, hi)), fill)
    win = _sliding(xp, xpd, axes, out, kernel_size, stride, dilation, 2 + d)
    return xpd, win, list(itertools.product(*(range(k) for k in kernel_size)))


def _max_pool(xp, x, *, kernel_size, stride, padding, dilation, out):
    """Max over regular windows (with -inf padding) and the flat per-plane index of each max,
    PyTorch's choice among equal values: the first, or the last NaN."""
    dt = _pool_dtype(f"max_pool{len(kernel_size)}d", x)
    size = x.shape[2:]
    low = _lowest(dt)
    _, win, offsets = _pool_windows(xp, x, kernel_size, stride, padding, dilation, out, low)
    best, kbest = _running_max(xp, [win[(Ellipsis,) + off] for off in offsets], False)
    if (dt.kind == "f" or dt in _HALF) and bool(xp.isnan(best).any()):
        best, kbest = _running_max(xp, [win[(Ellipsis,) + off] for off in offsets], True)
    ps = _plane_strides(size)
    kflat = xp.asarray(np.array([sum(k * dl * s for k, dl, s in zip(off, dilation, ps))
                                 for off in offsets], np.int64))
    start = [xp.arange(o, dtype=np.int64) * st - p for o, st, p in zip(out, stride, padding)]
    idx = _grid(xp, [s_ * q for s_, q in zip(start, ps)]) + kflat[kbest]
    if best.size and bool((best == low).any()):
        # a window of lowest values only: PyTorch keeps its first element inside the input
        first = [xp.where(s_ < 0, s_ + (dl - 1 - s_) // dl * dl, s_)
                 for s_, dl in zip(start, dilation)]
        idx = xp.where(best == low, _grid(xp, [f * q for f, q in zip(first, ps)]), idx)
    return best, idx


def _disjoint(kernel_size, stride, dilation) -> bool:
    """Whether no two windows overlap (the stride is at least the window's span)."""
    return all(st >= (k - 1) * dl + 1 for st, k, dl in zip(stride, kernel_size, dilation))


def _max_pool_values(xp, x, *, kernel_size, stride, padding, dilation, out):
    """The max of each window, without its index (NOTE [ Max pooling without indices ])."""
    dt = _pool_dtype(f"max_pool{len(kernel_size)}d", x)
    _, win, offsets = _pool_windows(xp, x, kernel_size, stride, padding, dilation, out,
                                    _lowest(dt))
    best = win[(Ellipsis,) + offsets[0]].copy()
    for off in offsets[1:]:
        xp.maximum(best, win[(Ellipsis,) + off], out=best)
    return best


def _max_pool_backward(xp, g, x, y, *, kernel_size, stride, padding, dilation, out):
    """The gradient of ``max_pool_values``: each window's gradient at its winner (NOTE [ Max
    pooling without indices ])."""
    low = _lowest(x.dtype)
    xpd, win, offsets = _pool_windows(xp, x, kernel_size, stride, padding, dilation, out, low)
    odd = bool((y == low).any()) or bool(xp.isnan(y).any())
    if odd:  # the winners PyTorch's kernels pick among NaNs and all-lowest windows
        _, idx = _max_pool(xp, x, kernel_size=kernel_size, stride=stride, padding=padding,
                           dilation=dilation, out=out)
        kbest = _winner_offsets(xp, idx, x.shape[2:], kernel_size, stride, padding,
                                dilation)
    apart = _disjoint(kernel_size, stride, dilation)
    finite = bool(xp.isfinite(g).all())
    gxp = xp.zeros(xpd.shape, g.dtype)
    gwin = _sliding(xp, gxp, tuple(range(2, gxp.ndim)), out, kernel_size, stride, dilation,
                    gxp.ndim)
    taken = None
    for i, off in enumerate(offsets):
        if odd:
            mine = kbest == i
        else:
            mine = win[(Ellipsis,) + off] == y
            if taken is None:
                taken = mine
            else:
                xp.greater(mine, taken, out=mine)  # equal and not claimed by an earlier offset
                taken |= mine
        # one input per window at a fixed offset: plain strided writes, no clashes
        dst = gwin[(Ellipsis,) + off]
        if not finite:  # a product with the mask would turn inf into NaN off the winners
            dst += xp.where(mine, g, g.dtype.type(0))
        elif apart:
            xp.multiply(g, mine, out=dst)
        else:
            dst += g * mine
    crop = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in
                                              zip(padding, x.shape[2:]))
    return gxp[crop]


def _winner_offsets(xp, idx, size, kernel_size, stride, padding, dilation):
    """The position in the scan order of the kernel offset at each window's flat per-plane
    index ``idx`` (N, C, *out)."""
    d = len(size)
    k = 0
    for i, (s_, q, st, p, dl, kk) in enumerate(zip(size, _plane_strides(size), stride,
                                                   padding, dilation, kernel_size)):
        shape = [1] * (2 + d)
        shape[2 + i] = idx.shape[2 + i]
        start = (xp.arange(idx.shape[2 + i], dtype=np.int64) * st - p).reshape(shape)
        k = k * kk + (idx // q % s_ - start) // dl
    return k


def _windows_max(xp, x, table):
    """Max of ``x`` (N, C, *S) over windows given as flat plane positions ``table``
    (broadcastable to (N, C, L, K)); returns (values, indices) of shape (N, C, L)."""
    n, c = x.shape[:2]
    t = xp.broadcast_to(table, (n, c) + table.shape[2:])
    flat = x.reshape(n, c, -1)
    vals = xp.take_along_axis(flat, t.reshape(n, c, -1), 2).reshape(t.shape)
    best, kbest = _running_max(xp, [vals[..., i] for i in range(vals.shape[-1])], True)
    return best, xp.take_along_axis(t, kbest[..., None].astype(np.int64), -1)[..., 0]


def _adaptive_bounds(size, out):
    start = np.arange(out) * size // out
    end = -(-(np.arange(out) + 1) * size // out)
    return start, end


def _adaptive_table(xp, size, output_size):
    """Flat plane positions of each adaptive window, (1, 1, L, K); short windows repeat their
    last element (which never changes the max or which equal element is first)."""
    parts, kparts = [], []
    for s, o in zip(size, output_size):
        start, end = _adaptive_bounds(s, o)
        k = int((end - start).max()) if o else 1
        tab = np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)
        parts.append(tab)
        kparts.append(k)
    d = len(size)
    ps = _plane_strides(size)
    total = 0
    for i, (tab, q) in enumerate(zip(parts, ps)):
        shape = [1] * (2 * d)
        shape[i], shape[d + i] = tab.shape
        total = total + (tab * q).reshape(shape)
    total = np.broadcast_to(total, tuple(output_size) + tuple(kparts))
    return xp.asarray(total.reshape(1, 1, math.prod(output_size), math.prod(kparts)))


def _adaptive_max_pool(xp, x, *, output_size):
    d = len(output_size)
    _pool_dtype(f"adaptive_max_pool{d}d", x, ints=False)
    n, c, *size = x.shape
    table = _adaptive_table(xp, size, output_size)
    v, i = _windows_max(xp, x, table)
    shape = (n, c) + tuple(output_size)
    return v.reshape(shape), i.reshape(shape)


def _fractional_starts(xp, sample, size, out, k):
    """PyTorch's pseudo-random window starts (generate_intervals), in the input's dtype."""
    dt = sample.dtype.type
    starts = xp.zeros(sample.shape + (out,), np.int64)
    if out > 1:
        alpha = dt(size - k) / dt(out - 1)
        i = xp.arange(out - 1).astype(sample.dtype)
        s = sample[..., None]
        starts[..., :-1] = ((i + s) * alpha).astype(np.int64) - (s * alpha).astype(np.int64)
    if out > 0:
        starts[..., -1] = size - k
    return starts


def _fractional_max_pool(xp, x, samples, *, kernel_size, output_size):
    d = len(kernel_size)
    _pool_dtype(f"fractional_max_pool{d}d", x, ints=False)
    n, c, *size = x.shape
    ps = _plane_strides(size)
    # PyTorch's sample order: (w, h) for 2-D, (t, h, w) for 3-D
    order = (1, 0) if d == 2 else tuple(range(d))
    total = 0
    for i in range(d):
        st = _fractional_starts(xp, samples[..., order[i]], size[i], output_size[i],
                                kernel_size[i])
        tab = (st[..., None] + xp.arange(kernel_size[i])) * ps[i]  # (N, C, out_i, k_i)
        shape = [n, c] + [1] * (2 * d)
        shape[2 + i], shape[2 + d + i] = output_size[i], kernel_size[i]
        total = total + tab.reshape(shape)
    table = xp.broadcast_to(total, (n, c) + tuple(output_size) + tuple(kernel_size))
    v, idx = _windows_max(xp, x, table.reshape(n, c, math.prod(output_size), -1))
    shape = (n, c) + tuple(output_size)
    return v.reshape(shape), idx.reshape(shape)


def _max_vjp(c, gs):
    """Gradient of a max over windows: each output's gradient added at its input index."""
    g = gs[0]
    if g is None:
        return (None,) * len(c.needs_input_grad)
    shape = c.in_meta[0][0]
    idx = c.out[1]
    n, ch = shape[:2]
    p = c.params
    # windows that cannot overlap pick distinct inputs: a plain write, not a scatter-add
    apart = "stride" in p and _disjoint(p["kernel_size"], p["stride"], p["dilation"])
    gx = put_checked(g.new_zeros((n, ch, math.prod(shape[2:]))), idx.reshape(n, ch, -1),
                     g.reshape(n, ch, -1), 2, accumulate=not apart)
    return (gx.reshape(shape),) + (None,) * (len(c.needs_input_grad) - 1)


def _dims_name(prefix):
    return lambda node: f"{prefix}{len(node.in_meta[0][0]) - 2}DWithIndicesBackward0"


register("max_pool", _max_pool, nout=2, save=("out",), vjp=_max_vjp,
         backward_name=_dims_name("MaxPool"))


def _pool_params(p):
    return {k: p[k] for k in ("kernel_size", "stride", "padding", "dilation", "out")}


def _max_pool_backward_vjp(c, gg):
    """The gradient of ``max_pool_backward`` in its incoming gradient: ``gg`` read at each
    window's winner (the winners from the indexed max pool); the input and output get none
    (the winners are piecewise constant in them)."""
    g, x, _ = c.inputs
    _, idx = MAX_POOL(x.detach(), **_pool_params(c.params))
    n, ch = g.shape[:2]
    return (take_checked(gg.reshape(n, ch, -1), idx.reshape(n, ch, -1), 2).reshape(g.shape),
            None, None)


MAX_POOL = REGISTRY["max_pool"]
MAX_POOL_VALUES = register(
    "max_pool_values", _max_pool_values, save=(0, "out"),
    vjp=lambda c, g: (MAX_POOL_BACKWARD(g, c.inputs[0], c.out, **_pool_params(c.params)),),
    backward_name=_dims_name("MaxPool"))
MAX_POOL_BACKWARD = register("max_pool_backward", _max_pool_backward, save=(0, 1),
                             vjp=_max_pool_backward_vjp)
register("adaptive_max_pool", _adaptive_max_pool, nout=2, save=("out",), vjp=_max_vjp,
         backward_name=lambda node: f"AdaptiveMaxPool{len(node.in_meta[0][0]) - 2}DBackward0")
register("fractional_max_pool", _fractional_max_pool, nout=2, save=("out",), vjp=_max_vjp,
         backward_name=lambda node: f"FractionalMaxPool{len(node.in_meta[0][0]) - 2}D"
                                    "Backward0")


# -- average pooling --------------------------------------------------------------------------

def _avg_divisor(size, k, st, p, out, count_include_pad):
    """Per-dim divisors of each window (PyTorch's: the window clipped to the padded input, or
    to the input itself without count_include_pad); a window's divisor is their product."""
    start = np.arange(out) * st - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _divisor(p, size):
    """The divisor of each output position: a number, or an array of the output's shape."""
    if p["divisor_override"] is not None:
        return p["divisor_override"]
    divs = [_avg_divisor(s, k, st, pp, o, p["count_include_pad"]) for s, k, st, pp, o in
            zip(size, p["kernel_size"], p["stride"], p["padding"], p["out"])]
    div = math.prod(np.ix_(*divs))
    return int(div.flat[0]) if div.size and (div == div.flat[0]).all() else div


def _avg_pool(xp, x, *, kernel_size, stride, padding, out, count_include_pad=True,
              divisor_override=None):
    """Window sums (one strided add per kernel offset) over the divisor; integer inputs
    divide truncating, as PyTorch's integer kernels do."""
    size, d = x.shape[2:], len(kernel_size)
    axes = tuple(range(2, 2 + d))
    dt = np.dtype(np.float32) if x.dtype in _HALF else x.dtype
    hi = [max(0, _span(o, k, st, 1) - pp - s) for o, k, st, pp, s in
          zip(out, kernel_size, stride, padding, size)]
    xpd = _pad(xp, x.astype(dt, copy=False), axes, list(zip(padding, hi)))
    win = _sliding(xp, xpd, axes, out, kernel_size, stride, (1,) * d, 2 + d)
    offsets = list(itertools.product(*(range(k) for k in kernel_size)))
    total = win[(Ellipsis,) + offsets[0]].copy()
    for off in offsets[1:]:
        total += win[(Ellipsis,) + off]
    div = _divisor({"kernel_size": kernel_size, "stride": stride, "padding": padding,
                    "out": out, "count_include_pad": count_include_pad,
                    "divisor_override": divisor_override}, size)
    if dt.kind in "iu":
        div = xp.asarray(div, dtype=dt)
        q = total // div
        return q + ((q * div != total) & ((total < 0) != (div < 0)))  # toward zero
    if isinstance(div, int):
        total *= dt.type(1 / div)
        return total.astype(x.dtype, copy=False)
    return (total / xp.asarray(div, dtype=dt)).astype(x.dtype, copy=False)


def _avg_pool_backward(xp, g, *, kernel_size, stride, padding, out, input_size,
                       count_include_pad=True, divisor_override=None):
    """The adjoint of ``_avg_pool`` (floating inputs): each window's gradient over its
    divisor, spread over the window."""
    d = len(kernel_size)
    dt = np.dtype(np.float32) if g.dtype in _HALF else g.dtype
    div = _divisor({"kernel_size": kernel_size, "stride": stride, "padding": padding,
                    "out": out, "count_include_pad": count_include_pad,
                    "divisor_override": divisor_override}, input_size)
    gd = g.astype(dt) / (dt.type(div) if isinstance(div, int) else xp.asarray(div, dtype=dt))
    full = [max(s + pp, _span(o, k, st, 1)) for s, pp, o, k, st in
            zip(input_size, padding, out, kernel_size, stride)]
    buf = xp.zeros(g.shape[:2] + tuple(full), dt)
    src = xp.broadcast_to(gd.reshape(gd.shape + (1,) * d), gd.shape + tuple(kernel_size))
    _add_windows(buf, src, range(2, 2 + d), out, kernel_size, stride, (1,) * d, 2 + d)
    crop = (slice(None), slice(None)) + tuple(slice(pp, pp + s)
                                              for pp, s in zip(padding, input_size))
    return buf[crop].astype(g.dtype)


def _avg_params(p):
    return {k: p[k] for k in ("kernel_size", "stride", "padding", "out", "count_include_pad",
                              "divisor_override")}


AVG_POOL = register("avg_pool", _avg_pool, vjp=lambda c, g: (AVG_POOL_BACKWARD(
    g, input_size=tuple(c.in_meta[0][0][2:]), **_avg_params(c.params)),),
    backward_name=lambda node: f"AvgPool{len(node.in_meta[0][0]) - 2}DBackward0")
AVG_POOL_BACKWARD = register("avg_pool_backward", _avg_pool_backward, vjp=lambda c, g: (
    AVG_POOL(g, **_avg_params(c.params)),))


# -- padding --------------------------------------------------------------------------------------

def _pairs(pad, ndim):
    """F.pad's flat (last dim first) pad list as {axis: (lo, hi)}."""
    return {ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}


def _constant_pad_nd(xp, x, *, pad, value=0):
    pairs = _pairs(pad, x.ndim)
    crop = [slice(None)] * x.ndim
    for ax, (lo, hi) in pairs.items():
        n = x.shape[ax]
        if n + lo + hi < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {lo} and {hi} resulted in a "
                f"negative output size, which is invalid. Check dimension {ax} of your input.")
        crop[ax] = slice(max(-lo, 0), n - max(-hi, 0))
    x = x[tuple(crop)]
    fill = bool(value) if x.dtype == np.bool_ else np.asarray(value).astype(x.dtype)[()]
    out = _pad(xp, x, list(pairs), [(max(lo, 0), max(hi, 0)) for lo, hi in pairs.values()],
               fill)
    return out.copy() if out is x else out


def _pad_index(mode, n, lo, hi):
    """Source positions of the ``n + lo + hi`` outputs of a reflect/replicate/circular pad."""
    if mode == "circular":  # negative pads crop first; the rest wraps around what is left
        c_lo = max(-lo, 0)
        m = n - c_lo - max(-hi, 0)
        return c_lo + np.arange(-max(lo, 0), m + max(hi, 0)) % m
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        j = np.abs(j)
        return np.where(j >= n, 2 * (n - 1) - j, j)
    return np.clip(j, 0, n - 1)


def _index_pad(xp, x, *, pad, mode):
    if mode == "replicate" and x.dtype == np.bool_:
        raise NotImplementedError(
            f"\"replication_pad{len(pad) // 2}d\" not implemented for 'Bool'")
    for ax, (lo, hi) in _pairs(pad, x.ndim).items():
        x = xp.take(x, xp.asarray(_pad_index(mode, x.shape[ax], lo, hi)), axis=ax)
    return x


def _index_pad_backward(xp, g, *, pad, mode, input_size):
    """The adjoint of ``_index_pad``: gradients summed back onto their source positions."""
    pairs = _pairs(pad, g.ndim)
    for ax in sorted(pairs, reverse=True):
        lo, hi = pairs[ax]
        n = input_size[ax]
        src = _pad_index(mode, n, lo, hi)
        shape = list(g.shape)
        shape[ax] = n
        out = xp.zeros(shape, g.dtype)
        moved = xp.moveaxis(out, ax, 0)
        xp.add.at(moved, xp.asarray(src), xp.moveaxis(g, ax, 0))
        g = out
    return g


def _pad_name(node):
    kind = {"reflect": "Reflection", "replicate": "Replication"}.get(node.params["mode"])
    return f"{kind}Pad{len(node.params['pad']) // 2}DBackward0" if kind else "PadBackward0"


CONSTANT_PAD = register("constant_pad_nd", _constant_pad_nd, vjp=lambda c, g: (
    CONSTANT_PAD(g, pad=tuple(-p for p in c.params["pad"])),))
INDEX_PAD = register("pad", _index_pad, vjp=lambda c, g: (INDEX_PAD_BACKWARD(
    g, pad=c.params["pad"], mode=c.params["mode"], input_size=tuple(c.in_meta[0][0])),),
    backward_name=_pad_name)
INDEX_PAD_BACKWARD = register("pad_backward", _index_pad_backward, vjp=lambda c, g: (
    INDEX_PAD(g, pad=c.params["pad"], mode=c.params["mode"]),))
