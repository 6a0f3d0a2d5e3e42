"""Grad modes: thread-local switches for recording the autograd graph."""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    grad_enabled = True
    inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd in this thread."""
    return STATE.grad_enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _Mode:
    """A context manager that is also a decorator (for functions and generator functions)."""

    def _enter(self):  # returns the state to restore
        raise NotImplementedError

    def _exit(self, saved) -> None:
        STATE.grad_enabled, STATE.inference = saved

    def __enter__(self):
        self._saved = (STATE.grad_enabled, STATE.inference)
        self._enter()

    def __exit__(self, *exc) -> None:
        self._exit(self._saved)

    def clone(self):
        return self.__class__()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.clone():
                    request = next(gen)
                while True:
                    try:
                        with self.clone():
                            request = gen.send((yield request))
                    except StopIteration as e:
                        return e.value
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Disable gradient recording: ``with ember.no_grad(): w -= lr * w.grad``."""

    def _enter(self):
        STATE.grad_enabled = False


class enable_grad(_Mode):
    """Enable gradient recording inside a ``no_grad`` region."""

    def _enter(self):
        STATE.grad_enabled = True


class set_grad_enabled(_Mode):
    """Set grad mode on or off; acts at once when called, and restores on ``with`` exit."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._saved = (STATE.grad_enabled, STATE.inference)
        STATE.grad_enabled = self.mode

    def __enter__(self):
        pass

    def _enter(self):
        STATE.grad_enabled = self.mode

    def clone(self):
        return _SetGrad(self.mode)

    def __call__(self, fn):
        self._exit(self._saved)  # used as a decorator: the mode applies inside calls only
        return super().__call__(fn)


class _SetGrad(_Mode):
    def __init__(self, mode: bool):
        self.mode = mode

    def _enter(self):
        STATE.grad_enabled = self.mode


class inference_mode(_Mode):
    """Like ``no_grad`` and cheaper still: no graph, no version-counter bookkeeping needed."""

    def __init__(self, mode: bool = True):
        self.mode = mode

    def _enter(self):
        if self.mode:
            STATE.grad_enabled, STATE.inference = False, True

    def clone(self):
        return inference_mode(self.mode)

    def __call__(self, fn=None):
        if isinstance(fn, bool):  # @inference_mode(False)
            return inference_mode(fn)
        return super().__call__(fn)
