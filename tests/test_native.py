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


def _both_paths_match(run, want, kernels, dtype, monkeypatch):
    """``run()`` with the C kernels, then with the ``cpu`` wrappers ``kernels`` switched off
    (the NumPy path), each against PyTorch's ``want`` (None: not computed); NaNs must agree."""
    got = [run()]
    for name in kernels:
        monkeypatch.setattr(cpu, name, lambda *a: None)
    got.append(run())
    tol = 2e-4 if dtype == np.float32 else 1e-10
    for path in got:
        for a, e in zip(path, want):
            if e is None:
                continue
            e = e.numpy()
            assert a.dtype == e.dtype and a.size == e.size
            np.testing.assert_allclose(a, e.reshape(a.shape), rtol=tol, atol=tol)


@pytest.mark.skipif(native.library("norm") is None,
                    reason=f"no native kernels: {native.unavailable('norm')}")
@pytest.mark.parametrize("n", [1, 7, 100, 3000])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_kernel_and_numpy_path_match_torch(n, affine, dtype, monkeypatch):
    torch = pytest.importorskip("torch")
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

    t = [None if a is None else torch.from_numpy(a) for a in (x, w, b, g)]
    y, mean, rstd = torch.native_layer_norm(t[0], [n], t[1], t[2], 1e-5)
    grads = torch.ops.aten.native_layer_norm_backward(t[3], t[0], [n], mean, rstd, t[1], t[2],
                                                      list(mask))
    want = [y, mean, rstd] + [a if m else None for a, m in zip(grads, mask)]
    _both_paths_match(run, want, ("layer_norm_rows", "layer_norm_rows_backward"), dtype,
                      monkeypatch)


HAVE_CONV = cpu.direct_conv2d_fits(np.dtype(np.float32), 16)

# (N, C, H, W), (O, KH, KW), (lo_h, lo_w), (HO, WO): odd channel counts, widths that are not
# whole vectors, cropping (negative lo), kernels of several shapes
CONV_CASES = [((2, 3, 16, 16), (8, 3, 3), (1, 1), (16, 16)),
              ((3, 5, 14, 29), (11, 3, 3), (1, 1), (14, 29)),
              ((1, 4, 20, 40), (7, 5, 5), (2, 2), (20, 40)),
              ((2, 2, 17, 13), (9, 2, 3), (0, 1), (16, 13)),
              ((2, 6, 12, 30), (16, 3, 3), (-1, -1), (8, 26)),
              ((1, 3, 9, 33), (3, 1, 3), (0, 0), (9, 31)),
              ((2, 16, 16, 16), (32, 3, 3), (1, 1), (16, 16))]


def _conv_reference(x, w, lo, out):
    torch = pytest.importorskip("torch")
    ho, wo = out
    kh, kw = w.shape[2:]
    pads = (lo[1], wo + kw - 1 - x.shape[3] - lo[1], lo[0], ho + kh - 1 - x.shape[2] - lo[0])
    xt = torch.nn.functional.pad(torch.from_numpy(x).double(), pads)
    return torch.nn.functional.conv2d(xt, torch.from_numpy(w).double()).numpy()


@pytest.fixture(params=[1, 3], ids=["1thread", "3threads"])
def conv_threads(request, monkeypatch):
    """One thread, or the images split over three (NOTE [ Worker threads ])."""
    monkeypatch.setattr(cpu, "_CONV_SPLIT_MIN", 1)
    old = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(old)


@pytest.mark.skipif(not HAVE_CONV, reason=f"no native kernels: {native.unavailable('conv')}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,lo,out", CONV_CASES)
def test_direct_conv2d_matches_torch(xs, ws, lo, out, dtype, conv_threads):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal((ws[0], xs[1]) + ws[1:]).astype(dtype)
    y = cpu.direct_conv2d(x, w, lo, out)
    assert y.dtype == dtype and y.shape == (xs[0], ws[0]) + out and y.flags.c_contiguous
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(y, _conv_reference(x, w, lo, out), rtol=tol, atol=tol)


