"""Resampling functions (``interpolate``, ``grid_sample``, ``affine_grid``) against PyTorch:
option sweeps, warnings, autograd node names and a spatial-transformer program. The per-op
table entries (values per dtype, gradcheck, gradgradcheck, errors) are in
``tests/ops/opinfo_resample.py``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember._api import resample as F


def _pair(a, requires_grad=False):
    return (torch.tensor(a, requires_grad=requires_grad),
            ember.tensor(a, requires_grad=requires_grad))


def _check(fn_t, fn_e, arrays, atol=1e-10):
    """Forward and (float64) gradients of ``fn`` equal PyTorch's."""
    ts, es = zip(*(_pair(a, True) for a in arrays))
    rt, re = fn_t(*ts), fn_e(*es)
    assert tuple(re.shape) == tuple(rt.shape) and str(re.dtype)[6:] == str(rt.dtype)[6:]
    np.testing.assert_allclose(re.detach().numpy(), rt.detach().numpy(), atol=atol, rtol=1e-7)
    go = np.random.default_rng(1).standard_normal(tuple(rt.shape))
    gt = torch.autograd.grad(rt, ts, torch.tensor(go), allow_unused=True)
    ge = ember.autograd.grad(re, es, ember.tensor(go), allow_unused=True)
    for a, b, x in zip(gt, ge, arrays):
        a = np.zeros(x.shape) if a is None else a.numpy()
        b = np.zeros(x.shape) if b is None else b.numpy()
        np.testing.assert_allclose(b, a, atol=1e-9, rtol=1e-7)


_MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1),
          ("nearest-exact", 2), ("nearest-exact", 3), ("linear", 1), ("bilinear", 2),
          ("trilinear", 3), ("bicubic", 2), ("area", 1), ("area", 2), ("area", 3)]


@pytest.mark.parametrize("mode,nd", _MODES, ids=[f"{m}-{n}d" for m, n in _MODES])
def test_interpolate_sweep(mode, nd):
    """Random sizes and scale factors, with and without recompute_scale_factor (PyTorch uses
    the given scale in the coordinate transform when it does not recompute)."""
    rng = np.random.default_rng(nd)
    for _ in range(12):
        x = rng.standard_normal((2, 2) + tuple(rng.integers(1, 6, nd)))
        kw = {}
        if rng.random() < 0.4:
            kw["size"] = tuple(int(v) for v in rng.integers(1, 8, nd))
        else:
            kw["scale_factor"] = tuple(float(np.round(v, 2)) for v in rng.uniform(0.3, 3, nd))
            if min(int(n * s) for n, s in zip(x.shape[2:], kw["scale_factor"])) < 1:
                continue
            if mode != "area":
                kw["recompute_scale_factor"] = bool(rng.random() < 0.5)
        if mode in ("linear", "bilinear", "trilinear", "bicubic"):
            kw["align_corners"] = bool(rng.random() < 0.5)
        _check(lambda t, kw=kw: TF.interpolate(t, mode=mode, **kw),
               lambda t, kw=kw: F.interpolate(t, mode=mode, **kw), [x])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_sweep(mode):
    rng = np.random.default_rng(3)
    for _ in range(16):
        x = rng.standard_normal((1, 2) + tuple(rng.integers(1, 12, 2)))
        kw = {"antialias": True, "align_corners": mode != "lanczos" and bool(rng.random() < 0.5)}
        if rng.random() < 0.5:
            kw["size"] = (int(rng.integers(1, 12)), int(rng.integers(2, 12)))
        else:
            kw["scale_factor"] = (float(np.round(rng.uniform(0.2, 2.5), 2)),
                                  float(np.round(rng.uniform(0.2, 2.5), 2)))
            kw["recompute_scale_factor"] = bool(rng.random() < 0.5)
            out = [int(n * s) for n, s in zip(x.shape[2:], kw["scale_factor"])]
            if min(out) < 1 or out[1] == 1:
                continue  # (width 1: see test_antialias_output_width_one)
        _check(lambda t, kw=kw: TF.interpolate(t, mode=mode, **kw),
               lambda t, kw=kw: F.interpolate(t, mode=mode, **kw), [x])


def test_antialias_output_width_one():
    """PyTorch's contiguous-format CPU kernel mishandles an antialiased resize to width 1 (its
    channels-last kernel does not); ember gives the channels-last (correct) values."""
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    t = torch.tensor(x).contiguous(memory_format=torch.channels_last)
    for mode in ("bilinear", "bicubic", "lanczos"):
        ref = TF.interpolate(t, size=(8, 1), mode=mode, antialias=True)
        ours = F.interpolate(ember.tensor(x), size=(8, 1), mode=mode, antialias=True)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-12)


