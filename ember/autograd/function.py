"""Custom differentiable operations: ``autograd.Function`` with PyTorch's ctx API."""

from __future__ import annotations

import functools

from . import grad_mode
from .anomaly_mode import ANOMALY, store_stack
from .graph import _FREED, Node, SavedTensor, grad_edge, set_history

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
        self._out_meta = ()
        self.materialize_grads = True
        self.needs_input_grad = ()

    def name(self) -> str:
        return self._fn_cls.__name__ + "Backward"

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(_FREED)
        if self._saved is None:
            return tuple(self._to_save or ())
        return tuple(None if s is None else s.unpack(self) for s in self._saved)

    saved_variables = saved_tensors

    def apply(self, grads: list) -> tuple:
        from .._creation import zeros
        if self.materialize_grads:
            grads = [zeros(m[0], dtype=m[1]) if g is None and m is not None else g
                     for g, m in zip(grads, self._out_meta)]
        res = self._fn_cls.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self.edges)
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected "
                    f"{n}, got {len(res)})")
        for i, (r, m) in enumerate(zip(res, self.in_meta)):
            if r is not None and m is None:
                raise RuntimeError(
                    f"function {self.name()} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable")
        return tuple(None if e is None else r for r, e in zip(res, self.edges))

    def release(self) -> None:
        if self._saved:
            for s in self._saved:
                if s is not None:
                    s.free()
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
        from .._tensor import Tensor
        ctx = BackwardCFunction(cls)  # numbered before forward runs, as in PyTorch
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with grad_mode.no_grad():
            if cls.setup_context is not Function.setup_context:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        for t in ctx._dirty:
            t._bump_version(cls.__name__)
        executable = grad_mode.STATE.grad_enabled and any(ctx.needs_input_grad)
        if executable:
            ctx.edges = tuple(grad_edge(a) if n else None
                              for a, n in zip(args, ctx.needs_input_grad))
            ctx.in_meta = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None
                                for a in args)
        single = not isinstance(outputs, tuple)
        outs = _wrap_outputs(ctx, args, (outputs,) if single else outputs, executable)
        if executable:
            ctx.nout = len(outs)
            ctx._out_meta = tuple((o._data.shape, o.dtype) if isinstance(o, Tensor) else None
                                  for o in outs)
            if ctx._to_save is not None:
                ctx._saved = tuple(_save(ctx, i, t) for i, t in enumerate(ctx._to_save))
                ctx._to_save = None
            if ANOMALY.enabled:
                store_stack(ctx)
        return outs[0] if single else outs


def _save(ctx, i: int, t):
    from .._tensor import Tensor
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"save_for_backward can only save variables, but argument {i} is of "
                        f"type {type(t).__name__}")
    return SavedTensor(t, t._grad_fn is ctx, ctx._fn_cls.__name__)


def _wrap_outputs(ctx, args, outputs, executable: bool) -> tuple:
    """PyTorch's ``_wrap_outputs``: give each output its history, an alias for an input
    returned as is, and mark outputs that are views as made by a custom Function."""
    from .._tensor import Tensor
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx._dirty}
    non_diff = {id(t) for t in ctx._non_diff}
    wrapped = []
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            wrapped.append(o)
            continue
        is_input, is_dirty = id(o) in inputs, id(o) in dirty
        diff = executable and id(o) not in non_diff and (o.is_floating_point() or o.is_complex())
        if not diff:
            if not o._requires_grad:
                if is_input and not is_dirty:
                    o = _alias(o)
            elif is_input:
                o = o.detach()
            elif o._base is None:
                o.detach_()
        elif is_dirty:
            if o._grad_fn is None and o._requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place operation.")
            o._grad = None
            if o._base is not None:
                if sum(isinstance(t, Tensor) for t in outputs) > 1:
                    raise RuntimeError(_DIRTY_VIEW)
                from .._ops.registry import _rebase_base
                _rebase_base(o, ctx)
            else:
                set_history(o, ctx, i)
        else:
            if is_input:
                o = _alias(o)
            set_history(o, ctx, i)
        if o._base is not None and not (is_input and is_dirty):
            meta = o._autograd_meta()
            meta.view_creation_meta = "custom_function"
            meta.view_version = o._version_counter().value
        wrapped.append(o)
    return tuple(wrapped)


_DIRTY_VIEW = (
    "If your Function modifies inplace an input that is a view of another Tensor, your Function "
    "cannot return more than one Tensor. This is not supported by the current autograd engine. "
    "You should either make sure the input is not a view (using .clone() for example) or make "
    "your Function only return one Tensor (potentially splitting it into two Functions: one "
    "doing the inplace that returns a single Tensor and a second one that does the other "
    "operations). You can ask on the forum https://discuss.pytorch.org/ if you need help to do "
    "this change.")


def _alias(t):
    """A view of all of ``t`` (PyTorch's ``view_as(self)``): shares data and version counter."""
    from .._tensor import _make
    a = _make(t._data.view())
    a._base = t._base if t._base is not None else t
    a._vc = None  # shares the base's counter (NOTE [ Inference tensors ])
    return a


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
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        if not isinstance(outputs, tuple):
            outputs = (outputs,)
        err = _DelayedError("trying to differentiate twice a function that was marked with "
                            "@once_differentiable", len(outputs))
        res = []
        for i, o in enumerate(outputs):
            if isinstance(o, Tensor):
                o = o.detach()
                set_history(o, err, i)
            res.append(o)
        return tuple(res)

    return wrapper


class _DelayedError(Node):
    __slots__ = ("msg",)

    def __init__(self, msg, nout):
        Node.__init__(self, (), (), nout)
        self.msg = msg

    def name(self) -> str:
        return "DelayedError"

    def apply(self, grads):
        raise RuntimeError(self.msg)
