"""Special functions: error and gamma families, Bessel, zeta, ndtr and kin (``ember.special``),
and softmax / log_softmax.

# NOTE [ Special-function numerics ]
Everything is evaluated in float64 on whole arrays (no per-element Python) and rounded once to
the result dtype, so float32/float16/bfloat16 results are correctly rounded versions of the
float64 ones (PyTorch computes half types in float32; the difference is below their ulp).
Sources of the approximations:

- erf/erfc/erfcx: Cephes' rational approximations (S. Moshier, ``ndtr.c``); ``exp(-x*x)`` is
  split as ``exp(-m*m) * exp(-(2m + f) f)`` with ``m`` a multiple of 1/128 so that large
  arguments keep full relative accuracy; erfcx uses an asymptotic series beyond 50.
- erfinv/ndtri: Newton's method from a series (small arguments) or from the tail asymptote,
  iterating on ``log(erfc)`` in the tails so that 1e-300 probabilities converge as well.
- lgamma: Stirling's series (Bernoulli numbers) for x >= 13, Cephes' rational function on [2, 3)
  reached by recurrence, Taylor series in zeta values around the zeros 1 and 2, and the
  reflection formula for x < 0.
- digamma, trigamma, Hurwitz zeta (and polygamma through it): PyTorch's own algorithms
  (Cephes' ``psi``/``zeta``), step for step, so that special values (poles, infinities, the
  rounding near poles) come out as PyTorch's do.
- i0/i1 and their scaled forms: the power series up to |x| = 25, Hankel's asymptotic series
  beyond (both summed with all their terms positive or alternating-small, 1e-16 relative).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from .. import _dtype
from .._dtype import FROM_NP
from .._tensor import Tensor
from .registry import REGISTRY as R
from .registry import register
from .rules import operand, promote, to_float, wrap_dim

_F64 = np.float64
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_EPS = 1.11022302462515654042e-16  # Cephes' MACHEP, as PyTorch's zeta uses it


def _bernoulli(n: int) -> list:
    """Bernoulli numbers B_0..B_n (B_1 = -1/2) as exact fractions."""
    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


_B = _bernoulli(28)


def _poly(x, coefs):
    """Horner's rule, highest degree first (Cephes' ``polevl``)."""
    r = coefs[0] + x * 0
    for c in coefs[1:]:
        r = r * x + c
    return r


def _poly1(x, coefs):
    """As ``_poly`` with an implicit leading coefficient 1 (Cephes' ``p1evl``)."""
    return _poly(x, (1.0, *coefs))


# -- error function family ------------------------------------------------------------------------

# Cephes ndtr.c: erfc(x) = exp(-x^2) P(x)/Q(x) on [1, 8), R(x)/S(x) beyond; erf = x T(x^2)/U(x^2)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)


def _exp_sq(xp, x, sign):
    """``exp(sign * x*x)`` without the error that rounding ``x*x`` would amplify."""
    m = xp.round(x * 128.0) / 128.0
    f = x - m
    split = xp.exp(sign * (m * m)) * xp.exp(sign * ((2 * m + f) * f))
    # beyond exp's range the plain product is already exactly inf or 0
    return xp.where(m * m > 800, xp.exp(sign * (x * x)), split)


def _erf_small(z):
    """erf on |z| < 1 (relative accuracy near 0)."""
    zz = z * z
    return z * _poly(zz, _ERF_T) / _poly1(zz, _ERF_U)


def _erfcx_pos(xp, a):
    """``exp(a^2) erfc(a)`` for a >= 0."""
    mid = _poly(a, _ERFC_P) / _poly1(a, _ERFC_Q)
    far = _poly(a, _ERFC_R) / _poly1(a, _ERFC_S)
    inv = 1 / (a * a)
    asym = (1 + inv * (-0.5 + inv * (0.75 + inv * (-1.875 + inv * 6.5625)))) / (a * _SQRT_PI)
    near = _exp_sq(xp, a, 1) * (1 - _erf_small(a))
    return xp.where(a < 1, near, xp.where(a < 8, mid, xp.where(a < 50, far, asym)))


def erf(xp, x):
    a = xp.abs(x)
    big = xp.copysign(1 - _exp_sq(xp, a, -1) * _erfcx_pos(xp, a), x)
    return xp.where(a < 1, _erf_small(x), big)


def erfc(xp, x):
    a = xp.abs(x)
    y = _exp_sq(xp, a, -1) * _erfcx_pos(xp, a)
    return xp.where(a < 1, 1 - _erf_small(x), xp.where(x < 0, 2 - y, y))


def erfcx(xp, x):
    a = xp.abs(x)
    y = _erfcx_pos(xp, a)
    return xp.where(x < 0, 2 * _exp_sq(xp, a, 1) - y, y)


def ndtr(xp, x, opmath=_F64):
    # PyTorch's formula, its last step in PyTorch's compute dtype: far left it rounds to 0
    e = erf(xp, x * (1 / math.sqrt(2))).astype(opmath)
    return (1 + e) * opmath(0.5)


def log_ndtr(xp, x):
    # PyTorch's formula: the scaled erfc keeps the far left tail finite
    t = x * (1 / math.sqrt(2))
    left = xp.log(erfcx(xp, -t) / 2) - t * t
    return xp.where(x < -1, left, xp.log1p(-erfc(xp, t) / 2))


def _erfinv_series():
    # erfinv(y) = sum_k c_k / (2k+1) (sqrt(pi) y / 2)^(2k+1), c_0 = 1
    c = [1.0]
    for k in range(1, 12):
        c.append(sum(c[m] * c[k - 1 - m] / ((m + 1) * (2 * m + 1)) for m in range(k)))
    return tuple(ck / (2 * k + 1) for k, ck in reversed(list(enumerate(c))))


_ERFINV_SERIES = _erfinv_series()


def _erfinv_small(xp, y):
    """erfinv for |y| <= 0.5: a series start and Newton steps on erf."""
    w = y * (_SQRT_PI / 2)
    x = w * _poly(w * w, _ERFINV_SERIES)
    for _ in range(2):
        x = x - (_erf_small(x) - y) * (_SQRT_PI / 2) * _exp_sq(xp, x, 1)
    return x


def _erfcinv_tail(xp, c):
    """erfcinv for 0 <= c <= 0.5: Newton on log(erfc(x)) = log(erfcx(x)) - x^2, which stays
    finite and nearly linear however small ``c`` is."""
    lc = -xp.log(c)
    x = xp.sqrt(xp.maximum(lc - 0.5 * xp.log(math.pi * lc), 0.05))
    for _ in range(6):
        e = _erfcx_pos(xp, x)
        x = x + (xp.log(e) - x * x + lc) * (_SQRT_PI / 2) * e
    return xp.where(c == 0, np.inf, x)


def erfinv(xp, y):
    a = xp.abs(y)
    x = xp.where(a <= 0.5, _erfinv_small(xp, xp.minimum(a, 0.5)),
                 _erfcinv_tail(xp, xp.clip(1 - a, 0, 0.5)))
    return xp.where(a > 1, np.nan, xp.copysign(x, y))


def ndtri(xp, p):
    r2 = math.sqrt(2)
    lo = -r2 * _erfcinv_tail(xp, xp.clip(2 * p, 0, 0.5))
    hi = r2 * _erfcinv_tail(xp, xp.clip(2 * (1 - p), 0, 0.5))
    mid = r2 * _erfinv_small(xp, xp.clip(2 * p - 1, -0.5, 0.5))
    x = xp.where(p < 0.25, lo, xp.where(p > 0.75, hi, mid))
    return xp.where((p < 0) | (p > 1), np.nan, x)


# -- gamma family ---------------------------------------------------------------------------------

_EULER = 0.57721566490153286061
# Cephes gamma.c: log(gamma(x)) = x B(x)/C(x) on [2, 3) after subtracting 2
_LGAMMA_B = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
             -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)
