"""Behaviour of ``nn.functional`` that the op table does not cover: in-place forms, dropout and
rrelu randomness, running statistics, embedding renormalisation, PyTorch's top-level forms,
legacy reduction arguments and large inputs (the blocked and BLAS paths)."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember._api import activation, loss, normalization

F = SimpleNamespace(**{n: getattr(m, n) for m in (activation, normalization, loss)
                       for n in m.__all__})


def _pair(a, requires_grad=False, dtype=np.float64):
    a = np.asarray(a, dtype)
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _close(e, t, **kw):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **kw)


# -- in-place forms -------------------------------------------------------------------------------

INPLACE = [("relu_", (), {}), ("elu_", (0.5,), {}), ("selu_", (), {}), ("celu_", (2.0,), {}),
           ("leaky_relu_", (0.2,), {}), ("hardtanh_", (-0.5, 0.5), {}),
           ("threshold_", (0.1, 2.0), {}), ("rrelu_", (), {})]
INPLACE_KW = ["relu", "relu6", "elu", "selu", "celu", "leaky_relu", "hardtanh", "hardsigmoid",
              "silu", "mish", "hardswish", "rrelu"]


@pytest.mark.parametrize("name,args,kw", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_functions(name, args, kw):
    x = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    for requires_grad in (False, True):
        (ea, ta) = _pair(x, requires_grad)
        e, t = (ea * 1, ta * 1) if requires_grad else (ea, ta)
        re, rt = getattr(F, name)(e, *args, **kw), getattr(TF, name)(t, *args, **kw)
        assert re is e and rt is t
        assert e._version == t._version
        _close(e, t, rtol=1e-12)
        if requires_grad:
            g = np.random.default_rng(1).standard_normal((3, 4))
            e.backward(ember.tensor(g))
            t.backward(torch.tensor(g))
            _close(ea.grad, ta.grad, rtol=1e-12)


@pytest.mark.parametrize("name", INPLACE_KW)
def test_inplace_keyword(name):
    x = np.random.default_rng(0).uniform(-4, 4, (3, 4))
    e, t = _pair(x)
    assert getattr(F, name)(e, inplace=True) is e
    getattr(TF, name)(t, inplace=True)
    _close(e, t, rtol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises():
    e, t = _pair([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.elu_(e)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        TF.elu_(t)


# -- dropout --------------------------------------------------------------------------------------

DROPOUTS = ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d",
            "dropout3d"]


@pytest.mark.parametrize("name", DROPOUTS)
def test_dropout_identity_cases(name):
    x = ember.randn(2, 3, 4, 5, 2 if name == "dropout3d" else 1).squeeze(-1)
    x = x[0] if name == "dropout1d" else x
    assert getattr(F, name)(x, 0.5, training=False) is x
    assert getattr(F, name)(x, 0.0, training=True) is x
    # unbatched input goes through unsqueeze/squeeze, as in PyTorch
    xu, tu = x[0], torch.tensor(x[0].numpy())
    assert (getattr(F, name)(xu, 0.5, training=False) is xu) == \
        (getattr(TF, name)(tu, 0.5, training=False) is tu)
    zero = getattr(F, name)(x, 1.0, training=True)
    ref = getattr(TF, name)(torch.tensor(x.numpy()), 1.0, training=True)
    _close(zero, ref)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(F, name)(x, 1.5)


def test_dropout_statistics_and_gradient():
    x = ember.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    vals = y.detach().numpy()
    kept = vals != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(vals[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), vals)
    assert y.grad_fn.name() == "MulBackward0"


def test_dropout_follows_the_generator():
    x = ember.ones(1000)
    ember.manual_seed(3)
    a = F.dropout(x, 0.5)
    ember.manual_seed(3)
    b = F.dropout(x, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # where PyTorch's CPU bernoulli_ takes the same path as ember's, the masks are PyTorch's
    torch.manual_seed(5)
    ember.manual_seed(5)
    same = np.array_equal(torch.empty(64).bernoulli_(0.5).numpy(),
                          ember.empty(64).bernoulli_(0.5).numpy())
    if same:
        torch.manual_seed(7)
        ember.manual_seed(7)
        _close(F.dropout(x, 0.4), TF.dropout(torch.ones(1000), 0.4))


def test_feature_dropout_drops_whole_channels():
    x = ember.ones(50, 40, 3, 3)
    y = F.dropout2d(x, 0.5).numpy()
    per_channel = y.reshape(50, 40, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.05
    y1 = F.dropout1d(ember.ones(40, 6), 0.5).numpy()  # unbatched (C, L)
    assert np.all((y1 == 0).all(-1) | (y1 == 2).all(-1))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(ember.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(ember.ones(2, 3, 4))


def test_alpha_dropout_keeps_moments():
    ember.manual_seed(0)
    x = ember.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    z = F.feature_alpha_dropout(ember.randn(300, 200, 4), 0.2, training=True).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03


def test_dropout_inplace():
    x = ember.ones(100, 100)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and x._version == 1
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_rrelu_training():
    x = ember.tensor(np.linspace(-3, 3, 1001), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    xv, yv = x.detach().numpy(), y.detach().numpy()
    pos = xv > 0
    np.testing.assert_array_equal(yv[pos], xv[pos])
    slope = yv[xv < 0] / xv[xv < 0]
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[xv < 0], slope)


# -- normalisation --------------------------------------------------------------------------------

def test_batch_norm_running_stats_match_pytorch():
    rng = np.random.default_rng(0)
    er, tr = _pair(np.zeros(3), dtype=np.float32)
    ev, tv = _pair(np.ones(3), dtype=np.float32)
    for step in range(1, 4):
        x = rng.standard_normal((4, 3, 5)).astype(np.float32) * step + step
        for momentum in (0.1, 1.0 / step):  # 1/k: the cumulative average of BatchNorm(None)
            ye = F.batch_norm(ember.tensor(x), er, ev, training=True, momentum=momentum)
            yt = TF.batch_norm(torch.tensor(x), tr, tv, training=True, momentum=momentum)
            _close(ye, yt, atol=1e-5)
            _close(er, tr, rtol=1e-6)
            _close(ev, tv, rtol=1e-6)
    assert er._version == tr._version == 0
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    _close(F.batch_norm(ember.tensor(x), er, ev), TF.batch_norm(torch.tensor(x), tr, tv),
           atol=1e-6)


def test_instance_norm_running_stats():
    x = np.random.default_rng(0).standard_normal((2, 3, 6))
    er, tr = _pair(np.zeros(3))
    ev, tv = _pair(np.ones(3))
    _close(F.instance_norm(ember.tensor(x), er, ev), TF.instance_norm(torch.tensor(x), tr, tv))
    _close(er, tr)
    _close(ev, tv)


def test_norm_errors():
    with pytest.raises(TypeError, match="momentum"):
        F.batch_norm(ember.ones(2, 3), ember.zeros(3), ember.ones(3), training=True,
                     momentum=None)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        F.batch_norm(ember.ones(2, 3), None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(ember.ones(2, 3, 1))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.group_norm(ember.ones(3), 1)


@pytest.mark.parametrize("shape,fn", [
    ((32, 128, 64), lambda m, x, w, b: m.layer_norm(x, (64,), w, b)),
    ((8, 16, 32, 32), lambda m, x, w, b: m.batch_norm(x, None, None, w[:16], b[:16], True)),
    ((8, 16, 64), lambda m, x, w, b: m.group_norm(x, 4, w[:16], b[:16])),
    ((32, 128, 64), lambda m, x, w, b: m.rms_norm(x, (64,), w))])
def test_norms_large(shape, fn):
    """Large inputs take the BLAS reductions; float32 values and gradients stay PyTorch's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w, b = rng.standard_normal(64).astype(np.float32), rng.standard_normal(64).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    outs = []
    for m in (F, TF):
        mod = ember if m is F else torch
        ts = [mod.tensor(v, requires_grad=True) for v in (x, w, b)]
        y = fn(m, *ts)
        y.backward(mod.tensor(g))
        outs.append([y] + [t.grad for t in ts])
    for e, t in zip(*outs):
        if t is None:
            assert e is None or not e.numpy().any()
            continue
        _close(e, t, atol=2e-4, rtol=1e-4)


