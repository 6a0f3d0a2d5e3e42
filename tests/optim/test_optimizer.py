"""The Optimizer base class against PyTorch: groups, errors, hooks, zero_grad, state dicts."""

import importlib
import re
import warnings

import pytest
import torch

import ember


def _leaf(lib, n=3):
    return lib.ones(n, requires_grad=True)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_errors_as_pytorch(lib):
    a, b = _leaf(lib), _leaf(lib)
    cases = [
        (lambda: lib.optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda: lib.optim.SGD(a, lr=0.1), TypeError, "should be an iterable of Tensors"),
        (lambda: lib.optim.SGD([a * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda: lib.optim.SGD([a, 3], lr=0.1), TypeError, "optimizer can only optimize Tensors"),
        (lambda: lib.optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1), ValueError,
         "some parameters appear in more than one parameter group"),
        (lambda: lib.optim.SGD([{"params": {a}}], lr=0.1), TypeError, "ordered collections"),
        (lambda: lib.optim.SGD([("a", a), b], lr=0.1), ValueError, "Some param names"),
        (lambda: lib.optim.SGD([a], lr=-1), ValueError, "Invalid learning rate: -1"),
        (lambda: lib.optim.SGD([a], lr=0.1, momentum=-1), ValueError,
         "Invalid momentum value: -1"),
        (lambda: lib.optim.SGD([a], lr=0.1, nesterov=True), ValueError,
         "Nesterov momentum requires a momentum and zero dampening"),
        (lambda: lib.optim.SGD([a], lr=0.1, fused=True, foreach=True), RuntimeError,
         "`fused` and `foreach` cannot be `True` together."),
        (lambda: lib.optim.Adam([a], lr=0.1, fused=True, differentiable=True), RuntimeError,
         "`fused` does not support `differentiable`"),
        (lambda: lib.optim.Adam([a], betas=(1.0, 0.9)), ValueError,
         "Invalid beta parameter at index 0: 1.0"),
        (lambda: lib.optim.Adam([a], betas=(0.9, -0.1)), ValueError,
         "Invalid beta parameter at index 1: -0.1"),
        (lambda: lib.optim.Adam([a], eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
        (lambda: lib.optim.AdamW([a], weight_decay=-1.0), ValueError,
         "Invalid weight_decay value: -1.0"),
        (lambda: lib.optim.NAdam([a], momentum_decay=-1.0), ValueError,
         "Invalid momentum_decay value: -1.0"),
        (lambda: lib.optim.RMSprop([a], alpha=-1.0), ValueError, "Invalid alpha value: -1.0"),
        (lambda: lib.optim.Adagrad([a], lr_decay=-1.0), ValueError,
         "Invalid lr_decay value: -1.0"),
        (lambda: lib.optim.Adagrad([a], initial_accumulator_value=-1.0), ValueError,
         "Invalid initial_accumulator_value value: -1.0"),
        (lambda: lib.optim.Adadelta([a], rho=1.5), ValueError, "Invalid rho value: 1.5"),
        (lambda: lib.optim.Rprop([a], etas=(1.5, 1.2)), ValueError,
         "Invalid eta values: 1.5, 1.2"),
        (lambda: lib.optim.Adafactor([a], d=0.5), ValueError,
         "Clipping threshold d should be >= 1 but is: 0.5"),
        (lambda: lib.optim.Adafactor([a], beta2_decay=0.5), ValueError,
         "beta2_decay should be <= 0 but is: 0.5"),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=re.escape(msg)):
            fn()
    with pytest.warns(UserWarning, match="duplicate parameters"):
        lib.optim.SGD([a, a], lr=0.1)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_capturable_on_cpu_raises_at_step(lib):
    a = _leaf(lib)
    a.grad = lib.ones(3)
    opt = lib.optim.Adam([a], capturable=True)
    with pytest.raises(AssertionError, match="If capturable=True, params and state_steps must"):
        opt.step()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_groups_defaults_repr_and_add_param_group(lib):
    a, b, c = _leaf(lib), _leaf(lib), _leaf(lib)
    opt = lib.optim.SGD([{"params": a}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [c]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([c])
    r = repr(opt)
    assert r.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    named = lib.optim.Adam([("w", a), ("v", b)])
    assert named.param_groups[0]["param_names"] == ["w", "v"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "v"]
    with pytest.raises(ValueError, match="cannot add param group without names"):
        named.add_param_group({"params": [c]})


def test_repr_matches():
    em = ember.optim.Adam([_leaf(ember)], lr=0.1)
    tm = torch.optim.Adam([_leaf(torch)], lr=0.1)
    assert repr(em) == repr(tm)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_zero_grad(lib):
    a = _leaf(lib)
    opt = lib.optim.SGD([a], lr=0.1)
    (a * 2).sum().backward()
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and a.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_step_hooks(lib):
    a = _leaf(lib)
    a.grad = lib.ones(3)
    opt = lib.optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kw: calls.append(("post", args)))
    mod = importlib.import_module(lib.__name__ + ".optim.optimizer")
    g1 = mod.register_optimizer_step_pre_hook(lambda o, args, kw: calls.append(("gpre",)))
    g2 = mod.register_optimizer_step_post_hook(
        lambda o, args, kw: calls.append(("gpost",)))
    opt.step()
    assert calls == [("gpre",), ("pre", True), ("post", (opt,)), ("gpost",)]
    for h in (h1, h2, g1, g2):
        h.remove()
    calls.clear()
    opt.step()
    assert calls == []
    # a pre hook may replace step's arguments
    h = opt.register_step_pre_hook(lambda o, args, kw: ((o,), {"closure": lambda: 7.0}))
    assert opt.step() == 7.0
    h.remove()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_state_dict_hooks(lib):
    a = _leaf(lib)
    a.grad = lib.ones(3)
    opt = lib.optim.Adam([a])
    opt.step()
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("pre1"))
    opt.register_state_dict_pre_hook(lambda o: order.append("pre0"), prepend=True)

    def post(o, sd):
        order.append("post")
        sd["extra"] = 1
        return sd

    opt.register_state_dict_post_hook(post)
    sd = opt.state_dict()
    assert order == ["pre0", "pre1", "post"] and sd["extra"] == 1

    def load_pre(o, sd):
        order.append("lpre")
        sd = dict(sd)
        sd.pop("extra")
        sd["param_groups"] = [dict(g, lr=0.5) for g in sd["param_groups"]]
        return sd

    opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: order.append("lpost"))
    opt.load_state_dict(sd)
    assert order[-2:] == ["lpre", "lpost"] and opt.param_groups[0]["lr"] == 0.5
    assert opt.param_groups[0]["params"][0] is a


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_load_state_dict_errors(lib):
    a, b = _leaf(lib), _leaf(lib)
    opt = lib.optim.SGD([a, b], lr=0.1)
    sd = opt.state_dict()
    other = lib.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        lib.optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_state_dict_layout_and_dtypes():
    """Integer ids in parameter order; a loaded state takes the parameter's dtype, except
    ``step``; no warning on the PyTorch order of calls."""
    a = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    b = ember.zeros(2, dtype=ember.float64, requires_grad=True)
    opt = ember.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}])
    a.grad, b.grad = ember.ones(3, dtype=ember.float64), ember.ones(2, dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    sd = opt.state_dict()
    assert list(sd["state"]) == [0, 1]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["state"][0]["step"].dtype == ember.float32
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].float()
    opt.load_state_dict(sd)
    assert opt.state[a]["exp_avg"].dtype == ember.float64
    assert opt.state[a]["step"].dtype == ember.float32