_LGAMMA_C = (-3.51815701436523470549e2, -1.70642106651881159223e4, -2.20528590553854454839e5,
             -1.13933444367982507207e6, -2.53252307177582951285e6, -2.01889141433532773231e6)
# Stirling: sum_k B_2k / (2k (2k-1) x^(2k-1)), as a polynomial in 1/x^2
_STIRLING = tuple(float(_B[2 * k] / (2 * k * (2 * k - 1))) for k in range(7, 0, -1))
# digamma's asymptotic series: sum_k B_2k / (2k x^2k)
_PSI_A = tuple(float(_B[2 * k] / (2 * k)) for k in range(7, 0, -1))
_PSI_10 = 2.25175258906672110764
# zeta's Euler-Maclaurin terms: (2k)! / B_2k
_ZETA_A = tuple(float(math.factorial(2 * k) / _B[2 * k]) for k in range(1, 13))


def _sinpi(xp, x):
    """sin(pi x) with the argument reduced exactly first."""
    r = x - 2 * xp.round(x / 2)
    return xp.sin(math.pi * r)


def _lgamma_23(u):
    """log(gamma(2 + u)) for 0 <= u < 1."""
    return u * _poly(u, _LGAMMA_B) / _poly1(u, _LGAMMA_C)


def _lgamma_pos(xp, x):
    """lgamma for x > 0 (inf for inf, nan for nan)."""
    # x >= 13: Stirling's series
    xs = xp.maximum(x, 13.0)
    inv = 1 / xs
    big = (xs - 0.5) * xp.log(xs) - xs + 0.5 * math.log(2 * math.pi) + \
        inv * _poly(inv * inv, _STIRLING)
    # 2 <= x < 13: down to [2, 3) by recurrence
    u = xp.clip(x, 2.0, 13.0)
    z = u * 0 + 1
    for _ in range(11):
        m = u >= 3
        z = xp.where(m, z * (u - 1), z)
        u = xp.where(m, u - 1, u)
    mid = xp.log(z) + _lgamma_23(u - 2)
    # 0 < x < 2: lgamma(x) = lgamma(x + k) - log of the factors, with the exact x - 1 or x
    t = xp.clip(x, 0.0, 2.0)
    one_two = _lgamma_23(t - 1) - xp.log1p(t - 1)
    zero_one = _lgamma_23(t) - xp.log(t) - xp.log1p(t)
    small = xp.where(t >= 1, one_two, zero_one)
    # around the zeros 1 and 2: Taylor series in zeta values
    near1 = (x - 1) * _poly(x - 1, _LGAMMA_AT1)
    near2 = (x - 2) * _poly(x - 2, _LGAMMA_AT2)
    r = xp.where(x >= 13, big, xp.where(x >= 2, mid, small))
    r = xp.where(xp.abs(x - 1) < 0.2, near1, xp.where(xp.abs(x - 2) < 0.2, near2, r))
    return xp.where(x == np.inf, np.inf, r)


