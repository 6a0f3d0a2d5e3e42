"""Inference tensors (NOTE [ Inference tensors ]) against PyTorch."""

import pytest
import torch

import ember


def _trace(m):
    """What PyTorch programs observe of inference tensors: flags, versions and errors."""
    out = []

    def rec(f):
        try:
            out.append(repr(f()))
        except RuntimeError as e:
            out.append(f"RuntimeError: {e}")

    w = m.ones(3, requires_grad=True)
    n = m.ones(3)
    with m.inference_mode():
        a = m.ones(3)
        b = a * 2
        v = n[:2]
        rec(lambda: (a.is_inference(), b.is_inference(), v.is_inference(),
                     (n + 1).is_inference(), b.view(3).is_inference(), n.is_inference(),
                     m.tensor([1.0]).is_inference(), m.randn(2).is_inference()))
        b.add_(1)
        n.add_(1)
        rec(lambda: n._version)
        rec(lambda: b._version)
        rec(lambda: v._version)
        with m.inference_mode(False):
            rec(lambda: m.zeros(2).is_inference())
        rec(lambda: m.is_inference_mode_enabled())
    rec(lambda: (b.is_inference(), m.is_inference_mode_enabled()))
    rec(lambda: (w * b).sum().backward())
    rec(lambda: (w + b).sum().backward())
    rec(lambda: b.requires_grad_())
    rec(lambda: (b.clone().is_inference(), (b + 1).is_inference(), b.detach().is_inference()))
    rec(lambda: b.tolist())
    rec(lambda: w.grad.tolist())

    @m.inference_mode()
    def f(x):
        return x * 3

    rec(lambda: f(n).is_inference())
    return out


def test_matches_torch():
    assert _trace(ember) == _trace(torch)


@pytest.mark.parametrize("op", [lambda b: b.add_(1), lambda b: b[0].fill_(3),
                                lambda b: b.zero_(), lambda b: b.copy_(b * 0)])
def test_inplace_outside_inference_mode_refused_unchanged(op):
    with ember.inference_mode():
        b = ember.ones(3) * 2
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside"):
        op(b)
    assert b.tolist() == [2.0, 2.0, 2.0]  # (PyTorch writes first, then raises)
    with ember.inference_mode():
        op(b)  # allowed inside


@pytest.mark.parametrize("lib", [ember, torch])
def test_normal_tensors_keep_their_version_counter(lib):
    x = lib.ones(4)
    with lib.inference_mode():
        y = x[1:]
        y.add_(1)
    assert (x._version, y._version, y.is_inference()) == (1, 1, False)
