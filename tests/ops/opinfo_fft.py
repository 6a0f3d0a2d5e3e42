"""Op table entries: fft ops (see ``opinfo.py``).

Samples are small (gradcheck runs on each); float64 samples add complex inputs so that
gradients through complex inputs are checked too, where the transform takes them.
"""

from __future__ import annotations

import numpy as np

from .opinfo import COMPLEX, FLOATS, A, ErrorCase, Sample, add, arr

FFT_DTYPES = ("bool", "int64", "float16") + FLOATS + COMPLEX
REAL_DTYPES = ("bool", "int64", "float16") + FLOATS


def _fft(name):
    return lambda m, *a, **k: getattr(m.fft, name)(*a, **k)


def _with_complex(gen, complex_ok=True):
    """``gen``'s samples; for float64 the same again as complex128 (complex gradients)."""
    def samples(dtype, rng):
        out = gen(dtype, rng)
        if dtype == "float64" and complex_ok:
            out += [Sample(tuple(A(a.array.astype(np.complex128) + 1j * arr(
                rng, a.array.shape, "float64"), a.noncontig) if isinstance(a, A) else a
                for a in s.args), s.kwargs, "complex-" + s.name) for s in gen(dtype, rng)]
        return out
    return samples


def _one_dim(dtype, rng):
    return [
        Sample((A(arr(rng, (5,), dtype)),), name="5"),
        Sample((A(arr(rng, (4,), dtype)),), {"n": 6, "norm": "ortho"}, name="pad"),
        Sample((A(arr(rng, (3, 4), dtype)),), {"n": 2, "dim": 0, "norm": "forward"},
               name="crop"),
        Sample((A(arr(rng, (4, 3), dtype), noncontig=True),), {"n": 3}, name="noncontig"),
        Sample((A(arr(rng, (2, 3, 2), dtype)),), {"dim": 1, "norm": "backward"}, name="3d"),
        Sample((A(arr(rng, (0,), dtype)),), name="empty"),
        Sample((A(arr(rng, (), dtype)),), name="0d"),
    ]


def _c2r_one_dim(dtype, rng):
    # the input is a half-spectrum; the output length is even by default, or n
    return [
        Sample((A(arr(rng, (4,), dtype)),), name="4"),
        Sample((A(arr(rng, (4,), dtype)),), {"n": 5, "norm": "ortho"}, name="odd"),
        Sample((A(arr(rng, (3, 3), dtype)),), {"n": 8, "dim": 0, "norm": "forward"},
               name="pad"),
        Sample((A(arr(rng, (4, 3), dtype), noncontig=True),), {"n": 2}, name="crop"),
        Sample((A(arr(rng, (1,), dtype)),), name="too-short"),
    ]


def _n_dim(two):
    def gen(dtype, rng):
        out = [
            Sample((A(arr(rng, (3, 4), dtype)),), name="3x4"),
            Sample((A(arr(rng, (2, 3, 4), dtype)),), {"s": (3, 5), "norm": "ortho"},
                   name="s"),
            Sample((A(arr(rng, (2, 3), dtype)),), {"s": (-1, 3), "norm": "forward"},
                   name="s=-1"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True),), name="noncontig"),
            Sample((A(arr(rng, (3, 4), dtype)),), {"dim": (1, 0)}, name="dims-reversed"),
        ]
        if not two:
            out += [Sample((A(arr(rng, (2, 3, 2), dtype)),), {"dim": (0, 2)}, name="dims"),
                    Sample((A(arr(rng, (), dtype)),), name="0d"),
                    Sample((A(arr(rng, (3,), dtype)),), name="1d")]
        return out
    return gen


_BAD = (
    ErrorCase((A(np.ones(4, np.float32)),), {"n": 0}, match="Invalid number of data points"),
    ErrorCase((A(np.ones(4, np.float32)),), {"norm": "bad"}, match="Invalid normalization"),
    ErrorCase((A(np.ones(4, np.float32)),), {"dim": 1}, match="Dimension out of range"),
)
_BAD_N = (
    ErrorCase((A(np.ones((3, 4), np.float32)),), {"s": (2, 3), "dim": (0,)},
              match="same length"),
    ErrorCase((A(np.ones((3, 4), np.float32)),), {"dim": (0, 0)}, match="unique"),
    ErrorCase((A(np.ones((3, 4), np.float32)),), {"s": (2, 3, 4)}, match="3 values"),
    ErrorCase((A(np.ones((3, 4), np.float32)),), {"norm": "bad"}, match="Invalid normalization"),
)


def _bad_n(name):
    # the two-dim forms pass dim=(-2, -1), so s with 3 values fails the length check first
    return _BAD_N[:2] + _BAD_N[3:] if name.endswith("2") else _BAD_N


_COMPLEX_IN = (ErrorCase((A(np.ones(4, np.complex64)),), match="real"),)

