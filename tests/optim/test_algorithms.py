"""Every optimizer and option against PyTorch: the same model, data and steps, parameters
compared after each step (float64)."""

import numpy as np
import pytest
import torch

import ember
from ember.optim import _multi_tensor

from .helpers import Model, assert_close, to_ember, to_torch

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.9))),
    ("Adam", dict(lr=0.05, maximize=True, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, amsgrad=True, maximize=True, eps=1e-3)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True, betas=(0.5, 0.6))),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, betas=(0.9, 0.5))),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.5, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.3, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-3)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1, maximize=True, eps=1e-3)),
    ("ASGD", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1, t0=3, lambd=0.1, alpha=0.5, weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.1)),
    ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("Adafactor", dict(lr=0.05)),
    ("Adafactor", dict(lr=0.05, weight_decay=0.1, maximize=True, d=1.5, beta2_decay=-0.5,
                       eps=(1e-4, 1e-3))),
]


@pytest.fixture(autouse=True)
def _float64():
    # the step counters then are float64 in both libraries (PyTorch's _get_scalar_dtype)
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def _pair(name, kw, foreach, groups=True, big=False):
    em, tm = Model(ember, big=big), Model(torch, big=big)

    def make(lib, m):
        ps = m.params
        if groups:  # two groups, the second with its own lr
            params = [{"params": ps[:2]}, {"params": ps[2:], "lr": kw["lr"] / 2}]
        else:
            params = ps
        extra = {} if foreach is None else {"foreach": foreach}
        return getattr(lib.optim, name)(params, **kw, **extra)

    return em, tm, make(ember, em), make(torch, tm)


def _steps(em, tm, eo, to, n):
    for _ in range(n):
        em.closure(eo)()
        tm.closure(to)()
        eo.step()
        to.step()
        assert_close(em, tm)


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory(name, kw, foreach, monkeypatch):
    # a tiny chunk exercises the multi-tensor blocking: merged small params, split large ones
    monkeypatch.setattr(_multi_tensor, "CHUNK", 8)
    em, tm, eo, to = _pair(name, kw, foreach)
    _steps(em, tm, eo, to, 4)
    # the frozen and the unused parameter never moved and have no state
    assert em.p["unused"].grad is None
    assert len(eo.state.get(em.p["unused"], {})) == (2 if name == "Adagrad" else 0)
    sd_e, sd_t = eo.state_dict(), to.state_dict()
    assert sd_e["param_groups"] == sd_t["param_groups"]
    assert sd_e["state"].keys() == sd_t["state"].keys()
    for k in sd_t["state"]:
        assert sd_e["state"][k].keys() == sd_t["state"][k].keys()
        for key, v in sd_t["state"][k].items():
            e = sd_e["state"][k][key]
            if isinstance(v, torch.Tensor):
                assert e.dtype.name == str(v.dtype).split(".")[1] and tuple(e.shape) == v.shape
                np.testing.assert_allclose(e.numpy(), v.numpy(), rtol=1e-12, atol=1e-14)
            else:
                assert e == v


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] != "Adafactor"][::3])
def test_load_state_dict_midway_both_ways(name, kw):
    em, tm, eo, to = _pair(name, kw, foreach=None)
    _steps(em, tm, eo, to, 2)
    # torch's state into a fresh ember optimizer, ember's into a fresh torch optimizer
    em2, tm2, eo2, to2 = _pair(name, kw, foreach=None)
    for a, b in zip(em2.params, em.params):
        a.data.copy_(b.detach())
    for a, b in zip(tm2.params, tm.params):
        a.data.copy_(b.detach())
    eo2.load_state_dict(to_ember(to.state_dict()))
    to2.load_state_dict(to_torch(eo.state_dict()))
    _steps(em2, tm2, eo2, to2, 2)
    _steps(em, tm, eo, to, 2)
    for name_ in em.p:
        np.testing.assert_allclose(em.p[name_].detach().numpy(),
                                   em2.p[name_].detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("Adagrad", dict(lr=0.1)), ("AdamW", dict(lr=0.01))])
def test_fused_and_large_params(name, kw):
    """fused runs on CPU (as in PyTorch) and a parameter above the chunk size is split."""
    em, tm, eo, to = _pair(name, dict(kw), None, groups=False, big=True)
    eo = getattr(ember.optim, name)(em.params, fused=True, **kw)
    to = getattr(torch.optim, name)(tm.params, fused=True, **kw)
    _steps(em, tm, eo, to, 3)


def test_foreach_matches_for_loop(monkeypatch):
    monkeypatch.setattr(_multi_tensor, "CHUNK", 16)
    a, _, oa, _ = _pair("Adam", dict(lr=0.05, amsgrad=True), False)
    b, _, ob, _ = _pair("Adam", dict(lr=0.05, amsgrad=True), True)
    for _ in range(3):
        for m, o in ((a, oa), (b, ob)):
            m.closure(o)()
            o.step()
    assert_close(a, b, rtol=1e-14, atol=1e-15)


