"""Special functions the distributions need, in NumPy, with differentiable ember wrappers.

# NOTE [ Private special functions ]
``lgamma``, ``digamma``, ``polygamma``, ``erf``, ``erfinv`` and ``xlogy`` belong to the
special-functions and pointwise areas, built in parallel; until they merge, the distributions
use these private versions. At merge, replace the differentiable wrappers below by the
``ember.*`` ops and delete their NumPy kernels (keep ``standard_gamma_grad_np``, which
``_standard_gamma`` uses).
"""

from __future__ import annotations

import math

import numpy as np

from .._creation import _finish
from .._tensor import Tensor
from ..autograd.function import Function

# Bernoulli numbers B_2k for the asymptotic series of log-gamma derivatives (k = 1..9)
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798)
_SHIFT = 20.0  # recur up to x >= 20, where 9 series terms reach double precision


def lgamma_np(x: np.ndarray) -> np.ndarray:
    """log |Gamma(x)| (Python's ``math.lgamma``, elementwise; poles give inf)."""
    def one(v):
        try:
            return math.lgamma(v)
        except (ValueError, OverflowError):
            return math.inf if not math.isnan(v) else v
    x = np.asarray(x, np.float64)
    return np.fromiter(map(one, x.reshape(-1).tolist()), np.float64, x.size).reshape(x.shape)


def polygamma_np(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x): n = 0 is digamma. Recurrence to x >= 20 then the asymptotic series;
    reflection for negative x (digamma only, as PyTorch computes polygamma only there)."""
    x = np.asarray(x, np.float64)
    if n == 1:
        return _trigamma(x)
    with np.errstate(all="ignore"):
        if n == 0:
            refl = x < 0
            extra = np.where(refl, -math.pi / np.tan(math.pi * x), 0.0)
            x = np.where(refl, 1 - x, x)
        acc = np.zeros_like(x)
        y = x.copy()
        sign = (-1.0) ** (n + 1)
        fact = math.factorial(n)
        for _ in range(int(_SHIFT)):  # psi^(n)(y) = psi^(n)(y + 1) - (-1)^n n! / y^(n+1)
            small = y < _SHIFT
            if not small.any():
                break
            acc = acc - np.where(small, sign * fact / y ** (n + 1), 0.0)
            y = np.where(small, y + 1, y)
        if n == 0:
            series = np.log(y) - 0.5 / y
            for k, b in enumerate(_B2K, 1):
                series = series - b / (2 * k * y ** (2 * k))
            return _digamma_poles(series - acc + extra, x, refl)
        series = math.factorial(n - 1) / y ** n + fact / (2 * y ** (n + 1))
        for k, b in enumerate(_B2K, 1):
            series = series + b * math.factorial(2 * k + n - 1) / (
                math.factorial(2 * k) * y ** (2 * k + n))
        return sign * series - acc


def _trigamma(x: np.ndarray) -> np.ndarray:
    """PyTorch's trigamma (``calc_trigamma``): reflection below 1/2, six recurrence steps and
    a three-term asymptotic series (about 1e-9 relative accuracy, reproduced as it is)."""
    with np.errstate(all="ignore"):
        refl = x < 0.5
        res = np.where(refl, -(math.pi**2) / np.sin(math.pi * x) ** 2, 0.0)
        y = np.where(refl, 1 - x, x)
        for _ in range(6):
            res = res + 1 / (y * y)
            y = y + 1
        ixx = 1 / (y * y)
        res = res + (1 + 1 / (2 * y) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / y
        return np.where(refl, -res, res)


def _digamma_poles(out, x, refl):
    """PyTorch's digamma: 0 gives -inf, negative integers nan (before reflection: x <= 0)."""
    orig = np.where(refl, 1 - x, x)
    out = np.where((orig < 0) & (orig == np.floor(orig)), np.nan, out)
    return np.where(orig == 0, -np.inf, out)


