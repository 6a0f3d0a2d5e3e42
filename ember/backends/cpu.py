"""The CPU backend: NumPy arrays (bfloat16 through ml_dtypes)."""

from __future__ import annotations

import ctypes
import functools
import math
import os
import sys

import numpy as np

from .._device import CPU
from .._threads import get_num_threads, parallel
from . import native

ndarray = np.ndarray


class CPUBackend:
    name = "cpu"
    xp = np
    array_type = np.ndarray
    call = None  # one array type, one device: the registry calls impls directly

    @staticmethod
    def device_of(arr) -> object:
        return CPU

    @staticmethod
    def to_numpy(arr, non_blocking: bool = False) -> np.ndarray:
        return arr

    @staticmethod
    def from_numpy(arr: np.ndarray, dev, non_blocking: bool = False) -> np.ndarray:
        return arr


BACKEND = CPUBackend()


# NOTE [ Host memory reuse ]
# Eager ops allocate large temporaries (im2col columns, activations, gradients) and free them
# within the step. glibc serves blocks over its mmap threshold (128 KiB until it adapts) from
# fresh mappings and trims the top of the heap once 128 KiB of it is free, so the next step
# takes every page back from the kernel: a small CNN training step took about 4,900 page
# faults and 9 ms of system time per step (34 ms in all; 21 ms without the faults). As
# PyTorch's caching allocator keeps device memory, ember keeps freed host memory for reuse:
# at import it sets glibc's mmap threshold to its ceiling (32 MiB; larger arrays are still
# mapped and unmapped) and the heap's trim threshold to 1 GiB. Elsewhere (no glibc) nothing
# changes; ``EMBER_KEEP_HOST_MEMORY=0`` leaves glibc's defaults.

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_host_memory() -> bool:
    """Tune glibc's malloc to keep freed memory for reuse (NOTE [ Host memory reuse ]);
    False where there is no glibc or the environment opts out."""
    if os.environ.get("EMBER_KEEP_HOST_MEMORY", "1") == "0" or \
            not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # other C libraries' mallopt differ
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20) and mallopt(_M_TRIM_THRESHOLD, 1 << 30))


KEEPS_HOST_MEMORY = keep_host_memory()


# NOTE [ CPU reduction kernels ]
# NumPy's float sums run a pairwise loop that is several times slower than PyTorch's SIMD sum
# on large inputs. A sum over the leading or trailing dims of a contiguous float32/float64
# array is a (rows, cols) matrix summed along its rows or its columns, so large sums go to:
#
# - the C kernels of ``kernels/reduce.c`` (NOTE [ Native CPU kernels ]) where they are built:
#   vectorised partial sums over blocks of 2048 values, the blocks added in double, so they are
#   also more accurate than NumPy's and BLAS's float sums. They run on one thread;
# - BLAS otherwise, and for 2**20 values or more when ember may use several threads: a
#   matrix-vector product with a vector of ones, which OpenBLAS shares over its threads.
#   (Splitting a C kernel over Python threads did not pay: handing work to a worker thread
#   and back cost about 90 us on a busy 2-core host, OpenBLAS's spinning threads far less.)
#
# Measured single-threaded on (2048, 2048) float32 against PyTorch in one process: BLAS's
# gemv took 1.2-1.3x PyTorch's time for the whole sum and the row sums, the C kernels 0.95-1.1x
# and 0.3x for the column sums (bench/bench_core.py). Small inputs stay on NumPy, whose call
# overhead is lower.

BLAS_MIN = 1 << 16
_THREADED_MIN = 1 << 20  # with more threads, BLAS takes sums from this size
_ones_cache: dict = {}


def _ones(n: int, dtype) -> np.ndarray:
    key = (n, dtype)
    v = _ones_cache.get(key)
    if v is None:
        if len(_ones_cache) > 64:
            _ones_cache.clear()
        v = _ones_cache[key] = np.ones(n, dtype)
    return v


_P, _N = ctypes.c_void_p, ctypes.c_ssize_t
# the suffix of the C kernels' names per dtype (``kernels/*.c`` define each for both)
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


@functools.cache
def _sum_kernels(dtype):
    """(total, rows, cols) C kernels for ``dtype``, or None (NOTE [ Native CPU kernels ])."""
    name = _SUFFIX[dtype]
    total = native.function("reduce", f"total_{name}", [_P, _N], ctypes.c_double)
    if total is None:
        return None
    return (total, native.function("reduce", f"rows_{name}", [_P, _N, _N, _P]),
            native.function("reduce", f"cols_{name}", [_P, _N, _N, _N, _P, _P, _P]))


