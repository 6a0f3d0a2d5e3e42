"""Ops save only the inputs that the gradients they will compute read, as PyTorch does: an
in-place change of an input no needed gradient reads is no error."""

from __future__ import annotations

import pytest
import torch

import ember


def _program(m, op):
    w = m.randn(3, 3)
    x = m.randn(2, 3, requires_grad=True) if op != "addcmul" else m.randn(3, requires_grad=True)
    if op == "matmul":
        y = x @ w  # x's gradient reads w: changing w is an error
    elif op == "mul":
        y = x * w[0]  # likewise (w[0] shares w's version counter)
    else:
        y = x.clone().addcmul_(x.detach().sign(), w[0], value=-1)  # nothing reads w: no error
    w.mul_(2)  # w needs no gradient; only a gradient reading it makes this an error
    try:
        y.sum().backward()
        return "ok", x.grad.tolist()
    except RuntimeError as e:
        return "error", str(e).split(";")[0]


@pytest.mark.parametrize("op", ["matmul", "mul", "addcmul"])
def test_saved_inputs_follow_the_needed_gradients(op):
    ember.manual_seed(0)
    torch.manual_seed(0)
    got, want = _program(ember, op), _program(torch, op)
    assert got[0] == want[0]
    if got[0] == "ok":
        assert got[1] == pytest.approx(want[1])
