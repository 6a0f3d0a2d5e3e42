"""Anomaly mode against torch: the switches, forward tracebacks on nodes, the NaN check and
the warnings that point at the forward code."""

import warnings

import pytest
import torch

import ember

from .compare import raises_same, same

LIBS = (torch, ember)


def warned(m, program) -> list:
    """The messages of the warnings ``program(m)`` raises (it raises too: see raises_same)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            program(m)
        except Exception:  # noqa: BLE001, S110 - the error is compared by raises_same
            pass
    return [str(w.message) for w in caught]


def test_switches_and_context_managers():
    def f(m):
        states = [(m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with m.autograd.detect_anomaly(check_nan=False):
                states.append((m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled()))
        states.append((m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled()))
        m.autograd.set_detect_anomaly(True)  # acts at once, as a function
        states.append(m.is_anomaly_enabled())
        with m.autograd.set_detect_anomaly(False):
            states.append(m.is_anomaly_enabled())
        states.append(m.is_anomaly_enabled())
        m.autograd.set_detect_anomaly(False)
        return states
    same(f)


def test_detect_anomaly_warns_and_is_not_a_decorator():
    for m in LIBS:
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
            cm = m.autograd.detect_anomaly()
        with pytest.raises(TypeError):
            cm(lambda: None)


def test_forward_traceback_is_stored_on_nodes():
    with pytest.warns(UserWarning):
        cm = ember.autograd.detect_anomaly()
    x = ember.ones(2, requires_grad=True)
    with cm:
        y = (x * 2).exp()  # the line the traceback must end at
    assert "(x * 2).exp()" in y.grad_fn.metadata["traceback_"][-1]
    assert all("ember/" not in line.split(",")[0] for line in y.grad_fn.metadata["traceback_"])
    assert "traceback_" not in (x * 2).grad_fn.metadata  # off again: nothing recorded


def nan_custom_backward(m):
    class Nan(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = m.ones(3, requires_grad=True)
    with m.autograd.detect_anomaly():
        y = Nan.apply(x * 2)  # FORWARD-LINE
        y.sum().backward()


def nan_builtin_backward(m):
    x = m.tensor([4.0, 1.0], requires_grad=True)
    with m.autograd.detect_anomaly():
        y = (x * 3).sqrt()
        y.backward(m.tensor([float("nan"), 1.0]))


def error_in_backward(m):
    class Boom(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    x = m.ones(3, requires_grad=True)
    with m.autograd.detect_anomaly():
        Boom.apply(x).sum().backward()  # BOOM-LINE


def nan_in_double_backward(m):
    x = m.tensor([4.0], requires_grad=True)
    with m.autograd.detect_anomaly():
        y = x.sqrt()  # PARENT-LINE
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)  # CHILD-LINE
        m.autograd.grad(g, x, m.tensor([float("nan")]))


@pytest.mark.parametrize("program,lines", [
    (nan_custom_backward, ["FORWARD-LINE"]), (nan_builtin_backward, ["(x * 3).sqrt()"]),
    (error_in_backward, ["BOOM-LINE"]), (nan_in_double_backward, ["CHILD-LINE", "PARENT-LINE"]),
])
def test_errors_and_forward_traceback_warnings(program, lines):
    raises_same(program)
    t_warn, e_warn = warned(torch, program), warned(ember, program)
    # the same warnings, in the same order, each naming the node and the user's forward line
    assert len(e_warn) == len(t_warn)
    for tw, ew in zip(t_warn, e_warn):
        assert ew.split("\n")[0] == tw.split("\n")[0].replace("torch", "ember")
    for w, line in zip(e_warn[1:], lines):
        assert line in w


def test_no_nan_check_and_no_traceback_when_off():
    def no_check(m):
        x = m.ones(2, requires_grad=True)
        with m.autograd.set_detect_anomaly(True, check_nan=False):
            (x * float("nan")).sum().backward()
        return x.grad
    same(no_check)

    def off(m):
        x = m.ones(2, requires_grad=True)
        (x * float("nan")).sum().backward()
        return x.grad
    same(off)
    # anomaly mode on only for backward: no forward information
    x = ember.ones(2, requires_grad=True)
    y = (x * 2).sqrt()
    with pytest.warns(UserWarning, match="No forward pass information available"), \
            ember.autograd.set_detect_anomaly(True), pytest.raises(RuntimeError):
        y.backward(ember.tensor([float("nan"), 1.0]))