@pytest.mark.skipif(not HAVE_CONV, reason=f"no native kernels: {native.unavailable('conv')}")
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_conv2d_layers_on_the_direct_path_match_torch(padding_mode):
    """Conv2d forward and backward (the input gradient is a stride-1 transposed convolution,
    on the direct path too) and ConvTranspose2d with unit stride, against PyTorch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 18, 24)).astype(np.float32)
    g = rng.standard_normal((3, 10, 18, 24)).astype(np.float32)
    for lib in (torch, ember):
        lib.manual_seed(0)
    t = torch.nn.Conv2d(6, 10, 3, padding=1, padding_mode=padding_mode)
    e = ember.nn.Conv2d(6, 10, 3, padding=1, padding_mode=padding_mode)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    outs = []
    for lib, m in ((torch, t), (ember, e)):
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt)
        y.backward(lib.tensor(g))
        outs.append([y.detach().numpy(), xt.grad.numpy(), m.weight.grad.numpy(),
                     m.bias.grad.numpy()])
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)
    tt, et = torch.nn.ConvTranspose2d(6, 4, 3, padding=1), ember.nn.ConvTranspose2d(6, 4, 3,
                                                                                   padding=1)
    et.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tt.state_dict().items()})
    np.testing.assert_allclose(et(ember.tensor(x)).detach().numpy(),
                               tt(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-4)


def test_direct_convolution_is_used_where_it_fits():
    assert cpu.direct_conv2d_fits(np.dtype(np.float32), 32) == HAVE_CONV
    assert not cpu.direct_conv2d_fits(np.dtype(np.float32), 7)  # half the lanes idle
    assert not cpu.direct_conv2d_fits(np.dtype(np.int64), 32)


@pytest.mark.skipif(not HAVE_CONV, reason=f"no native kernels: {native.unavailable('conv')}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,lo,out", CONV_CASES)
def test_direct_conv2d_weight_matches_torch(xs, ws, lo, out, dtype, conv_threads):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal(xs).astype(dtype)
    g = rng.standard_normal((xs[0], ws[0]) + out).astype(dtype)
    dw = cpu.direct_conv2d_weight(x, g, lo, ws[1:])
    assert dw.dtype == dtype and dw.shape == (ws[0], xs[1]) + ws[1:]
    # the reference: the gradient of the convolution of the padded/cropped input
    kh, kw = ws[1:]
    pads = (lo[1], out[1] + kw - 1 - xs[3] - lo[1], lo[0], out[0] + kh - 1 - xs[2] - lo[0])
    xt = torch.nn.functional.pad(torch.from_numpy(x).double(), pads)
    w = torch.zeros((ws[0], xs[1]) + ws[1:], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.conv2d(xt, w).backward(torch.from_numpy(g).double())
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(dw, w.grad.numpy(), rtol=tol, atol=tol * np.sqrt(x.size))


@pytest.mark.skipif(not HAVE_CONV, reason=f"no native kernels: {native.unavailable('conv')}")
@pytest.mark.parametrize("k,stride,pad,outpad", [(4, 2, 1, 0), (3, 2, 1, 1), (5, 3, 2, 2),
                                                 (2, 2, 0, 0)])
def test_strided_transposed_convolution_phases_match_torch(k, stride, pad, outpad):
    """Each output phase of a strided transposed convolution whose taps are adjacent runs on
    the direct kernel (NOTE [ Strided transposed convolution ])."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 6, 14, 20)).astype(np.float32)
    w = rng.standard_normal((6, 5, k, k)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    kw = {"stride": stride, "padding": pad, "output_padding": outpad}
    outs = []
    for lib in (torch, ember):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv_transpose2d(xt, wt, lib.tensor(b), **kw)
        y.square().sum().backward()
        outs.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for e, t in zip(outs[1], outs[0]):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-3)


@pytest.mark.skipif(not HAVE_CONV, reason=f"no native kernels: {native.unavailable('conv')}")
@pytest.mark.parametrize("k,stride,pad", [(3, 2, 1), (4, 2, 1), (7, 2, 3), (3, (2, 1), 1),
                                          (5, 3, 2), (2, 2, 0)])
def test_strided_convolution_by_phases_matches_torch(k, stride, pad, conv_threads,
                                                    monkeypatch):
    """A strided convolution's forward runs on the direct kernel as a stride-1 one over the
    input's phases stacked as channels (``cpu._stacked_input``)."""
    torch = pytest.importorskip("torch")
    calls = []
    stacked = cpu._stacked_input
    monkeypatch.setattr(cpu, "_stacked_input", lambda *a: calls.append(1) or stacked(*a))
    rng = np.random.default_rng(7)
    width = 32 * (stride if isinstance(stride, int) else stride[1])  # 32 outputs: one vector
    x = rng.standard_normal((2, 5, 30, width)).astype(np.float32)
    w = rng.standard_normal((9, 5, k, k)).astype(np.float32)
    outs = []
    for lib in (torch, ember):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, stride=stride, padding=pad)
        y.square().sum().backward()
        outs.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for e, t in zip(outs[1], outs[0]):
        assert e.shape == t.shape
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=2e-3)
    assert len(calls) == 1  # the forward


@pytest.mark.skipif(native.library("norm") is None,
                    reason=f"no native kernels: {native.unavailable('norm')}")
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(8, 5, 13, 7), (3, 4), (2, 6, 3000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_kernels_and_numpy_path_match_torch(shape, affine, training, dtype,
                                                       monkeypatch):
    torch = pytest.importorskip("torch")
    from ember._ops import normalization as N

    rng = np.random.default_rng(8)
    x = (rng.standard_normal(shape) * 2 + 3).astype(dtype)
    x.flat[5] = np.nan
    g = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    w = rng.standard_normal(c).astype(dtype) if affine else None
    b = rng.standard_normal(c).astype(dtype) if affine else None
    mask = (True, affine, affine)

    def run():
        rm, rv = np.zeros(c, dtype), np.ones(c, dtype)
        y, mean, rstd = N._batch_norm(np, x, w, b, rm, rv, training, 0.1, 1e-5)
        if not training:
            mean, rstd = rm, 1 / np.sqrt(rv + 1e-5)
        return (y, rm, rv) + N._batch_norm_backward(np, g, x, w, mean, rstd, training, mask)

    tx, tg = torch.from_numpy(x), torch.from_numpy(g)
    tw, tb = (torch.from_numpy(w), torch.from_numpy(b)) if affine else (None, None)
    rm, rv = torch.zeros(c, dtype=tx.dtype), torch.ones(c, dtype=tx.dtype)
    y, mean, invstd = torch.native_batch_norm(tx, tw, tb, rm, rv, training, 0.1, 1e-5)
    grads = torch.ops.aten.native_batch_norm_backward(tg, tx, tw, rm, rv, mean, invstd,
                                                      training, 1e-5, list(mask))
    want = [y, rm, rv] + [a if m else None for a, m in zip(grads, mask)]
    _both_paths_match(run, want, ("batch_norm_stats", "batch_norm_apply",
                                  "batch_norm_backward"), dtype, monkeypatch)
