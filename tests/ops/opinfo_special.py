"""Op table entries: special functions and softmax (see ``opinfo.py``)."""

from __future__ import annotations

import numpy as np

from .opinfo import (
    ALL_REAL,
    FLOATS,
    HALF,
    INTS,
    A,
    ErrorCase,
    Sample,
    add,
    arr,
    binary_samples,
    unary_samples,
)


def _special(name):
    return lambda m, *a, **k: getattr(m.special, name)(*a, **k)


_F32 = np.float32

# unary: registry name -> (public name, domain low, high, in-place method or None)
_UNARY = {
    "erf": ("erf", -3, 3, True), "erfc": ("erfc", -3, 3, True),
    "erfinv": ("erfinv", -0.95, 0.95, True), "lgamma": ("lgamma", 0.2, 6, True),
    "digamma": ("digamma", 0.3, 6, True), "i0": ("i0", -4, 4, True),
    "special_i0e": ("i0e", -4, 4, False), "special_i1": ("i1", -4, 4, False),
    "special_i1e": ("i1e", -4, 4, False), "special_erfcx": ("erfcx", -2, 4, False),
    "special_ndtr": ("ndtr", -3, 3, False), "special_log_ndtr": ("log_ndtr", -6, 3, False),
    "special_ndtri": ("ndtri", 0.05, 0.95, False), "special_entr": ("entr", 0.1, 3, False),
}
# special values: infinities, nan, signed zeros, poles, far tails
_SPECIAL_VALUES = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, -2.5,
                            1e-300, -1e-300, 0.5, 1 - 1e-16, 30.0, -30.0, 800.0, -800.0, 1e300])

for _reg, (_pub, _lo, _hi, _inpl) in _UNARY.items():
    add(_reg, fn=_special(_pub), samples=unary_samples(_lo, _hi), dtypes=ALL_REAL,
        inplace=_pub + "_" if _inpl else None, atol=1e-5, rtol=1e-5)
    add(f"{_reg}_special_values", fn=_special(_pub), grad=False, dtypes=("float64", "float32"),
        samples=lambda d, r: [Sample((A(_SPECIAL_VALUES.astype(d)),))])

add("lgamma_negative", fn=lambda m, x: m.lgamma(x), dtypes=FLOATS, samples=lambda d, r: [
    Sample((A(np.array([-2.5, -1.3, -0.7, -3.6, -10.2], dtype=d)),))])
add("digamma_negative", fn=lambda m, x: m.digamma(x), dtypes=FLOATS, samples=lambda d, r: [
    Sample((A(np.array([-2.5, -1.3, -0.7, -3.6, -10.2], dtype=d)),))])
add("special_aliases", fn=lambda m, x: (m.special.gammaln(x), m.special.psi(x),
                                        m.special.expit(x), m.special.log1p(x),
                                        m.special.expm1(x), m.special.exp2(x),
                                        m.special.round(x, decimals=1)),
    samples=unary_samples(0.2, 3), dtypes=FLOATS)


def _polygamma_samples(dtype, rng):
    out = [Sample((A(arr(rng, s, dtype, 0.3, 4)), n), name=f"n={n} {s}")
           for n in (0, 1, 2, 3) for s in ((3, 4), (), (0, 2))]
    out.append(Sample((A(arr(rng, (4, 3), dtype, 0.3, 4), noncontig=True), 2), name="noncontig"))
    if dtype in FLOATS:
        out.append(Sample((A(np.array([-2.5, -1.3, -0.7], dtype=dtype)), 1), name="negative"))
    return out


add("polygamma", fn=lambda m, x, n: m.polygamma(n, x), samples=_polygamma_samples,
    dtypes=ALL_REAL, inplace="polygamma_", atol=1e-5, rtol=1e-5,
    errors=(ErrorCase((A(np.ones(3, _F32)), -1), match="negative n"),))
add("polygamma_method", fn=lambda m, x, n: x.polygamma(n), dtypes=FLOATS,
    samples=lambda d, r: [Sample((A(arr(r, (3,), d, 0.3, 4)), 2))])
add("special_polygamma_special_values", fn=lambda m, x, n: m.special.polygamma(n, x),
    grad=False, dtypes=FLOATS, samples=lambda d, r: [
        Sample((A(_SPECIAL_VALUES.astype(d)), n)) for n in (0, 1, 2, 5)])


def _mvlgamma_samples(dtype, rng):
    low = 2 if dtype not in INTS else 3
    return [Sample((A(arr(rng, s, dtype, low, 5)), p), name=f"p={p} {s}")
            for p in (1, 2, 3) for s in ((3, 4), (), (0,))] + [
        Sample((A(arr(rng, (4, 3), dtype, low, 5), noncontig=True), 2), name="noncontig")]


add("mvlgamma", fn=lambda m, x, p: m.mvlgamma(x, p), samples=_mvlgamma_samples,
    dtypes=INTS + HALF + FLOATS, inplace="mvlgamma_", atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(np.ones(3, _F32)), 0), match="p has to be"),
            ErrorCase((A(np.ones(3, bool)), 2), match="boolean")))
add("multigammaln", fn=lambda m, x, p: m.special.multigammaln(x, p), dtypes=FLOATS,
    samples=lambda d, r: [Sample((A(arr(r, (3,), d, 2, 5)), 3))])


def _xlog1py_samples(dtype, rng):
    out = binary_samples(-2, 2, rhs_low=-0.5, rhs_high=3, scalars=(2, 0.5))(dtype, rng)
    x = arr(rng, (4,), dtype, -2, 2)
    x[:2] = 0
    out.append(Sample((A(x), A(np.array([-1, 0.5, 1, np.nan]).astype(x.dtype)
                             if dtype in FLOATS else arr(rng, (4,), dtype, 0, 3))),
                      name="zeros"))
    out.append(Sample((1.5, A(arr(rng, (3,), dtype, -0.5, 3))), name="number self"))
    return out