def lgamma(xp, x):
    pos = _lgamma_pos(xp, xp.where(x > 0, x, 1 - x))
    # reflection: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x)
    s = xp.abs(_sinpi(xp, x))
    neg = math.log(math.pi) - xp.log(s) - pos
    r = xp.where(x > 0, pos, neg)
    return xp.where((x <= 0) & (x == xp.floor(x)), np.inf, r)


def digamma(xp, x):
    # PyTorch's calc_digamma: reflection with tan(pi * frac(x)), shift to x >= 10, series
    y = xp.where(x < 0, 1 - x, x)
    acc = xp.zeros_like(y)
    for _ in range(10):
        m = y < 10
        acc = acc - xp.where(m, 1 / xp.where(m, y, 1), 0)
        y = xp.where(m, y + 1, y)
    z = 1 / (y * y)
    tail = xp.where(y < 1e17, z * _poly(z, _PSI_A), 0)
    pos = xp.where(y == 10, acc + _PSI_10, acc + xp.log(y) - 0.5 / y - tail)
    r = xp.where(x < 0, pos - math.pi / xp.tan(math.pi * (x - xp.trunc(x))), pos)
    r = xp.where((x < 0) & (x == xp.trunc(x)), np.nan, r)
    return xp.where(x == 0, xp.copysign(np.inf, -x), r)


