"""nn.LinearCrossEntropyLoss and F.linear_cross_entropy against PyTorch (its reference path,
options=None), float64: values and gradients for each target kind, reduction and option."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

from .util import raises_like, text

CASES = [
    ({}, (6,), "index"),
    ({"bias": True, "reduction": "sum"}, (6,), "index"),
    ({"reduction": "none", "ignore_index": 2}, (6,), "index"),
    ({"label_smoothing": 0.2, "weight": True}, (6,), "index"),
    ({"out_features": (4, 3), "bias": True}, (2,), "index"),
    ({"out_features": (3,), "reduction": "none"}, (2,), "probs"),
    ({}, (6,), "probs"),
    ({"bias": True}, (), "index"),
    ({"weight": True, "reduction": "mean"}, (), "probs"),
]


def _build(L, kw, c=7):
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = L.tensor(np.linspace(0.5, 2.0, c))
    return L.nn.LinearCrossEntropyLoss(5, c, dtype=L.float64, **kw)


@pytest.mark.parametrize("kw,batch,kind", CASES)
def test_matches_torch(kw, batch, kind):
    c = 7
    t, e = _build(torch, kw), _build(ember, kw)
    assert repr(e) == text(repr(t))
    assert list(e.state_dict()) == list(t.state_dict())
    for (_, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        with ember.no_grad():
            ep.copy_(ember.tensor(tp.detach().numpy()))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((*batch, 5))
    out = kw.get("out_features", ())
    if kind == "index":
        y = rng.integers(0, c, (*batch, *out))
    else:
        y = rng.random((*batch, c, *out))
        y /= y.sum(axis=len(batch), keepdims=True)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tl, el = t(tx, torch.tensor(y)), e(ex, ember.tensor(y))
    np.testing.assert_allclose(el.detach().numpy(), tl.detach().numpy(), rtol=1e-12)
    tl.sum().backward()
    el.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    for (n, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=n)


def test_functional_errors_match_torch():
    def both(fn):
        raises_like(lambda: fn(torch), lambda: fn(ember))
    both(lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 2, 3), L.ones(4, 3),
                                                        L.tensor([0, 1])))
    both(lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3), L.ones(4),
                                                        L.tensor([0, 1])))
    both(lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3), L.ones(4, 2),
                                                        L.tensor([0, 1])))
    both(lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 3), L.ones(4, 3), L.tensor([0, 1]), linear_bias=L.ones(3)))
    both(lambda L: L.nn.functional.linear_cross_entropy(L.ones(3), L.ones(4, 2, 3),
                                                        L.tensor(0)))
    both(lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 3), L.ones(4, 3), L.ones(2, 4) / 4, ignore_index=1))
    both(lambda L: L.nn.LinearCrossEntropyLoss(3, 4, weight=L.ones(3)))
    both(lambda L: L.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5))
