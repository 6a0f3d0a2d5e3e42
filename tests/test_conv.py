"""Convolution and pooling behaviour beyond the op table: graph node names, layouts,
higher-order gradients, random fractional pooling, unpooling round trips and top-level names,
all against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember._api.conv as EF


def _pair(a, grad=False):
    t, e = torch.tensor(a), ember.tensor(a)
    if grad:
        t.requires_grad_(True)
        e.requires_grad_(True)
    return t, e


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _close(e, t, tol=1e-10):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,call", [
    ("conv2d", lambda F, x, w: F.conv2d(x, w, padding=1)),
    ("conv_transpose2d", lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2)),
    ("max_pool2d", lambda F, x, w: F.max_pool2d(x, 2)),
    ("adaptive_max_pool2d", lambda F, x, w: F.adaptive_max_pool2d(x, 2)),
    ("unfold", lambda F, x, w: F.unfold(x, 2)),
    ("reflect pad", lambda F, x, w: F.pad(x, (1, 1, 1, 1), mode="reflect")),
    ("constant pad", lambda F, x, w: F.pad(x, (1, 2))),
])
def test_grad_fn_names(name, call):
    """Graph nodes carry PyTorch's names."""
    (tx, ex), (tw, ew) = _pair(_rand(2, 3, 4, 4), True), _pair(_rand(3, 3, 3, 3, seed=1), True)
    assert call(EF, ex, ew).grad_fn.name() == call(TF, tx, tw).grad_fn.name()


def test_conv_strides_and_contiguity():
    """Convolution outputs have PyTorch's strides: channels-last for a channels-last input,
    contiguous otherwise; pooling outputs have its values."""
    (tx, ex), (tw, ew) = _pair(_rand(2, 5, 6, 3)), _pair(_rand(4, 3, 3, 2, seed=1))
    tx, ex = tx.permute(0, 3, 1, 2), ex.permute(0, 3, 1, 2)
    convs = (lambda F, x, w: F.conv2d(x, w, stride=2),
             lambda F, x, w: F.conv2d(x, w, groups=1, padding=1),
             lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2),
             lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=1))
    for x_t, x_e in ((tx, ex), (tx.contiguous(), ex.contiguous())):
        for f in convs:
            t, e = f(TF, x_t, tw), f(EF, x_e, ew)
            assert e.stride() == t.stride()
            _close(e, t)
    for f in (lambda F, x: F.max_pool2d(x, 2), lambda F, x: F.avg_pool2d(x, 2)):
        _close(f(EF, ex), f(TF, tx))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_unbatched_equals_batched(d):
    x, w = _rand(3, *(5,) * d), _rand(2, 3, *(2,) * d, seed=1)
    ex, ew = ember.tensor(x), ember.tensor(w)
    conv = getattr(EF, f"conv{d}d")
    _close(conv(ex, ew, stride=2), conv(ex.unsqueeze(0), ew, stride=2).squeeze(0), 0)
    pool = getattr(EF, f"max_pool{d}d")
    y, i = pool(ex, 2, return_indices=True)
    yb, ib = pool(ex.unsqueeze(0), 2, return_indices=True)
    assert (i == ib.squeeze(0)).all() and (y == yb.squeeze(0)).all()


def test_conv_third_order_gradient():
    """Gradients of gradients of gradients match PyTorch (the three adjoint ops close)."""
    def run(F, m, x, w):
        y = F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2), groups=2)
        gx, gw = m.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        hx, = m.autograd.grad((gx * gx).sum() + (gw ** 3).sum(), (w,), create_graph=True)
        return m.autograd.grad(hx.sum(), (x, w))
    (tx, ex), (tw, ew) = _pair(_rand(2, 4, 5, 6), True), _pair(_rand(4, 2, 2, 3, seed=1), True)
    for e, t in zip(run(EF, ember, ex, ew), run(TF, torch, tx, tw)):
        _close(e, t, 1e-8)