def trigamma(xp, x):
    # PyTorch's calc_trigamma, step for step
    refl = x < 0.5
    s = xp.sin(math.pi * x)
    acc = xp.where(refl, -(math.pi * math.pi) / (s * s), 0.0)
    y = xp.where(refl, 1 - x, x)
    for _ in range(6):
        acc = acc + 1 / (y * y)
        y = y + 1
    ixx = 1 / (y * y)
    acc = acc + (1 + 1 / (2 * y) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / y
    return xp.where(refl, -acc, acc)


def zeta(xp, x, q):
    """Hurwitz zeta, PyTorch's (Cephes') algorithm with its early exits, elementwise."""
    x, q = xp.broadcast_arrays(x, q)
    q_int = q == xp.floor(q)
    q_pole = (q <= 0) & q_int
    q_bad = (q <= 0) & ~q_int & (x != xp.floor(x))
    done = (x <= 1) | q_pole | q_bad
    far = ~done & (q < -50)
    if far.any():
        # PyTorch sums the -q terms one by one; with r = frac(-q) the same sum is
        # (-1)^x (zeta(x, r) - zeta(x, 1 - q)) + zeta(x, 1 - r), all at positive q
        xf = xp.where(far, x, 2.0)
        r = xp.where(far, -q - xp.floor(-q), 0.5)
        sign = xp.where(xf % 2 == 0, 1.0, -1.0)
        qf = xp.where(far, q, -0.5)
        far_value = sign * (zeta(xp, xf, r) - zeta(xp, xf, 1 - qf)) + zeta(xp, xf, 1 - r)
        q = xp.where(far, 1.0, q)
    s = q ** -x
    a = q.copy()
    b = xp.zeros_like(s)
    i = 0
    while True:
        step = ~done & ((i < 9) | (a <= 9))
        if not step.any():
            break
        a = xp.where(step, a + 1, a)
        b = xp.where(step, a ** -x, b)
        s = xp.where(step, s + b, s)
        done = done | (step & (-_EPS * s < b) & (b < _EPS * s))
        i += 1
    w = a
    s = xp.where(done, s, s + b * w / (x - 1) - 0.5 * b)
    k = 0.0
    aa = xp.ones_like(s)
    for c in _ZETA_A:
        aa = aa * (x + k)
        b = b / w
        t = aa * b / c
        s = xp.where(done, s, s + t)
        done = done | (xp.abs(t / s) < _EPS)
        k += 1
        aa = aa * (x + k)
        b = b / w
        k += 1
    if far.any():
        s = xp.where(far, far_value, s)
    # PyTorch's order of checks: x == 1, x < 1, then the poles and domain of q
    s = xp.where(q_bad, np.nan, xp.where(q_pole, np.inf, s))
    return xp.where(x == 1, np.inf, xp.where(x < 1, np.nan, s))


def polygamma(xp, x, n, opmath=_F64):
    if n == 0:
        return digamma(xp, x)
    if n == 1:  # in PyTorch's compute dtype: its rounding decides the values at the poles
        return trigamma(xp, x.astype(opmath))
    return (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0)) * zeta(xp, n + 1.0, x)


# Taylor coefficients of lgamma(1 + t) / t and lgamma(2 + t) / t (highest degree first)
_ZETA_INT = zeta(np, np.arange(2, 32, dtype=_F64), np.ones(30))
_LGAMMA_AT1 = tuple([float((-1) ** k * _ZETA_INT[k - 2] / k) for k in range(31, 1, -1)]
                    + [-_EULER])
_LGAMMA_AT2 = tuple([float((-1) ** k * (_ZETA_INT[k - 2] - 1) / k) for k in range(31, 1, -1)]
                    + [1 - _EULER])


# -- modified Bessel functions --------------------------------------------------------------------

def _bessel_series(nu):
    # I_nu(x) = (x/2)^nu sum_k (x^2/4)^k / (k! (k+nu)!), as a polynomial in x^2
    return tuple(1 / (4.0 ** k * math.factorial(k) * math.factorial(k + nu))
                 for k in range(60, -1, -1))


