"""ember._random.CPUGenerator must reproduce torch's CPU generator bit for bit."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from fractions import Fraction
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
import torch

from ember import _random
from ember._random import DEFAULT_SEED, CPUGenerator

BF16 = np.dtype(ml_dtypes.bfloat16)
TORCH_DTYPES = {
    np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
    np.dtype(np.float16): torch.float16, BF16: torch.bfloat16,
    np.dtype(np.complex64): torch.complex64, np.dtype(np.complex128): torch.complex128,
    np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32,
    np.dtype(np.int16): torch.int16, np.dtype(np.int8): torch.int8,
    np.dtype(np.uint8): torch.uint8, np.dtype(np.bool_): torch.bool,
}
REAL = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), BF16]
FLOATS = [*REAL, np.dtype(np.complex64), np.dtype(np.complex128)]
INTS = [np.dtype(t) for t in (np.int64, np.int32, np.int16, np.int8, np.uint8)]
SEEDS = [0, 1, 42, 2**32 + 5, 0xDEADBEEFCAFEBABE]
SHAPES = [(), (0,), (1,), (7,), (15,), (16,), (17,), (31,), (100,), (3, 5), (1000,)]
REPO = Path(__file__).resolve().parents[1]


def to_numpy(t: torch.Tensor) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(BF16)
    return t.numpy()


def assert_same(ours: np.ndarray, theirs: torch.Tensor | np.ndarray) -> None:
    """Bitwise equality, so signed zeros and every last ulp count."""
    if isinstance(theirs, torch.Tensor):
        theirs = to_numpy(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert ours.flags.c_contiguous
    if ours.tobytes() != theirs.tobytes():
        bad = np.flatnonzero(ours.reshape(-1) != theirs.reshape(-1))
        raise AssertionError(f"{bad.size} of {ours.size} differ, e.g. at {bad[:3]}: "
                             f"{ours.reshape(-1)[bad[:3]]} vs {theirs.reshape(-1)[bad[:3]]}")


def pair(seed: int) -> tuple[CPUGenerator, torch.Generator]:
    return CPUGenerator(seed), torch.Generator().manual_seed(seed)


def assert_state(g: CPUGenerator, tg: torch.Generator) -> None:
    assert_same(g.get_state(), tg.get_state())


def test_uses_the_kernels_torch_dispatches() -> None:
    simd = torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
    assert _random._SIMD == simd


# -- seeding and state --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [*SEEDS, -1, -(2**63), 2**64 - 1, 2**63])
def test_manual_seed_state(seed: int) -> None:
    g, tg = pair(seed)
    assert g.initial_seed() == tg.initial_seed()
    assert_state(g, tg)


def test_default_seed() -> None:
    g, tg = CPUGenerator(), torch.Generator()
    assert DEFAULT_SEED == g.initial_seed() == tg.initial_seed()
    assert_state(g, tg)
    assert_same(g.uniform((5,), np.float32), torch.rand(5, generator=tg))


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 1.5, True, "3"])
def test_manual_seed_rejects_like_torch(seed: object) -> None:
    with pytest.raises(Exception) as theirs:
        torch.Generator().manual_seed(seed)
    with pytest.raises(type(theirs.value)) as ours:
        CPUGenerator().manual_seed(seed)
    if not isinstance(seed, str):  # torch names its own argument types
        assert str(ours.value) == str(theirs.value)


def test_seed_is_nondeterministic_and_reproducible() -> None:
    g = CPUGenerator()
    s1, s2 = g.seed(), g.seed()
    assert s1 != s2 and 0 <= s2 < 2**64 and g.initial_seed() == s2
    assert_state(g, torch.Generator().manual_seed(s2))


def test_clone_is_independent() -> None:
    g = CPUGenerator(3)
    g.normal((1,), np.float64)  # leaves a cached normal sample
    c = g.clone()
    assert_same(c.get_state(), g.get_state())
    a = g.normal((20,), np.float32)
    assert_same(c.normal((20,), np.float32), a)
    assert_same(c.get_state(), g.get_state())


def test_state_layout() -> None:
    g, tg = pair(7)
    assert g.get_state().shape == (5056,) and g.get_state().dtype == np.uint8
    g.normal((3,), np.float32)
    torch.randn(3, generator=tg)
    state = g.get_state()
    assert_same(state, tg.get_state())
    assert state[5040] == 1  # normal_is_valid: randn(3) cached its 4th sample


def test_set_state_from_torch_mid_stream() -> None:
    tg = torch.Generator().manual_seed(11)
    torch.rand(1000, generator=tg)
    torch.randn(5, generator=tg)  # odd count: cached sample in the state
    g = CPUGenerator(0)
    g.set_state(tg.get_state().numpy())
    assert_state(g, tg)
    assert g.initial_seed() == 11
    for _ in range(3):
        assert_same(g.normal((3,), np.float64), torch.randn(3, dtype=torch.float64, generator=tg))
        assert_same(g.uniform((700,), np.float32), torch.rand(700, generator=tg))
        assert_state(g, tg)


def test_torch_accepts_our_state() -> None:
    g = CPUGenerator(12)
    g.uniform((623,), np.float32)
    g.normal((1,), np.float32)
    tg = torch.Generator()
    tg.set_state(torch.from_numpy(g.get_state()))
    assert_state(g, tg)
    assert_same(g.normal((40,), np.float32), torch.randn(40, generator=tg))
    assert_same(g.randint(-9, 9, (50,), np.int64), torch.randint(-9, 9, (50,), generator=tg))


@pytest.mark.parametrize(("left", "nxt"), [(5, 100), (1, 37), (624, 0), (1, 624), (300, 1)])
def test_set_state_with_unusual_counters(left: int, nxt: int) -> None:
    """Valid states torch never produces itself: left - 1 draws from state[next:], then twist."""
    state = torch.Generator().manual_seed(8).get_state()
    words = state.view(torch.int32)
    words[2], words[4] = left, nxt
    tg = torch.Generator()
    tg.set_state(state)
    g = CPUGenerator()
    g.set_state(state.numpy())
    assert_state(g, tg)
    for n in (1, 3, 700):
        assert_same(g.uniform((n,), np.float32), torch.rand(n, generator=tg))
        assert_state(g, tg)


@pytest.mark.parametrize("case", ["short", "dtype", "left0", "left625", "next625", "unseeded"])
def test_set_state_rejects_like_torch(case: str) -> None:
    state = torch.Generator().manual_seed(5).get_state()
    words = state.view(torch.int32)  # seed lo/hi, left, seeded, next lo/hi, ...
    if case == "short":
        state = state[:100]
    elif case == "dtype":
        state = state.view(torch.int8)
    elif case == "left0":
        words[2] = 0
    elif case == "left625":
        words[2] = 625
    elif case == "next625":
        words[4] = 625
    else:
        words[3] = 0
    with pytest.raises(Exception) as theirs:
        torch.Generator().set_state(state)
    with pytest.raises(type(theirs.value)) as ours:
        CPUGenerator().set_state(state.numpy())
    assert str(ours.value) == str(theirs.value)


# -- distributions ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_uniform(seed: int, dtype: np.dtype) -> None:
    g, tg = pair(seed)
    td = TORCH_DTYPES[dtype]
    for shape in SHAPES:
        assert_same(g.uniform(shape, dtype), torch.rand(shape, dtype=td, generator=tg))
        for low, high in [(-3.7, 11.3), (2.5, 2.5), (-1e-3, 5e4)]:
            ours = g.uniform(shape, dtype, low, high)
            assert_same(ours, torch.empty(shape, dtype=td).uniform_(low, high, generator=tg))
        assert_state(g, tg)


def test_uniform_never_returns_high() -> None:
    # 1 - 2**-24 rounds to 1.0 in half precision: torch maps it back to `low`.
    g, tg = pair(0)
    ours = g.uniform((200000,), np.float16, 0.0, 1.0)
    assert_same(ours, torch.rand(200000, dtype=torch.float16, generator=tg))
    assert ours.max() < 1.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_normal(seed: int, dtype: np.dtype) -> None:
    g, tg = pair(seed)
    td = TORCH_DTYPES[dtype]
    for shape in SHAPES:
        assert_same(g.normal(shape, dtype), torch.randn(shape, dtype=td, generator=tg))
        for mean, std in [(0.3, 2.7), (-1e4, 3e-3), (5.0, 0.0)]:
            ours = g.normal(shape, dtype, mean, std)
            assert_same(ours, torch.empty(shape, dtype=td).normal_(mean, std, generator=tg))
        assert_state(g, tg)


@pytest.mark.parametrize("dtype", REAL, ids=str)
def test_normal_large(dtype: np.dtype) -> None:
    g, tg = pair(2024)
    td = TORCH_DTYPES[dtype]
    assert_same(g.normal((100003,), dtype), torch.randn(100003, dtype=td, generator=tg))
    ours = g.normal((65536,), dtype, -0.7, 1.9)
    assert_same(ours, torch.normal(-0.7, 1.9, (65536,), dtype=td, generator=tg))
    assert_state(g, tg)


def test_cached_normal_sample() -> None:
    g, tg = pair(99)
    assert_same(g.normal((1,), np.float64), torch.randn(1, dtype=torch.float64, generator=tg))
    before = g.get_state()
    assert before[5040] == 1
    # Big tensors and other distributions neither use nor clear the cache.
    assert_same(g.normal((32,), np.float32), torch.randn(32, generator=tg))
    assert_same(g.uniform((3,), np.float32), torch.rand(3, generator=tg))
    assert_state(g, tg)
    # The next small normal consumes it without drawing: only the flag changes.
    key_pos = g.get_state()[:5016].copy()
    assert_same(g.normal((1,), np.float16), torch.randn(1, dtype=torch.float16, generator=tg))
    assert_same(g.get_state()[:5016], key_pos)
    assert_state(g, tg)
    g.normal((1,), np.float32)
    g.manual_seed(99)  # reseeding drops it
    assert_same(g.get_state(), torch.Generator().manual_seed(99).get_state())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", [*INTS, *REAL], ids=str)
def test_randint(seed: int, dtype: np.dtype) -> None:
    g, tg = pair(seed)
    td = TORCH_DTYPES[dtype]
    ranges = [(0, 10), (-5, 3), (-100, 100), (0, 2**28 - 1), (0, 2**28), (0, 2**32),
              (7, 2**31 + 9), (-(2**40), 2**41), (0, 2**30), (-(2**63), 2**63 - 1),
              (-(2**62) + 3, 2**50), (0, 2**24 + 7), (-(2**24) - 9, 0)]
    for shape in [(), (1,), (17,), (3, 5), (1000,)]:
        for low, high in ranges:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # torch's float precision warning
                    theirs = torch.randint(low, high, shape, dtype=td, generator=tg)
            except RuntimeError as err:
                with pytest.raises(RuntimeError) as ours:
                    g.randint(low, high, shape, dtype)
                assert str(ours.value) == str(err)
                continue
            assert_same(g.randint(low, high, shape, dtype), theirs)
        assert_state(g, tg)


def test_randint_bool_and_errors() -> None:
    g, tg = pair(4)
    assert_same(g.randint(0, 2, (50,), np.bool_),
                torch.randint(0, 2, (50,), dtype=torch.bool, generator=tg))
    for low, high, dtype in [(5, 5, np.int64), (0, 3, np.bool_), (-200, 5, np.int8),
                             (0, 2**40, np.float16), (0, 300, np.uint8), (0, 2**64, np.int64),
                             (-(2**64), 0, np.int64)]:
        with pytest.raises(Exception) as theirs:
            torch.randint(low, high, (3,), dtype=TORCH_DTYPES[np.dtype(dtype)])
        with pytest.raises(type(theirs.value)) as ours:
            g.randint(low, high, (3,), dtype)
        assert str(ours.value) == str(theirs.value)
    assert_state(g, tg)


@pytest.mark.parametrize(("method", "dtype", "a", "b"), [
    ("uniform_", np.float16, -1e5, 0.0), ("uniform_", np.float16, 0.0, 1e5),
    ("uniform_", np.float32, -3e38, 3e38), ("uniform_", BF16, -3e38, 3e38),
    ("uniform_", np.float64, -1.7e308, 1.7e308), ("uniform_", np.float64, math.nan, 1.0),
    ("uniform_", np.float32, 2.0, 1.0), ("uniform_", np.complex64, 0.0, 1e39),
    ("normal_", np.float32, 0.0, -1.0), ("normal_", np.float64, 0.0, math.nan),
])
def test_uniform_normal_errors(method: str, dtype: type, a: float, b: float) -> None:
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.empty(3, dtype=TORCH_DTYPES[np.dtype(dtype)]), method)(a, b)
    with pytest.raises(RuntimeError) as ours:
        getattr(CPUGenerator(), method.rstrip("_"))((3,), dtype, a, b)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_randperm(seed: int) -> None:
    g, tg = pair(seed)
    for n in [0, 1, 2, 3, 10, 100, 1000, 2049, 100000]:
        for dtype in [*INTS, *REAL]:
            td = TORCH_DTYPES[dtype]
            try:
                theirs = torch.randperm(n, dtype=td, generator=tg)
            except RuntimeError as err:
                with pytest.raises(RuntimeError) as ours:
                    g.randperm(n, dtype)
                assert str(ours.value) == str(err)
                continue
            assert_same(g.randperm(n, dtype), theirs)
            assert_state(g, tg)


def test_mixed_sequence() -> None:
    g, tg = pair(123)
    steps = [
        (lambda: g.uniform((5,), np.float32), lambda: torch.rand(5, generator=tg)),
        (lambda: g.normal((5,), np.float32), lambda: torch.randn(5, generator=tg)),
        (lambda: g.randint(0, 10, (7,), np.int64),
         lambda: torch.randint(0, 10, (7,), generator=tg)),
        (lambda: g.normal((100,), np.float32), lambda: torch.randn(100, generator=tg)),
        (lambda: g.normal((3,), np.float64),
         lambda: torch.randn(3, dtype=torch.float64, generator=tg)),
        (lambda: g.randperm(50, np.int64), lambda: torch.randperm(50, generator=tg)),
        (lambda: g.uniform((2, 3), np.float64, -1, 1),
         lambda: torch.empty(2, 3, dtype=torch.float64).uniform_(-1, 1, generator=tg)),
        (lambda: g.normal((1,), np.float32), lambda: torch.randn(1, generator=tg)),
        (lambda: g.randint(-(2**40), 2**40, (9,), np.int64),
         lambda: torch.randint(-(2**40), 2**40, (9,), generator=tg)),
        (lambda: g.normal((33,), BF16),
         lambda: torch.randn(33, dtype=torch.bfloat16, generator=tg)),
        (lambda: g.normal((5,), np.complex64),
         lambda: torch.randn(5, dtype=torch.complex64, generator=tg)),
    ]
    for _ in range(40):  # crosses many mt19937 twists
        for ours, theirs in steps:
            assert_same(ours(), theirs())
            assert_state(g, tg)


# -- the non-vectorised ("default") torch kernels --------------------------------------------

_DEFAULT_KERNEL_SCRIPT = textwrap.dedent("""
    import json, sys, torch
    assert torch.backends.cpu.get_cpu_capability() == "DEFAULT"
    g = torch.Generator().manual_seed(77)
    out = [torch.randn(1000, generator=g).tolist(),
           torch.empty(999).normal_(0.3, 2.7, generator=g).tolist(),
           torch.randn(37, dtype=torch.float16, generator=g).float().tolist(),
           torch.randn(9, dtype=torch.float64, generator=g).tolist(),
           torch.empty(9, dtype=torch.float64).normal_(1.5, 3.3, generator=g).tolist(),
           torch.empty(500).uniform_(-3.7, 11.3, generator=g).tolist(),
           torch.empty(500, dtype=torch.float64).uniform_(-3.7, 11.3, generator=g).tolist(),
           g.get_state().tolist()]
    json.dump(out, sys.stdout)
