"""Bit-exact numpy re-implementation of PyTorch's CPU random number generator.

Engine: ATen's ``CPUGeneratorImpl`` is a 32-bit mt19937 seeded with ``init_genrand`` on the low 32
bits of the 64-bit seed; ``random64()`` is ``(draw1 << 32) | draw2``.  The raw stream comes from
numpy's ``MT19937`` (same algorithm and tempering, vectorised).  torch's ``(left, next)`` counters
follow from numpy's position except right after seeding (torch: left=1, next=0) or after loading
a state whose counters disagree; those are kept explicitly so ``get_state`` stays byte-identical.

Distributions follow ATen 2.x (``ATen/core/DistributionsHelper.h``, ``TransformationHelper.h``,
``native/cpu/DistributionTemplates.h``, ``randperm_cpu``):

* uniform: float/half/bfloat16 use 24 bits of one draw (half/bf16 compute in float, then cast,
  and a value rounded up to ``to`` becomes ``from``); double uses 53 bits of a 64-bit draw.  The
  affine map is ``x * (to - from) + from`` in float (double for double).
* normal, numel >= 16: all uniforms are drawn first, then Box-Muller on blocks of 16 (8 cos, 8
  sin); if numel % 16 != 0 the last 16 outputs are recomputed from 16 fresh uniforms.
  Half/bf16 work in float through a 16-element buffer, so they draw numel - numel % 16 + 16
  uniforms instead of numel + 16.
* normal, numel < 16: one ``normal_distribution<double>`` per element (53-bit uniforms,
  ``log1p``), whose second Box-Muller sample is cached in the generator and in ``get_state``.
* randint: ``random() % range + from``, switching to ``random64()`` at range >= 2**28.
* randperm (n < 2**32 / 20): Fisher-Yates swaps driven by ``random() % (n - i)``.

Floating-point results depend on how torch was compiled and dispatched.  With the AVX2/AVX512
kernels (any x86-64 CPU with AVX2+FMA, the usual case) GCC contracts ``a * b + c`` into FMA and
float Box-Muller uses ``avx_mathfun.h`` (cephes polynomials, emulated here op by op, FMA
included).  The ``default`` kernel (``ATEN_CPU_CAPABILITY=default`` or no AVX2) does not contract
and calls glibc ``logf``/``sinf``/``cosf``, which are emulated from glibc's own algorithms.
Double Box-Muller calls glibc ``log``/``sin``/``cos``: we evaluate them in long double and fall
back to Python's ``math`` (the same libm) wherever the rounding could go either way.  Builds
other than Linux x86-64 with glibc (aarch64, macOS, Windows) are treated like the default kernel,
which is unverified there.
"""

from __future__ import annotations

import array
import math
import os
import platform
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np

__all__ = ["DEFAULT_SEED", "CPUGenerator"]

DEFAULT_SEED = 67280421310721

_MT_N = 624
_STATE_SIZE = 5056  # sizeof(at::detail::CPUGeneratorImplState)
_RANDPERM_SMALL_N = 0xFFFFFFFF // 20  # randperm_cpu switches algorithm here
_RANDOM64_RANGE = 1 << 28  # uniform_int_from_to_distribution uses random64() from here on

_F32 = np.float32
_F64 = np.float64
_BF16 = np.dtype(ml_dtypes.bfloat16)
_REDUCED = (np.dtype(np.float16), _BF16)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64), *_REDUCED)
_INTS = tuple(np.dtype(t) for t in (np.uint8, np.int8, np.int16, np.int32, np.int64))
_COMPLEX_PART = {np.dtype(np.complex64): np.dtype(np.float32),
                 np.dtype(np.complex128): np.dtype(np.float64)}