def _bessel_asym(nu):
    # I_nu(x) ~ e^x / sqrt(2 pi x) sum_k (-1)^k a_k / x^k, a_k = prod(4nu^2 - (2j-1)^2) / (k! 8^k)
    out, a = [], 1.0
    for k in range(0, 41):
        if k:
            a *= (4 * nu * nu - (2 * k - 1) ** 2) / (8 * k)
        out.append((-1) ** k * a)
    return tuple(reversed(out))


_I_SERIES = {0: _bessel_series(0), 1: _bessel_series(1)}
_I_ASYM = {0: _bessel_asym(0), 1: _bessel_asym(1)}
_BESSEL_SWITCH = 25.0


def _bessel(xp, x, nu, scaled):
    """I_nu(x) for nu in (0, 1), times exp(-|x|) when ``scaled``."""
    a = xp.abs(x)
    s = xp.minimum(a, _BESSEL_SWITCH)
    series = _poly(s * s, _I_SERIES[nu]) * (s / 2 if nu else 1)
    if scaled:
        series = series * xp.exp(-s)
    b = xp.maximum(a, _BESSEL_SWITCH)
    asym = _poly(1 / b, _I_ASYM[nu])
    lead = -0.5 * xp.log(2 * math.pi * b)
    asym = asym * xp.exp(lead if scaled else b + lead)
    r = xp.where(a <= _BESSEL_SWITCH, series, asym)
    if nu:
        r = xp.where(x < 0, -r, r)
    # PyTorch's (Cephes') Chebyshev evaluation gives nan at infinity unless scaled
    return r if scaled else xp.where(xp.isinf(x), np.nan, r)


def i0(xp, x):
    return _bessel(xp, x, 0, False)


def i0e(xp, x):
    return _bessel(xp, x, 0, True)


def i1(xp, x):
    return _bessel(xp, x, 1, False)


def i1e(xp, x):
    return _bessel(xp, x, 1, True)


# -- the ops --------------------------------------------------------------------------------------

# ops PyTorch's CPU kernels lack for float16/bfloat16, with the kernel name its error gives
_NO_HALF = {"special_erfcx": "erfcx_cpu", "special_log_ndtr": "log_ndtr_cpu",
            "special_ndtri": "ndtri_cpu", "special_zeta": "zeta_cpu"}


# ops PyTorch's kernels define for floating dtypes only (no promotion of integers)
_FLOAT_ONLY = {"igamma": "igamma_cpu", "igammac": "igammac_cpu"}


def _not_implemented(name, dt):
    return NotImplementedError(f'"{name}" not implemented for \'{dt.word}\'')


def _float_unary(name, fn, opmath=False):
    """An op that computes ``fn`` in float64 and rounds to PyTorch's result dtype (int and
    bool inputs give the default float dtype). With ``opmath``, ``fn`` is also told PyTorch's
    compute dtype (float32 below float64) for a last step that must round as PyTorch's does."""
    def impl(xp, x, **params):
        dt = FROM_NP[x.dtype]
        ct = to_float(dt)
        if dt.is_complex or (ct.itemsize == 2 and name in _NO_HALF):
            raise _not_implemented(_NO_HALF.get(name, name), dt)
        if opmath:
            params["opmath"] = _F64 if ct is _dtype.float64 else np.float32
        with np.errstate(all="ignore"):
            r = fn(xp, x.astype(_F64), **params)
        return xp.asarray(r).astype(ct.np, copy=False)
    return impl


def _float_binary(name, fn):
    def impl(xp, a, b):
        ct = promote(a, b)
        if name in _FLOAT_ONLY and not ct.is_floating_point:
            raise _not_implemented(_FLOAT_ONLY[name], ct)
        ct = to_float(ct)
        if ct.is_complex or (ct.itemsize == 2 and name in _NO_HALF):
            raise _not_implemented(_NO_HALF.get(name, name), ct)
        with np.errstate(all="ignore"):
            r = fn(xp, operand(xp, a, _dtype.float64), operand(xp, b, _dtype.float64))
        return xp.asarray(r).astype(ct.np, copy=False)
    return impl


_2_SQRT_PI = 2 / _SQRT_PI


def _i1_grad(x, out, scaled):
    safe = R["where"](x == 0, 1.0, x)
    d = (R["special_i0e"] if scaled else R["i0"])(x) - out * (
        (x.sgn() + 1 / safe) if scaled else 1 / safe)
    return R["where"](x == 0, 0.5, d)


