"""Normalisation modules against torch: batch, sync-batch, instance, layer, group, RMS and
local-response norms; running statistics over several steps, train/eval, state_dicts both ways,
lazy materialisation, errors."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import pytest
import torch

import ember

from .test_activation_modules import check_module, pair, raises_within, to_ember_state
from .util import close, e_, raises_like, same, text

BN_OPTIONS = [
    {},
    {"affine": False},
    {"track_running_stats": False},
    {"affine": False, "track_running_stats": False},
    {"momentum": None},
    {"momentum": 0.3, "eps": 1e-3},
    {"bias": False},
]


@pytest.mark.parametrize("cls, shape, opts", [
    *[("BatchNorm2d", (4, 3, 5, 2), o) for o in BN_OPTIONS],
    *[(c, s, o) for c, s in [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                             ("BatchNorm3d", (2, 3, 2, 3, 2)), ("SyncBatchNorm", (4, 3, 5))]
      for o in (BN_OPTIONS[0], BN_OPTIONS[3], BN_OPTIONS[4])],
])
def test_batch_norm_train_steps_then_eval(cls, shape, opts):
    def make(L):
        return getattr(L.nn, cls)(3, **opts)
    x = torch.randn(*shape) * 2 + 1
    t, e = check_module(make, x, train=True, steps=3)
    if t.track_running_stats:
        assert int(e.num_batches_tracked) == 3
    # eval reads the running stats (or batch stats without them)
    t.eval()
    e.eval()
    xt = torch.randn(*shape, requires_grad=True)
    xe = e_(xt).requires_grad_()
    close(t(xt), e(xe))
    t(xt).sum().backward()
    e(xe).sum().backward()
    close(xt.grad, xe.grad, atol=1e-5)


def test_batch_norm_float64_and_reset():
    x = torch.randn(5, 4, 3, dtype=torch.float64)
    t, e = check_module(lambda L: L.nn.BatchNorm1d(4, momentum=None, dtype=L.float64), x,
                        steps=2, rtol=1e-12, atol=1e-12)
    assert e.running_mean.dtype is ember.float64 and e.num_batches_tracked.dtype is ember.int64
    e.weight.data.fill_(3.0)
    e.reset_parameters()
    assert e.running_var.tolist() == [1.0] * 4 and int(e.num_batches_tracked) == 0
    assert e.weight.tolist() == [1.0] * 4 and e.bias.tolist() == [0.0] * 4
    e.running_mean.fill_(2.0)
    e.reset_running_stats()
    assert e.running_mean.tolist() == [0.0] * 4


def test_batch_norm_state_dict_round_trip_and_version():
    t = torch.nn.BatchNorm2d(3)
    t(torch.randn(4, 3, 2, 2))
    e = ember.nn.BatchNorm2d(3)
    e.load_state_dict(to_ember_state(t))
    sd = e.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sd._metadata[""]["version"] == 2 == t.state_dict()._metadata[""]["version"]
    back = torch.nn.BatchNorm2d(3)
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in sd.items()})
    for k, v in t.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k
    assert type(ember.nn.BatchNorm2d._version) is int


def test_batch_norm_loads_old_checkpoint_without_num_batches_tracked():
    def old(lib, tensor):
        sd = OrderedDict((k, tensor(v)) for k, v in [("weight", [1.0, 2.0]), ("bias", [0., 1.]),
                         ("running_mean", [0.5, 0.5]), ("running_var", [2.0, 2.0])])
        sd._metadata = OrderedDict({"": {"version": 1}})
        return sd
    t, e = torch.nn.BatchNorm1d(2), ember.nn.BatchNorm1d(2)
    t.num_batches_tracked.fill_(7)
    e.num_batches_tracked.fill_(7)
    t.load_state_dict(old(torch, torch.tensor))
    e.load_state_dict(old(ember, ember.tensor))
    assert int(e.num_batches_tracked) == int(t.num_batches_tracked) == 7
    # a current (version 2) checkpoint must carry it
    sd = old(ember, ember.tensor)
    sd._metadata[""]["version"] = 2
    sdt = old(torch, torch.tensor)
    sdt._metadata[""]["version"] = 2
    raises_like(lambda: torch.nn.BatchNorm1d(2).load_state_dict(sdt),
                lambda: ember.nn.BatchNorm1d(2).load_state_dict(sd))


@pytest.mark.parametrize("cls, bad", [
    ("BatchNorm1d", (2, 3, 4, 5)), ("BatchNorm1d", (3,)), ("BatchNorm2d", (2, 3, 4)),
    ("BatchNorm3d", (2, 3, 4, 5)), ("SyncBatchNorm", (3,)),
])
def test_batch_norm_input_dim_errors(cls, bad):
    raises_like(lambda: getattr(torch.nn, cls)(3)(torch.ones(bad)),
                lambda: getattr(ember.nn, cls)(3)(ember.ones(bad)))


def test_batch_norm_shape_errors():
    with pytest.raises(RuntimeError) as ee:
        ember.nn.BatchNorm1d(3)(ember.ones(4, 5))
    assert "should contain 5 elements not 3" in str(ee.value)
    assert "[4, 5]" in str(ee.value)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        ember.nn.BatchNorm1d(3)(ember.ones(1, 3))
    raises_like(lambda: torch.nn.SyncBatchNorm(0)(torch.ones(2, 0)),
                lambda: ember.nn.SyncBatchNorm(0)(ember.ones(2, 0)))
    # a failed call does not count a batch
    e = ember.nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        e(ember.ones(2, 3, 4, 5))
    assert int(e.num_batches_tracked) == 0


@pytest.mark.parametrize("cls, shape", [("LazyBatchNorm1d", (4, 3)),
                                        ("LazyBatchNorm2d", (4, 3, 2, 2)),
                                        ("LazyBatchNorm3d", (2, 3, 2, 2, 2)),
                                        ("LazyInstanceNorm1d", (2, 3, 5)),
                                        ("LazyInstanceNorm2d", (2, 3, 4, 4)),
                                        ("LazyInstanceNorm3d", (2, 3, 2, 2, 3))])
@pytest.mark.parametrize("opts", [{}, {"affine": False}, {"track_running_stats": False},
                                  {"bias": False}])
def test_lazy_norms(cls, shape, opts):
    t, e = getattr(torch.nn, cls)(**opts), getattr(ember.nn, cls)(**opts)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    x = torch.randn(*shape)
    close(t(x), e(e_(x)))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    for a, b in zip(t.state_dict().values(), e.state_dict().values()):
        close(a, b)
    assert not e._forward_pre_hooks and not e._load_state_dict_pre_hooks
    assert all(type(p) is ember.nn.Parameter for p in e.parameters())


def test_lazy_batch_norm_loads_state_dict():
    src = ember.nn.BatchNorm2d(4)
    src(ember.randn(3, 4, 2, 2))
    m = ember.nn.LazyBatchNorm2d()
    m.load_state_dict(src.state_dict())
    for a, b in zip(src.state_dict().values(), m.state_dict().values()):
        same(a, b)


def test_sync_batch_norm_convert_and_attributes():
    def make(L):
        L.manual_seed(0)
        net = L.nn.Sequential(L.nn.Identity(), L.nn.BatchNorm2d(3, momentum=None),
                              L.nn.Sequential(L.nn.BatchNorm1d(3, affine=False)))
        net.eval()
        return L.nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group="pg")
    t, e = make(torch), make(ember)
    assert repr(e) == repr(t)
    assert type(e[1]) is ember.nn.SyncBatchNorm and e[1].process_group == "pg"
    assert not e[1].training and e[1].momentum is None
    bn = ember.nn.BatchNorm2d(3)
    sync = ember.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert sync.weight is bn.weight and sync.running_mean is bn.running_mean
    assert ember.nn.SyncBatchNorm.convert_sync_batchnorm(ember.nn.ReLU()).__class__ is \
        ember.nn.ReLU
    check_module(lambda L: L.nn.SyncBatchNorm(3), torch.randn(4, 3, 2, 3, 2), steps=2)


@pytest.mark.parametrize("opts", [{}, {"affine": True}, {"track_running_stats": True},
                                  {"affine": True, "track_running_stats": True, "momentum": 0.5},
                                  {"affine": True, "bias": False}])
@pytest.mark.parametrize("cls, shape", [
    ("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)), ("InstanceNorm2d", (2, 3, 4, 3)),
    ("InstanceNorm2d", (3, 4, 3)), ("InstanceNorm3d", (2, 3, 2, 3, 2)),
])
def test_instance_norm(cls, shape, opts):
    def make(L):
        return getattr(L.nn, cls)(3, **opts)
    x = torch.randn(*shape) * 3 - 1
    check_module(make, x, train=True, steps=2)
    check_module(make, x, train=False)


def test_instance_norm_checks_and_warnings():
    raises_like(lambda: torch.nn.InstanceNorm2d(3, affine=True)(torch.ones(2, 4, 3, 3)),
                lambda: ember.nn.InstanceNorm2d(3, affine=True)(ember.ones(2, 4, 3, 3)))
    raises_like(lambda: torch.nn.InstanceNorm1d(3)(torch.ones(2, 3, 4, 5)),
                lambda: ember.nn.InstanceNorm1d(3)(ember.ones(2, 3, 4, 5)))
    raises_like(lambda: torch.nn.InstanceNorm3d(3)(torch.ones(3, 4)),
                lambda: ember.nn.InstanceNorm3d(3)(ember.ones(3, 4)))
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm2d(3)(ember.randn(2, 4, 3, 3))


def test_instance_norm_refuses_old_running_stats():
    sd = {"running_mean": torch.zeros(3), "running_var": torch.ones(3)}
    raises_like(lambda: torch.nn.InstanceNorm1d(3).load_state_dict(sd),
                lambda: ember.nn.InstanceNorm1d(3).load_state_dict(
                    {k: e_(v) for k, v in sd.items()}))


@pytest.mark.parametrize("make, shape", [
    (lambda L: L.nn.LayerNorm(5), (2, 3, 5)),
    (lambda L: L.nn.LayerNorm([3, 5], eps=1e-3), (2, 3, 5)),
    (lambda L: L.nn.LayerNorm(L.Size([5])), (4, 5)),
    (lambda L: L.nn.LayerNorm(5, elementwise_affine=False), (2, 3, 5)),
    (lambda L: L.nn.LayerNorm(5, bias=False), (2, 3, 5)),
    (lambda L: L.nn.LayerNorm(5, dtype=L.float64), (3, 5)),
    (lambda L: L.nn.GroupNorm(2, 4), (3, 4, 5)),
    (lambda L: L.nn.GroupNorm(1, 4, eps=1e-3), (3, 4, 2, 2)),
    (lambda L: L.nn.GroupNorm(4, 4, affine=False), (3, 4, 5)),
    (lambda L: L.nn.GroupNorm(2, 4, bias=False), (3, 4, 3)),
    (lambda L: L.nn.RMSNorm(5), (2, 3, 5)),
    (lambda L: L.nn.RMSNorm([3, 5], eps=1e-4), (2, 3, 5)),
    (lambda L: L.nn.RMSNorm(5, elementwise_affine=False), (2, 5)),
    (lambda L: L.nn.LocalResponseNorm(2), (2, 5, 3)),
    (lambda L: L.nn.LocalResponseNorm(3, alpha=1e-2, beta=0.5, k=2.0), (2, 5, 3, 2)),
    (lambda L: L.nn.CrossMapLRN2d(3, alpha=0.1), (2, 6, 3, 3)),
    (lambda L: L.nn.CrossMapLRN2d(4, alpha=0.1, beta=0.5, k=2), (2, 3, 2, 2)),
    (lambda L: L.nn.CrossMapLRN2d(5, alpha=0.2), (2, 7, 2, 3)),
])
def test_feature_norms(make, shape):
    x = torch.randn(*shape, dtype=make(torch).weight.dtype
                    if getattr(make(torch), "weight", None) is not None else torch.float32)
    check_module(make, x)
    check_module(make, x, train=False)


def test_layer_norm_attributes_and_errors():
    t, e = pair(lambda L: L.nn.LayerNorm([2, 3]))
    assert e.normalized_shape == (2, 3) and e.weight.shape == (2, 3)
    raises_within(lambda: t(torch.ones(3, 4)), lambda: e(ember.ones(3, 4)))
    raises_like(lambda: torch.nn.GroupNorm(3, 4), lambda: ember.nn.GroupNorm(3, 4))
    raises_within(lambda: torch.nn.GroupNorm(2, 4)(torch.ones(2, 6)),
                lambda: ember.nn.GroupNorm(2, 4)(ember.ones(2, 6)))
    raises_like(lambda: torch.nn.LocalResponseNorm(2)(torch.ones(2, 3)),
                lambda: ember.nn.LocalResponseNorm(2)(ember.ones(2, 3)))
    raises_like(lambda: torch.nn.CrossMapLRN2d(3)(torch.ones(2, 3, 4)),
                lambda: ember.nn.CrossMapLRN2d(3)(ember.ones(2, 3, 4)))


def test_norm_modules_in_a_training_loop():
    def make(L):
        L.manual_seed(0)
        return L.nn.Sequential(L.nn.Linear(6, 8), L.nn.BatchNorm1d(8), L.nn.ReLU(),
                               L.nn.Linear(8, 8), L.nn.LayerNorm(8), L.nn.GELU(),
                               L.nn.Linear(8, 3))
    t, e = pair(make)
    ot = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    oe = ember.optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
    for _ in range(4):
        x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
        for m, o, xx, yy, lib in ((t, ot, x, y, torch), (e, oe, e_(x), e_(y), ember)):
            o.zero_grad()
            lib.nn.functional.cross_entropy(m(xx), yy).backward()
            o.step()
    for a, b in zip(t.state_dict().values(), e.state_dict().values()):
        close(a, b, rtol=1e-4, atol=1e-5)
    t.eval()
    e.eval()
    x = torch.randn(5, 6)
    close(t(x), e(e_(x)), rtol=1e-4, atol=1e-5)


def test_momentum_none_is_a_cumulative_average():
    m = ember.nn.BatchNorm1d(2, momentum=None)
    xs = [ember.randn(8, 2) for _ in range(3)]
    for x in xs:
        m(x)
    close(m.running_mean, ember.stack([x.mean(0) for x in xs]).mean(0))
    close(m.running_var, ember.stack([x.var(0) for x in xs]).mean(0))


def test_norm_reprs_match():
    for make in [lambda L: L.nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False),
                 lambda L: L.nn.SyncBatchNorm(4, track_running_stats=False, bias=False),
                 lambda L: L.nn.InstanceNorm3d(2, affine=True),
                 lambda L: L.nn.LayerNorm((2, 3), elementwise_affine=False),
                 lambda L: L.nn.GroupNorm(2, 6, affine=False), lambda L: L.nn.RMSNorm(3),
                 lambda L: L.nn.RMSNorm([2, 3], 1e-5, False),
                 lambda L: L.nn.LocalResponseNorm(3), lambda L: L.nn.CrossMapLRN2d(3, k=2)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert repr(make(ember)) == text(repr(make(torch)))


def test_norm_modules_pickle_and_cast():
    m = ember.nn.BatchNorm2d(3)
    m(ember.randn(2, 3, 2, 2))
    m.double()
    assert m.num_batches_tracked.dtype is ember.int64 and m.running_mean.dtype is ember.float64
    back = pickle.loads(pickle.dumps(m))
    assert repr(back) == repr(m) and int(back.num_batches_tracked) == 1
    same(back.running_var, m.running_var)
    ln = copy.deepcopy(ember.nn.LayerNorm(4))
    assert ln.weight.shape == (4,) and type(ln.weight) is ember.nn.Parameter