""")


def test_default_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Torch without AVX2 kernels: no FMA contraction, glibc logf/sinf/cosf Box-Muller."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    proc = subprocess.run([sys.executable, "-c", _DEFAULT_KERNEL_SCRIPT], env=env, cwd=REPO,
                          capture_output=True, text=True, check=True)
    theirs = json.loads(proc.stdout)
    monkeypatch.setattr(_random, "_SIMD", False)
    g = CPUGenerator(77)
    ours = [g.normal((1000,), np.float32), g.normal((999,), np.float32, 0.3, 2.7),
            g.normal((37,), np.float16).astype(np.float32), g.normal((9,), np.float64),
            g.normal((9,), np.float64, 1.5, 3.3), g.uniform((500,), np.float32, -3.7, 11.3),
            g.uniform((500,), np.float64, -3.7, 11.3), g.get_state()]
    for mine, ref in zip(ours, theirs):
        assert_same(mine, np.array(ref, dtype=mine.dtype))


# -- the exact-arithmetic and libm emulation helpers -----------------------------------------

def _round_f32(x: Fraction) -> np.float32:
    """Correct float32 rounding of an exact rational, ties to even."""
    f = np.float32(float(x))
    cands = [f, np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf))]
    return min(cands, key=lambda c: (abs(Fraction(float(c)) - x), int(c.view(np.uint32)) & 1))


def test_fma_helpers_are_correctly_rounded() -> None:
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(3000) * 2.0 ** rng.integers(-20, 20, 3000)).astype(np.float32)
    b = (rng.standard_normal(3000) * 2.0 ** rng.integers(-20, 20, 3000)).astype(np.float32)
    c = -(a.astype(np.float64) * b).astype(np.float32)  # heavy cancellation
    c[::3] = rng.standard_normal(1000).astype(np.float32)
    # exact float32 ties: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24, and a c that leaves a tie + tiny
    a[:2] = b[:2] = np.float32(1 + 2**-12)
    c[:2] = [np.float32(0), np.float32(2**-60)]
    got = _random._fma32(a, b, c)
    want = [_round_f32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
            for x, y, z in zip(a, b, c)]
    assert_same(got, np.array(want, np.float32))
    a64 = rng.random(3000)
    for b64, c64 in [(3.7, -1.2), (1e300, -7.0), (-2.5e-310, 1e-300), (0.1, 0.3)]:
        want64 = [float(Fraction(x) * Fraction(b64) + Fraction(c64)) for x in a64.tolist()]
        assert_same(_random._fma64(a64, b64, c64), np.array(want64))


@pytest.mark.skipif(ctypes.util.find_library("m") is None or sys.platform != "linux",
                    reason="needs glibc's libm")
def test_glibc_float_emulation() -> None:
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    for name in ("logf", "sinf", "cosf"):
        getattr(libm, name).restype = ctypes.c_float
        getattr(libm, name).argtypes = [ctypes.c_float]
    k = np.random.default_rng(1).integers(0, 2**24, 20000)
    u = np.concatenate([k, np.arange(64), 2**24 - 1 - np.arange(64)]) * 2.0**-24
    u1 = (1 - u).astype(np.float32)
    theta = ((2 * math.pi) * u).astype(np.float32)
    sin, cos = _random._glibc_sincosf(theta)
    for ours, func, args in [(_random._glibc_logf(u1), libm.logf, u1),
                             (sin, libm.sinf, theta), (cos, libm.cosf, theta)]:
        assert_same(ours, np.array([func(float(v)) for v in args], np.float32))


def test_glibc_double_emulation() -> None:
    x = np.random.default_rng(2).random(20000)
    for name, arg in [("log", 1 - x), ("sin", 2 * math.pi * x), ("cos", 2 * math.pi * x)]:
        want = np.array([getattr(math, name)(v) for v in arg.tolist()])
        assert_same(_random._glibc_f64(name, arg), want)