_UNARY = {
    # name: (function, save, vjp)
    "erf": (erf, (0,), lambda c, g: (g * _2_SQRT_PI * (-c.inputs[0] ** 2).exp(),)),
    "erfc": (erfc, (0,), lambda c, g: (g * -_2_SQRT_PI * (-c.inputs[0] ** 2).exp(),)),
    "erfinv": (erfinv, ("out",), lambda c, g: (g * (_SQRT_PI / 2) * (c.out ** 2).exp(),)),
    "lgamma": (lgamma, (0,), lambda c, g: (g * R["digamma"](c.inputs[0]),)),
    "digamma": (digamma, (0,), lambda c, g: (g * R["polygamma"](c.inputs[0], n=1),)),
    "i0": (i0, (0,), lambda c, g: (g * R["special_i1"](c.inputs[0]),)),
    "special_i0e": (i0e, (0, "out"), lambda c, g: (
        g * (R["special_i1e"](c.inputs[0]) - c.inputs[0].sgn() * c.out),)),
    "special_i1": (i1, (0, "out"), lambda c, g: (g * _i1_grad(c.inputs[0], c.out, False),)),
    "special_i1e": (i1e, (0, "out"), lambda c, g: (g * _i1_grad(c.inputs[0], c.out, True),)),
    "special_erfcx": (erfcx, (0, "out"), lambda c, g: (
        g * (2 * c.inputs[0] * c.out - _2_SQRT_PI),)),
    "special_ndtr": (ndtr, (0,), lambda c, g: (
        g * (-0.5 * c.inputs[0] ** 2).exp() / _SQRT_2PI,)),
    "special_log_ndtr": (log_ndtr, (0, "out"), lambda c, g: (
        g * (-0.5 * c.inputs[0] ** 2 - c.out).exp() / _SQRT_2PI,)),
    "special_ndtri": (ndtri, ("out",), lambda c, g: (
        g * _SQRT_2PI * (0.5 * c.out ** 2).exp(),)),
    "special_entr": (None, (0,), lambda c, g: (g * -(1 + c.inputs[0].log()),)),
}


def entr(xp, x):
    return xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)),
                    xp.where(x == 0, 0.0, xp.where(x < 0, -np.inf, x)))


_UNARY["special_entr"] = (entr,) + _UNARY["special_entr"][1:]

def _backward_name(name: str) -> str:
    # PyTorch capitalises a letter after a digit too: special_i0e -> SpecialI0EBackward0
    camel = "".join(p.capitalize() for p in name.split("_"))
    return re.sub(r"(\d)([a-z])", lambda m: m[1] + m[2].upper(), camel) + "Backward0"


for _name, (_fn, _save, _vjp) in _UNARY.items():
    register(_name, _float_unary(_name, _fn, opmath=_name == "special_ndtr"), save=_save,
             vjp=_vjp, backward_name=_backward_name(_name))


def _polygamma_impl(xp, x, n):
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _polygamma_float(xp, x, n=n)


_polygamma_float = _float_unary("polygamma", polygamma, opmath=True)


register("polygamma", _polygamma_impl, save=(0,),
         vjp=lambda c, g: (g * R["polygamma"](c.inputs[0], n=c.params["n"] + 1),))


def xlog1py(xp, x, y):
    r = xp.where(x == 0, 0.0, x * xp.log1p(y))
    return xp.where(xp.isnan(y), np.nan, r)


def _xlog1py_vjp(c, g):
    x, y = c.inputs
    gx = gy = None
    if c.needs_input_grad[0]:
        gx = R["special_xlog1py"](g, y)
        gx = gx.masked_fill((x == 0) & (y <= -1), 0.0) if isinstance(x, Tensor) else gx
    if c.needs_input_grad[1]:
        gy = g * x / (y + 1)
    return gx, gy


def _overload_name(stem):
    # PyTorch's overloads: Tensor-Tensor 0, Number-Tensor 1, Tensor-Number 2
    return lambda node: (f"{stem}1" if node.in_meta[0] is None else
                         f"{stem}2" if node.in_meta[1] is None else f"{stem}0")