# -- activations on large inputs ------------------------------------------------------------------

@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_large_blocked(approximate, dtype):
    # (PyTorch's float32 kernels give nan at +inf; ember gives the limit)
    special = [0.0, -0.0, np.nan] + ([np.inf, -np.inf] if dtype == np.float64 else [])
    x = np.concatenate([np.linspace(-12, 12, 300001), special]).astype(dtype)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = F.gelu(e, approximate=approximate), TF.gelu(t, approximate=approximate)
    # PyTorch's vectorised float32 tanh saturates to 1 a little earlier than NumPy's
    tol = dict(rtol=1e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    _close(ye, yt, **tol)
    ye.sum().backward()
    yt.sum().backward()
    _close(e.grad, t.grad, **tol)


def test_softmin_implicit_dim_warns():
    x = ember.randn(3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        y = F.softmin(x)
    _close(y, TF.softmin(torch.tensor(x.numpy()), 1), rtol=1e-6)


# -- embeddings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalises_weight(norm_type):
    w = np.random.default_rng(0).uniform(-2, 2, (6, 4))
    ew, tw = _pair(w, requires_grad=True)
    idx = [[0, 2], [2, 5]]
    ye = F.embedding(ember.tensor(idx), ew, max_norm=1.0, norm_type=norm_type)
    yt = TF.embedding(torch.tensor(idx), tw, max_norm=1.0, norm_type=norm_type)
    _close(ye, yt, rtol=1e-12)
    _close(ew, tw, rtol=1e-12)
    assert ew._version == tw._version == 1
    ye.sum().backward()
    yt.sum().backward()
    _close(ew.grad, tw.grad)


def test_embedding_bag_max_with_empty_bag_and_gradient():
    w = np.random.default_rng(0).standard_normal((5, 3))
    ew, tw = _pair(w, requires_grad=True)
    idx, off = [1, 2, 4, 0], [0, 0, 2]
    ye = F.embedding_bag(ember.tensor(idx), ew, ember.tensor(off), mode="max")
    yt = TF.embedding_bag(torch.tensor(idx), tw, torch.tensor(off), mode="max")
    _close(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    _close(ew.grad, tw.grad)


def test_embedding_bag_argument_errors():
    w = ember.ones(5, 3)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, mode="min")
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, per_sample_weights=ember.ones(1, 2))


# -- losses ---------------------------------------------------------------------------------------

def test_cross_entropy_large_float32():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 1000)) * 3).astype(np.float32)
    y = rng.integers(0, 1000, 256)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    le, lt = F.cross_entropy(e, ember.tensor(y)), TF.cross_entropy(t, torch.tensor(y))
    _close(le, lt, rtol=1e-6)
    le.backward()
    lt.backward()
    _close(e.grad, t.grad, rtol=1e-5, atol=1e-10)


