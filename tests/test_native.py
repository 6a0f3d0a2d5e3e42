"""The C kernels of NOTE [ Native CPU kernels ]: built and cached on first use, checked against
NumPy in float64, and never required (without a compiler every caller takes its NumPy path)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.backends import cpu, native

HAVE_NATIVE = native.library("reduce") is not None


def _run(code: str, **env) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


SHAPES = [((1 << 16,), (0,)), ((3, 70001), (1,)), ((70001, 3), (0,)), ((257, 515), (0, 1)),
          ((2, 3, 40000), (1, 2)), ((40000, 3, 2), (0, 1)), ((5, 16411), (0,)),
          ((1, 1 << 17), (0,)), ((1 << 17, 1), (1,))]


@pytest.mark.skipif(not HAVE_NATIVE, reason=f"no native kernels: {native.unavailable('reduce')}")
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", SHAPES)
def test_sums_match_float64(shape, axis, dtype, threads, monkeypatch):
    # one thread: the C kernels; several (for sizes this large): BLAS
    monkeypatch.setattr(cpu, "_THREADED_MIN", 1 << 12)
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        x = np.random.default_rng(0).standard_normal(shape).astype(dtype) + 0.5
        for keepdims in (False, True):
            got = cpu.fast_sum(x, axis, keepdims)
            if got is None:  # BLAS declines a full sum it cannot split into a square matrix
                assert threads > 1 and x.size % 512
                continue
            want = x.astype(np.float64).sum(axis, keepdims=keepdims)
            assert got.dtype == dtype and got.shape == want.shape
            tol = (1e-6 if threads == 1 else 1e-5) if dtype == np.float32 else 1e-13
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(x.size))
    finally:
        ember.set_num_threads(old)


@pytest.mark.skipif(not HAVE_NATIVE, reason=f"no native kernels: {native.unavailable('reduce')}")
def test_sums_propagate_nan_and_inf():
    x = np.ones((300, 400), np.float32)
    x[7, 9], x[100, 3] = np.nan, np.inf
    assert np.isnan(cpu.fast_sum(x, (0, 1), False))
    rows, cols = cpu.fast_sum(x, (1,), False), cpu.fast_sum(x, (0,), False)
    assert np.isnan(rows[7]) and np.isinf(rows[100]) and rows[0] == 400
    assert np.isnan(cols[9]) and np.isinf(cols[3]) and cols[0] == 300
    y = np.full((1 << 17,), np.inf, np.float64)
    y[5] = -np.inf
    assert np.isnan(cpu.fast_sum(y, (0,), False))


def test_tensor_sums_agree_with_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((512, 300), dtype=np.float32)
    e, t = ember.from_numpy(x), torch.from_numpy(x)
    for args in ((), (0,), (1,), ((0, 1),)):
        np.testing.assert_allclose(e.sum(*args).numpy(), t.sum(*args).numpy(), rtol=2e-6)
        np.testing.assert_allclose(e.mean(*args).numpy(), t.mean(*args).numpy(), rtol=2e-6)


def test_library_is_cached(tmp_path):
    code = ("from ember.backends import native; import sys; "
            "sys.stdout.write(str(native.library('reduce') is not None))")
    first = _run(code, EMBER_CACHE_DIR=str(tmp_path))
    if first == "True":
        built = list(tmp_path.glob("reduce-*.so"))
        assert len(built) == 1
        stamp = built[0].stat().st_mtime_ns
        assert _run(code, EMBER_CACHE_DIR=str(tmp_path)) == "True"
        assert built[0].stat().st_mtime_ns == stamp  # loaded, not rebuilt
        assert list(tmp_path.iterdir()) == built  # no temporary left behind


@pytest.mark.parametrize("env", [{"EMBER_NATIVE": "0"}, {"CC": "no-such-compiler-here"}])
def test_without_native_kernels_sums_still_work(env, tmp_path):
    code = ("import ember, numpy as np; from ember.backends import native; "
            "x = ember.arange(300000, dtype=ember.float64).reshape(600, 500); "
            "print(native.library('reduce'), native.unavailable('reduce') is not None, "
            "x.sum().item(), x.sum(0)[1].item(), x.sum(1)[2].item())")
    out = _run(code, EMBER_CACHE_DIR=str(tmp_path), **env).split()
    n = 300000
    assert out[:2] == ["None", "True"]
    assert float(out[2]) == n * (n - 1) / 2
    assert float(out[3]) == sum(r * 500 + 1 for r in range(600))
    assert float(out[4]) == sum(2 * 500 + c for c in range(500))


@pytest.mark.skipif(native.library("norm") is None,
                    reason=f"no native kernels: {native.unavailable('norm')}")
@pytest.mark.parametrize("n", [1, 7, 100, 3000])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_kernel_matches_numpy_path(n, affine, dtype, monkeypatch):
    from ember._ops import normalization as N

    rng = np.random.default_rng(2)
    x = (rng.standard_normal((37, n)) * 3 + 5).astype(dtype)
    x[3, 0] = np.nan
    g = rng.standard_normal((37, n)).astype(dtype)
    w = rng.standard_normal(n).astype(dtype) if affine in ("both", "weight") else None
    b = rng.standard_normal(n).astype(dtype) if affine in ("both", "bias") else None
    mask = (True, w is not None, b is not None)

    def run():
        y, mean, rstd = N._layer_norm(np, x, w, b, (n,), 1e-5)
        return (y, mean, rstd) + N._layer_norm_backward(np, g, x, mean, rstd, w, (n,), mask)

    got = run()
    monkeypatch.setattr(cpu, "layer_norm_rows", lambda *a: None)
    monkeypatch.setattr(cpu, "layer_norm_rows_backward", lambda *a: None)
    want = run()
    tol = 2e-4 if dtype == np.float32 else 1e-10
    for a, e in zip(got, want):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)  # NaN rows agree too
