"""Module hooks against torch: forward pre/post hooks, full backward hooks and pre-hooks,
global hooks, registration hooks; call order and arguments."""

from __future__ import annotations

import warnings

import pytest
import torch

import ember
from ember.nn.modules import module as emod

from .util import block_classes, raises_like


def _v(g):
    return None if g is None else [round(x, 4) for x in g.detach().reshape(-1).tolist()]


def _two(lib):
    class Two(lib.nn.Module):
        def forward(self, a, b, k=1.0):
            return a * b * k, a + 1

    return Two()


def test_forward_hooks_order_kwargs_prepend_and_replacement():
    def run(lib):
        log = []
        m = _two(lib)
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre", len(args))))
        m.register_forward_pre_hook(
            lambda mod, args, kw: (log.append(("prekw", sorted(kw))), (args, {"k": 3.0}))[1],
            with_kwargs=True, prepend=True)
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # single value -> tuple
        m.register_forward_pre_hook(lambda mod, args: (args[0], lib.ones(2) * 10))
        m.register_forward_hook(lambda mod, args, out: log.append(("fwd", _v(out[0]))))
        m.register_forward_hook(
            lambda mod, args, kw, out: (log.append(("fwdkw", kw)), (out[1],))[1],
            with_kwargs=True)
        h = m.register_forward_hook(lambda mod, args, out: log.append("removed"))
        h.remove()
        with m.register_forward_hook(lambda mod, args, out: log.append("ctx")):
            out = m(lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0]), k=2.0)
        log.append(_v(out[0]))
        m(lib.ones(2), lib.ones(2))
        return log
    assert run(ember) == run(torch)


def test_pre_hook_bad_return_and_always_call():
    def run(lib):
        log = []

        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Boom()
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)),
                                always_call=True)
        m.register_forward_hook(lambda mod, args, kw, out: log.append(("always_kw", kw)),
                                always_call=True, with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("not"))
        m.register_forward_hook(lambda mod, args, out: 1 / 0, always_call=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="boom"):
                m(lib.ones(1))
        log.append([str(x.message).replace("torch", "ember") for x in w])
        return log
    assert run(ember) == run(torch)

    def bad(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        m(lib.ones(1))
    raises_like(lambda: bad(torch), lambda: bad(ember))


def test_full_backward_hooks_arguments_and_replacement():
    def run(lib):
        log = []
        m = _two(lib)

        def pre(mod, go):
            log.append(("bwpre", [_v(g) for g in go]))
            return (go[0] * 2, go[1])

        def hook(mod, gi, go):
            log.append(("bw", [_v(g) for g in gi], [_v(g) for g in go]))
            return (gi[0] * 10, gi[1], gi[2])

        m.register_full_backward_pre_hook(pre)
        m.register_full_backward_hook(hook)
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("first", _v(gi[0]))),
                                      prepend=True)
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0])  # needs no grad: the hook sees zeros for it
        y1, y2 = m(a, b, 5)
        log.append(y1.grad_fn.name() if lib is ember else type(y1.grad_fn).__name__)
        (y1.sum() + (y2 * 3).sum()).backward()
        log.append(("grad", _v(a.grad)))
        return log
    assert run(ember) == run(torch)


def test_backward_hooks_nested_order_and_no_input_grad():
    def run(lib):
        log = []
        _, net = block_classes(lib)
        m = net()
        for name, sub in m.named_modules():
            sub.register_full_backward_hook(
                lambda mod, gi, go, name=name: log.append(("bw", name, [_v(g) for g in gi])))
            sub.register_full_backward_pre_hook(
                lambda mod, go, name=name: log.append(("pre", name)))
        x = lib.ones(2, 4)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(x).sum().backward()  # x needs no grad: hooks fire with None grad_inputs
        log.append(sorted({str(i.category.__name__) for i in w}))
        return log
    assert run(ember) == run(torch)