for _n in ("fft", "ifft"):
    add(f"fft.{_n}", fn=_fft(_n), samples=_with_complex(_one_dim), dtypes=FFT_DTYPES, atol=1e-4,
        errors=_BAD)
for _n in ("rfft", "ihfft"):
    add(f"fft.{_n}", fn=_fft(_n), samples=_with_complex(_one_dim, False), dtypes=REAL_DTYPES,
        atol=1e-4, errors=_BAD + _COMPLEX_IN)
for _n in ("irfft", "hfft"):
    add(f"fft.{_n}", fn=_fft(_n), samples=_with_complex(_c2r_one_dim), dtypes=FFT_DTYPES,
        atol=1e-4, errors=_BAD)
for _n in ("fftn", "ifftn", "irfftn", "hfftn", "fft2", "ifft2", "irfft2", "hfft2"):
    add(f"fft.{_n}", fn=_fft(_n), samples=_with_complex(_n_dim(_n.endswith("2"))),
        dtypes=FFT_DTYPES, atol=1e-4, errors=_bad_n(_n))
for _n in ("rfftn", "ihfftn", "rfft2", "ihfft2"):
    add(f"fft.{_n}", fn=_fft(_n), samples=_with_complex(_n_dim(_n.endswith("2")), False),
        dtypes=REAL_DTYPES, atol=1e-4, errors=_bad_n(_n) + (
            ErrorCase((A(np.ones((3, 4), np.complex64)),), match="Complex"),))


def _freq(name):
    def fn(m, n, d=1.0, dtype=None):
        return getattr(m.fft, name)(n, d, dtype=None if dtype is None else getattr(m, dtype))
    return fn


def _freq_samples(dtype, rng):
    return [Sample((5,)), Sample((6, 0.1)), Sample((1, 2.0)), Sample((0,)),
            Sample((7, 0.5, dtype)), Sample((-1,)), Sample((-3, 2.0))]


_BAD_FREQ = ErrorCase((4, 1.0, "int64"), match="floating point")
add("fft.fftfreq", fn=_freq("fftfreq"), samples=_freq_samples, grad=False,
    errors=(_BAD_FREQ, ErrorCase((-1,), match="negative dimension")))
add("fft.rfftfreq", fn=_freq("rfftfreq"), samples=_freq_samples, grad=False, errors=(_BAD_FREQ,))


def _shift_samples(dtype, rng):
    return [Sample((A(arr(rng, (5,), dtype)),)), Sample((A(arr(rng, (3, 4), dtype)),)),
            Sample((A(arr(rng, (3, 4), dtype)),), {"dim": 0}),
            Sample((A(arr(rng, (2, 3, 4), dtype)),), {"dim": (0, -1)}),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True),), {"dim": (1, 1)}),
            Sample((A(arr(rng, (0, 3), dtype)),))]


for _n in ("fftshift", "ifftshift"):
    add(f"fft.{_n}", fn=_fft(_n), samples=_shift_samples,
        dtypes=("bool", "int64", "float16") + FLOATS + COMPLEX,
        errors=(ErrorCase((A(np.ones((3, 4), np.float32)),), {"dim": 5},
                          match="Dimension out of range"),))


# the primitives themselves, against PyTorch's (their gradients are the conventions)
def _prim(name):
    def fn(m, x, *args):
        import torch

        from ember._ops import fft as ops
        return getattr(torch, "_" + name)(x, *args) if m is torch else getattr(ops, name)(
            x, *args)
    return fn


def _complex(dtype):
    return {"float32": "complex64", "float64": "complex128"}.get(dtype, dtype)


def _c2c_samples(dtype, rng):
    dtype = _complex(dtype)
    return [Sample((A(arr(rng, (3, 4), dtype)), (0, 1), 0, True)),
            Sample((A(arr(rng, (3, 4), dtype)), (1,), 1, False)),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), (0,), 2, True))]


def _r2c_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 4), dtype)), (0, 1), 0, True)),
            Sample((A(arr(rng, (3, 5), dtype)), (1,), 1, True)),
            Sample((A(arr(rng, (3, 4), dtype)), (1, 0), 2, False)),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), (0,), 2, True))]


def _c2r_samples(dtype, rng):
    dtype = _complex(dtype)
    return [Sample((A(arr(rng, (3, 3), dtype)), (0, 1), 0, 4)),
            Sample((A(arr(rng, (3, 3), dtype)), (1,), 1, 5)),
            Sample((A(arr(rng, (3, 3), dtype), noncontig=True), (1, 0), 2, 4))]


add("_fft_c2c", fn=_prim("fft_c2c"), samples=_c2c_samples, dtypes=COMPLEX, atol=1e-4)
add("_fft_r2c", fn=_prim("fft_r2c"), samples=_r2c_samples, dtypes=FLOATS, atol=1e-4)
add("_fft_c2r", fn=_prim("fft_c2r"), samples=_c2r_samples, dtypes=COMPLEX, atol=1e-4)