def test_legacy_reduction_arguments():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4))
    for sa, red in ((None, False), (False, None), (True, True), (False, True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = F.mse_loss(ember.tensor(a), ember.tensor(b), size_average=sa, reduce=red)
            t = TF.mse_loss(torch.tensor(a), torch.tensor(b), size_average=sa, reduce=red)
        _close(e, t)


def test_kl_div_warns_for_mean():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(ember.zeros(2, 3), ember.ones(2, 3))


def test_not_differentiable_arguments():
    x = ember.rand(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.nll_loss(x, ember.tensor([0, 1, 2]), weight=ember.ones(4, requires_grad=True))
    with ember.no_grad():
        F.nll_loss(x, ember.tensor([0, 1, 2]), weight=ember.ones(4, requires_grad=True))


def test_ctc_loss_with_length_lists_and_zero_infinity():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 4))
    lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    tgt = [[1, 2], [3, 3]]
    for zi in (False, True):
        e = F.ctc_loss(ember.tensor(lp), ember.tensor(tgt), [5, 2], [2, 2], zero_infinity=zi,
                       reduction="none")
        t = TF.ctc_loss(torch.tensor(lp), torch.tensor(tgt), [5, 2], [2, 2], zero_infinity=zi,
                        reduction="none")
        _close(e, t)


# -- PyTorch's top-level forms --------------------------------------------------------------------

def test_top_level_forms():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5))
    e, t = ember.tensor(x), torch.tensor(x)
    w = rng.standard_normal(3)
    ew, tw = ember.tensor(w), torch.tensor(w)
    checks = [
        (ember.selu(e), torch.selu(t)), (ember.celu(e, 2.0), torch.celu(t, 2.0)),
        (ember.threshold(e, 0.1, 3.0), torch.threshold(t, 0.1, 3.0)),
        (e.hardshrink(0.3), t.hardshrink(0.3)), (e.prelu(ew), t.prelu(tw)),
        (ember.rrelu(e), torch.rrelu(t)),
        (ember.dropout(e, 0.3, False), torch.dropout(t, 0.3, False)),
        (ember.layer_norm(e, (5,)), torch.layer_norm(t, (5,))),
        (ember.group_norm(e, 3), torch.group_norm(t, 3)),
        (ember.batch_norm(e, ew, ew, None, None, True, 0.1, 1e-5, True),
         torch.batch_norm(t, tw, tw, None, None, True, 0.1, 1e-5, True)),
        (ember.instance_norm(e, None, None, None, None, True, 0.1, 1e-5, True),
         torch.instance_norm(t, None, None, None, None, True, 0.1, 1e-5, True)),
        (ember.rms_norm(e, [5]), torch.rms_norm(t, [5])),
        (ember.cosine_similarity(e, e + 1), torch.cosine_similarity(t, t + 1)),
        (ember.pairwise_distance(e, e * 2), torch.pairwise_distance(t, t * 2)),
        (ember.pdist(e[0]), torch.pdist(t[0])), (ember.cdist(e, e), torch.cdist(t, t)),
        (ember.kl_div(e, e.exp(), 2), torch.kl_div(t, t.exp(), 2)),
        (ember.binary_cross_entropy_with_logits(e, e.sigmoid(), None, None, 0),
         torch.binary_cross_entropy_with_logits(t, t.sigmoid(), None, None, 0)),
        (ember.hinge_embedding_loss(e, e.sign()), torch.hinge_embedding_loss(t, t.sign())),
        (ember.cosine_embedding_loss(e[0], e[1], e[2, :, 0].sign()),
         torch.cosine_embedding_loss(t[0], t[1], t[2, :, 0].sign())),
        (ember.margin_ranking_loss(e, e * 2, e.sign(), 0.1, 0),
         torch.margin_ranking_loss(t, t * 2, t.sign(), 0.1, 0)),
        (ember.poisson_nll_loss(e, e.abs(), True, False, 1e-8, 2),
         torch.poisson_nll_loss(t, t.abs(), True, False, 1e-8, 2)),
        (ember.triplet_margin_loss(e, e + 1, e * 2), torch.triplet_margin_loss(t, t + 1, t * 2)),
        (ember.embedding(ember.tensor(x[0, :, :2]), ember.tensor([[1, 0]])),
         torch.embedding(torch.tensor(x[0, :, :2]), torch.tensor([[1, 0]]))),
    ]
    for a, b in checks:
        _close(a, b, rtol=1e-6, atol=1e-12)
    out = ember.native_layer_norm(e, [5], None, None, 1e-5)
    ref = torch.native_layer_norm(t, [5], None, None, 1e-5)
    for a, b in zip(out, ref):
        _close(a, b, rtol=1e-10)
    assert not hasattr(ember.Tensor, "selu") and not hasattr(ember.Tensor, "dropout")