@pytest.mark.parametrize("nd", [2, 3])
def test_grid_sample_sweep(nd):
    rng = np.random.default_rng(nd)
    for mode in ("bilinear", "nearest", "bicubic")[:3 if nd == 2 else 2]:
        for padding in ("zeros", "border", "reflection"):
            for ac in (False, True):
                x = rng.standard_normal((2, 2) + tuple(rng.integers(1, 5, nd)))
                g = rng.uniform(-1.5, 1.5, (2,) + tuple(rng.integers(1, 4, nd)) + (nd,))
                kw = {"mode": mode, "padding_mode": padding, "align_corners": ac}
                _check(lambda a, b, kw=kw: TF.grid_sample(a, b, **kw),
                       lambda a, b, kw=kw: F.grid_sample(a, b, **kw), [x, g])


@pytest.mark.parametrize("dtype,atol", [("float16", 0), ("bfloat16", 0), ("float32", 1e-6)])
def test_grid_sample_reduced_precision_is_pytorchs(dtype, atol):
    """PyTorch's 2-D kernel rounds every operation to the input's dtype; so does ember (to
    the bit for half types)."""
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((1, 2, 4, 5)), rng.uniform(-1.4, 1.4, (1, 3, 3, 2))
    for mode in ("bilinear", "nearest", "bicubic"):
        for padding in ("zeros", "border", "reflection"):
            tx, tg = (torch.tensor(a).to(getattr(torch, dtype)) for a in (x, g))
            ex, eg = (ember.tensor(a).to(getattr(ember, dtype)) for a in (x, g))
            ref = TF.grid_sample(tx, tg, mode=mode, padding_mode=padding, align_corners=False)
            ours = F.grid_sample(ex, eg, mode=mode, padding_mode=padding, align_corners=False)
            assert ours.dtype is getattr(ember, dtype)
            np.testing.assert_allclose(ours.float().numpy(), ref.float().numpy(), atol=atol)


def test_affine_grid_and_sampling_program():
    """A spatial transformer step: affine_grid -> grid_sample -> loss, gradient w.r.t. theta."""
    rng = np.random.default_rng(0)
    img = rng.standard_normal((2, 3, 6, 5))
    theta = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]],
                      [[1.2, 0.1, 0.0], [-0.1, 0.8, 0.2]]])

    def run(m, f):
        th = m.tensor(theta, requires_grad=True)
        x = m.tensor(img, requires_grad=True)
        grid = f.affine_grid(th, (2, 3, 4, 7), align_corners=False)
        out = f.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                            align_corners=False)
        loss = (out ** 2).mean()
        loss.backward()
        return out.detach().numpy(), th.grad.numpy(), x.grad.numpy()

    for a, b in zip(run(ember, F), run(torch, TF)):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=1e-9)


def test_affine_grid_3d():
    rng = np.random.default_rng(1)
    for ac in (False, True):
        _check(lambda t, ac=ac: TF.affine_grid(t, (2, 1, 3, 2, 4), align_corners=ac),
               lambda t, ac=ac: F.affine_grid(t, (2, 1, 3, 2, 4), align_corners=ac),
               [rng.standard_normal((2, 3, 4))])


def test_deprecated_forms_warn():
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 3))
    for name, kw in (("upsample", {"scale_factor": 2, "mode": "bilinear",
                                   "align_corners": False}),
                     ("upsample_nearest", {"size": 5}),
                     ("upsample_bilinear", {"scale_factor": 1.5})):
        with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
            ours = getattr(F, name)(ember.tensor(x), **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = getattr(TF, name)(torch.tensor(x), **kw)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-12)


def test_align_corners_default_warns():
    x, g = ember.ones(1, 1, 2, 2), ember.zeros(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 1, 2), align_corners=True)


def test_size_forms():
    """An int size, a list, NumPy and 0-d integer tensor entries and integer scale factors."""
    x = np.random.default_rng(0).standard_normal((1, 1, 3, 4))
    for kw in ({"size": 5}, {"size": [5, 2]}, {"size": (np.int64(2), 6)},
               {"scale_factor": 2}, {"scale_factor": [2, 3]}):
        ref = TF.interpolate(torch.tensor(x), mode="bilinear", **kw)
        ours = F.interpolate(ember.tensor(x), mode="bilinear", **kw)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-12)
    ref = TF.interpolate(torch.tensor(x), size=[torch.tensor(2), 3])
    ours = F.interpolate(ember.tensor(x), size=[ember.tensor(2), 3])
    np.testing.assert_allclose(ours.numpy(), ref.numpy())


