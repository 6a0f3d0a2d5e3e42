"""Custom differentiable operations: ``autograd.Function`` with PyTorch's ctx API."""

from __future__ import annotations

import functools

from . import grad_mode
from .graph import Node, SavedTensor, grad_edge

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """What ``forward``/``setup_context`` record for ``backward``."""

    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    def mark_dirty(self, *args) -> None:
        self._dirty = args

    def mark_non_differentiable(self, *args) -> None:
        self._non_diff = args

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(FunctionCtx, Node):
    """The graph node (and ctx) of one ``Function.apply``."""

    def __init__(self, fn_cls):
        Node.__init__(self, (), ())
        self._fn_cls = fn_cls
        self._to_save = None
        self._saved = None
        self._dirty = ()
        self._non_diff = ()
        self._freed = False
        self.materialize_grads = True
        self.needs_input_grad = ()
        self._out_meta = ()

    def name(self) -> str:
        return self._fn_cls.__name__ + "Backward"

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        if self._saved is None:
            return tuple(self._to_save or ())
        return tuple(None if s is None else s.unpack(self) for s in self._saved)

    saved_variables = saved_tensors

    def apply(self, grads: list) -> tuple:
        from .._creation import zeros
        if self.materialize_grads:
            grads = [g if g is not None else zeros(shape, dtype=dt)
                     for g, (shape, dt) in zip(grads, self._out_meta)]
        res = self._fn_cls.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self.needs_input_grad)
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected "
                    f"{n}, got {len(res)})")
        return tuple(None if e is None else r for r, e in zip(res, self.next_functions))

    def release(self) -> None:
        if self._saved:
            self._saved, self._freed = None, True


class Function:
    """Subclass with static ``forward`` and ``backward`` (and optionally ``setup_context``),
    then call ``MyFn.apply(*args)``::

        class Exp(ember.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, _make
        ctx = BackwardCFunction(cls)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        uses_setup = cls.setup_context is not Function.setup_context
        with grad_mode.no_grad():
            if uses_setup:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        record = grad_mode.STATE.grad_enabled and any(ctx.needs_input_grad)
        if not record:
            return outputs
        ctx.next_functions = tuple(grad_edge(a) if isinstance(a, Tensor) and a.requires_grad
                                   else None for a in args)
        ctx.in_meta = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None
                            for a in args)
        dirty = {id(t) for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_diff}
        inputs = {id(a) for a in args if isinstance(a, Tensor)}
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                continue
            if id(o) in dirty:
                if o._grad_fn is None and o._requires_grad:
                    raise RuntimeError(
                        "a leaf Variable that requires grad is being used in an in-place "
                        "operation.")
            elif id(o) in inputs:
                o = _make(o._data)  # an input returned as is becomes a new alias
            if id(outs[i]) in non_diff:
                wrapped.append(o)
                continue
            if o.is_floating_point() or o.is_complex():
                o._grad_fn, o._output_nr, o._requires_grad = ctx, i, True
            wrapped.append(o)
        ctx._out_meta = tuple((o._data.shape, o.dtype) if isinstance(o, Tensor) else ((), None)
                              for o in wrapped)
        if ctx._to_save is not None:
            outs_ids = {id(o): o for o in wrapped if isinstance(o, Tensor)}
            saved = []
            for t in ctx._to_save:
                if t is None:
                    saved.append(None)
                    continue
                is_out = id(t) in outs_ids and t._grad_fn is ctx
                saved.append(SavedTensor(t, is_out, cls.__name__))
            ctx._saved = tuple(saved)
            ctx._to_save = None
        return wrapped[0] if single else tuple(wrapped)


def once_differentiable(fn):
    """Mark a ``backward`` as not itself differentiable: it runs under no-grad, and asking for
    its gradient (``create_graph=True``) raises when that gradient is computed."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from .._tensor import Tensor
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.STATE.grad_enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        edges = tuple(grad_edge(a) if isinstance(a, Tensor) and a.requires_grad else None
                      for a in args)
        err = _DelayedError(
            "trying to differentiate twice a function that was marked with "
            "@once_differentiable", edges)
        single = not isinstance(outputs, tuple)
        res = []
        for o in ((outputs,) if single else outputs):
            if isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex()):
                o = o.detach()
                o._grad_fn, o._requires_grad = err, True
            res.append(o)
        return res[0] if single else tuple(res)

    return wrapper


class _DelayedError(Node):
    __slots__ = ("msg",)

    def __init__(self, msg, edges):
        Node.__init__(self, edges, ())
        self.msg = msg

    def name(self) -> str:
        return "DelayedError"

    def apply(self, grads):
        raise RuntimeError(self.msg)