def digamma_np(x: np.ndarray) -> np.ndarray:
    return polygamma_np(0, x)


def standard_gamma_grad_np(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
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
            cdf_alpha = (np.log(xs) - digamma_np(al)) * (pow_xa * s1) - pow_xa * s2
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
            cv = [_COEF[0][i] + u * (_COEF[1][i] + u * _COEF[2][i]) for i in range(8)]
            p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
            q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
            out[mid] = np.exp(p / q)
    return out


# The published coefficients of the rational approximation (Jankowiak & Obermeyer 2018).
_COEF = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
          0.0014179084),
         (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
          -0.0035938915, -0.00058392623),
         (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642,
          -0.0021309326, 0.00085092367, -1.5247877e-07))


def _apply_np(fn, x: Tensor) -> Tensor:
    return _finish(np.asarray(fn(x._host()), x._data.dtype), x.device, False)


class _Polygamma(Function):
    @staticmethod
    def forward(ctx, n, x):
        ctx.n = n
        ctx.save_for_backward(x)
        return _apply_np(lambda a: polygamma_np(n, a), x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return None, grad * _Polygamma.apply(ctx.n + 1, x)


class _Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply_np(lgamma_np, x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * digamma(x)


def lgamma(x: Tensor) -> Tensor:
    """log |Gamma(x)|, differentiable: ``lgamma(ember.tensor([0.5, 3.]))``."""
    return _Lgamma.apply(x)


def digamma(x: Tensor) -> Tensor:
    """The derivative of ``lgamma``, differentiable."""
    return _Polygamma.apply(0, x)


def polygamma(n: int, x: Tensor) -> Tensor:
    """The n-th derivative of ``digamma``, differentiable."""
    return _Polygamma.apply(n, x)


def erf_np(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.fromiter(map(math.erf, x.reshape(-1).tolist()), np.float64, x.size).reshape(
        x.shape)


def erfinv_np(y: np.ndarray) -> np.ndarray:
    """Inverse of erf: Giles' single-precision approximation, then Newton steps on erf."""
    y = np.asarray(y, np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1 - y) * (1 + y))
        small = w < 5
        ws = w - 2.5
        ps = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            ps = c + ps * ws
        wb = np.sqrt(w) - 3
        pb = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            pb = c + pb * wb
        x = np.where(small, ps, pb) * y
        for _ in range(3):  # Newton on erf(x) - y
            x = x - (erf_np(x) - y) / (2 / math.sqrt(math.pi) * np.exp(-x * x))
        x = np.where(np.abs(y) == 1, np.copysign(np.inf, y), x)
        return np.where(np.abs(y) > 1, np.nan, x)


class _Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply_np(erf_np, x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * (-x * x).exp()


class _Erfinv(Function):
    @staticmethod
    def forward(ctx, y):
        out = _apply_np(erfinv_np, y)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (math.sqrt(math.pi) / 2) * (x * x).exp()


def erf(x: Tensor) -> Tensor:
    """The error function, differentiable."""
    return _Erf.apply(x)


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function, differentiable."""
    return _Erfinv.apply(x)


class _Xlogy(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        a, b = x._host(), y._host()
        with np.errstate(all="ignore"):
            out = np.where(a == 0, 0.0, a * np.log(b))
        return _finish(np.where(np.isnan(b), np.nan, out).astype(x._data.dtype), x.device, False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors  # as PyTorch: d/dx = log(y), also where x == 0
        return grad * y.log(), grad * x / y


def xlogy(x, y: Tensor) -> Tensor:
    """``x * log(y)``, 0 where ``x`` is 0 (``y`` not nan), broadcasting; as ``torch.xlogy``."""
    if not isinstance(x, Tensor):
        return x * y.log() if x != 0 else y * 0
    from .._ops.rules import broadcast_shapes
    shape = tuple(broadcast_shapes("xlogy", tuple(x.shape), tuple(y.shape)))
    return _Xlogy.apply(x.expand(shape), y.expand(shape))