# C++ type names torch's bound-check messages print.
_CPP_NAMES = {np.dtype(np.bool_): "bool", np.dtype(np.uint8): "unsigned char",
              np.dtype(np.int8): "signed char", np.dtype(np.int16): "short int",
              np.dtype(np.int32): "int", np.dtype(np.int64): "long int",
              np.dtype(np.float16): "c10::Half", _BF16: "c10::BFloat16",
              np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_SCALAR_TYPE = {np.dtype(np.float16): "Half", _BF16: "BFloat16", np.dtype(np.float32): "Float",
                np.dtype(np.float64): "Double"}  # c10::toString(ScalarType)
# randperm_cpu's precision limits: (largest n, how the message spells it).
_RANDPERM_FLOAT_LIMITS = {np.dtype(np.float16): ((1 << 11) + 1, "2049"),
                          np.dtype(np.float32): ((1 << 24) + 1, "2^24+1"),
                          np.dtype(np.float64): ((1 << 53) + 1, "2^53+1")}


def _torch_uses_simd_kernels() -> bool:
    """Whether torch would dispatch its AVX2/AVX512 kernels here (DispatchStub's choice)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    env = os.environ.get("ATEN_CPU_CAPABILITY")  # torch matches it case-sensitively
    if env in ("avx2", "avx512"):
        return True
    if env == "default":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:  # no procfs: every x86-64 CPU torch wheels target in practice has AVX2
        return True
    return {"avx2", "fma"} <= set(flags)


# AVX2 and AVX512 kernels give identical results; only "vectorised or not" matters.
_SIMD = _torch_uses_simd_kernels()


# ---------------------------------------------------------------------------------------------
# Exact floating-point helpers
# ---------------------------------------------------------------------------------------------

def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _round_to_odd(s: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Turn round-to-nearest ``s`` (exact value ``s + err``) into round-to-odd."""
    fix = (err != 0) & ((s.view(np.int64) & 1) == 0)
    if fix.any():
        s = s.copy()
        s[fix] = np.nextafter(s[fix], np.copysign(np.inf, err[fix]))
    return s


def _fma32(a: np.ndarray, b: np.ndarray | float, c: np.ndarray | float) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c``.

    The float64 product is exact, so the float64 sum ``s`` is the correctly rounded exact
    result; rounding ``s`` to float32 can only differ from rounding the exact value when ``s``
    sits exactly on a float32 tie (or in float32's subnormal range), where round-to-odd fixes
    it."""
    p = np.multiply(a, b, dtype=_F64)
    s = np.add(p, c, dtype=_F64)
    suspect = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    suspect |= np.abs(s) < 2.0**-125
    if suspect.any():
        si, err = _two_sum(p[suspect], np.broadcast_to(np.asarray(c, _F64), s.shape)[suspect])
        s[suspect] = _round_to_odd(si, err)
    return s.astype(_F32)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = a * 134217729.0  # 2**27 + 1 (Veltkamp)
    hi = t - (t - a)
    return hi, a - hi


def _fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """Correctly rounded float64 ``a * b + c`` (Boldo & Melquiond, emulated round-to-odd)."""
    a = np.asarray(a, _F64)
    with np.errstate(all="ignore"):
        p = a * b
        ah, al = _split(a)
        bh, bl = _split(np.asarray(b, _F64))
        pl = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        th, tl = _two_sum(np.full_like(p, c), p)
        v, verr = _two_sum(tl, pl)
        out = th + _round_to_odd(v, verr)
    # Splitting overflows / products underflow at extreme magnitudes: finish those exactly.
    bad = ~np.isfinite(out) | ~np.isfinite(pl) | ((np.abs(p) < 2.0**-960) & (p != 0))
    if bad.any():
        bb, cc = np.broadcast_to(b, out.shape), np.broadcast_to(c, out.shape)
        for i in np.flatnonzero(bad):
            out.flat[i] = _fma_exact(float(a.flat[i]), float(bb.flat[i]), float(cc.flat[i]))
    return out


def _fma_exact(a: float, b: float, c: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)) or 0 in (a, b, c):
        return a * b + c  # exact, and keeps IEEE signed zeros
    try:
        return float(Fraction(a) * Fraction(b) + Fraction(c))
    except OverflowError:
        return math.copysign(math.inf, a * b + c)


# ---------------------------------------------------------------------------------------------
# Emulation of the math libraries torch's Box-Muller calls
# ---------------------------------------------------------------------------------------------

# long double must carry >= 10 extra bits to decide the float64 rounding of libm results.
_LD_EXACT = np.finfo(np.longdouble).nmant >= 63
_LIBM_MARGIN = 0.06  # glibc's log/sin/cos err <= ~0.52 ulp: anything nearer a tie is re-done


def _glibc_f64(name: str, x: np.ndarray) -> np.ndarray:
    """glibc's double ``log``/``sin``/``cos`` of ``x``, vectorised.

    glibc is correctly rounded except within a few hundredths of an ulp of a tie, so the long
    double result rounded to double is glibc's answer unless it lies that near a tie; those
    (about 12%) are recomputed with Python's ``math``, which calls the same libm."""
    func = getattr(math, name)
    if not _LD_EXACT:
        return np.array([func(v) for v in x.reshape(-1).tolist()], _F64).reshape(x.shape)
    ref = getattr(np, name)(x.astype(np.longdouble))
    out = ref.astype(_F64)
    resid = (ref - out).astype(_F64)
    mag = np.abs(out)
    gap = mag - np.nextafter(mag, 0)  # the smaller neighbour gap: conservative at binade edges
    idx = np.flatnonzero(np.abs(resid) > (0.5 - _LIBM_MARGIN) * gap)
    if idx.size:
        flat = out.reshape(-1)
        flat[idx] = [func(v) for v in x.reshape(-1)[idx].tolist()]
    return out


def _hex(text: str) -> tuple[float, ...]:
    """Parse C99 hex-float constants (copied verbatim from glibc's tables)."""
    return tuple(float.fromhex(t) for t in text.split())


# e_logf_data.c: (invc, logc) per subinterval, then the log1p polynomial.
_LOGF_TAB = np.array(_hex("""
    0x1.661ec79f8f3bep+0 -0x1.57bf7808caadep-2  0x1.571ed4aaf883dp+0 -0x1.2bef0a7c06ddbp-2
    0x1.49539f0f010bp+0  -0x1.01eae7f513a67p-2  0x1.3c995b0b80385p+0 -0x1.b31d8a68224e9p-3
    0x1.30d190c8864a5p+0 -0x1.6574f0ac07758p-3  0x1.25e227b0b8eap+0  -0x1.1aa2bc79c81p-3
    0x1.1bb4a4a1a343fp+0 -0x1.a4e76ce8c0e5ep-4  0x1.12358f08ae5bap+0 -0x1.1973c5a611cccp-4
    0x1.0953f419900a7p+0 -0x1.252f438e10c1ep-5  0x1p+0                0x0p+0
    0x1.e608cfd9a47acp-1  0x1.aa5aa5df25984p-5  0x1.ca4b31f026aap-1   0x1.c5e53aa362eb4p-4
    0x1.b2036576afce6p-1  0x1.526e57720db08p-3  0x1.9c2d163a1aa2dp-1  0x1.bc2860d22477p-3
    0x1.886e6037841edp-1  0x1.1058bc8a07ee1p-2  0x1.767dcf5534862p-1  0x1.4043057b6ee09p-2
""")).reshape(16, 2)
_LOGF_POLY = _hex("-0x1.00ea348b88334p-2 0x1.5575b0be00b6ap-2 -0x1.ffffef20a4123p-2")
_LN2 = float.fromhex("0x1.62e42fefa39efp-1")


def _glibc_logf(x: np.ndarray) -> np.ndarray:
    """glibc >= 2.28 ``logf`` (sysdeps/ieee754/flt-32/e_logf.c) for positive normal floats."""
    ix = x.view(np.uint32)
    tmp = ix - np.uint32(0x3F330000)
    i = (tmp >> np.uint32(19)) & np.uint32(15)
    k = tmp.view(np.int32) >> np.int32(23)
    iz = ix - (tmp & np.uint32(0xFF800000))
    z = iz.view(_F32).astype(_F64)
    r = z * _LOGF_TAB[i, 0] - 1.0
    y0 = _LOGF_TAB[i, 1] + k * _LN2
    r2 = r * r
    y = _LOGF_POLY[1] * r + _LOGF_POLY[2]
    y = _LOGF_POLY[0] * r2 + y
    y = y * r2 + (y0 + r)
    return np.where(ix == np.uint32(0x3F800000), _F32(0), y.astype(_F32))


# s_sincosf_data.c, __sincosf_table[0]: cosine c0..c4, sine s1..s3 (entry 1 negates c*).
_SINCOSF_C = _hex("0x1p0 -0x1.ffffffd0c621cp-2 0x1.55553e1068f19p-5 -0x1.6c087e89a359dp-10 "
                  "0x1.99343027bf8c3p-16")
_SINCOSF_S = _hex("-0x1.555545995a603p-3 0x1.1107605230bc4p-7 -0x1.994eb3774cf24p-13")
_HPI_INV_2P24, _HPI = _hex("0x1.45F306DC9C883p+23 0x1.921FB54442D18p0")  # 2/pi * 2^24, pi/2


def _glibc_sincosf(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """glibc >= 2.28 ``sinf`` and ``cosf`` (x86-64 build) for 0 <= y < 120."""
    top = (y.view(np.uint32) >> np.uint32(20)) & np.uint32(0x7FF)
    small = top < np.uint32(0x3F4)  # abstop12(pio4): |y| < 0.75
    tiny = top < np.uint32(0x398)  # abstop12(0x1p-12f)
    x = y.astype(_F64)
    # reduce_fast without TOINT_INTRINSICS: quadrant from a 2^24-scaled product.
    n = ((x * _HPI_INV_2P24).astype(np.int32) + 0x800000) >> 24
    n = np.where(small, 0, n)
    xr = np.where(small, x, x - n * _HPI)
    xs = xr * np.array([1.0, -1.0, -1.0, 1.0])[n & 3]  # p->sign[n & 3]
    x2 = xr * xr
    # sinf_poly: even n -> sine polynomial of xs, odd n -> (possibly negated) cosine polynomial.
    x3 = xs * x2
    sin_poly = (xs + x3 * _SINCOSF_S[0]) + (x3 * x2) * (_SINCOSF_S[1] + x2 * _SINCOSF_S[2])
    c = _SINCOSF_C
    x4 = x2 * x2
    cos_poly = ((c[0] + x2 * c[1]) + x4 * c[2]) + (x4 * x2) * (c[3] + x2 * c[4])
    cos_poly = np.where(n & 2, -cos_poly, cos_poly)  # table entry 1 negates every coefficient
    odd = (n & 1) == 1
    sin_out = np.where(odd, cos_poly, sin_poly).astype(_F32)
    cos_out = np.where(odd, sin_poly, cos_poly).astype(_F32)
    sin_out = np.where(tiny, y, sin_out)
    cos_out = np.where(tiny, _F32(1), cos_out)
    return sin_out, cos_out


# avx_mathfun.h constants (cephes).
_LOG_P = tuple(_F32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
                                 -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                                 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
_LOG_Q1, _LOG_Q2 = _F32(-2.12194440e-4), _F32(0.693359375)
_SQRTHF = _F32(0.707106781186547524)
_DP = tuple(_F32(v) for v in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8))
_SINCOF = tuple(_F32(v) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1))
_COSCOF = tuple(_F32(v) for v in (2.443315711809948e-005, -1.388731625493765e-003,
                                  4.166664568298827e-002))
_FOPI = _F32(1.27323954473516)


def _avx_log(x: np.ndarray) -> np.ndarray:
    """``log256_ps`` for x in (0, 1], with the FMA contractions GCC applies to it."""
    bits = np.maximum(x, np.finfo(_F32).smallest_normal).view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F32) + _F32(1)
    x = ((bits & ~0x7F800000) | 0x3F000000).view(_F32)  # mantissa in [0.5, 1)
    mask = x < _SQRTHF
    e = e - mask.astype(_F32)
    x = (x - _F32(1)) + np.where(mask, x, _F32(0))
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fma32(y, x, p)
    y = y * x
    y = _fma32(y, z, e * _LOG_Q1)
    y = y - z * _F32(0.5)
    return _fma32(e, _LOG_Q2, x + y)


def _avx_sincos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sincos256_ps`` for x >= 0, with GCC's FMA contractions."""
    j = ((x * _FOPI).astype(np.int32) + 1) & ~1
    y = j.astype(_F32)
    for dp in _DP:
        x = _fma32(y, dp, x)
    sin_neg = (j & 4) != 0
    cos_neg = (~(j - 2) & 4) != 0
    poly_sin = (j & 2) == 0
    z = x * x
    yc = _fma32(_fma32(np.full_like(z, _COSCOF[0]), z, _COSCOF[1]), z, _COSCOF[2]) * z
    yc = _fma32(yc, z, -(z * _F32(0.5))) + _F32(1)
    ys = _fma32(_fma32(np.full_like(z, _SINCOF[0]), z, _SINCOF[1]), z, _SINCOF[2]) * z
    ys = _fma32(ys, x, x)
    s = np.where(poly_sin, ys, yc)
    c = np.where(poly_sin, yc, ys)
    return np.where(sin_neg, -s, s), np.where(cos_neg, -c, c)


def _box_muller16(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``NormalFill16`` on rows of 16 uniforms (float32 or float64), returned flattened."""
    u1, u2 = 1 - u[:, :8], u[:, 8:]
    if u.dtype == _F64:
        radius = np.sqrt(-2 * _glibc_f64("log", u1))
        theta = (2 * math.pi) * u2
        n1 = radius * _glibc_f64("cos", theta)
        n2 = radius * _glibc_f64("sin", theta)
        fma = _fma64
    elif _SIMD:
        radius = np.sqrt(_F32(-2) * _avx_log(u1))
        sin, cos = _avx_sincos(_F32(2 * math.pi) * u2)
        n1, n2 = radius * cos, radius * sin
        fma = _fma32
    else:
        radius = np.sqrt(_F32(-2) * _glibc_logf(u1))
        sin, cos = _glibc_sincosf(((2 * math.pi) * u2.astype(_F64)).astype(_F32))
        n1, n2 = radius * cos, radius * sin
        fma = _fma32
    if u.dtype == _F32:
        mean, std = float(_F32(mean)), float(_F32(std))
    if std == 1:  # fma(n, 1, mean) == n + mean, signed zeros included
        n1, n2 = n1 + u.dtype.type(mean), n2 + u.dtype.type(mean)
    else:
        n1, n2 = fma(n1, std, mean), fma(n2, std, mean)
    return np.concatenate([n1, n2], axis=1).reshape(-1)


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------

def _mt_state(key: np.ndarray, pos: int) -> dict:
    return {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}


def _to_float_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """C++ ``static_cast<scalar_t>``: Half/BFloat16 only convert from float, so go through it."""
    if dtype in _REDUCED and values.dtype != _F32:
        values = values.astype(_F32)
    return values.astype(dtype)


def _check_dtype(dtype: np.dtype, allowed: tuple[np.dtype, ...], what: str) -> None:
    if dtype not in allowed:
        raise TypeError(f"{what}: unsupported dtype {dtype}")


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(int(s) for s in shape)


class CPUGenerator:
    """Numpy twin of ``torch.Generator(device='cpu')``."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self._bitgen = np.random.MT19937(0)
        self.manual_seed(seed)

    # -- seeding and state ---------------------------------------------------------------------

    def manual_seed(self, seed: int) -> None:
        """As ``torch.Generator.manual_seed``: ints in [-2**63, 2**64), negatives wrap."""
        if isinstance(seed, bool) or not hasattr(seed, "__index__"):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = seed.__index__()
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed & 0xFFFFFFFFFFFFFFFF
        self._bitgen._legacy_seeding(self._seed & 0xFFFFFFFF)  # init_genrand
        self._counters: tuple[int, int] | None = (1, 0)  # mt19937_engine: twist on first draw
        self._normal_double: float | None = None
        self._normal_float: float | None = None  # never set by CPU kernels; kept for state

    def seed(self) -> int:
        """Reseed from /dev/urandom like ``torch.Generator.seed`` and return the seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> np.ndarray:
        """The 5056-byte ``CPUGeneratorImplState`` torch's ``get_state`` returns."""
        mt = self._bitgen.state["state"]
        left, nxt = self._counters or (_MT_N + 1 - mt["pos"], mt["pos"])
        buf = bytearray(_STATE_SIZE)
        struct.pack_into("<QiiQ", buf, 0, self._seed, left, 1, nxt)
        buf[24:5016] = mt["key"].astype("<u8").tobytes()
        nd, nf = self._normal_double, self._normal_float
        struct.pack_into("<dddi", buf, 5016, 0.0, 0.0 if nd is None else nd, 0.0, nd is not None)
        struct.pack_into("<f?", buf, 5048, 0.0 if nf is None else nf, nf is not None)
        return np.frombuffer(bytes(buf), np.uint8).copy()

    def set_state(self, state: np.ndarray) -> None:
        """Load a state from ``get_state`` (ours or torch's), validating it as torch does."""
        state = np.asarray(state)
        if state.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if state.size != _STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but "
                               f"found the input RNG state size to be {state.size}")
        raw = np.ascontiguousarray(state).reshape(-1).tobytes()
        seed, left, seeded, nxt = struct.unpack_from("<QiiQ", raw, 0)
        nxt &= 0xFFFFFFFF  # torch narrows to uint32
        # Unlike torch we also reject next + left - 1 > 624, where torch reads past the array.
        if not (seeded and 0 < left <= _MT_N and nxt <= _MT_N
                and (left == 1 or nxt + left - 1 <= _MT_N)):
            raise RuntimeError("Invalid mt19937 state")
        normal_y, = struct.unpack_from("<d", raw, 5024)
        normal_valid, = struct.unpack_from("<i", raw, 5040)
        normal_f, float_valid = struct.unpack_from("<fB", raw, 5048)
        self._seed = seed
        consistent = left + nxt == _MT_N + 1  # numpy's pos then says it all
        self._bitgen.state = _mt_state(np.frombuffer(raw, "<u8", _MT_N, 24).astype(np.uint32),
                                       nxt if consistent else _MT_N)
        self._counters = None if consistent else (left, nxt)
        self._normal_double = normal_y if normal_valid else None
        self._normal_float = normal_f if float_valid else None

    def clone(self) -> CPUGenerator:
        """An independent generator in the same state (``CPUGeneratorImpl::clone``)."""
        other = CPUGenerator.__new__(CPUGenerator)
        other._bitgen = np.random.MT19937(0)
        other._bitgen.state = self._bitgen.state
        other._seed, other._counters = self._seed, self._counters
        other._normal_double, other._normal_float = self._normal_double, self._normal_float
        return other

    # -- raw stream ----------------------------------------------------------------------------

    def _raw32(self, n: int) -> np.ndarray:
        """The next ``n`` outputs of ``engine_()``."""
        if self._counters is None or n == 0:
            return self._bitgen.random_raw(n).astype(np.uint32)
        # torch's counters disagree with numpy's pos (fresh seed or odd loaded state): make the
        # `left - 1` draws torch makes from state[next:] before it twists, then force the twist.
        left, nxt = self._counters
        pre = min(n, left - 1)
        key = self._bitgen.state["state"]["key"]
        self._bitgen.state = _mt_state(key, nxt)
        head = self._bitgen.random_raw(pre)
        if pre == n:
            self._counters = (left - pre, nxt + pre)
            return head.astype(np.uint32)
        self._bitgen.state = _mt_state(key, _MT_N)
        self._counters = None
        return np.concatenate([head, self._bitgen.random_raw(n - pre)]).astype(np.uint32)

    def _raw64(self, n: int) -> np.ndarray:
        """The next ``n`` outputs of ``random64()``."""
        r = self._raw32(2 * n).astype(np.uint64)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    def _uniform01(self, n: int, dtype: np.dtype) -> np.ndarray:
        """``uniform_real_distribution<float|double>(0, 1)`` draws."""
        if dtype == _F64:
            return (self._raw64(n) & np.uint64((1 << 53) - 1)).astype(_F64) * 2.0**-53
        return (self._raw32(n) & np.uint32((1 << 24) - 1)).astype(_F32) * _F32(2.0**-24)

    # -- distributions -------------------------------------------------------------------------

    def uniform(self, shape: tuple[int, ...], dtype: np.dtype | type, low: float = 0.0,
                high: float = 1.0) -> np.ndarray:
        """``torch.rand`` / ``Tensor.uniform_(low, high)`` on a contiguous tensor."""
        dtype = np.dtype(dtype)
        if dtype in _COMPLEX_PART:  # view_as_real(self).uniform_(low, high)
            part = self.uniform((*shape, 2), _COMPLEX_PART[dtype], low, high)
            return part.view(dtype).reshape(shape)
        _check_dtype(dtype, _FLOATS, "uniform")
        low, high = float(low), float(high)
        lim = float(ml_dtypes.finfo(dtype).max)
        for name, v in (("from", low), ("to", high)):
            if not -lim <= v <= lim:
                raise RuntimeError(f"{name} is out of bounds for {_CPP_NAMES[dtype]}")
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={low:g} > to={high:g}")
        if high - low > lim:
            raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                               f"{_SCALAR_TYPE[dtype]}>::max(), but found to={high:g} and "
                               f"from={low:g} which result in to-from to exceed the limit")
        op = _F64 if dtype == _F64 else _F32
        lo = op(low)
        span = op(high) - lo
        x = self._uniform01(_numel(shape), np.dtype(op))
        if not (lo == 0 and span == 1):
            if _SIMD:
                x = _fma64(x, float(span), float(lo)) if op == _F64 else _fma32(x, span, lo)
            else:
                x = x * span + lo
        out = x.astype(dtype)
        # torch maps a value rounded up to `to` back to `from`.
        to_s, from_s = _to_float_dtype(np.array([high, low]), dtype)
        out[out == to_s] = from_s
        return out.reshape(shape)

    def normal(self, shape: tuple[int, ...], dtype: np.dtype | type, mean: float = 0.0,
               std: float = 1.0) -> np.ndarray:
        """``torch.randn`` / ``torch.normal(mean, std, size)`` / ``Tensor.normal_``."""
        dtype = np.dtype(dtype)
        mean, std = float(mean), float(std)
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if dtype in _COMPLEX_PART:  # real and imaginary parts each get variance std**2 / 2
            part = self.normal((*shape, 2), _COMPLEX_PART[dtype], mean, std / math.sqrt(2))
            return part.view(dtype).reshape(shape)
        _check_dtype(dtype, _FLOATS, "normal")
        n = _numel(shape)
        if n < 16:
            return _to_float_dtype(self._normal_serial(n, mean, std), dtype).reshape(shape)
        op = np.dtype(_F64 if dtype == _F64 else _F32)
        tail = n % 16
        full = n - tail
        # float/double draw every uniform up front; half/bf16 only the full blocks.
        u = self._uniform01(full if dtype in _REDUCED else n, op)
        out = np.empty(n, op)
        out[:full] = _box_muller16(u[:full].reshape(-1, 16), mean, std)
        if tail:  # recompute the last 16 outputs from fresh uniforms
            out[n - 16:] = _box_muller16(self._uniform01(16, op).reshape(1, 16), mean, std)
        return out.astype(dtype).reshape(shape)

    def _normal_serial(self, n: int, mean: float, std: float) -> np.ndarray:
        """``normal_distribution<double>(mean, std)`` per element (the serial kernel)."""
        d = _Draws(self)
        out = np.array([d.normal(mean, std) for _ in range(n)], _F64)
        d.finish()
        return out

    def normal_serial(self, n: int, dtype: np.dtype | type, mean: float = 0.0,
                      std: float = 1.0) -> np.ndarray:
        """``Tensor.normal_`` on a tensor that is not contiguous: always the serial kernel."""
        return _to_float_dtype(self._normal_serial(n, mean, std), np.dtype(dtype))

    # -- the serial kernels of DistributionTemplates.h: all but bernoulli with a float ``p``
    # tensor transform 53-bit double uniforms in double and cast the result --------------------

    def exponential(self, n: int, lambd: float) -> np.ndarray:
        """``exponential_distribution<double>``: ``-1 / lambd * log1p(-u)``."""
        return (-1.0 / lambd) * _libm("log1p", -self._uniform01(n, np.dtype(_F64)))

    def geometric(self, n: int, p: float) -> np.ndarray:
        """``geometric_distribution<double>``: ``ceil(log(u) / log1p(-p))``."""
        return np.ceil(_libm("log", self._uniform01(n, np.dtype(_F64))) / math.log1p(-p))

    def log_normal(self, n: int, mean: float, std: float) -> np.ndarray:
        """``lognormal_distribution<double>``: ``exp`` of the serial normal."""
        return _libm("exp", self._normal_serial(n, mean, std))

    def cauchy(self, n: int, median: float, sigma: float) -> np.ndarray:
        """``cauchy_distribution<double>``: ``median + sigma * tan(pi * (u - 0.5))``."""
        t = _libm("tan", math.pi * (self._uniform01(n, np.dtype(_F64)) - 0.5))
        return _fma64(t, sigma, median) if _SIMD else median + sigma * t

    def bernoulli(self, p: float | np.ndarray) -> np.ndarray:
        """One draw per element of ``p`` (in iteration order): ``u < p``. A float ``p`` or a
        double tensor compares 53-bit double uniforms, other ``p`` tensors 24-bit float ones."""
        p = np.asarray(p)
        if p.dtype == _F64:
            return self._uniform01(p.size, np.dtype(_F64)) < p
        return self._uniform01(p.size, np.dtype(_F32)) < p.astype(_F32)

    def random(self, n: int, dtype: np.dtype | type) -> np.ndarray:
        """``Tensor.random_()``: ``uniform_int_distribution``, i.e. a draw modulo
        ``max + 1`` (integers) or ``2**digits + 1`` (floating types)."""
        dtype = np.dtype(dtype)
        wide = dtype in (np.dtype(np.int64), np.dtype(np.float64))
        raw = self._raw64(n) if wide else self._raw32(n).astype(np.uint64)
        if dtype == np.bool_:
            return (raw & np.uint64(1)).astype(np.bool_)
        if dtype in _FLOATS:
            mod = (1 << _digits(dtype)) + 1
        else:
            mod = int(np.iinfo(dtype).max) + 1
        return _to_float_dtype((raw % np.uint64(mod)).astype(np.int64), dtype)

    def random_full(self, n: int, dtype: np.dtype | type) -> np.ndarray:
        """``random_(int64 min, None)``: ``random64()`` reinterpreted as int64, then cast."""
        return _to_float_dtype(self._raw64(n).view(np.int64), np.dtype(dtype))

    def poisson(self, rates: np.ndarray) -> np.ndarray:
        """``sample_poisson`` per rate (``ATen/native/Distributions.cpp``), as doubles."""
        d = _Draws(self)
        out = np.array([_poisson(float(lam), d) for lam in rates.reshape(-1).tolist()], _F64)
        d.finish()
        return out

    def standard_gamma(self, alpha: np.ndarray, single: bool) -> np.ndarray:
        """``sample_gamma`` per concentration (Marsaglia-Tsang, as doubles). ``single``: the
        scalar type is float, whose arithmetic rounds a few steps to float."""
        d = _Draws(self)
        out = np.array([_gamma(a, d, single) for a in alpha.reshape(-1).tolist()], _F64)
        d.finish()
        return out

    def multinomial(self, cum: np.ndarray, n_sample: int) -> np.ndarray:
        """Sampling with replacement from normalised cumulative rows ``cum`` (n_dist, n_cat):
        per row ``n_sample`` double uniforms, each placed by binary search (first ``cum >= u``;
        the last bucket counts as 1)."""
        u = self._uniform01(cum.shape[0] * n_sample, np.dtype(_F64)).reshape(-1, n_sample)
        cum = cum.astype(_F64)
        cum[:, -1] = 1
        return np.stack([np.searchsorted(c, r, side="left") for c, r in zip(cum, u)])

    def randint(self, low: int, high: int, shape: tuple[int, ...],
                dtype: np.dtype | type) -> np.ndarray:
        """``torch.randint(low, high, shape)`` / ``Tensor.random_(low, high)``."""
        dtype = np.dtype(dtype)
        _check_dtype(dtype, (np.dtype(np.bool_), *_INTS, *_FLOATS), "randint")
        low, high = int(low), int(high)
        # high may be 2**63: ``random_(from)`` on int64 runs up to the largest int64
        if not (-(1 << 63) <= low < (1 << 63) and -(1 << 63) <= high <= (1 << 63)):
            raise ValueError("Overflow when unpacking long long")
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={low} >= to={high}")
        if dtype in _FLOATS:
            low, high = _update_from(low, dtype), _update_to(high, dtype)
            if low >= high:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than "
                                   f"'to' casted to dtype, but got from={low} >= to={high}")
            lim = float(ml_dtypes.finfo(dtype).max)
            lim_lo, lim_hi = -lim, lim
        elif dtype == np.bool_:
            lim_lo, lim_hi = 0, 1
        else:
            lim_lo, lim_hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
        for name, v in (("from", low), ("to - 1", high - 1)):
            if not lim_lo <= v <= lim_hi:
                raise RuntimeError(f"{name} is out of bounds for {_CPP_NAMES[dtype]}")
        n = _numel(shape)
        span = (high - low) & 0xFFFFFFFFFFFFFFFF
        raw = self._raw64(n) if span >= _RANDOM64_RANGE else self._raw32(n).astype(np.uint64)
        vals = ((raw % np.uint64(span)) + np.uint64(low & 0xFFFFFFFFFFFFFFFF)).view(np.int64)
        return _to_float_dtype(vals, dtype).reshape(shape)

    def randperm(self, n: int, dtype: np.dtype | type = np.int64) -> np.ndarray:
        """``torch.randperm(n, dtype=dtype)``."""
        dtype = np.dtype(dtype)
        _check_dtype(dtype, _INTS + _FLOATS, "randperm")
        n = int(n)
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
        if dtype in _RANDPERM_FLOAT_LIMITS:
            limit, text = _RANDPERM_FLOAT_LIMITS[dtype]
            if n > limit:
                raise RuntimeError(f"n cannot be greater than {text} for {_SCALAR_TYPE[dtype]} "
                                   "type.")
        elif dtype not in _FLOATS and n - 1 > np.iinfo(dtype).max:
            raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without "
                               "overflow")
        if n < _RANDPERM_SMALL_N:
            perm = list(range(n))
            if n > 1:  # swap i with i + random() % (n - i)
                z = self._raw32(n - 1).astype(np.int64) % np.arange(n, 1, -1)
                for i, j in enumerate((z + np.arange(n - 1)).tolist()):
                    perm[i], perm[j] = perm[j], perm[i]
            return _to_float_dtype(np.array(perm, np.int64), dtype)
        # Inside-out Fisher-Yates with random64() % (i + 1): torch's choice for huge n.  An
        # array.array is the cheapest sequential store Python offers for this many swaps.
        out = array.array("q", [0]) * n
        chunk = 1 << 20
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            zs = self._raw64(stop - start) % np.arange(start + 1, stop + 1, dtype=np.uint64)
            for i, z in enumerate(zs.tolist(), start):
                out[i] = out[z]
                out[z] = i
        return _to_float_dtype(np.frombuffer(out, np.int64), dtype)


