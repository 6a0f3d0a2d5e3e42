"""nn.utils against torch.nn.utils: gradient clipping, parameters <-> vector, functional_call."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import ember

from .util import close, e_, nets, raises_like, same


def _params_with_grads(lib, grads):
    ps = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(g.shape))
        p.grad = lib.tensor(g.numpy()) if lib is ember else g.clone()
        ps.append(p)
    return ps


GRADS = [torch.randn(3, 4), torch.randn(5) * 10, torch.randn(2, 2, 2)]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1e4])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm(norm_type, max_norm, foreach):
    pt, pe = _params_with_grads(torch, GRADS), _params_with_grads(ember, GRADS)
    nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type, foreach=foreach)
    ne = ember.nn.utils.clip_grad_norm_(pe, max_norm, norm_type, foreach=foreach)
    close(nt, ne)
    assert ne.shape == () and not ne.requires_grad
    for a, b in zip(pt, pe):
        close(a.grad, b.grad)


def test_clip_grad_norm_single_tensor_none_grads_and_nonfinite():
    p = ember.nn.Parameter(ember.ones(4))
    p.grad = ember.full((4,), 2.0)
    assert ember.nn.utils.clip_grad_norm_(p, 1.0).item() == 4.0
    close(torch.full((4,), 0.5), p.grad)
    q = ember.nn.Parameter(ember.ones(2))  # no grad: skipped
    assert ember.nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        ember.nn.utils.clip_grad_norm_((x for x in []), 1.0)
    p.grad = ember.tensor([1.0, math.inf, 0.0, 0.0])

    def bad(lib):
        w = lib.nn.Parameter(lib.ones(4))
        w.grad = lib.tensor([1.0, math.inf, 0.0, 0.0])
        lib.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    raises_like(lambda: bad(torch), lambda: bad(ember))
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        ember.nn.utils.clip_grad_norm([q], 1.0)


def test_get_total_norm_and_clip_grads_with_norm():
    pt, pe = _params_with_grads(torch, GRADS), _params_with_grads(ember, GRADS)
    tt = torch.nn.utils.get_total_norm([p.grad for p in pt], 3.0)
    te = ember.nn.utils.get_total_norm([p.grad for p in pe], 3.0)
    close(tt, te)
    torch.nn.utils.clip_grads_with_norm_(pt, 0.5, tt)
    ember.nn.utils.clip_grads_with_norm_(pe, 0.5, te)
    for a, b in zip(pt, pe):
        close(a.grad, b.grad)
    same(torch.nn.utils.get_total_norm([]), ember.nn.utils.get_total_norm([]))


@pytest.mark.parametrize("clip", [0.5, 2, 100.0])
def test_clip_grad_value(clip):
    pt, pe = _params_with_grads(torch, GRADS), _params_with_grads(ember, GRADS)
    torch.nn.utils.clip_grad_value_(pt, clip)
    assert ember.nn.utils.clip_grad_value_(pe, clip) is None
    for a, b in zip(pt, pe):
        same(a.grad, b.grad)


def test_parameters_vector_round_trip():
    t, e = nets()
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    ve = ember.nn.utils.parameters_to_vector(e.parameters())
    same(vt, ve)
    new = torch.arange(float(vt.numel()))
    torch.nn.utils.vector_to_parameters(new, t.parameters())
    ember.nn.utils.vector_to_parameters(e_(new), e.parameters())
    for a, b in zip(t.parameters(), e.parameters()):
        same(a, b)
    raises_like(lambda: torch.nn.utils.vector_to_parameters([1], t.parameters()),
                lambda: ember.nn.utils.vector_to_parameters([1], e.parameters()))
    # gradients flow through parameters_to_vector
    ember.nn.utils.parameters_to_vector(e.parameters()).sum().backward()
    assert all(p.grad is not None for p in e.parameters())


def _call(lib, module, params, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return lib.nn.utils.stateless.functional_call(module, params, *args, **kw)


def test_functional_call_matches_torch_and_restores():
    t, e = nets()
    x = torch.randn(2, 4)
    new_t = {"enc.0.weight": torch.ones(3, 4), "scale": torch.full((1,), 3.0),
             "enc.0.steps": torch.tensor(5)}
    new_e = {k: e_(v) for k, v in new_t.items()}
    w = e.enc[0].weight
    close(_call(torch, t, new_t, x), _call(ember, e, new_e, e_(x)))
    # restored, even though "tied" reaches enc.0 by a second path (where torch 2.13 leaves the
    # replacement in place)
    assert e.enc[0].weight is w and e.enc[0].steps.item() == 0 and e.scale.item() == 2.0
    # tie_weights: "tied" shares enc.0, so replacing enc.0.weight also replaces tied.weight
    t, _ = nets()
    close(_call(torch, t, new_t, (x,), tie_weights=False),
          _call(ember, e, new_e, (e_(x),), tie_weights=False))
    with pytest.warns(FutureWarning, match="functional_call"):
        ember.nn.utils.stateless.functional_call(e, {}, e_(x))


def test_functional_call_gradients_flow_to_given_tensors():
    _, e = nets()
    w = ember.ones(3, 4, requires_grad=True)
    _call(ember, e, {"enc.0.weight": w}, ember.ones(2, 4)).sum().backward()
    assert w.grad is not None and e.enc[0].weight.grad is None


def test_functional_call_errors_match_torch():
    t, e = nets()
    w = e.enc[0].weight
    raises_like(lambda: _call(torch, t, {"nope": torch.ones(1)}, torch.ones(2, 4), strict=True),
                lambda: _call(ember, e, {"nope": ember.ones(1)}, ember.ones(2, 4), strict=True))
    raises_like(
        lambda: _call(torch, t, {"enc.0.weight": torch.ones(3, 4),
                                 "tied.weight": torch.zeros(3, 4)}, torch.ones(2, 4)),
        lambda: _call(ember, e, {"enc.0.weight": ember.ones(3, 4),
                                 "tied.weight": ember.zeros(3, 4)}, ember.ones(2, 4)))
    assert e.enc[0].weight is w
    with pytest.raises(RuntimeError):  # a failing call still restores the module
        _call(ember, e, {"enc.0.weight": ember.ones(5, 5)}, ember.ones(2, 4))
    assert e.enc[0].weight is w