def test_backward_hook_errors_and_mixing():
    def mixing(lib):
        m = lib.nn.Identity()
        m.register_full_backward_hook(lambda *a: None)
        m.register_backward_hook(lambda *a: None)
    raises_like(lambda: mixing(torch), lambda: mixing(ember))

    def wrong_len(lib):
        m = lib.nn.Identity()
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        m(lib.ones(2, requires_grad=True)).sum().backward()
    raises_like(lambda: wrong_len(torch), lambda: wrong_len(ember))

    def wrong_pre_len(lib):
        m = lib.nn.Identity()
        m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
        m(lib.ones(2, requires_grad=True)).sum().backward()
    raises_like(lambda: wrong_pre_len(torch), lambda: wrong_pre_len(ember))


def test_non_full_backward_hook():
    def run(lib):
        log = []

        class Scale(lib.nn.Module):
            def forward(self, x):
                return x * 3

        m = Scale()
        m.register_backward_hook(lambda mod, gi, go: log.append(
            ([_v(g) for g in gi], [_v(g) for g in go])))
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m(x).sum().backward()
        return log
    assert run(ember) == run(torch)


@pytest.fixture
def clean_globals():
    yield
    emod._global_forward_pre_hooks.clear()
    emod._global_forward_hooks.clear()
    emod._global_forward_hooks_always_called.clear()
    emod._global_forward_hooks_with_kwargs.clear()
    emod._global_backward_hooks.clear()
    emod._global_backward_pre_hooks.clear()
    emod._global_is_full_backward_hook = None
    for d in (emod._global_buffer_registration_hooks, emod._global_module_registration_hooks,
              emod._global_parameter_registration_hooks):
        d.clear()


def test_global_hooks(clean_globals):
    def run(lib):
        log = []
        mm = lib.nn.modules.module
        hs = [
            mm.register_module_forward_pre_hook(
                lambda mod, args: log.append(("gpre", type(mod).__name__))),
            mm.register_module_forward_hook(
                lambda mod, args, out: log.append(("gfwd", type(mod).__name__))),
            mm.register_module_full_backward_pre_hook(
                lambda mod, go: log.append(("gbwpre", type(mod).__name__))),
            mm.register_module_full_backward_hook(
                lambda mod, gi, go: log.append(("gbw", type(mod).__name__, _v(gi[0])))),
        ]
        m = lib.nn.Sequential(lib.nn.Identity(), lib.nn.Flatten(0))
        m[1].register_forward_pre_hook(lambda mod, args: log.append("own pre"))
        x = lib.ones(2, 2, requires_grad=True)
        m(x).sum().backward()
        for h in hs:
            h.remove()
        m(x)
        with pytest.raises(RuntimeError, match="global Module hook"):
            mm.register_module_backward_hook(lambda *a: None)
        return log
    got = run(ember)
    emod._global_is_full_backward_hook = None
    torch.nn.modules.module._global_is_full_backward_hook = None
    assert got == run(torch)
    torch.nn.modules.module._global_is_full_backward_hook = None


def test_registration_hooks(clean_globals):
    def run(lib):
        log = []
        mm = lib.nn.modules.module
        hs = [
            mm.register_module_buffer_registration_hook(
                lambda mod, name, t: (log.append(("buf", name)), t * 2)[1]),
            mm.register_module_module_registration_hook(
                lambda mod, name, sub: log.append(("mod", name))),
            mm.register_module_parameter_registration_hook(
                lambda mod, name, p: log.append(("param", name))),
        ]
        m = lib.nn.Module()
        m.register_buffer("b", lib.ones(1))
        m.sub = lib.nn.Identity()
        m.p = lib.nn.Parameter(lib.ones(1))
        log.append(m.b.tolist())
        for h in hs:
            h.remove()
        m.c = lib.nn.Identity()
        return log
    assert run(ember) == run(torch)


def test_fast_path_has_no_hook_overhead_structure():
    m = ember.nn.Identity()
    x = ember.ones(1)
    assert m(x) is x
    h = m.register_forward_hook(lambda *a: None)
    assert m(x) is x
    h.remove()
    assert not m._forward_hooks and not m._forward_hooks_with_kwargs