register("special_xlog1py", _float_binary("special_xlog1py", xlog1py), save=(0, 1),
         vjp=_xlog1py_vjp, backward_name=_overload_name("SpecialXlog1PyBackward"))


def _zeta_vjp(c, g):
    x, q = c.inputs
    if c.needs_input_grad[0]:
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")
    return None, g * -x * R["special_zeta"](x + 1.0, q)


register("special_zeta", _float_binary("special_zeta", zeta), save=(0, 1), vjp=_zeta_vjp,
         backward_name=_overload_name("SpecialZetaBackward"))


# -- regularized incomplete gamma ----------------------------------------------------------------

def _igamma_pair(xp, a, x):
    """(P(a, x), Q(a, x)) on a > 0, 0 < x < inf: the power series below x = a + 1, Legendre's
    continued fraction (modified Lentz) above, each iterated until every element converged."""
    a, x = xp.broadcast_arrays(a, x)
    ok = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    a, x = xp.where(ok, a, 1.0), xp.where(ok, x, 1.0)
    front = xp.exp(a * xp.log(x) - x - lgamma(xp, a))  # x^a e^-x / gamma(a)
    series = x < a + 1
    # P = front * sum_n x^n / (a (a+1) ... (a+n))
    term = xp.where(series, 1 / a, 0.0)
    total = term
    for n in range(1, 5000):
        term = term * x / (a + n)
        total = total + term
        if not (xp.abs(term) > _EPS * xp.abs(total)).any():
            break
    # Q = front / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...)))
    tiny = 1e-300
    b = xp.where(series, 1.0, x + 1 - a)
    c = xp.full_like(b, 1 / tiny)
    d = 1 / b
    h = d
    for i in range(1, 5000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = 1 / xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        delta = d * c
        h = h * delta
        if not (xp.abs(delta - 1) > _EPS).any():
            break
    p = xp.where(series, front * total, 1 - front * h)
    q = xp.where(series, 1 - front * total, front * h)
    return p, q, ok


def _igamma(xp, a, x, upper):
    p, q, ok = _igamma_pair(xp, a, x)
    # PyTorch's special cases, in its order
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)
    r = q if upper else p
    r = xp.where(ok, r, np.nan)
    r = xp.where(xp.isinf(x) & xp.isfinite(a), hi, r)
    r = xp.where(xp.isinf(a), xp.where(xp.isinf(x), np.nan, lo), r)
    r = xp.where(x == 0, lo, r)
    r = xp.where(a == 0, xp.where(x > 0, hi, np.nan), r)
    return xp.where((x < 0) | (a < 0) | xp.isnan(a) | xp.isnan(x), np.nan, r)


def igamma(xp, a, x):
    return _igamma(xp, a, x, False)


def igammac(xp, a, x):
    return _igamma(xp, a, x, True)


def _igamma_vjp(sign):
    def vjp(c, g):
        a, x = c.inputs
        if c.needs_input_grad[0]:
            name = "igamma" if sign > 0 else "igammac"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        return None, g * (sign * ((a - 1) * x.log() - x - R["lgamma"](a)).exp())
    return vjp


register("igamma", _float_binary("igamma", igamma), save=(0, 1), vjp=_igamma_vjp(1))
register("igammac", _float_binary("igammac", igammac), save=(0, 1), vjp=_igamma_vjp(-1))


# -- softmax --------------------------------------------------------------------------------------

def _softmax_impl(log):
    kernel = "log_softmax_lastdim_kernel_impl" if log else "softmax_lastdim_kernel_impl"

    def impl(xp, x, dim):
        dt = FROM_NP[x.dtype]
        if not dt.is_floating_point:
            raise _not_implemented(kernel, dt)
        d = wrap_dim(dim, x.ndim)
        if x.size == 0:
            return x.copy()
        y = x.astype(np.float32) if dt.itemsize < 4 else x
        if y.ndim == 0:
            y = y.reshape(1)
        e = y - xp.amax(y, axis=d, keepdims=True)
        if log:
            lse = xp.sum(xp.exp(e), axis=d, keepdims=True)
            if dt.itemsize < 4 and d == y.ndim - 1:
                # PyTorch's last-dim kernel for half types keeps the sum and its log in the
                # input's type (each rounded once); other dims keep them in float32
                lse = xp.log(lse.astype(x.dtype)).astype(x.dtype).astype(np.float32)
            else:
                lse = xp.log(lse)
            r = e - lse
        else:
            e = xp.exp(e)
            r = e / xp.sum(e, axis=d, keepdims=True)
        return r.reshape(x.shape).astype(x.dtype, copy=False)
    return impl