def test_complex_params():
    rs = np.random.RandomState(0)
    v = rs.randn(3) + 1j * rs.randn(3)
    for name in ("Adam", "SGD", "RMSprop"):
        for foreach in (False, True):
            pe = ember.tensor(v, requires_grad=True)
            pt = torch.tensor(v, requires_grad=True)
            oe = getattr(ember.optim, name)([pe], lr=0.1, foreach=foreach)
            ot = getattr(torch.optim, name)([pt], lr=0.1, foreach=foreach)
            for _ in range(3):
                for p, o in ((pe, oe), (pt, ot)):
                    o.zero_grad()
                    ((p * p.conj()).real.sum() + p.real.sum()).backward()
                    o.step()
                np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(),
                                           rtol=1e-12)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs(line_search_fn):
    # (PyTorch's LBFGS views gradients flat, which fails for a non-contiguous parameter)
    em, tm = Model(ember, noncontig=False), Model(torch, noncontig=False)
    kw = dict(lr=0.5, max_iter=6, history_size=3, line_search_fn=line_search_fn)
    eo = ember.optim.LBFGS(em.params, **kw)
    to = torch.optim.LBFGS(tm.params, **kw)
    for _ in range(3):
        le, lt = eo.step(em.closure(eo)), to.step(tm.closure(to))
        assert abs(float(le) - float(lt.detach())) <= 1e-12 * abs(float(lt.detach()))
        assert_close(em, tm, rtol=1e-10)
    assert eo.state[em.params[0]]["func_evals"] == to.state[tm.params[0]]["func_evals"]
    assert eo.state[em.params[0]]["n_iter"] == to.state[tm.params[0]]["n_iter"]
    with pytest.raises(ValueError, match="per-parameter options"):
        ember.optim.LBFGS([{"params": [em.params[0]]}, {"params": [em.params[1]]}])


def test_lr_as_tensor():
    em, tm = Model(ember), Model(torch)
    eo = ember.optim.Adam(em.params, lr=ember.tensor(0.05))
    to = torch.optim.Adam(tm.params, lr=torch.tensor(0.05))
    _steps(em, tm, eo, to, 2)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
            lib.optim.Adam([lib.zeros(2, requires_grad=True)], lr=lib.tensor(0.1), foreach=True)
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2]))


DIFFERENTIABLE = ["SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSprop", "Adagrad",
                  "Adadelta", "ASGD", "Rprop"]


def test_differentiable_step_is_recorded():
    """differentiable=True: the updates are part of the graph (gradients through two steps to
    the initial weights, and to a tensor lr for SGD and Adam)."""
    out = {}
    for lib in (ember, torch):
        w0 = lib.tensor([0.5, -0.3], dtype=lib.float64, requires_grad=True)
        lr_t = lib.tensor(0.1, dtype=lib.float64, requires_grad=True)
        for name in DIFFERENTIABLE:
            kw = dict(centered=True, momentum=0.5) if name == "RMSprop" else {}
            for lr in (0.1, lr_t) if name in ("SGD", "Adam") else (0.1,):
                w = w0.clone()
                opt = getattr(lib.optim, name)([w], lr=lr, differentiable=True, **kw)
                for _ in range(2):
                    w.grad = (2 * w).detach()
                    opt.step()
                gs = lib.autograd.grad((w ** 2).sum(), [w0, lr_t] if lr is lr_t else [w0])
                out.setdefault((name, lr is lr_t), []).append(
                    np.concatenate([g.detach().numpy().reshape(-1) for g in gs]))
        # SGD's momentum buffer is updated in place after the update saved it: both raise
        w = w0.clone()
        opt = lib.optim.SGD([w], lr=lr_t, momentum=0.9, differentiable=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            for _ in range(2):
                w.grad = (2 * w).detach()
                opt.step()
            lib.autograd.grad((w ** 2).sum(), lr_t)
    for key, (ge, gt) in out.items():
        np.testing.assert_allclose(ge, gt, rtol=1e-12, err_msg=str(key))


def test_sparse_adam_dense_gradient_error():
    for lib in (ember, torch):
        p = lib.zeros(3, requires_grad=True)
        opt = lib.optim.SparseAdam([p])
        opt.step()  # no gradient: nothing to do
        p.grad = lib.ones(3)
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
            opt.step()
        with pytest.raises(ValueError, match="Invalid learning rate"):
            lib.optim.SparseAdam([p], lr=0.0)
        with pytest.raises(ValueError, match="does not support complex parameters"):
            lib.optim.SparseAdam([lib.zeros(2, dtype=lib.complex64, requires_grad=True)])