def test_conv_transpose_double_backward():
    def run(F, m, x, w):
        y = F.conv_transpose2d(x, w, stride=(2, 3), padding=1, output_padding=(1, 0),
                               dilation=2)
        gx, gw = m.autograd.grad((y ** 2).sum(), (x, w), create_graph=True)
        return m.autograd.grad((gx ** 2).sum() + (gw ** 2).sum(), (x, w))
    (tx, ex), (tw, ew) = _pair(_rand(2, 3, 3, 4), True), _pair(_rand(3, 2, 3, 2, seed=1), True)
    for e, t in zip(run(EF, ember, ex, ew), run(TF, torch, tx, tw)):
        _close(e, t, 1e-8)


def test_large_float32_conv():
    """A realistic float32 convolution and its gradients agree with PyTorch's."""
    (tx, ex) = _pair(_rand(4, 16, 12, 12).astype(np.float32), True)
    (tw, ew) = _pair((_rand(32, 16, 3, 3, seed=1) * 0.1).astype(np.float32), True)
    (tb, eb) = _pair(_rand(32, seed=2).astype(np.float32), True)
    t, e = TF.conv2d(tx, tw, tb, padding=1), EF.conv2d(ex, ew, eb, padding=1)
    _close(e, t, 1e-4)
    t.square().sum().backward()
    e.square().sum().backward()
    for a, b in ((ex, tx), (ew, tw), (eb, tb)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_same_padding_even_kernel_and_module_style_padding():
    """'same' with an even kernel pads more on the right; reflect padding is F.pad first."""
    (tx, ex), (tw, ew) = _pair(_rand(1, 2, 7, 6), True), _pair(_rand(3, 2, 4, 2, seed=1), True)
    _close(EF.conv2d(ex, ew, padding="same", dilation=(1, 3)),
           TF.conv2d(tx, tw, padding="same", dilation=(1, 3)))
    for mode in ("reflect", "replicate", "circular"):
        e = EF.conv2d(EF.pad(ex, (1, 1, 2, 2), mode=mode), ew)
        t = TF.conv2d(TF.pad(tx, (1, 1, 2, 2), mode=mode), tw)
        _close(e, t)
        e.sum().backward()
        t.sum().backward()
        _close(ex.grad, tx.grad)
        ex.grad, tx.grad = None, None


def test_fractional_max_pool_draws_from_the_generator():
    """Without _random_samples the window starts come from the global generator, as in
    PyTorch: the same seed gives the same output and indices."""
    x = _rand(2, 3, 9, 9)
    torch.manual_seed(5)
    ty, ti = TF.fractional_max_pool2d(torch.tensor(x), 2, output_size=4, return_indices=True)
    ember.manual_seed(5)
    ey, ei = EF.fractional_max_pool2d(ember.tensor(x), 2, output_size=4, return_indices=True)
    _close(ey, ty, 0)
    assert (ei.numpy() == ti.numpy()).all()


def test_max_unpool_inverts_max_pool_and_pool_indices_are_flat():
    (tx, ex) = _pair(_rand(2, 3, 6, 7))
    ty, ti = TF.max_pool2d(tx, 3, stride=2, padding=1, return_indices=True, ceil_mode=True)
    ey, ei = EF.max_pool2d(ex, 3, stride=2, padding=1, return_indices=True, ceil_mode=True)
    assert (ei.numpy() == ti.numpy()).all()
    _close(EF.max_unpool2d(ey, ei, 3, 2, 1, output_size=(6, 7)),
           TF.max_unpool2d(ty, ti, 3, 2, 1, output_size=(6, 7)))


def test_max_pool_gradient_with_overlapping_windows_accumulates():
    (tx, ex) = _pair(np.array([[[1.0, 5.0, 2.0, 0.0, 3.0]]]), True)
    TF.max_pool1d(tx, 3, stride=1).sum().backward()
    EF.max_pool1d(ex, 3, stride=1).sum().backward()
    _close(ex.grad, tx.grad, 0)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1}])
