"""Every scheduler's learning-rate sequence against PyTorch's over several hundred steps."""

import warnings

import pytest
import torch

import ember

S = "lr_scheduler"


def _opt(lib, name="SGD", **kw):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(2, requires_grad=True)
    opt = getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1,
                                   **kw)
    return opt


def _sched(lib, opt, spec):
    m = getattr(lib.optim, S)
    cls, kw = spec
    if cls == "SequentialLR":
        return m.SequentialLR(opt, [m.LinearLR(opt, start_factor=0.2, total_iters=10),
                                    m.ExponentialLR(opt, gamma=0.99),
                                    m.CosineAnnealingLR(opt, T_max=50)], milestones=[10, 120])
    if cls == "ChainedScheduler":
        return m.ChainedScheduler([m.ConstantLR(opt, factor=0.5, total_iters=7),
                                   m.ExponentialLR(opt, gamma=0.995)])
    return getattr(m, cls)(opt, **kw)


SPECS = [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.97 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.99 ** e])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.995)),
    ("StepLR", dict(step_size=30, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[20, 50, 50, 140], gamma=0.3)),
    ("ConstantLR", dict(factor=0.25, total_iters=40)),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=77)),
    ("ExponentialLR", dict(gamma=0.99)),
    ("PolynomialLR", dict(total_iters=150, power=2.0)),
    ("CosineAnnealingLR", dict(T_max=37, eta_min=0.001)),
    ("SequentialLR", {}),
    ("ChainedScheduler", {}),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=13, step_size_down=7)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=10, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=10, mode="exp_range",
                      gamma=0.99)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=300)),
    ("OneCycleLR", dict(max_lr=[0.3, 0.2], epochs=10, steps_per_epoch=30,
                        anneal_strategy="linear", three_phase=True)),
    ("CosineAnnealingWarmRestarts", dict(T_0=10, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7)),
]


def _run(lib, spec, n=300, opt_name="SGD", opt_kw=None):
    opt = _opt(lib, opt_name, **({"momentum": 0.9} if opt_kw is None else opt_kw))
    sched = _sched(lib, opt, spec)
    lrs, moms = [], []
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        g = opt.param_groups[0]
        moms.append(g["betas"][0] if "betas" in g else g.get("momentum"))
    return lrs, moms, sched


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s[0]}-{i}" for i, s in enumerate(SPECS)])
def test_lr_sequence(spec):
    n = 299 if spec[0] == "OneCycleLR" else 300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        le, me, se = _run(ember, spec, n)
        lt, mt, st = _run(torch, spec, n)
    assert le == lt
    assert me == mt
    sde, sdt = se.state_dict(), st.state_dict()
    assert set(sde) == set(sdt)
    for k in ("last_epoch", "base_lrs", "_last_lr", "_step_count"):
        assert sde.get(k) == sdt.get(k), k


def test_cycle_momentum_with_adam_betas():
    spec = ("OneCycleLR", dict(max_lr=0.3, total_steps=100))
    le, me, _ = _run(ember, spec, 99, "Adam", {})
    lt, mt, _ = _run(torch, spec, 99, "Adam", {})
    assert le == lt and me == mt


def test_reduce_lr_on_plateau():
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.9, 0.9, 0.89, 0.7] * 30
    for kw in (dict(patience=2, factor=0.5), dict(mode="max", patience=1, cooldown=2,
                                                   threshold_mode="abs", min_lr=[0.01, 0.02])):
        out = []
        for lib in (ember, torch):
            opt = _opt(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            seq = []
            for m in metrics:
                opt.step()
                sched.step(m)
                seq.append(sched.get_last_lr())
            out.append((seq, sched.num_bad_epochs, sched.best, sched.last_epoch))
        assert out[0] == out[1]


def test_state_dict_roundtrip_resumes():
    spec = ("CosineAnnealingLR", dict(T_max=20))
    opt = _opt(ember)
    s = _sched(ember, opt, spec)
    for _ in range(7):
        opt.step()
        s.step()
    sd = s.state_dict()
    opt2 = _opt(ember)
    opt2.load_state_dict(opt.state_dict())
    s2 = _sched(ember, opt2, spec)
    s2.load_state_dict(sd)
    for _ in range(5):
        for o, sc in ((opt, s), (opt2, s2)):
            o.step()
            sc.step()
        assert s.get_last_lr() == s2.get_last_lr()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_warnings_and_errors(lib):
    m = lib.optim.lr_scheduler
    opt = _opt(lib)
    sched = m.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
        sched.step(5)
    assert sched.last_epoch == 5
    with pytest.raises(TypeError, match="is not an Optimizer"):
        m.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
        m.StepLR(_opt(lib), step_size=2, last_epoch=3)
    with pytest.raises(TypeError):
        m.StepLR(_opt(lib), step_size=2, verbose=True)  # removed in PyTorch 2.13
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s = m.OneCycleLR(_opt(lib), max_lr=0.1, total_steps=3)
        for _ in range(4):
            s.optimizer.step()
            s.step()
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        m.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        m.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="lr_lambdas"):
        m.LambdaLR(opt, lr_lambda=[lambda e: 1.0])
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        m.CyclicLR(lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), 0.1, 1.0)


def test_tensor_lr_is_filled_in_place():
    out = []
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([p], lr=lr)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        opt.step()
        sched.step()
        assert opt.param_groups[0]["lr"] is lr
        out.append(float(lr))
    assert out[0] == out[1]
