"""Grad modes as context managers, decorators (functions and generators), plain calls and
thread-local state, against torch."""

import threading

import numpy as np
import pytest

from .compare import same

A = np.array([0.5, -1.0, 2.0])


def leaf(m):
    return m.tensor(A, dtype=m.float64, requires_grad=True)


def test_no_grad_context():
    def f(m):
        x = leaf(m)
        with m.no_grad():
            y = x * 2
            inner = m.is_grad_enabled()
        z = x * 2
        return y.requires_grad, y.grad_fn, inner, z.requires_grad, m.is_grad_enabled()
    same(f)


def test_nesting_and_enable_grad():
    def f(m):
        x = leaf(m)
        seen = []
        with m.no_grad():
            with m.enable_grad():
                seen.append((m.is_grad_enabled(), (x * 2).requires_grad))
                with m.no_grad():
                    seen.append(m.is_grad_enabled())
                seen.append(m.is_grad_enabled())
            seen.append(m.is_grad_enabled())
        seen.append(m.is_grad_enabled())
        return seen
    same(f)


def test_state_restored_on_exception():
    def f(m):
        try:
            with m.no_grad():
                raise KeyError("boom")
        except KeyError:
            pass
        a = m.is_grad_enabled()
        try:
            with m.inference_mode():
                raise KeyError("boom")
        except KeyError:
            pass
        return a, m.is_grad_enabled(), m.is_inference_mode_enabled()
    same(f)


@pytest.mark.parametrize("kind", ["no_grad()", "no_grad", "enable_grad()", "enable_grad",
                                  "set_grad_enabled(False)", "inference_mode()",
                                  "inference_mode", "inference_mode(False)"])
def test_decorators(kind):
    def f(m):
        x = leaf(m)
        dec = eval("m." + kind)
        outer = m.is_grad_enabled()

        @dec
        def fn(t, k=1):
            return (t * k).requires_grad, m.is_grad_enabled(), m.is_inference_mode_enabled()

        r1 = fn(x)
        with m.no_grad():
            r2 = fn(x, k=2)
        return outer, m.is_grad_enabled(), r1, r2, fn.__name__
    same(f)


@pytest.mark.parametrize("kind", ["no_grad()", "enable_grad()", "set_grad_enabled(False)",
                                  "inference_mode()"])
def test_generator_decorator(kind):
    def f(m):
        dec = eval("m." + kind)
        log = []

        @dec
        def gen(n):
            for i in range(n):
                received = yield (i, m.is_grad_enabled())
                log.append((received, m.is_grad_enabled()))
            return "done"

        with m.no_grad():
            g = gen(3)
            first = next(g)
        log.append(("caller", m.is_grad_enabled()))
        second = g.send("a")
        log.append(("caller", m.is_grad_enabled()))
        rest = list(g)
        return first, second, rest, log, m.is_grad_enabled()
    same(f)


def test_generator_decorator_throw_close_and_empty():
    def f(m):
        log = []

        @m.no_grad()
        def gen():
            try:
                yield 1
            except ValueError:
                log.append(("caught", m.is_grad_enabled()))
                yield 2
            finally:
                log.append(("finally", m.is_grad_enabled()))

        g = gen()
        next(g)
        log.append(g.throw(ValueError("x")))
        g.close()

        @m.no_grad()
        def empty():
            return "r"
            yield

        return log, list(empty()), m.is_grad_enabled()
    same(f)


def test_set_grad_enabled_plain_call_and_context():
    def f(m):
        x = leaf(m)
        seen = []
        m.set_grad_enabled(False)
        seen.append(((x * 2).requires_grad, m.is_grad_enabled()))
        m.set_grad_enabled(True)
        seen.append(m.is_grad_enabled())
        with m.set_grad_enabled(False):
            seen.append(m.is_grad_enabled())
            with m.set_grad_enabled(True):
                seen.append((x * 2).requires_grad)
            seen.append(m.is_grad_enabled())
        seen.append(m.is_grad_enabled())
        return seen
    try:
        same(f)
    finally:
        import torch

        import ember
        torch.set_grad_enabled(True)
        ember.set_grad_enabled(True)


def test_inference_mode_state():
    def f(m):
        x = leaf(m)
        seen = [m.is_inference_mode_enabled()]
        with m.inference_mode():
            seen.append((m.is_grad_enabled(), m.is_inference_mode_enabled(),
                         (x * 2).requires_grad))
            with m.inference_mode(False):
                seen.append((m.is_grad_enabled(), m.is_inference_mode_enabled()))
        with m.no_grad():
            with m.inference_mode(False):
                seen.append((m.is_grad_enabled(), m.is_inference_mode_enabled()))
        seen.append((m.is_grad_enabled(), m.is_inference_mode_enabled()))
        return seen
    same(f)


def test_thread_starts_with_grad_enabled():
    def f(m):
        x = leaf(m)
        out = {}

        def worker():
            out["enabled"] = m.is_grad_enabled()
            out["rg"] = (x * 2).requires_grad
            with m.no_grad():
                out["inner"] = m.is_grad_enabled()

        with m.no_grad():
            t = threading.Thread(target=worker)
            t.start()
            t.join()
            out["main"] = m.is_grad_enabled()
        return out
    same(f)


def test_thread_mode_does_not_leak_to_main():
    def f(m):
        ev = threading.Event()
        done = threading.Event()

        def worker():
            m.set_grad_enabled(False)
            ev.set()
            done.wait()

        t = threading.Thread(target=worker)
        t.start()
        ev.wait()
        main = m.is_grad_enabled()
        done.set()
        t.join()
        return main
    same(f)


def test_backward_inside_no_grad_still_works():
    def f(m):
        x = leaf(m)
        y = (x * x).sum()
        with m.no_grad():
            y.backward()
        return x.grad
    same(f)


def test_grad_mode_classes_are_exposed():
    def f(m):
        return (m.autograd.no_grad is m.no_grad, m.autograd.enable_grad is m.enable_grad,
                m.autograd.grad_mode.set_grad_enabled is m.set_grad_enabled,
                m.autograd.inference_mode is m.inference_mode)
    same(f)
