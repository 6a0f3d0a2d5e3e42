"""The blocked normalisation kernels (NOTE [ Layer norm kernels ]) on inputs of several blocks with
a shorter last one: values and first-order gradients against PyTorch, with and without the
affine parameters, for some inputs only, far from zero mean, and in half types; each test runs
with layer norm's C kernel (NOTE [ Native CPU kernels ]) where it is built and with its NumPy
path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember._api import normalization as F
from ember.backends import cpu


@pytest.fixture(autouse=True, params=["native", "numpy"])
def _kernels(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setattr(cpu, "layer_norm_rows", lambda *a: None)
        monkeypatch.setattr(cpu, "layer_norm_rows_backward", lambda *a: None)


def _run(mod, fn, arrays, grads, g, dtype):
    ts = [None if a is None else
          mod.tensor(a, dtype=getattr(mod, dtype)).requires_grad_(r)
          for a, r in zip(arrays, grads)]
    y = fn(mod, *ts)
    y.backward(mod.tensor(g, dtype=getattr(mod, dtype)))
    return [y] + [t.grad if r else None for t, r in zip(ts, grads)]


def _check(fn, arrays, grads, g, dtype, tol):
    outs = [_run(ember, fn, arrays, grads, g, dtype), _run(torch, fn, arrays, grads, g, dtype)]
    for e, t in zip(*outs):
        if t is None:
            assert e is None
            continue
        assert e.dtype is getattr(ember, dtype)
        np.testing.assert_allclose(e.detach().float().numpy(), t.detach().float().numpy(),
                                   **tol)


_LAYER = lambda m, x, w, b: (TF if m is torch else F).layer_norm(x, (48, 8), w, b)  # noqa: E731
_RMS = lambda m, x, w, b: (TF if m is torch else F).rms_norm(x, (48, 8), w)  # noqa: E731
_GROUP = lambda m, x, w, b: (TF if m is torch else F).group_norm(x, 4, w, b)  # noqa: E731
TOL = {"float32": {"atol": 2e-4, "rtol": 1e-4}, "float64": {"atol": 1e-10, "rtol": 1e-10},
       "bfloat16": {"atol": 0.1, "rtol": 0.02}, "float16": {"atol": 1e-2, "rtol": 1e-2}}


@pytest.mark.parametrize("fn", [_LAYER, _RMS], ids=["layer", "rms"])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("grads", [(True, True, True), (True, False, False),
                                   (False, True, True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_norms_several_blocks(fn, affine, grads, dtype):
    # 700 rows of 384: 170 rows a block, the last one shorter
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 100, 48, 8)) * 3 + 20
    w = rng.standard_normal((48, 8)) if affine[0] else None
    b = rng.standard_normal((48, 8)) if affine[1] else None
    grads = tuple(r and a is not None for r, a in zip(grads, (x, w, b)))
    if not any(grads):
        return
    g = rng.standard_normal(x.shape)
    _check(fn, (x, w, b), grads, g, dtype, TOL[dtype])


@pytest.mark.parametrize("fn", [_LAYER, _RMS], ids=["layer", "rms"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_row_norms_several_blocks_half(fn, dtype):
    """Half types compute in float32. PyTorch sums the parameters' gradients in the half type,
    ember in float32: those are compared with float64 on the same (rounded) inputs, within the
    error of the saved statistics (rounded to the half type; sums of 900 rows up to 45)."""
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in ((3, 300, 48, 8), (48, 8), (48, 8)))
    g = rng.standard_normal(x.shape)
    _check(fn, (x, w, b), (True, False, False), g, dtype, TOL[dtype])
    x, w, b, g = (torch.tensor(a, dtype=getattr(torch, dtype)).double().numpy()
                  for a in (x, w, b, g))
    e = _run(ember, fn, (x, w, b), (False, True, True), g, dtype)
    t = _run(torch, fn, (x, w, b), (False, True, True), g, "float64")
    for a, c in zip(e[2:], t[2:]):
        if c is not None:
            np.testing.assert_allclose(a.double().numpy(), c.numpy(), rtol=0.02,
                                       atol={"bfloat16": 0.5, "float16": 0.1}[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_group_norm_several_blocks(dtype):
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s) for s in ((9, 16, 40, 30), (16,), (16,)))
    x = x * 2 - 5
    g = rng.standard_normal(x.shape)
    _check(_GROUP, (x, w, b), (True, True, True), g, dtype, TOL[dtype])