def _digits(dtype: np.dtype) -> int:
    return ml_dtypes.finfo(dtype).nmant + 1


def _cast_int(v: int, dtype: np.dtype) -> int:
    """``static_cast<int64_t>(static_cast<scalar_t>(v))``; out-of-range gives x86's INT64_MIN."""
    with np.errstate(over="ignore"):  # the cast overflows to inf just as in C++
        f = float(_to_float_dtype(np.array([v], np.int64), dtype)[0])
    return int(f) if -(2.0**63) <= f < 2.0**63 else -(1 << 63)


def _update_from(low: int, dtype: np.dtype) -> int:
    """ATen ``update_from``: nudge `from` up so that it survives the cast to ``dtype``."""
    cast = _cast_int(low + 1, dtype)
    if cast < low:
        n = abs(low + 1).bit_length() - 1
        low = cast + (1 << (n - _digits(dtype) + 1))
    return low


def _update_to(high: int, dtype: np.dtype) -> int:
    """ATen ``update_to``: nudge `to` down so that ``to - 1`` survives the cast."""
    cast = _cast_int(high - 1, dtype)
    if cast >= high:
        n = abs(high - 1).bit_length() - 1
        high = cast - (1 << (n - _digits(dtype) + 1))
    return high


# ---------------------------------------------------------------------------------------------
# Sequential samplers (rejection loops)
# ---------------------------------------------------------------------------------------------