def _native_sum(kernels, m: np.ndarray, along_rows: bool):
    """Row sums (``along_rows``) or column sums of the C-contiguous matrix ``m`` with the C
    kernels; one row gives a Python float."""
    total, rows_k, cols_k = kernels
    rows, cols = m.shape
    if along_rows and rows == 1:
        return total(m.ctypes.data, cols)
    if along_rows:
        out = np.empty(rows, m.dtype)
        rows_k(m.ctypes.data, rows, cols, out.ctypes.data)
        return out
    # (the scratch arrays must stay referenced until the call returns)
    out, acc, scratch = np.empty(cols, m.dtype), np.empty(cols, m.dtype), np.empty(cols)
    cols_k(m.ctypes.data, rows, cols, cols, out.ctypes.data, acc.ctypes.data,
           scratch.ctypes.data)
    return out


def fast_sum(x: np.ndarray, axis: tuple, keepdims: bool):
    """``x.sum(axis)`` by the C kernels or BLAS when ``axis`` is a leading or trailing block of
    a large C-contiguous float32/float64 array (NOTE [ CPU reduction kernels ]); None when
    that does not apply."""
    if x.size < BLAS_MIN or x.dtype not in (np.float32, np.float64) or \
            not x.flags.c_contiguous or not axis:
        return None
    nd = x.ndim
    k = len(axis)
    if axis == tuple(range(nd - k, nd)):        # trailing dims: row sums
        outer, along_rows = x.shape[:nd - k], True
    elif axis == tuple(range(k)):               # leading dims: column sums
        outer, along_rows = x.shape[k:], False
    else:
        return None
    n_out = math.prod(outer)
    kernels = _sum_kernels(x.dtype)
    if kernels is not None and (x.size < _THREADED_MIN or get_num_threads() == 1):
        if n_out == 1 and not keepdims:  # everything (the common case): a 0-d result
            return np.asarray(_native_sum(kernels, x.reshape(1, -1), True), x.dtype)
        r = _native_sum(kernels, x.reshape((n_out, -1) if along_rows else (-1, n_out)),
                        along_rows)
    elif along_rows and n_out == 1:
        # all of it: column sums of a near-square matrix (BLAS's axpy form of gemv, faster
        # than its dot form), then their sum
        cols = 1 << max((x.size.bit_length() // 2), 0)
        if x.size % cols:
            return None
        r = (_ones(x.size // cols, x.dtype) @ x.reshape(-1, cols)).sum(dtype=x.dtype)
    elif along_rows:
        r = x.reshape(n_out, -1) @ _ones(x.size // n_out, x.dtype)
    else:
        r = _ones(x.size // n_out, x.dtype) @ x.reshape(-1, n_out)
    r = np.asarray(r, dtype=x.dtype).reshape(outer)
    if keepdims:
        r = r.reshape(tuple(1 if d in axis else n for d, n in enumerate(x.shape)))
    return r



# -- layer norm rows (NOTE [ Layer norm kernels ], ``kernels/norm.c``) ---------------------------

def _ptr(a):
    return None if a is None else a.ctypes.data


@functools.cache
def _norm_kernels(dtype):
    name = _SUFFIX.get(dtype)
    if name is None:
        return None
    fwd = native.function("norm", f"forward_{name}", [_P, _N, _N, _P, _P, ctypes.c_double,
                                                       _P, _P, _P])
    if fwd is None:
        return None
    return fwd, native.function("norm", f"backward_{name}", [_P] * 5 + [_N, _N] + [_P] * 5)


def _vector(v, dtype):
    return None if v is None else np.ascontiguousarray(v, dtype).reshape(-1)


def layer_norm_rows(x: np.ndarray, w, b, eps: float):
    """Layer norm of the rows of the (m, n) float32/float64 matrix ``x`` by the C kernel:
    ``(y, mean, rstd)``, or None where it is not built."""
    kernels = _norm_kernels(x.dtype)
    if kernels is None:
        return None
    x = np.ascontiguousarray(x)
    m, n = x.shape
    w, b = _vector(w, x.dtype), _vector(b, x.dtype)
    y, mean, rstd = np.empty((m, n), x.dtype), np.empty(m, x.dtype), np.empty(m, x.dtype)
    kernels[0](x.ctypes.data, m, n, _ptr(w), _ptr(b), eps, y.ctypes.data, mean.ctypes.data,
               rstd.ctypes.data)
    return y, mean, rstd


def layer_norm_rows_backward(g, x, mean, rstd, w, mask, gx_shape):
    """``(gx, gw, gb)`` of ``layer_norm_rows`` by the C kernel, None for those not in ``mask``
    (``gx`` in ``gx_shape``); None where the kernel is not built."""
    kernels = _norm_kernels(x.dtype)
    if kernels is None:
        return None
    g, x = np.ascontiguousarray(g, x.dtype), np.ascontiguousarray(x)
    m, n = x.shape
    mean, rstd, w = _vector(mean, x.dtype), _vector(rstd, x.dtype), _vector(w, x.dtype)
    gx = np.empty(gx_shape, x.dtype) if mask[0] else None
    gw = np.empty(n, x.dtype) if mask[1] else None
    gb = np.empty(n, x.dtype) if mask[2] else None
    acc, total = np.empty(2 * n, x.dtype), np.empty(2 * n)
    kernels[1](g.ctypes.data, x.ctypes.data, mean.ctypes.data, rstd.ctypes.data, _ptr(w), m, n,
               _ptr(gx), _ptr(gw), _ptr(gb), acc.ctypes.data, total.ctypes.data)
    return gx, gw, gb


# -- direct convolution (NOTE [ Direct convolution ] in _ops/conv.py, ``kernels/conv.c``) -------

_COB, _VBYTES = 8, 64


@functools.cache
def _conv_kernels(dtype):
    """(forward, weight) C kernels for ``dtype``, or None."""
    name = _SUFFIX.get(dtype)
    fwd = None if name is None else \
        native.function("conv", f"forward_{name}", [_P, _P, _P] + [_N] * 9)
    if fwd is None:
        return None
    return fwd, native.function("conv", f"weight_{name}", [_P, _P, _P] + [_N] * 9 + [_P])


def direct_conv2d_fits(dtype, out_width: int) -> bool:
    """Whether ``direct_conv2d`` runs for this dtype and output width: its kernel is built and
    padding the width to whole vectors wastes at most a quarter of the lanes."""
    if dtype not in (np.float32, np.float64):
        return False
    vl = _VBYTES // np.dtype(dtype).itemsize
    return 4 * out_width >= 3 * -(-out_width // vl) * vl and \
        _conv_kernels(np.dtype(dtype)) is not None


def _conv_geometry(x, kernel, out):
    """(vector length, padded output width, padded input height and width) of the direct
    kernels for input ``x``, ``kernel`` (KH, KW) and ``out`` (HO, WO)."""
    vl = _VBYTES // x.dtype.itemsize
    wq = -(-out[1] // vl) * vl
    return vl, wq, out[0] + kernel[0] - 1, wq + kernel[1] - 1


_CONV_SPLIT_MIN = 1 << 22  # multiply-adds per thread below which a convolution runs on one


def _image_splits(n: int, per_image: int) -> list:
    """(start, end) image ranges sharing a convolution of ``per_image`` multiply-adds per image
    over ``get_num_threads()`` threads (NOTE [ Worker threads ])."""
    parts = max(1, min(get_num_threads(), n, n * per_image // _CONV_SPLIT_MIN))
    step = -(-n // parts)
    return [(s, min(n, s + step)) for s in range(0, n, step)]


def _padded_input(x, lo, hp, wx):
    """``x`` (N, C, H, W) in a zeroed (N, C, hp, wx) buffer at offset ``lo`` (negative: x is
    cropped there), cropped to fit."""
    n, c, h, wd = x.shape
    xp = np.zeros((n, c, hp, wx), x.dtype)
    r0, c0 = max(lo[0], 0), max(lo[1], 0)        # where x's first kept row/column lands
    sr, sc = max(-lo[0], 0), max(-lo[1], 0)      # x's first kept row/column
    nr, nc = min(h - sr, hp - r0), min(wd - sc, wx - c0)
    if nr > 0 and nc > 0:
        xp[:, :, r0:r0 + nr, c0:c0 + nc] = x[:, :, sr:sr + nr, sc:sc + nc]
    return xp


def _taps(kernel, stride):
    """Taps per dim of the stride-1 convolution a strided one becomes (``_stacked_input``)."""
    return tuple(-(-k // st) for k, st in zip(kernel, stride))


def _stacked_input(x, lo, stride, taps, out):
    """A strided convolution's input as a stride-1 one's (space to depth): the zero-padded
    input's ``s0 * s1`` phases ``xp[:, :, p0::s0, p1::s1]`` stacked as channels, phase-major,
    (N, s0·s1·C, HO + t0 - 1, WO + t1 - 1)."""
    (s0, s1), (t0, t1) = stride, taps
    hh, ww = out[0] + t0 - 1, out[1] + t1 - 1
    xp = _padded_input(x, lo, s0 * hh, s1 * ww)
    n, c = x.shape[:2]
    xp = xp.reshape(n, c, hh, s0, ww, s1).transpose(0, 3, 5, 1, 2, 4)
    return np.ascontiguousarray(xp).reshape(n, s0 * s1 * c, hh, ww)


def _stacked_weight(w, stride, taps):
    """(O, C, K0, K1) weights as the stride-1 convolution's of ``_stacked_input``: tap
    ``s * t + p`` of phase p at position t, zero past the kernel."""
    (s0, s1), (t0, t1) = stride, taps
    o, c, k0, k1 = w.shape
    wz = np.zeros((o, c, s0 * t0, s1 * t1), w.dtype)
    wz[:, :, :k0, :k1] = w
    wz = wz.reshape(o, c, t0, s0, t1, s1).transpose(0, 3, 5, 1, 2, 4)
    return np.ascontiguousarray(wz).reshape(o, s0 * s1 * c, t0, t1)


def direct_conv2d_stride_fits(kernel, stride) -> bool:
    """Whether a strided convolution pays on the direct kernel: at most twice the
    multiply-adds once its kernel is split by phase (3x3 with stride 2: 16 taps for 9)."""
    return math.prod(st * t for st, t in zip(stride, _taps(kernel, stride))) <= \
        2 * math.prod(kernel)


def direct_conv2d(x: np.ndarray, w: np.ndarray, lo, out, stride=(1, 1)) -> np.ndarray:
    """The undilated, one-group convolution of the (N, C, H, W) ``x`` with the (O, C, KH, KW)
    ``w`` (same float dtype) into ``out`` = (HO, WO), ``x`` padded by ``lo`` before (negative:
    cropped) and with zeros after as needed, by the C kernel; a stride goes through
    ``_stacked_input``."""
    if tuple(stride) != (1, 1):
        taps = _taps(w.shape[2:], stride)
        return direct_conv2d(_stacked_input(x, lo, stride, taps, out),
                             _stacked_weight(w, stride, taps), (0, 0), out)
    dt = x.dtype
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    ho, wo = out
    _, wq, hp, wx = _conv_geometry(x, (kh, kw), out)
    op = -(-o // _COB) * _COB
    xp = _padded_input(x, lo, hp, wx)
    # weights in blocks of _COB output channels: (O / _COB, C, KH, KW, _COB)
    wp = w if op == o else np.concatenate([w, np.zeros((op - o,) + w.shape[1:], dt)])
    wp = np.ascontiguousarray(wp.reshape(op // _COB, _COB, c, kh, kw).transpose(0, 2, 3, 4, 1))
    y = np.empty((n, op, ho, wq), dt)
    fwd, isz = _conv_kernels(dt)[0], dt.itemsize
    parallel([functools.partial(fwd, xp.ctypes.data + s * c * hp * wx * isz, wp.ctypes.data,
                                y.ctypes.data + s * op * ho * wq * isz, e - s, c, op, hp, wx,
                                ho, wq, kh, kw)
              for s, e in _image_splits(n, c * op * ho * wq * kh * kw)])
    return y if (op, wq) == (o, wo) else np.ascontiguousarray(y[:, :o, :, :wo])


def direct_conv2d_weight(x: np.ndarray, g: np.ndarray, lo, kernel) -> np.ndarray:
    """The weight gradient (O, C, KH, KW) of the unit-stride ``direct_conv2d`` for input ``x``
    and output gradient ``g`` (N, O, HO, WO), by the C kernel."""
    dt = x.dtype
    n, c = x.shape[:2]
    o, out = g.shape[1], g.shape[2:]
    vl, wq, hp, wx = _conv_geometry(x, kernel, out)
    op = -(-o // _COB) * _COB
    xp = _padded_input(x, lo, hp, wx)
    if (op, wq) == (o, out[1]):
        gq = np.ascontiguousarray(g)
    else:  # zero rows and columns past the true sizes
        gq = np.zeros((n, op, out[0], wq), dt)
        gq[:, :o, :, :out[1]] = g
    total = op * c * kernel[0] * kernel[1]
    splits = _image_splits(n, op * c * out[0] * wq * kernel[0] * kernel[1])
    # per part, 64-byte aligned vector scratch (the kernel's vector type is aligned) and a dw
    raw = np.empty(len(splits) * total * vl + vl, dt)
    start = (-raw.ctypes.data % _VBYTES) // dt.itemsize
    acc = raw[start:start + len(splits) * total * vl]
    dws = np.empty((len(splits), op, c) + tuple(kernel), dt)
    weight, isz = _conv_kernels(dt)[1], dt.itemsize
    parallel([functools.partial(weight, xp.ctypes.data + s * c * hp * wx * isz,
                                gq.ctypes.data + s * op * out[0] * wq * isz,
                                dws.ctypes.data + k * total * isz, e - s, c, op, hp, wx, out[0],
                                wq, kernel[0], kernel[1], acc.ctypes.data + k * total * vl * isz)
              for k, (s, e) in enumerate(splits)])
    dw = dws[0] if len(splits) == 1 else dws.sum(0)
    return dw if op == o else np.ascontiguousarray(dw[:o])


# -- batch norm (NOTE [ Layer norm kernels ], ``kernels/norm.c``) --------------------------------

@functools.cache
def _bn_kernels(dtype):
    """(stats, apply, sums, grad) C kernels for ``dtype``, or None."""
    name = _SUFFIX.get(dtype)
    stats = None if name is None else \
        native.function("norm", f"bn_stats_{name}", [_P, _N, _N, _N, _P, _P])
    if stats is None:
        return None
    return (stats, native.function("norm", f"bn_apply_{name}", [_P, _N, _N, _N, _P, _P, _P]),
            native.function("norm", f"bn_sums_{name}", [_P, _P, _N, _N, _N] + [_P] * 4),
            native.function("norm", f"bn_grad_{name}",
                            [_P, _P, _N, _N, _N] + [_P] * 5 + [ctypes.c_int, _P]))


def batch_norm_stats(x3: np.ndarray):
    """Per-channel mean and biased variance of the (N, C, L) float32/float64 ``x3`` by the C
    kernel, or None where it is not built."""
    k = _bn_kernels(x3.dtype)
    if k is None:
        return None
    x3 = np.ascontiguousarray(x3)
    mean, var = np.empty(x3.shape[1], x3.dtype), np.empty(x3.shape[1], x3.dtype)
    k[0](x3.ctypes.data, *x3.shape, mean.ctypes.data, var.ctypes.data)
    return mean, var


def batch_norm_apply(x3: np.ndarray, scale, shift):
    """``x3 * scale[c] + shift[c]`` over (N, C, L) by the C kernel, or None."""
    k = _bn_kernels(x3.dtype)
    if k is None:
        return None
    x3 = np.ascontiguousarray(x3)
    scale, shift = _vector(scale, x3.dtype), _vector(shift, x3.dtype)
    y = np.empty(x3.shape, x3.dtype)
    k[1](x3.ctypes.data, *x3.shape, scale.ctypes.data, shift.ctypes.data, y.ctypes.data)
    return y


def batch_norm_backward(g3, x3, mean, rstd, w, training: bool, need_gx: bool):
    """``(gx or None, sum_g, sum_gxh)`` of batch norm over (N, C, L) by the C kernels
    (``sum_gxh``: the per-channel sum of g times the normalised input), or None."""
    k = _bn_kernels(x3.dtype)
    if k is None:
        return None
    g3, x3 = np.ascontiguousarray(g3, x3.dtype), np.ascontiguousarray(x3)
    c = x3.shape[1]
    mean, rstd, w = _vector(mean, x3.dtype), _vector(rstd, x3.dtype), _vector(w, x3.dtype)
    sum_g, sum_gxh = np.empty(c, x3.dtype), np.empty(c, x3.dtype)
    k[2](g3.ctypes.data, x3.ctypes.data, *x3.shape, mean.ctypes.data, rstd.ctypes.data,
         sum_g.ctypes.data, sum_gxh.ctypes.data)
    gx = None
    if need_gx:
        gx = np.empty(x3.shape, x3.dtype)
        k[3](g3.ctypes.data, x3.ctypes.data, *x3.shape, mean.ctypes.data, rstd.ctypes.data,
             _ptr(w), sum_g.ctypes.data, sum_gxh.ctypes.data, int(training), gx.ctypes.data)
    return gx, sum_g, sum_gxh