def test_bench_runs(capsys):
    """The benchmark script stays runnable (one quick case; timings are not checked)."""
    import runpy
    import sys
    argv = sys.argv
    sys.argv = ["bench_nn_functional.py", "--quick", "--filter", "cross_entropy"]
    try:
        runpy.run_path("bench/bench_nn_functional.py", run_name="__main__")
    except SystemExit as e:
        assert e.code == 0
    finally:
        sys.argv = argv
    assert "cross_entropy (256,1000)" in capsys.readouterr().out


@pytest.mark.parametrize("name,args,kw", [
    ("leaky_relu", (0.2,), {}), ("elu", (), {}), ("selu", (), {}), ("celu", (), {"alpha": 2.0}),
    ("celu", (), {}), ("threshold", (0.5, 0.0), {}), ("rrelu", (), {"training": True}),
    ("relu", (), {}), ("hardtanh", (), {}), ("silu", (), {})])
def test_activation_backward_names_follow_the_overload(name, args, kw):
    """PyTorch differentiates some in-place activations as their own overload
    (``LeakyReluBackward1``) and celu as itself; grad_fn names match it either way."""
    names = []
    for lib in (torch, ember):
        f = getattr(lib.nn.functional, name)
        x = lib.randn(5, requires_grad=True)
        names.append((f(x, *args, **kw).grad_fn.name(),
                      f(x.clone(), *args, inplace=True, **kw).grad_fn.name()))
    assert names[1] == names[0]