class _Draws:
    """One-at-a-time draws for the serial kernels: reads the stream ahead on a clone in blocks,
    then ``finish`` advances the generator by exactly what was used and stores the cached
    Box-Muller sample, as torch's generator would hold them."""

    def __init__(self, gen: CPUGenerator) -> None:
        self.gen, self.ahead = gen, gen.clone()
        self.buf: list[int] = []
        self.i = self.used = 0
        self.cached = gen._normal_double

    def _raw(self) -> int:
        if self.i == len(self.buf):
            self.buf, self.i = self.ahead._raw32(1024).tolist(), 0
        self.i += 1
        self.used += 1
        return self.buf[self.i - 1]

    def uniform(self) -> float:
        """``uniform_real_distribution<double>(0, 1)``."""
        return (((self._raw() << 32) | self._raw()) & ((1 << 53) - 1)) * 2.0**-53

    def normal(self, mean: float = 0.0, std: float = 1.0) -> float:
        """``normal_distribution<double>(mean, std)``, with the generator's cached sample."""
        if self.cached is not None:
            ret, self.cached = self.cached, None
        else:
            u1, u2 = self.uniform(), self.uniform()
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            self.cached = r * math.sin(theta)
            ret = r * math.cos(theta)
        return _fma_exact(ret, std, mean) if _SIMD else ret * std + mean

    def finish(self) -> None:
        self.gen._raw32(self.used)
        self.gen._normal_double = self.cached