def _sum_dim(t, d):
    return t.sum(d, keepdim=True) if t.ndim else t


def _softmax_vjp(c, g):
    y = c.out
    return (y * (g - _sum_dim(g * y, c.params["dim"])),)


def _log_softmax_vjp(c, g):
    return (g - c.out.exp() * _sum_dim(g, c.params["dim"]),)


register("softmax", _softmax_impl(False), save=("out",), vjp=_softmax_vjp)
register("log_softmax", _softmax_impl(True), save=("out",), vjp=_log_softmax_vjp)


# -- the reparameterisation gradient of Gamma samples -------------------------------------------

def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d x / d alpha of a Gamma(alpha, 1) sample ``x`` holding its CDF fixed, approximated as
    PyTorch's ``_standard_gamma_grad`` does (Jankowiak & Obermeyer 2018): a Taylor series for
    small x, Rice's saddle point expansion for large alpha, else a bivariate rational fit."""
    a = np.asarray(alpha, np.float64)
    x = np.asarray(x, np.float64)
    a, x = np.broadcast_arrays(a, x)
    out = np.empty(a.shape)
    with np.errstate(all="ignore"):
        small = x < 0.8
        if small.any():
            xs, al = x[small], a[small]
            numer, denom = np.ones_like(xs), al.copy()
            s1, s2 = numer / denom, numer / (denom * denom)
            for i in range(1, 6):
                numer = numer * (-xs / i)
                denom = denom + 1
                s1 = s1 + numer / denom
                s2 = s2 + numer / (denom * denom)
            pow_xa = xs ** al
            pdf = xs ** (al - 1) * np.exp(-xs)
            cdf_alpha = (np.log(xs) - digamma(np, al)) * (pow_xa * s1) - pow_xa * s2
            r = -cdf_alpha / pdf
            out[small] = np.where(np.isnan(r), 0.0, r)
        big = ~small & (a > 8)
        if big.any():
            xs, al = x[big], a[big]
            near = (0.9 * al <= xs) & (xs <= 1.1 * al)
            n1 = 1 + 24 * al * (1 + 12 * al)
            n2 = (1440 * (al * al) + 6 * xs * (53 - 120 * xs) - 65 * xs * xs / al
                  + al * (107 + 3600 * xs))
            saddle = n1 * n2 / (1244160 * (al * al) * (al * al))
            den = np.sqrt(8 * al)
            t2 = den / (al - xs)
            t3 = (xs - al - al * np.log(xs / al)) ** -1.5
            t23 = np.where(xs < al, t2 - t3, t2 + t3)
            t1 = np.log(xs / al) * t23 - np.sqrt(2 / al) * (al + xs) / ((al - xs) * (al - xs))
            stirling = 1 + 1 / (12 * al) * (1 + 1 / (24 * al))
            out[big] = np.where(near, saddle, -stirling * (xs * t1) / den)
        mid = ~small & ~big
        if mid.any():
            xs, al = x[mid], a[mid]
            u, v = np.log(xs / al), np.log(al)
            c0, c1, c2 = _GAMMA_GRAD_COEF
            cv = [c0[i] + u * (c1[i] + u * c2[i]) for i in range(8)]
            p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
            q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
            out[mid] = np.exp(p / q)
    return out


# The published coefficients of the rational approximation (Jankowiak & Obermeyer 2018).
_GAMMA_GRAD_COEF = (
         (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
          0.0014179084),
         (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
          -0.0035938915, -0.00058392623),
         (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642,
          -0.0021309326, 0.00085092367, -1.5247877e-07))
