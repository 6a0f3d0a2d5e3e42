"""Grad modes: thread-local switches for recording the autograd graph."""

from __future__ import annotations

import functools
import inspect
import sys
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    # class attributes: every thread starts with grad enabled, as in PyTorch
    grad_enabled = True
    inference = False
    # saved-tensor hooks (graph.saved_tensors_hooks): a tuple of (pack, unpack) pairs, the
    # innermost last, and the error message while disable_saved_tensors_hooks is active
    saved_hooks = ()
    saved_hooks_disabled = None
    # False while a backward with ``inputs`` runs (reentrant checkpoint refuses to work then)
    checkpoint_valid = True
    # None, or while autocast is on for some device the function that casts an op's inputs
    # (``amp.autocast_mode.cast_inputs``, NOTE [ Autocast ]): the eager hot path's one test
    autocast = None


STATE = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd in this thread."""
    return STATE.grad_enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _DecoratorContextManager:
    """A context manager that also decorates functions and generator functions; each call
    runs under a fresh ``clone()`` of it."""

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self.clone, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


def _wrap_generator(ctx_factory, fn):
    """The mode is on while the generator runs and off while its caller does (PyTorch's
    ``_wrap_generator``)."""

    @functools.wraps(fn)
    def generator_context(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value
    return generator_context


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):
    """Disable gradient recording: ``with ember.no_grad(): w -= lr * w.grad``."""

    def __enter__(self) -> None:
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = False

    def __exit__(self, *exc) -> None:
        STATE.grad_enabled = self.prev


class enable_grad(_NoParamDecoratorContextManager):
    """Enable gradient recording inside a ``no_grad`` region."""

    def __enter__(self) -> None:
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = True

    def __exit__(self, *exc) -> None:
        STATE.grad_enabled = self.prev


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode on or off; acts at once when called, and restores on ``with`` exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = STATE.grad_enabled
        self.mode = bool(mode)
        STATE.grad_enabled = self.mode

    def __call__(self, fn):
        STATE.grad_enabled = self.prev  # as a decorator the mode applies inside calls only
        return super().__call__(fn)

    def __enter__(self) -> None:
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc) -> None:
        STATE.grad_enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """``no_grad`` whose new tensors are inference tensors (NOTE [ Inference tensors ]);
    ``inference_mode(False)`` turns grad mode back on, as in PyTorch."""

    def __new__(cls, mode_or_orig_func=True):
        if mode_or_orig_func is None or isinstance(mode_or_orig_func, bool):
            return super().__new__(cls)
        return cls()(mode_or_orig_func)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        from .. import _tensor
        self.prev = (STATE.grad_enabled, STATE.inference)
        STATE.grad_enabled, STATE.inference = not self.mode, bool(self.mode)
        if self.mode:
            _tensor._grad_state = STATE
            _tensor.INFERENCE_SEEN = True
            _tensor.INFERENCE_THREADS += 1

    def __exit__(self, *exc) -> None:
        from .. import _tensor
        STATE.grad_enabled, STATE.inference = self.prev
        if self.mode:
            _tensor.INFERENCE_THREADS -= 1

    def clone(self):
        return self.__class__(self.mode)
