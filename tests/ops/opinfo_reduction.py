"""Op table entries: reduction ops (see ``opinfo.py``): NaN-ignoring and paired reductions,
scans, sorting and selection, unique, histograms, differences, integrals and statistics.

Selection ops (topk, kthvalue, median, mode) pick among tied values by an unspecified rule in
PyTorch, so their samples hold distinct values (``_distinct``); see NOTE [ Sorting and ties ].
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from .opinfo import (
    ALL,
    ALL_REAL,
    COMPLEX,
    FLOATS,
    HALF,
    INTS,
    A,
    ErrorCase,
    Sample,
    add,
    arr,
    reduction_samples,
)

F32 = np.float32


def _as(v, dtype):
    return v.astype(ml_dtypes.bfloat16) if dtype == "bfloat16" else v.astype(dtype)


def _distinct(rng, shape, dtype):
    """Distinct values (exact in every dtype), in random order."""
    n = math.prod(shape)
    v = rng.permutation(n)
    if dtype == "bool":
        v = v % 2
    elif dtype != "uint8":
        v = v - n // 2
    if dtype in FLOATS + HALF:
        v = v * 0.25
    return _as(v.reshape(shape), dtype)


def _with_nan(rng, shape, dtype, frac=0.3):
    a = arr(rng, shape, dtype)
    if dtype in FLOATS + HALF + COMPLEX and a.size:
        a[rng.random(shape) < frac] = np.nan
    return a


def _dim_samples(make, calls, empty=True):
    """Samples of ``make(rng, shape, dtype)`` inputs with each (args, kwargs) in ``calls``
    applied to a (3, 4) input, plus non-contiguous, 3-d, 0-d and empty inputs."""
    def gen(dtype, rng):
        out = []
        for args, kw in calls:
            out.append(Sample((A(make(rng, (3, 4), dtype)),) + args, kw, name=f"{args}{kw}"))
        args, kw = calls[0]
        out.append(Sample((A(make(rng, (4, 3), dtype), noncontig=True),) + args, kw,
                          name="noncontig"))
        out.append(Sample((A(make(rng, (2, 3, 4), dtype)),) + args, kw, name="3d"))
        out.append(Sample((A(make(rng, (), dtype)),) + args, kw, name="0d"))
        if empty:
            out.append(Sample((A(make(rng, (0, 3), dtype)),) + args, kw, name="empty"))
        return out
    return gen


_BAD_DIM = ErrorCase((A(np.ones((3, 4), F32)), 5), match="Dimension out of range")
_BAD_DIM_KW = ErrorCase((A(np.ones((3, 4), F32)),), {"dim": 5}, match="Dimension out of range")

# -- NaN-ignoring and paired reductions ------------------------------------------------------------


def _nan_reduction(dims=(None, 0, 1, (0, 1)), extra=None):
    def gen(dtype, rng):
        out = []
        for d in dims:
            for kd in (False, True):
                kw = {} if d is None else {"dim": d, "keepdim": kd}
                out.append(Sample((A(_with_nan(rng, (3, 4), dtype)),), dict(kw, **(extra or {})),
                                  name=f"dim={d},kd={kd}"))
        out.append(Sample((A(_with_nan(rng, (4, 3), dtype), noncontig=True),), {"dim": 1},
                          name="noncontig"))
        out.append(Sample((A(_with_nan(rng, (), dtype)),), name="0d"))
        out.append(Sample((A(_with_nan(rng, (0, 3), dtype)),), {"dim": 1}, name="empty"))
        if dtype in FLOATS + HALF:
            out.append(Sample((A(_as(np.full((2, 3), np.nan), dtype)),), {"dim": 1},
                              name="all nan"))
        return out
    gen.kind = "reduction"
    return gen


add("nansum", samples=_nan_reduction(), dtypes=ALL_REAL,
    errors=(ErrorCase((A(np.ones(3, np.complex64)),), match="complex"),))
add("nansum_dtype", fn=lambda m, x, **k: m.nansum(x, dtype=m.float64, **k),
    samples=_nan_reduction((None, 1)), dtypes=("int32", "float32"), grad=False)
add("nanmean", samples=_nan_reduction(), dtypes=HALF + FLOATS, atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(np.arange(3)),), match="nanmean(): expected input"),))
for _n in ("std_mean", "var_mean"):
    add(_n, samples=reduction_samples((None, 0, 1, (0, 1))), dtypes=HALF + FLOATS + COMPLEX,
        atol=1e-4, rtol=1e-4)
    add(_n + "_correction", fn=(lambda n: lambda m, x, **k: getattr(m, n)(x, 1, correction=0,
                                                                          **k))(_n),
        samples=reduction_samples((None,), False), dtypes=FLOATS)
    add(_n + "_unbiased", fn=(lambda n: lambda m, x: getattr(m, n)(x, False))(_n),
        samples=reduction_samples((None,), False), dtypes=FLOATS)
    add(_n + "_dims", fn=(lambda n: lambda m, x: getattr(m, n)(x, (0, 2), True, True))(_n),
        samples=lambda d, r: [Sample((A(arr(r, (2, 3, 4), d)),))], dtypes=FLOATS,
        errors=(ErrorCase((A(np.arange(3)),), match="floating point"),))
add("aminmax", samples=reduction_samples((None, 0, 1, -1)), dtypes=ALL_REAL,
    errors=(ErrorCase((A(np.ones((0, 3), F32)),), match="aminmax(): cannot compute"),
            ErrorCase((A(np.ones((0, 3), F32)),), {"dim": 0}, match="non-zero size")))
add("aminmax_ties", fn=lambda m, x, **k: m.aminmax(x, **k), samples=lambda d, r: [
    Sample((A(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], d)),), kw) for kw in
    ({}, {"dim": 1}, {"dim": 0, "keepdim": True})], dtypes=FLOATS, gradgrad=False)
add("count_nonzero", samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d) * (r.random((3, 4)) > 0.4).astype(d)
              if d != "bfloat16" else arr(r, (3, 4), d)),), kw)
    for kw in ({}, {"dim": 0}, {"dim": (0, 1)}, {"dim": -1})] + [
    Sample((A(arr(r, (4, 3), d), noncontig=True),), {"dim": 1}),
    Sample((A(arr(r, (), d)),)), Sample((A(arr(r, (0, 2), d)),), {"dim": 0})],
    dtypes=ALL, grad=False, errors=(_BAD_DIM,))

# -- scans -----------------------------------------------------------------------------------------

_SCAN_CALLS = [((0,), {}), ((1,), {}), ((-1,), {})]
add("cumsum", samples=_dim_samples(arr, _SCAN_CALLS), dtypes=ALL, inplace="cumsum_",
    atol=1e-4, rtol=1e-4, errors=(_BAD_DIM,))
add("cumsum_dtype", fn=lambda m, x, d: m.cumsum(x, d, dtype=m.float64),
    samples=_dim_samples(arr, [((1,), {})]), dtypes=ALL_REAL, grad=False)
add("cumprod", samples=_dim_samples(lambda r, s, d: arr(r, s, d, 0.5, 1.5), _SCAN_CALLS),
    dtypes=ALL, inplace="cumprod_", atol=1e-4, rtol=1e-4, errors=(_BAD_DIM,))


def _cumprod_zeros(dtype, rng):
    a = arr(rng, (3, 5), dtype, 0.5, 1.5)
    a[0, 1] = a[1, 1] = a[1, 3] = a[2, 4] = 0
    return [Sample((A(a), 1)), Sample((A(a.T.copy()), 0)),
            Sample((A(np.array([0.0, 0.0, 2.0], dtype)), 0))]


add("cumprod_zeros", fn=lambda m, x, d: m.cumprod(x, d), samples=_cumprod_zeros, dtypes=FLOATS)
add("cumprod_zeros_method", fn=lambda m, x, d: x.cumprod(d) * 2, samples=_cumprod_zeros,
    dtypes=FLOATS, grad=False)
for _n in ("cummax", "cummin"):
    add(_n, samples=_dim_samples(arr, _SCAN_CALLS), dtypes=ALL_REAL, errors=(_BAD_DIM,))
    add(_n + "_nan", fn=(lambda n: lambda m, x: getattr(m, n)(x, 0))(_n), samples=lambda d, r: [
        Sample((A(np.array([1.0, np.nan, 2.0, np.nan, 5.0, -1.0], d)),), name="nan"),
        Sample((A(_with_nan(r, (6, 2), d)),), name="nan2")], dtypes=FLOATS + HALF,
        skip_gradcheck_samples=("nan", "nan2"), gradgrad=False)
add("logcumsumexp", samples=_dim_samples(arr, _SCAN_CALLS), dtypes=ALL_REAL + COMPLEX,
    atol=1e-4, rtol=1e-4, errors=(_BAD_DIM,))
add("logcumsumexp_inf", fn=lambda m, x: m.logcumsumexp(x, 0), samples=lambda d, r: [
    Sample((A(np.array([-np.inf, -np.inf, 0.0, np.inf, 1.0], d)),), name="inf"),
    Sample((A(np.array([-800.0, 0.0, 700.0], d)),), name="large")], dtypes=FLOATS, grad=False)

# -- sorting and selection ------------------------------------------------------------------------

_SORT_CALLS = [((), {}), ((0,), {}), ((1, True), {}), ((), {"stable": True}),
               ((), {"dim": 0, "descending": True, "stable": True})]


def _tied(rng, shape, dtype):
    a = rng.integers(0, 3, size=shape)
    return _as(a, dtype) if dtype != "bool" else a > 0


def _tied_sort_samples(dtype, rng):
    out = [Sample((A(_tied(rng, (3, 20), dtype)),), {"dim": 1, "stable": True}, name="stable"),
           Sample((A(_tied(rng, (3, 20), dtype)),), {"dim": -1, "descending": True,
                                                     "stable": True}, name="stable desc"),
           Sample((A(_tied(rng, (12, 3), dtype)),), {"dim": 0}, name="short unstable")]
    if dtype in FLOATS + HALF:
        a = _with_nan(rng, (3, 6), dtype)
        out += [Sample((A(a),), {"descending": d, "stable": True}, name=f"nan {d}")
                for d in (False, True)]
    return out


add("sort", samples=_dim_samples(_distinct, _SORT_CALLS), dtypes=ALL_REAL,
    errors=(_BAD_DIM, ErrorCase((A(np.ones(3, np.complex64)),), match="complex")))
add("sort_ties", fn=lambda m, x, **k: m.sort(x, **k), samples=_tied_sort_samples,
    dtypes=ALL_REAL, grad=False)
add("argsort", samples=_dim_samples(_distinct, _SORT_CALLS), dtypes=ALL_REAL, grad=False)
add("argsort_ties", fn=lambda m, x, **k: m.argsort(x, **k), samples=_tied_sort_samples,
    dtypes=ALL_REAL, grad=False)
add("msort", samples=_dim_samples(_distinct, [((), {})]), dtypes=ALL_REAL)
add("topk", samples=_dim_samples(_distinct, [
    ((2,), {}), ((1, 0), {}), ((3, 1, False), {}), ((4,), {"largest": False}),
    ((0,), {})], empty=False), dtypes=ALL_REAL,
    errors=(ErrorCase((A(np.ones(3, F32)), 4), match="k out of range"),
            ErrorCase((A(np.ones(3, F32)), -1), match="k out of range"),
            ErrorCase((A(np.ones((3, 4), F32)), 1, 5), match="Dimension out of range")))
add("topk_nan", fn=lambda m, x, k: m.topk(x, k), samples=lambda d, r: [
    Sample((A(np.array([np.nan, 1.0, 5.0, 0.0, np.inf], d)), 2), name="nan")], dtypes=FLOATS,
    skip_gradcheck_samples=("nan",), gradgrad=False)
add("kthvalue", samples=_dim_samples(_distinct, [
    ((1,), {}), ((2, 0), {}), ((4, 1, True), {}), ((3,), {"keepdim": True})], empty=False),
    dtypes=ALL_REAL,
    errors=(ErrorCase((A(np.ones(3, F32)), 4), match="k out of range"),
            ErrorCase((A(np.ones(3, F32)), 0), match="k out of range"),
            ErrorCase((A(np.ones((0, 3), F32)), 1, 0), match="non-zero size")))
add("median", samples=_dim_samples(_distinct, [((), {})]), dtypes=ALL_REAL,
    errors=(ErrorCase((A(np.ones(2, np.complex64)),), match="ComplexFloat"),))
add("median_dim", fn=lambda m, x, *a, **k: m.median(x, *a, **k),
    samples=_dim_samples(_distinct, [((0,), {}), ((1,), {}), ((-1, True), {})]),
    dtypes=ALL_REAL, errors=(_BAD_DIM, ErrorCase((A(np.ones((0, 3), F32)), 0),
                                                  match="non-zero size")))


def _median_nan(dtype, rng):  # NaN inputs: gradients compared with PyTorch's, no gradcheck
    a = _distinct(rng, (4, 5), dtype)
    a[0, 1] = a[0, 3] = a[2, 4] = np.nan
    a[3, :4] = np.nan
    # PyTorch's index for an all-NaN slice is nth_element's choice: deterministic up to 3
    short = _as(np.full((2, 3), np.nan), dtype)
    return [Sample((A(a),), {"dim": 1}, name="nan"),
            Sample((A(a.T.copy()),), {"dim": 0, "keepdim": True}, name="nan T"),
            Sample((A(a),), name="nan all"), Sample((A(a[:3, :4]),), name="nan part"),
            Sample((A(short),), {"dim": 1}, name="all nan")]


for _n in ("median", "nanmedian"):
    add(_n + "_nan", fn=(lambda n: lambda m, x, **k: getattr(m, n)(x, **k))(_n),
        samples=_median_nan, dtypes=FLOATS + HALF, gradgrad=False,
        skip_gradcheck_samples=("nan", "nan T", "nan all", "nan part", "all nan"))
add("median_ties", fn=lambda m, x: m.median(x), samples=lambda d, r: [
    Sample((A(np.array([1.0, 2.0, 2.0, 1.0], d)),)),
    Sample((A(np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 3.0]], d)),))], dtypes=FLOATS,
    gradgrad=False)
add("nanmedian", samples=_dim_samples(_distinct, [((), {})]), dtypes=ALL_REAL)
add("nanmedian_dim", fn=lambda m, x, *a, **k: m.nanmedian(x, *a, **k),
    samples=_dim_samples(_distinct, [((0,), {}), ((1,), {}), ((-1, True), {})]),
    dtypes=ALL_REAL, errors=(_BAD_DIM,))


def _mode_samples(dtype, rng):
    def small(shape):
        return _tied(rng, shape, dtype)
    return [Sample((A(small((3, 6))),), name="t1"), Sample((A(small((6, 3))), 0), name="t2"),
            Sample((A(small((3, 5))), 1, True), name="t3"),
            Sample((A(_distinct(rng, (3, 4), dtype)),)),
            Sample((A(small((4, 3)), noncontig=True), 1), name="t4"), Sample((A(small(())),)),
            Sample((A(small((2, 3, 4))), 1), name="t5"), Sample((A(small((0, 3))), 1)),
            Sample((A(_tied_rows(dtype)),), name="equal counts")]


def _tied_rows(dtype):
    a = np.array([[1, 2, 2, 1, 0, 0], [0, 0, 1, 1, 2, 2]])
    return a > 0 if dtype == "bool" else _as(a, dtype)

add("mode", samples=_mode_samples, dtypes=ALL_REAL,
    skip_gradcheck_samples=("t1", "t2", "t3", "t4", "t5", "equal counts"),
    errors=(_BAD_DIM, ErrorCase((A(np.ones((0, 3), F32)), 0), match="non-zero size")))


def _quantile_samples(dtype, rng):
    q = np.array([0.0, 0.2, 0.5, 0.75, 1.0], dtype)
    out = []
    for interp in ("linear", "lower", "higher", "midpoint", "nearest"):
        out.append(Sample((A(arr(rng, (3, 5), dtype)), 0.3), {"interpolation": interp},
                          name=interp))
        out.append(Sample((A(arr(rng, (3, 5), dtype)), A(q, grad=False)),
                          {"dim": 1, "interpolation": interp}, name=interp + " q tensor"))
    out += [Sample((A(arr(rng, (3, 4), dtype)), 0.4), {"dim": 0, "keepdim": True}),
            Sample((A(arr(rng, (3, 4), dtype)), A(q, grad=False)), {"keepdim": True}),
            Sample((A(arr(rng, (3, 4), dtype)), A(q[1:3], grad=False)),
                   {"dim": -1, "keepdim": True}),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), 0.9), {"dim": 1}),
            Sample((A(arr(rng, (2, 3, 4), dtype)), A(q[2], grad=False)), {"dim": 1}),
            Sample((A(arr(rng, (), dtype)), 0.5), name="0d"),
            Sample((A(arr(rng, (), dtype)), A(q[:2], grad=False)), {"dim": 0, "keepdim": True}),
            Sample((A(np.array([0.0, 1, 2, 3, 4], dtype)), A(np.array(
                [0.125, 0.375, 0.5, 0.625, 0.875], dtype), grad=False)),
                {"interpolation": "nearest"}, name="half-way ranks"),
            Sample((A(_with_nan(rng, (4, 5), dtype)), 0.5), {"dim": 1}, name="nan"),
            Sample((A(np.full((2, 3), np.nan, dtype)), A(q[:2], grad=False)), {"dim": 1},
                   name="all nan")]
    return out


_QUANTILE_ERRORS = (
    ErrorCase((A(np.arange(3)), 0.5), match="float or double"),
    ErrorCase((A(np.ones(3, F32)), 1.5), match="range [0, 1]"),
    ErrorCase((A(np.ones(3, F32)), A(np.array([0.2, 1.5], F32))), match="range [0, 1]"),
    ErrorCase((A(np.ones(3, F32)), A(np.ones((1, 1), F32))), match="scalar or 1D"),
    ErrorCase((A(np.ones(3, F32)), A(np.ones(1))), match="same dtype"),
    ErrorCase((A(np.ones(0, F32)), 0.5), match="non-empty"),
    ErrorCase((A(np.ones(3, F32)), 0.5), {"interpolation": "foo"}, match="interpolation"))
add("quantile", samples=_quantile_samples, dtypes=FLOATS, errors=_QUANTILE_ERRORS)
add("nanquantile", samples=_quantile_samples, dtypes=FLOATS, errors=_QUANTILE_ERRORS)

# -- unique ----------------------------------------------------------------------------------------


def _unique_samples(consecutive):
    def gen(dtype, rng):
        flags = [{}, {"return_inverse": True}, {"return_counts": True},
                 {"return_inverse": True, "return_counts": True}]
        runs = np.repeat(rng.integers(0, 3, 6), rng.integers(1, 3, 6))
        out = [Sample((A(_tied(rng, (3, 4), dtype)),), f, name=str(f)) for f in flags]
        out += [Sample((A(_as(runs, dtype) if dtype != "bool" else runs > 0),), flags[3],
                       name="runs"),
                Sample((A(_tied(rng, (4, 3), dtype), noncontig=True),), flags[3]),
                Sample((A(_tied(rng, (), dtype)),), flags[3], name="0d"),
                Sample((A(_tied(rng, (0,), dtype)),), flags[3], name="empty")]
        rows = _tied(rng, (3, 2), dtype)
        rows = np.concatenate([rows, rows[:2], rows[1:2]])
        for d in (0, 1, -1):
            out.append(Sample((A(rows if d == 0 else rows.T.copy()),), dict(flags[3], dim=d),
                              name=f"dim {d}"))
        if dtype in FLOATS:
            out.append(Sample((A(np.array([np.nan, 1.0, np.nan, np.nan, 0.0, 1.0], dtype)),),
                              flags[3], name="nan"))
        if not consecutive:
            out.append(Sample((A(_tied(rng, (5,), dtype)),), dict(flags[3], sorted=False),
                              name="sorted=False"))
        return out
    return gen


add("unique", samples=_unique_samples(False), dtypes=ALL_REAL, grad=False,
    errors=(ErrorCase((A(np.ones((3, 4), F32)),), {"dim": 2}, match="out of range"),))
add("unique_consecutive", samples=_unique_samples(True), dtypes=ALL_REAL, grad=False)

# -- counting and histograms ----------------------------------------------------------------------


def _bincount_samples(dtype, rng):
    x = rng.integers(0, 6, 10).astype(dtype)
    return [Sample((A(x),)), Sample((A(x),), {"minlength": 9}),
            Sample((A(x), A(arr(rng, (10,), "float32"))), name="weights f32"),
            Sample((A(x), A(arr(rng, (10,), "float64"))), {"minlength": 2}, name="weights f64"),
            Sample((A(x), A(arr(rng, (10,), "int64"))), name="int weights"),
            Sample((A(x[::2]),), name="strided"), Sample((A(x[:0]),), name="empty"),
            Sample((A(x[:0]),), {"minlength": 3}, name="empty minlength")]


add("bincount", samples=_bincount_samples, dtypes=INTS, grad=False, errors=(
    ErrorCase((A(np.ones((2, 2), np.int64)),), match="1-d non-negative"),
    ErrorCase((A(np.array([-1, 2])),), match="1-d non-negative"),
    ErrorCase((A(np.array([1.0, 2.0])),), match="not implemented for 'Double'"),
    ErrorCase((A(np.array([1, 2])),), {"minlength": -1}, match="minlength"),
    ErrorCase((A(np.array([1, 2])), A(np.ones(3, F32))), match="same length")))


def _histc_samples(dtype, rng):
    x = arr(rng, (4, 5), dtype, -3, 3)
    edge = _as(np.array([0.0, 1.0, 1.0, 2.0, 3.0, 0.5, -1.0, 4.0]), dtype)
    return [Sample((A(x),)), Sample((A(x),), {"bins": 7}),
            Sample((A(x),), {"bins": 4, "min": -1, "max": 1}),
            Sample((A(x), 5, -2.5, 2.5), name="positional"),
            Sample((A(edge),), {"bins": 3, "min": 0, "max": 3}, name="edges"),
            Sample((A(_with_nan(rng, (10,), dtype)),), {"bins": 4, "min": -2, "max": 2}),
            Sample((A(np.full(3, 2.0, dtype) if dtype != "bfloat16" else _as(np.full(3, 2.0),
                                                                           dtype)),),
                   {"bins": 4}, name="constant"),
            Sample((A(x[:0]),), {"bins": 3}, name="empty"),
            Sample((A(x, noncontig=True),), {"bins": 6})]


add("histc", samples=_histc_samples, dtypes=HALF + FLOATS, grad=False, errors=(
    ErrorCase((A(np.array([1, 2])),), match="not implemented for 'Long'"),
    ErrorCase((A(np.array([1.0, 2.0], F32)),), {"min": 3, "max": 1}, match="max must be larger"),
    ErrorCase((A(np.array([1.0, np.inf], F32)),), match="not finite"),
    ErrorCase((A(np.array([1.0, 2.0], F32)),), {"bins": 0}, match="bins must be > 0")))


def _histogram_samples(dtype, rng):
    x = arr(rng, (4, 5), dtype, -3, 3)
    w = arr(rng, (4, 5), dtype, 0, 2)
    edges = np.array([-3.0, -1.0, 0.0, 0.5, 2.5], dtype)
    return [Sample((A(x),)), Sample((A(x), 7)), Sample((A(x), 4), {"range": (-1, 1.5)}),
            Sample((A(x), 5), {"weight": A(w), "density": True}),
            Sample((A(x), 3), {"density": True}),
            Sample((A(x), A(edges)), name="edges"),
            Sample((A(x), A(edges)), {"weight": A(w), "density": True}, name="edges w"),
            Sample((A(np.linspace(0, 1, 11).astype(dtype)), 10), name="on edges"),
            Sample((A(_with_nan(rng, (10,), dtype)), 4), {"range": (-2, 2)}),
            Sample((A(x[:0]), 2), name="empty"),
            Sample((A(np.full(3, 2.0, dtype)), 3), name="constant")]


add("histogram", samples=_histogram_samples, dtypes=FLOATS, grad=False, errors=(
    ErrorCase((A(np.array([1.0, 2.0], F32)), A(np.array([0.0, 1.0, 2.0]))), match="same dtype"),
    ErrorCase((A(np.array([1.0, 2.0], F32)), 0), match="bins must be > 0"),
    ErrorCase((A(np.array([1.0, 2.0], F32)), 3), {"range": (2.0, 1.0)},
              match="min should not exceed max"),
    ErrorCase((A(np.ones(3, F32)), 2), {"weight": A(np.ones(2, F32))}, match="weight")))

# -- differences, integrals and statistics --------------------------------------------------------


def _diff_samples(dtype, rng):
    def a(shape, **kw):
        return A(arr(rng, shape, dtype), **kw)
    return [Sample((a((3, 5)),)), Sample((a((3, 5)), 2)), Sample((a((3, 5)), 1, 0)),
            Sample((a((3, 5)),), {"n": 3, "dim": -1, "prepend": a((3, 2)), "append": a((3, 1))}),
            Sample((a((3, 5)),), {"dim": 0, "append": a((1, 5))}),
            Sample((a((4,)),), {"n": 6}), Sample((a((4, 3), noncontig=True),)),
            Sample((a((0, 3)),), {"dim": 0}), Sample((a((2, 3, 4)), 1, 1))]


add("diff", samples=_diff_samples, dtypes=ALL, errors=(
    ErrorCase((A(np.array(1.0, F32)),), match="at least one-dimensional"),
    ErrorCase((A(np.ones(3, F32)), -1), match="non-negative"),
    ErrorCase((A(np.ones(3, F32)),), {"prepend": A(np.array(1.0, F32))}, match="same dimension"),
    _BAD_DIM_KW))


def _trapezoid_samples(dtype, rng):
    def a(shape, **kw):
        return A(arr(rng, shape, dtype), **kw)
    xs = np.sort(arr(rng, (5,), "float64" if dtype == "float64" else "float32", 0, 4))
    return [Sample((a((3, 5)),)), Sample((a((3, 5)),), {"dx": 0.5}),
            Sample((a((3, 5)),), {"dim": 0, "dx": 2}),
            Sample((a((3, 5)), A(xs)), name="x 1-d"),
            Sample((a((5, 3)), A(xs)), {"dim": 0}, name="x 1-d dim 0"),
            Sample((a((3, 5)), A(arr(rng, (3, 5), "float32"))), name="x full"),
            Sample((a((2, 3, 5)), A(arr(rng, (3, 5), "float64"))), name="x fewer dims"),
            Sample((a((4, 3), noncontig=True),)), Sample((a((2, 0)),), name="empty dim"),
            Sample((a((3, 1)),), name="one sample")]


_TRAPEZOID_ERRORS = (
    ErrorCase((A(np.array([True, False])),), match="bool"),
    ErrorCase((A(np.ones(3, F32)), A(np.ones(2, F32))), match="one `x` value"),
    ErrorCase((A(np.ones(3, F32)), A(np.ones(3, F32))), {"dx": 2.0}, match="x or dx"))
for _n in ("trapezoid", "trapz"):
    add(_n, samples=_trapezoid_samples, dtypes=INTS + FLOATS + COMPLEX, atol=1e-4, rtol=1e-4,
        errors=_TRAPEZOID_ERRORS)
add("cumulative_trapezoid", samples=_trapezoid_samples, dtypes=INTS + FLOATS + COMPLEX,
    atol=1e-4, rtol=1e-4, errors=_TRAPEZOID_ERRORS)


def _cov_samples(dtype, rng):
    fw = rng.integers(0, 4, 6)
    fw[0] = 1
    aw = rng.uniform(0.1, 2, 6)
    return [Sample((A(arr(rng, (3, 6), dtype)),)), Sample((A(arr(rng, (6,), dtype)),)),
            Sample((A(arr(rng, (3, 6), dtype)),), {"correction": 0}),
            Sample((A(arr(rng, (3, 6), dtype)),), {"fweights": A(fw)}),
            Sample((A(arr(rng, (3, 6), dtype)),), {"aweights": A(aw)}),
            Sample((A(arr(rng, (2, 6), dtype)),), {"fweights": A(fw), "aweights": A(aw),
                                                   "correction": 2}),
            Sample((A(arr(rng, (6, 3), dtype), noncontig=True),)),
            Sample((A(arr(rng, (2, 1), dtype)),), name="dof <= 0"),
            Sample((A(arr(rng, (), dtype)),), name="0d")]


add("cov", samples=_cov_samples, dtypes=INTS[1:] + FLOATS + COMPLEX, atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(np.ones((2, 2, 2), F32)),), match="two or fewer dimensions"),
            ErrorCase((A(np.ones((2, 3), F32)),), {"fweights": A(np.ones(3, F32))},
                      match="integral dtype"),
            ErrorCase((A(np.ones((2, 3), F32)),), {"aweights": A(np.ones(3, np.int64))},
                      match="floating point dtype"),
            ErrorCase((A(np.ones((2, 3), F32)),), {"fweights": A(np.array([1, -1, 2]))},
                      match="cannot be negative"),
            ErrorCase((A(np.ones((2, 3), F32)),), {"fweights": A(np.ones(2, np.int64))},
                      match="same numel")))
add("corrcoef", samples=lambda d, r: [
    Sample((A(arr(r, (3, 6), d)),)), Sample((A(arr(r, (6,), d)),)),
    Sample((A(arr(r, (6, 3), d), noncontig=True),)),
    Sample((A(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]], d)),), name="perfect")],
    dtypes=INTS[1:] + FLOATS + COMPLEX, atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(np.ones((2, 2, 2), F32)),), match="two or fewer dimensions"),))
