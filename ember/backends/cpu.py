"""The CPU backend: NumPy arrays (bfloat16 through ml_dtypes)."""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

from .._device import CPU

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
# NumPy's float sums run on one core with a pairwise loop; PyTorch uses every core with SIMD,
# several times faster on large inputs. A sum over the leading or trailing dims of a
# contiguous float32/float64 array is a matrix-vector product with a vector of ones, which BLAS
# runs multithreaded and vectorised, so large sums go there. Small inputs stay on NumPy, whose
# call overhead is lower.

BLAS_MIN = 1 << 16
_ones_cache: dict = {}


def _ones(n: int, dtype) -> np.ndarray:
    key = (n, dtype)
    v = _ones_cache.get(key)
    if v is None:
        if len(_ones_cache) > 64:
            _ones_cache.clear()
        v = _ones_cache[key] = np.ones(n, dtype)
    return v


def blas_sum(x: np.ndarray, axis: tuple, keepdims: bool):
    """``x.sum(axis)`` through BLAS gemv when ``axis`` is a leading or trailing block of a
    C-contiguous float32/float64 array; None when that does not apply."""
    if x.size < BLAS_MIN or x.dtype not in (np.float32, np.float64) or \
            not x.flags.c_contiguous or not axis:
        return None
    nd = x.ndim
    k = len(axis)
    if axis == tuple(range(nd - k, nd)):        # trailing dims: rows @ ones
        outer = x.shape[:nd - k]
        inner = x.size // max(int(np.prod(outer)), 1)
        if k == nd:  # everything: split into a near-square matrix, then sum its row sums
            cols = 1 << max((inner.bit_length() // 2), 0)
            if inner % cols:
                return None
            # column sums (BLAS's axpy form of gemv, faster than its dot form), then their sum
            r = (_ones(inner // cols, x.dtype) @ x.reshape(-1, cols)).sum(dtype=x.dtype)
        else:
            r = x.reshape(-1, inner) @ _ones(inner, x.dtype)
    elif axis == tuple(range(k)):               # leading dims: ones @ columns
        outer = x.shape[k:]
        lead = x.size // max(int(np.prod(outer)), 1)
        r = _ones(lead, x.dtype) @ x.reshape(lead, -1)
    else:
        return None
    r = np.asarray(r, dtype=x.dtype).reshape(outer)
    if keepdims:
        r = r.reshape(tuple(1 if d in axis else n for d, n in enumerate(x.shape)))
    return r