def _libm(name: str, x: np.ndarray) -> np.ndarray:
    """glibc's double ``name`` elementwise, through Python's ``math`` (the same libm, so the
    same roundings); domain and range errors give the IEEE results instead."""
    f, g = getattr(math, name), getattr(np, name)

    def one(v: float) -> float:
        try:
            return f(v)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(g(v))
    x = np.asarray(x, _F64)
    return np.fromiter(map(one, x.reshape(-1).tolist()), _F64, x.size).reshape(x.shape)


def _poisson(lam: float, d: _Draws) -> float:
    """``sample_poisson``: transformed rejection (Hoermann 1993) from 10 on, else products of
    uniforms. Distributions.cpp is built without FMA, so plain double arithmetic."""
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = d.uniform() - 0.5
            v = d.uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return float(k)
            if k < 0 or (us < 0.013 and v > us):
                continue
            lhs = (math.log(v) if v > 0 else -math.inf) + math.log(invalpha) - math.log(
                a / (us * us) + b)
            if lhs <= -lam + k * loglam - math.lgamma(k + 1.0):
                return float(k)
    if lam == 0:
        return 0.0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= d.uniform()
        if prod <= enlam:
            return float(x)
        x += 1


_THIRD_F = float(_F32(1) / _F32(3))  # the float constant 1.0f / 3.0f
_C0331_F = float(_F32(0.0331))


def _gamma(alpha: float, d: _Draws, single: bool) -> float:
    """``sample_gamma`` (Marsaglia & Tsang 2000, boosted below 1) with double accumulation;
    ``single`` rounds the steps done in the float scalar type."""
    rnd = (lambda v: float(_F32(v))) if single else (lambda v: v)
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= (1 - d.uniform()) ** rnd(1.0 / alpha)
        alpha = rnd(alpha + 1.0)
    dd = rnd(alpha - _THIRD_F)
    c = 1.0 / math.sqrt(9.0 * dd)
    while True:
        y = 0.0
        while y <= 0:
            x = d.normal()
            y = 1.0 + c * x
        v = y * y * y
        u = 1 - d.uniform()
        xx = x * x
        if u < 1.0 - _C0331_F * xx * xx:
            return scale * dd * v
        if (math.log(u) if u > 0 else -math.inf) < 0.5 * xx + dd * (1.0 - v + math.log(v)):
            return scale * dd * v
