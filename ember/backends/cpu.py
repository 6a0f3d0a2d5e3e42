"""The CPU backend: NumPy arrays (bfloat16 through ml_dtypes)."""

from __future__ import annotations

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