_xlog1py_samples.kind = "binary"
add("special_xlog1py", fn=_special("xlog1py"), samples=_xlog1py_samples, dtypes=ALL_REAL,
    atol=1e-5, rtol=1e-5,
    errors=(ErrorCase((1.0, 2.0), match="xlog1py"),))


def _zeta_samples(dtype, rng):
    def x(shape):
        return A(arr(rng, shape, dtype, 1.5, 4), grad=False)

    def q(shape):
        return A(arr(rng, shape, dtype, 0.5, 3))
    out = [Sample((x(a), q(b)), name=f"{a}x{b}")
           for a, b in (((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3,)), ((0, 3), (1, 3)))]
    out.append(Sample((A(arr(rng, (4, 3), dtype, 1.5, 4), noncontig=True, grad=False),
                       A(arr(rng, (4, 3), dtype, 0.5, 3), noncontig=True)), name="noncontig"))
    out.append(Sample((2.5, q((3,))), name="number x"))
    out.append(Sample((x((3,)), 1.5), name="number q"))
    if dtype in FLOATS:
        out.append(Sample((A(np.array([1.0, 0.5, 2.0, 2.0, 3.0, 2.0, 2.0, np.inf, 2.0, 4.0]),
                             grad=False),
                           A(np.array([1.0, 1.0, -1.0, -1.5, -1.5, 0.0, np.inf, 2.0, 1e-300,
                                       -20.5]))),
                          name="special values"))
        out.append(Sample((A(arr(rng, (3,), dtype, 1.5, 4)), A(arr(rng, (3,), dtype, 0.5, 3))),
                          name="x requires grad"))
    return out


_zeta_samples.kind = "binary"
add("special_zeta", fn=_special("zeta"), samples=_zeta_samples, dtypes=ALL_REAL[1:],
    atol=1e-5, rtol=1e-5, skip_gradcheck_samples=("x requires grad", "special values"),
    errors=(ErrorCase((2, 3), match="zeta"),))


def _softmax_samples(dtype, rng):
    out = [Sample((A(arr(rng, (3, 4), dtype, -3, 3)), d), name=f"dim={d}") for d in (0, 1, -1)]
    out += [Sample((A(arr(rng, (2, 3, 4), dtype, -3, 3)), 1), name="3d"),
            Sample((A(arr(rng, (), dtype, -3, 3)), 0), name="0d"),
            Sample((A(arr(rng, (0, 3), dtype)), 1), name="empty"),
            Sample((A(arr(rng, (4, 3), dtype, -3, 3), noncontig=True), 0), name="noncontig")]
    if dtype in FLOATS:
        big = np.array([[1.0, 1000.0, -1000.0], [-np.inf, 0.0, 1.0]], dtype=dtype)
        out.append(Sample((A(big, grad=False), 1), name="extremes"))
    return out


for _n in ("softmax", "log_softmax"):
    add(_n, samples=_softmax_samples, dtypes=HALF + FLOATS, atol=1e-5, rtol=1e-5,
        errors=(ErrorCase((A(np.ones((2, 3), _F32)), 2), match="Dimension out of range"),
                ErrorCase((A(np.ones((2, 3), np.int64)), 1), match="not implemented")))
    add(f"{_n}_dtype", fn=(lambda n: lambda m, x, d: getattr(m, n)(x, d, dtype=m.float64))(_n),
        samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), 1))], dtypes=ALL_REAL)
    add(f"{_n}_method", fn=(lambda n: lambda m, x, d: getattr(x, n)(d))(_n), dtypes=FLOATS,
        samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), 0))])
    add(f"special_{_n}", fn=_special(_n), dtypes=FLOATS,
        samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), -1))])
add("special_logsumexp", fn=_special("logsumexp"), dtypes=FLOATS,
    samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), 1))])


def _igamma_samples(dtype, rng):
    def a(shape, **kw):
        return A(arr(rng, shape, dtype, 0.5, 4), grad=False, **kw)

    def x(shape, **kw):
        return A(arr(rng, shape, dtype, 0.2, 6), **kw)
    out = [Sample((a(s), x(t)), name=f"{s}x{t}")
           for s, t in (((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3,)), ((0, 3), (1, 3)))]
    out.append(Sample((a((4, 3), noncontig=True), x((4, 3), noncontig=True)), name="noncontig"))
    if dtype in FLOATS:
        out.append(Sample((A(np.array([0, 0, 1, 2, np.inf, np.inf, -1, 2, np.nan, 3, 30, 1e4]),
                             grad=False),
                           A(np.array([1, 0, 0, np.inf, 1, np.inf, 1, -1, 1, np.nan, 40, 9e3]))),
                          name="special values"))
        out.append(Sample((A(arr(rng, (3,), dtype, 0.5, 4)), x((3,))), name="a requires grad"))
    return out


_igamma_samples.kind = "binary"
for _n, _alias in (("igamma", "gammainc"), ("igammac", "gammaincc")):
    add(_n, samples=_igamma_samples, dtypes=HALF + FLOATS, inplace=_n + "_", atol=1e-5,
        rtol=1e-5, skip_gradcheck_samples=("a requires grad", "special values"),
        errors=(ErrorCase((A(np.ones(3, np.int64)), A(np.ones(3, np.int64))),
                          match="not implemented"),))
    add(f"special_{_alias}", fn=_special(_alias), dtypes=FLOATS,
        samples=lambda d, r: [Sample((A(arr(r, (3,), d, 0.5, 4), grad=False),
                                      A(arr(r, (3,), d, 0.2, 6))))])