def test_max_pool_gradient_keeps_non_finite_output_gradients_at_the_winners(kw):
    """Inf and NaN in the incoming gradient reach only each window's winner."""
    x = _rand(1, 2, 6, 6)
    g = np.ones((1, 2) + TF.max_pool2d(torch.tensor(x), **kw).shape[2:])
    g[0, 0, 0, 0], g[0, 1, 1, 1] = np.inf, np.nan
    (tx, ex) = _pair(x, True)
    TF.max_pool2d(tx, **kw).backward(torch.tensor(g))
    EF.max_pool2d(ex, **kw).backward(ember.tensor(g))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


def test_nan_propagates_through_max_pool():
    x = _rand(1, 1, 4, 4)
    x[0, 0, 1, 1] = x[0, 0, 2, 3] = np.nan
    ty, ti = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    ey, ei = EF.max_pool2d(ember.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())
    assert (ei.numpy() == ti.numpy()).all()


def test_top_level_names():
    """Functions PyTorch has at top level are ember's too, with its return conventions."""
    x = _rand(2, 3, 8)
    ty, ti = torch.adaptive_max_pool1d(torch.tensor(x), 3)
    ey, ei = ember.adaptive_max_pool1d(ember.tensor(x), 3)
    _close(ey, ty, 0)
    assert (ei.numpy() == ti.numpy()).all()
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "convolution", "avg_pool1d", "adaptive_avg_pool1d",
                 "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
                 "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "constant_pad_nd"):
        assert hasattr(ember, name) and hasattr(torch, name), name
        assert not hasattr(ember.Tensor, name), name
    for name in EF.FUNCTIONAL:
        assert callable(getattr(EF, name)) and hasattr(TF, name), name


def test_empty_batch_gradients():
    (tx, ex), (tw, ew) = _pair(_rand(0, 2, 5, 5), True), _pair(_rand(3, 2, 3, 3), True)
    TF.conv2d(tx, tw).sum().backward()
    EF.conv2d(ex, ew).sum().backward()
    assert ex.grad.shape == tx.grad.shape
    _close(ew.grad, tw.grad, 0)


def test_avg_pool_integer_division_truncates():
    x = np.array([[[[-3, 4, 1], [2, -7, 5], [1, 1, 1]]]], np.int64)
    for kw in ({"kernel_size": 2, "stride": 1}, {"kernel_size": 2, "ceil_mode": True},
               {"kernel_size": 3, "padding": 1, "count_include_pad": False}):
        np.testing.assert_array_equal(EF.avg_pool2d(ember.tensor(x), **kw).numpy(),
                                      TF.avg_pool2d(torch.tensor(x), **kw).numpy())


def test_bench_conv_runs(tmp_path, monkeypatch):
    """The benchmark script stays runnable (a smoke run of the cheapest cases)."""
    import json
    import runpy
    import sys
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["bench_conv.py", "--quick", "--filter", "avg_pool2d",
                                      "--json", str(out)])
    try:
        runpy.run_path("bench/bench_conv.py", run_name="__main__")
    except SystemExit as e:
        assert e.code == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["case"] for r in rows] == ["avg_pool2d 2x2", "avg_pool2d 2x2 fwd+bwd"]
    assert all(r["ratio"] > 0 for r in rows)


@pytest.mark.parametrize("groups,layout", [(1, "contiguous"), (2, "contiguous"),
                                           (1, "channels_last")])
