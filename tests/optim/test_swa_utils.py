"""optim.swa_utils against torch: averaged parameters (SWA, EMA, custom avg_fn, buffers),
SWALR learning-rate sequences, update_bn's statistics, state dicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.optim import swa_utils as tswa

import ember
from ember.optim import swa_utils as eswa

from ..nn.test_activation_modules import pair
from ..nn.util import close, e_, raises_like


def _net(L):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(4, 6), L.nn.BatchNorm1d(6), L.nn.ReLU(),
                           L.nn.Linear(6, 2))


def _train_step(lib, model, opt, x, y):
    opt.zero_grad()
    lib.nn.functional.mse_loss(model(x), y).backward()
    opt.step()


def _averaging_run(make_avg, steps=4):
    """Train the same net in torch and ember, averaging after each step."""
    t, e = pair(_net)
    at, ae = make_avg(tswa, t), make_avg(eswa, e)
    assert repr(ae) == repr(at)
    ot = torch.optim.SGD(t.parameters(), lr=0.1)
    oe = ember.optim.SGD(e.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x, y = torch.randn(8, 4, generator=gen), torch.randn(8, 2, generator=gen)
        _train_step(torch, t, ot, x, y)
        _train_step(ember, e, oe, e_(x), e_(y))
        at.update_parameters(t)
        ae.update_parameters(e)
        assert list(ae.state_dict()) == list(at.state_dict())
        for (k, a), b in zip(at.state_dict().items(), ae.state_dict().values()):
            close(a, b, rtol=1e-5, atol=1e-6)
            assert str(b.dtype).split(".")[1] == str(a.dtype).split(".")[1], k
    return at, ae


@pytest.mark.parametrize("make_avg", [
    lambda swa, m: swa.AveragedModel(m),
    lambda swa, m: swa.AveragedModel(m, use_buffers=True),
    lambda swa, m: swa.AveragedModel(m, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9)),
    lambda swa, m: swa.AveragedModel(m, multi_avg_fn=swa.get_ema_multi_avg_fn(0.5),
                                     use_buffers=True),
    lambda swa, m: swa.AveragedModel(m, multi_avg_fn=swa.get_swa_multi_avg_fn()),
    lambda swa, m: swa.AveragedModel(m, avg_fn=swa.get_ema_avg_fn(0.8)),
    lambda swa, m: swa.AveragedModel(m, avg_fn=swa.get_swa_avg_fn(), use_buffers=True),
    lambda swa, m: swa.AveragedModel(m, avg_fn=lambda a, p, n: 0.25 * a + 0.75 * p),
])
def test_averaged_model_matches_torch(make_avg):
    at, ae = _averaging_run(make_avg)
    assert int(ae.n_averaged) == int(at.n_averaged) == 4
    x = torch.randn(5, 4)
    at.eval()
    ae.eval()
    close(at(x), ae(e_(x)), atol=1e-5)


def test_swa_is_the_mean_of_the_snapshots():
    model = ember.nn.Linear(3, 2)
    avg = eswa.AveragedModel(model)
    snaps = []
    for i in range(5):
        with ember.no_grad():
            model.weight.fill_(float(i * i))
        snaps.append(model.weight.detach().clone())
        avg.update_parameters(model)
    close(avg.module.weight, ember.stack(snaps).mean(0))
    assert avg.module.weight is not model.weight
    assert list(avg.state_dict()) == ["n_averaged", "module.weight", "module.bias"]


def test_averaged_model_keeps_integer_buffers_and_device():
    avg = eswa.AveragedModel(ember.nn.BatchNorm1d(3), device="cpu", use_buffers=True,
                             multi_avg_fn=eswa.get_ema_multi_avg_fn(0.5))
    assert avg.n_averaged.dtype is ember.int64 and avg.n_averaged.device.type == "cpu"
    m = ember.nn.BatchNorm1d(3)
    for _ in range(3):
        m(ember.randn(4, 3))
        avg.update_parameters(m)
    t = tswa.AveragedModel(torch.nn.BatchNorm1d(3), use_buffers=True,
                           multi_avg_fn=tswa.get_ema_multi_avg_fn(0.5))
    tm = torch.nn.BatchNorm1d(3)
    for _ in range(3):
        tm(torch.randn(4, 3))
        t.update_parameters(tm)
    assert int(avg.module.num_batches_tracked) == int(t.module.num_batches_tracked)


def test_avg_fn_errors():
    raises_like(lambda: tswa.AveragedModel(torch.nn.ReLU(), avg_fn=tswa.get_swa_avg_fn(),
                                           multi_avg_fn=tswa.get_swa_multi_avg_fn()),
                lambda: eswa.AveragedModel(ember.nn.ReLU(), avg_fn=eswa.get_swa_avg_fn(),
                                           multi_avg_fn=eswa.get_swa_multi_avg_fn()))
    for f in ("get_ema_avg_fn", "get_ema_multi_avg_fn"):
        raises_like(lambda f=f: getattr(tswa, f)(1.5), lambda f=f: getattr(eswa, f)(1.5))


def _lrs(lib, swa, steps, **kw):
    model = lib.nn.Linear(2, 1)
    opt = lib.optim.SGD([{"params": [model.weight], "lr": 0.5},
                         {"params": [model.bias], "lr": 0.05}], lr=0.1)
    sched = swa.SWALR(opt, **kw)
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out, sched


@pytest.mark.parametrize("kw", [
    {"swa_lr": 0.01},
    {"swa_lr": 0.2, "anneal_epochs": 3, "anneal_strategy": "linear"},
    {"swa_lr": [0.01, 0.3], "anneal_epochs": 4, "anneal_strategy": "cos"},
    {"swa_lr": 0.05, "anneal_epochs": 0},
])
def test_swalr_lr_sequence_matches_torch(kw):
    lt, st = _lrs(torch, tswa, 12, **kw)
    le, se = _lrs(ember, eswa, 12, **kw)
    assert le == lt
    assert set(se.state_dict()) == set(st.state_dict())
    sd = se.state_dict()
    assert "anneal_func" not in sd and "optimizer" not in sd
    fresh = _lrs(ember, eswa, 0, **kw)[1]
    fresh.load_state_dict(sd)
    assert fresh.anneal_func == se.anneal_func and fresh._step_count == se._step_count


def test_swalr_after_another_scheduler():
    def run(lib, swa):
        model = lib.nn.Linear(2, 1)
        opt = lib.optim.SGD(model.parameters(), lr=1.0)
        first = lib.optim.lr_scheduler.StepLR(opt, 2, 0.5)
        lrs = []
        for _ in range(4):
            opt.step()
            first.step()
        sched = swa.SWALR(opt, swa_lr=0.1, anneal_epochs=3)
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        return lrs
    assert run(ember, eswa) == run(torch, tswa)


def test_swalr_errors_and_warning():
    for kw in [{"anneal_strategy": "exp"}, {"anneal_epochs": -1}, {"anneal_epochs": 1.5},
               {"swa_lr": [0.1, 0.2]}]:
        args = {"swa_lr": 0.1, **kw}
        raises_like(lambda args=args: tswa.SWALR(torch.optim.SGD([torch.zeros(1)], lr=1),
                                                 **args),
                    lambda args=args: eswa.SWALR(ember.optim.SGD([ember.zeros(1)], lr=1),
                                                 **args))
    sched = eswa.SWALR(ember.optim.SGD([ember.zeros(1)], lr=1), swa_lr=0.1)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


@pytest.mark.parametrize("as_tuple", [False, True])
def test_update_bn_matches_torch(as_tuple):
    def run(lib, swa):
        model = _net(lib)
        model[1].momentum = 0.3
        model.eval()
        gen = torch.Generator().manual_seed(2)
        data = [torch.randn(6, 4, generator=gen) * 3 + 1 for _ in range(4)]
        loader = [(lib.tensor(x.numpy()), 0) if as_tuple else lib.tensor(x.numpy())
                  for x in data]
        swa.update_bn(loader, model)
        return model
    t, e = run(torch, tswa), run(ember, eswa)
    close(t[1].running_mean, e[1].running_mean)
    close(t[1].running_var, e[1].running_var, rtol=1e-5)
    assert int(e[1].num_batches_tracked) == int(t[1].num_batches_tracked) == 4
    assert e[1].momentum == 0.3 and not e.training


def test_update_bn_without_batch_norm_and_with_device():
    model = ember.nn.Linear(2, 2)
    eswa.update_bn([ember.ones(1, 2)], model)  # nothing to do
    model = ember.nn.Sequential(ember.nn.BatchNorm1d(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eswa.update_bn([ember.randn(5, 2), ember.randn(5, 2)], model, device="cpu")
    assert model.training and np.isfinite(model[0].running_var.numpy()).all()


def test_exported_names():
    assert set(eswa.__all__) == set(tswa.__all__)
    assert ember.optim.swa_utils is eswa
