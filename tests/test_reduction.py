"""Reduction-area behaviour that the op table does not cover: return types, tie rules on
longer slices, topk(sorted=False), in-place scans, histogram binning at edges, gradients
through composites, compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _pair(a, **kw):
    return torch.tensor(a, **kw), ember.tensor(a, **kw)


def _eq(ours, ref):
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-6,
                               atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sort(x), lambda m, x: m.topk(x, 2), lambda m, x: m.kthvalue(x, 2),
    lambda m, x: m.median(x, 0), lambda m, x: m.nanmedian(x, 0), lambda m, x: m.mode(x),
    lambda m, x: m.cummax(x, 0), lambda m, x: m.cummin(x, 0), lambda m, x: m.aminmax(x),
    lambda m, x: m.histogram(x, 3)])
def test_return_types(fn):
    """Named tuples with PyTorch's name and fields, printed like torch.return_types.X."""
    t, e = _pair([3.0, 1.0, 2.0])
    ref, ours = fn(torch, t), fn(ember, e)
    assert type(ours).__name__ == type(ref).__name__
    assert repr(ours).split("\n")[0] == repr(ref).split("\n")[0].replace("torch.", "ember.")
    for f in ours._fields:
        _eq(getattr(ours, f), getattr(ref, f))
    assert len(ours) == len(ref)


def test_std_mean_is_a_plain_tuple():
    t, e = _pair([[1.0, 2.0], [3.0, 5.0]])
    assert type(ember.std_mean(e, 0)) is type(torch.std_mean(t, 0)) is tuple
    assert not hasattr(e, "std_mean") and not hasattr(e, "trapezoid")


def test_sort_ties_long_slices():
    """Stable sorts (and PyTorch's median, which breaks ties by index) agree on long slices."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, (3, 50))
    t, e = _pair(a)
    for desc in (False, True):
        kw = {"dim": 1, "descending": desc, "stable": True}
        for r, o in zip(torch.sort(t, **kw), ember.sort(e, **kw)):
            _eq(o, r)
    for r, o in zip(torch.median(t, 1), ember.median(e, 1)):
        _eq(o, r)
    _eq(ember.argsort(e, dim=0, stable=True), torch.argsort(t, dim=0, stable=True))


def test_topk_unsorted_has_the_same_elements():
    t, e = _pair(np.random.default_rng(1).permutation(20).astype(np.float32))
    r, o = torch.topk(t, 5, sorted=False), ember.topk(e, 5, sorted=False)
    assert sorted(o.values.tolist()) == sorted(r.values.tolist())
    np.testing.assert_array_equal(e.numpy()[o.indices.numpy()], o.values.numpy())


def test_unique_sorted_false_and_methods():
    t, e = _pair([3, 1, 2, 3, 1])
    for r, o in zip(torch.unique(t, sorted=False, return_inverse=True, return_counts=True),
                    e.unique(sorted=False, return_inverse=True, return_counts=True)):
        _eq(o, r)
    _eq(e.unique_consecutive(), t.unique_consecutive())


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_inplace_scans_keep_dtype(dtype):
    a = np.arange(1, 7, dtype=dtype).reshape(2, 3)
    t, e = torch.tensor(a), ember.tensor(a)
    for name in ("cumsum_", "cumprod_"):
        r, o = getattr(t.clone(), name)(1), getattr(e.clone(), name)(1)
        _eq(o, r)


def test_inplace_cumsum_records_history():
    t, e = (m.tensor([1.0, 2.0, 3.0], requires_grad=True) for m in (torch, ember))
    rs = []
    for x in (t, e):
        y = x * 2
        y.cumsum_(0)
        assert y.grad_fn.name() == "CumsumBackward0"
        y.sum().backward()
        rs.append(x.grad)
    _eq(rs[1], rs[0])


def test_histc_and_histogram_binning_match_exactly():
    """Elements on and near the bin edges land in PyTorch's bins (float32 rounding)."""
    rng = np.random.default_rng(2)
    a = np.concatenate([rng.uniform(-1, 1, 500), np.linspace(-1, 1, 41)]).astype(np.float32)
    t, e = _pair(a)
    for bins in (7, 10, 40, 100):
        _eq(ember.histc(e, bins, -1, 1), torch.histc(t, bins, -1, 1))
        for r, o in zip(torch.histogram(t, bins), ember.histogram(e, bins)):
            _eq(o, r)


def test_grad_fn_names():
    x = ember.tensor([[3.0, 1.0], [2.0, 4.0]], requires_grad=True)
    names = {"SortBackward0": x.sort().values, "TopkBackward0": x.topk(1).values,
             "CumsumBackward0": x.cumsum(0), "CummaxBackward0": x.cummax(1).values,
             "MedianBackward0": x.median(), "MedianBackward1": x.median(0).values,
             "NansumBackward0": x.nansum(), "LogcumsumexpBackward0": x.logcumsumexp(0)}
    for name, y in names.items():
        assert y.grad_fn.name() == name


def test_quantile_gradient_through_sort():
    a = np.random.default_rng(3).standard_normal((3, 7))
    grads = []
    for m in (torch, ember):
        x = m.tensor(a, requires_grad=True)
        q = m.tensor([0.1, 0.5, 0.93], dtype=m.float64)
        y = m.quantile(x, q, dim=1, keepdim=True)
        (y * m.arange(9, dtype=m.float64).reshape(3, 3, 1)).sum().backward()
        grads.append(x.grad)
    _eq(grads[1], grads[0])


def test_cumprod_double_backward_with_zeros():
    a = np.array([2.0, 0.0, 3.0, 0.0, 1.5])
    out = []
    for m in (torch, ember):
        x = m.tensor(a, requires_grad=True)
        (g,) = m.autograd.grad(m.cumprod(x, 0).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * m.arange(5.0, dtype=m.float64)).sum(), x)
        out.append((g, gg))
    _eq(out[1][0], out[0][0])
    _eq(out[1][1], out[0][1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4096, 17), (512, 2, 64), (65536, 2)])
def test_amax_amin_narrow_last_axis(dtype, shape):
    """The pairwise fold over a narrow last axis (NOTE [ Max over a narrow last axis ]) gives
    PyTorch's values, NaN and infinities included."""
    a = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    a.reshape(-1, shape[-1])[[3, 10, 11], [1, 0, -1]] = [np.nan, np.inf, -np.inf]
    t, e = torch.from_numpy(a), ember.from_numpy(a)
    for name in ("amax", "amin"):
        for kd in (False, True):
            _eq(getattr(ember, name)(e, -1, kd), getattr(torch, name)(t, -1, kd))
    _eq(ember.max(e, -1).values, torch.max(t, -1).values)