def test_uint8_nearest():
    x = np.random.default_rng(0).integers(0, 256, (1, 3, 4, 5)).astype(np.uint8)
    for mode in ("nearest", "nearest-exact"):
        ref = TF.interpolate(torch.tensor(x), size=(7, 3), mode=mode)
        ours = F.interpolate(ember.tensor(x), size=(7, 3), mode=mode)
        assert ours.dtype is ember.uint8
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_autograd_node_names():
    def names(m, f):
        x = m.ones(1, 1, 3, 3, requires_grad=True)
        out = [f.interpolate(x, scale_factor=2, mode=mode, **kw).grad_fn.name()
               for mode, kw in (("nearest", {}), ("nearest-exact", {}), ("bilinear", {}),
                                ("bicubic", {}), ("area", {}),
                                ("bilinear", {"antialias": True}),
                                ("bicubic", {"antialias": True}),
                                ("lanczos", {"antialias": True}))]
        x1 = m.ones(1, 1, 3, requires_grad=True)
        x3 = m.ones(1, 1, 2, 2, 2, requires_grad=True)
        out += [f.interpolate(x1, size=4, mode="linear").grad_fn.name(),
                f.interpolate(x1, size=2, mode="area").grad_fn.name(),
                f.interpolate(x3, size=3, mode="trilinear").grad_fn.name(),
                f.interpolate(x3, size=3, mode="nearest").grad_fn.name()]
        grid = m.zeros(1, 2, 2, 2, requires_grad=True)
        out.append(f.grid_sample(x, grid, align_corners=False).grad_fn.name())
        out.append(f.grid_sample(x3, m.zeros(1, 1, 1, 1, 3), align_corners=False)
                   .grad_fn.name())
        theta = m.zeros(1, 2, 3, requires_grad=True)
        out.append(f.affine_grid(theta, (1, 1, 2, 2), align_corners=False).grad_fn.name())
        return out

    assert names(ember, F) == names(torch, TF)


def test_public_names():
    assert set(F.__all__) == {"interpolate", "upsample", "upsample_nearest",
                              "upsample_bilinear", "grid_sample", "affine_grid"}
    assert all(hasattr(TF, n) for n in F.__all__)
    # the ATen-level functions PyTorch has at the top level
    x, g = np.ones((1, 1, 2, 2)), np.zeros((1, 2, 2, 2))
    ref = torch.grid_sampler(torch.tensor(x), torch.tensor(g), 2, 2, True)
    ours = ember.grid_sampler(ember.tensor(x), ember.tensor(g), 2, 2, True)
    np.testing.assert_allclose(ours.numpy(), ref.numpy())
    theta = np.eye(2, 3)[None]
    ref = torch.affine_grid_generator(torch.tensor(theta), (1, 1, 3, 2), False)
    ours = ember.affine_grid_generator(ember.tensor(theta), (1, 1, 3, 2), False)
    np.testing.assert_allclose(ours.numpy(), ref.numpy())


def test_large_input_float32():
    """A realistic image size, float32: values within float32 rounding of PyTorch's."""
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 56)).astype(np.float32)
    for mode, kw in (("bilinear", {"align_corners": False}), ("bicubic", {"align_corners": True}),
                     ("bilinear", {"antialias": True}), ("bicubic", {"antialias": True}),
                     ("lanczos", {"antialias": True}), ("area", {}), ("nearest", {})):
        for size in ((97, 130), (17, 23)):
            ref = TF.interpolate(torch.tensor(x), size=size, mode=mode, **kw)
            ours = F.interpolate(ember.tensor(x), size=size, mode=mode, **kw)
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=2e-5, rtol=1e-5)


def test_uint8_interpolating_modes_are_refused():
    """PyTorch's fixed-point uint8 kernels (bilinear, bicubic, antialiased) are not reproduced:
    ember says so rather than give other numbers."""
    x = ember.ones(1, 1, 3, 3, dtype=ember.uint8)
    for mode, kw in (("bilinear", {}), ("bicubic", {}), ("bilinear", {"antialias": True}),
                     ("bicubic", {"antialias": True}), ("lanczos", {"antialias": True})):
        with pytest.raises(NotImplementedError, match="uint8 input is not supported in ember"):
            F.interpolate(x, scale_factor=2, mode=mode, **kw)