def test_batch_chunked_im2col(monkeypatch, groups, layout):
    """NOTE [ Batch-chunked im2col ]: a batch split into several chunks (one image each)
    gives PyTorch's output and gradients."""
    from ember._ops import conv as C
    monkeypatch.setattr(C, "_CHUNK_BYTES", 1)
    (tx, ex), (tw, ew) = _pair(_rand(5, 4, 6, 7), grad=True), _pair(
        _rand(6, 4 // groups, 3, 2, seed=1), grad=True)
    xs = {"torch": tx, "ember": ex}
    if layout == "channels_last":
        xs = {"torch": tx.contiguous(memory_format=torch.channels_last),
              "ember": ex.contiguous(memory_format=ember.channels_last)}
    ey = EF.conv2d(xs["ember"], ew, stride=(2, 1), padding=1, groups=groups)
    ty = TF.conv2d(xs["torch"], tw, stride=(2, 1), padding=1, groups=groups)
    assert ey.is_contiguous() == ty.is_contiguous()
    _close(ey, ty)
    g = _rand(*ty.shape, seed=2)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    _close(ex.grad, tx.grad)
    _close(ew.grad, tw.grad)


_LAYOUT_CASES = [  # (input, weight, conv kwargs)
    ((2, 3, 9, 8), (5, 3, 3, 3), {"padding": 1}),
    ((2, 16, 7, 7), (4, 16, 3, 3), {"stride": 2, "padding": (1, 2)}),
    ((2, 4, 9, 10), (6, 2, 3, 2), {"dilation": (2, 1), "groups": 2, "padding": "same"}),
    ((2, 4, 6, 6), (8, 1, 3, 3), {"groups": 4, "stride": 2}),
    ((2, 5, 4, 4), (3, 5, 1, 1), {}),
    ((2, 5, 5, 4), (3, 5, 1, 1), {"stride": 2, "padding": 1}),
    ((2, 3, 11), (4, 3, 5), {"stride": 2, "dilation": 2, "padding": 3}),
    ((2, 2, 4, 5, 4), (3, 2, 2, 3, 2), {"padding": "same"}),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("nchw", [True, False])
@pytest.mark.parametrize("xs,ws,kw", _LAYOUT_CASES)
def test_im2col_layouts(monkeypatch, nchw, xs, ws, kw):
    """NOTE [ im2col layout ]: both layouts give PyTorch's convolution, its gradients and the
    unit-stride transposed convolution (a convolution with the flipped kernel)."""
    from ember._ops import conv as C
    monkeypatch.setattr(C, "_nchw_layout", lambda *a: nchw)
    d = len(xs) - 2
    (tx, ex), (tw, ew) = _pair(_rand(*xs), True), _pair(_rand(*ws, seed=1), True)
    (tb, eb) = _pair(_rand(ws[0], seed=2), True)
    conv = f"conv{d}d"
    ey, ty = getattr(EF, conv)(ex, ew, eb, **kw), getattr(TF, conv)(tx, tw, tb, **kw)
    _close(ey, ty)
    g = _rand(*ty.shape, seed=3)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        _close(e.grad, t.grad)
    if kw.get("groups", 1) == 1 and "stride" not in kw and kw.get("padding") != "same":
        # unit stride, padding past the kernel's reach, an output padding below the dilation
        tkw = {"padding": ws[-1], "output_padding": 1, "dilation": 2}
        ew_t, tw_t = ew.detach().transpose(0, 1), tw.detach().transpose(0, 1)
        _close(getattr(EF, f"conv_transpose{d}d")(ex, ew_t, **tkw),
               getattr(TF, f"conv_transpose{d}d")(tx, tw_t, **tkw))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_im2col_layouts_half(monkeypatch, dtype):
    """Half inputs compute in float32 in both layouts and round once: the same result."""
    from ember._ops import conv as C
    x = ember.tensor(_rand(2, 3, 6, 6)).to(getattr(ember, dtype))
    w = ember.tensor(_rand(4, 3, 3, 3, seed=1)).to(getattr(ember, dtype))
    res = []
    for nchw in (True, False):
        monkeypatch.setattr(C, "_nchw_layout", lambda *a, v=nchw: v)
        y = EF.conv2d(x, w, padding=1)
        gw = C.CONVOLUTION_W(x, y, padding=(1, 1), kernel_size=(3, 3), stride=(1, 1),
                             dilation=(1, 1), groups=1)
        assert y.dtype == gw.dtype == x.dtype
        res.append((y.float().numpy(), gw.float().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-2)
