"""nn.AdaptiveLogSoftmaxWithLoss against PyTorch: parameters and init, state_dict, repr,
forward (batched and not), log_prob, predict, gradients (float64) and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

from .util import raises_like, text


def pair(*args, **kwargs):
    torch.manual_seed(0)
    ember.manual_seed(0)
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs, dtype=torch.float64)
    e = ember.nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs, dtype=ember.float64)
    return t, e


def copy_params(t, e):
    for (tn, tp), (en, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert tn == en
        with ember.no_grad():
            ep.copy_(ember.tensor(tp.detach().numpy()))


def npy(x):
    return x.detach().numpy()


CONFIGS = [((16, 20, [5, 10, 15]), {}), ((16, 20, [4]), {"div_value": 2.0, "head_bias": True}),
           ((8, 10, [4, 7]), {"div_value": 4.0})]


@pytest.mark.parametrize("args,kwargs", CONFIGS)
def test_structure_init_and_repr(args, kwargs):
    t, e = pair(*args, **kwargs)
    assert repr(e) == text(repr(t))
    assert list(e.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert tuple(e.state_dict()[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(npy(e.state_dict()[k]), npy(v))  # same init draws
    for attr in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias",
                 "shortlist_size", "n_clusters", "head_size"):
        assert getattr(e, attr) == getattr(t, attr)


@pytest.mark.parametrize("args,kwargs", CONFIGS)
def test_forward_log_prob_predict_and_grads(args, kwargs):
    t, e = pair(*args, **kwargs)
    copy_params(t, e)
    rng = np.random.default_rng(1)
    n_classes = args[1]
    x_np = rng.standard_normal((12, args[0]))
    y_np = rng.integers(0, n_classes, 12)
    y_np[:3] = [0, n_classes - 1, args[2][0]]
    tx = torch.tensor(x_np, requires_grad=True)
    ex = ember.tensor(x_np, requires_grad=True)
    tout = t(tx, torch.tensor(y_np))
    eout = e(ex, ember.tensor(y_np))
    assert type(eout).__name__ == "_ASMoutput" and eout._fields == ("output", "loss")
    np.testing.assert_allclose(npy(eout.output), npy(tout.output), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(npy(eout.loss), npy(tout.loss), rtol=1e-12)
    tout.loss.backward()
    eout.loss.backward()
    np.testing.assert_allclose(npy(ex.grad), npy(tx.grad), rtol=1e-10, atol=1e-12)
    for (n, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(npy(ep.grad), npy(tp.grad), rtol=1e-10, atol=1e-12,
                                   err_msg=n)
    np.testing.assert_allclose(npy(e.log_prob(ex)), npy(t.log_prob(tx)), rtol=1e-12,
                               atol=1e-12)
    # predict: rows in the shortlist, in clusters, and a mix
    for scale in (0.0, 1.0, 30.0):
        with torch.no_grad():
            t.head.weight[: t.shortlist_size] *= 1 if scale else 0
        copy_params(t, e)
        xs = x_np * (scale or 1)
        np.testing.assert_array_equal(npy(e.predict(ember.tensor(xs))),
                                      npy(t.predict(torch.tensor(xs))))


def test_unbatched_input():
    t, e = pair(8, 10, [4, 7])
    copy_params(t, e)
    x = np.linspace(-1, 1, 8)
    for y in (2, 8):
        to, eo = t(torch.tensor(x), torch.tensor(y)), e(ember.tensor(x), ember.tensor(y))
        assert eo.output.shape == ()
        np.testing.assert_allclose(npy(eo.output), npy(to.output), rtol=1e-12)
        np.testing.assert_allclose(npy(eo.loss), npy(to.loss), rtol=1e-12)


def test_errors_match_torch():
    for args in ((8, 10, []), (8, 10, [4, 2]), (8, 10, [0, 4]), (8, 10, [4, 10]),
                 (8, 10, [4, 4]), (8, 10, [4.5])):
        raises_like(lambda a=args: torch.nn.AdaptiveLogSoftmaxWithLoss(*a),
                    lambda a=args: ember.nn.AdaptiveLogSoftmaxWithLoss(*a))
    t, e = pair(8, 10, [4, 7])
    for x, y in ((np.ones((3, 8)), [1, 2]), (np.ones((3, 2, 8)), [1, 2, 3]),
                 (np.ones((2, 8)), 1), (np.ones(8), [[1]]), (np.ones((2, 8)), [1, 10])):
        raises_like(lambda x=x, y=y: t(torch.tensor(x), torch.tensor(y)),
                    lambda x=x, y=y: e(ember.tensor(x), ember.tensor(y)))
