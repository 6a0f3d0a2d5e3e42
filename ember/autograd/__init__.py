"""``ember.autograd``: reverse-mode automatic differentiation.

``backward`` and ``grad`` drive the engine (NOTE [ Backward engine ]); ``Function`` defines
custom differentiable operations; ``gradcheck``/``gradgradcheck`` verify gradients numerically.
"""

from __future__ import annotations

from . import graph  # noqa: F401
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "gradcheck", "gradgradcheck"]


def _tensors(x) -> tuple:
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grads, is_grads_batched=False) -> list:
    from .. import _creation
    from .._tensor import Tensor
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not o.is_floating_point() and not o.is_complex():
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{o.dtype}")
            g = _creation.ones_like(o)
        elif not isinstance(g, Tensor):
            g = _creation.tensor(g, dtype=o.dtype, device=o.device)
        elif tuple(g.shape) != tuple(o.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {o.shape}.")
        elif g.is_complex() != o.is_complex():
            raise RuntimeError(
                f"For complex Tensors, both grad_output and output are required to have the same "
                f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                f"output[{i}] has a dtype of {o.dtype}.")
        out.append(g)
    return out


def _check_roots(outputs) -> None:
    for i, o in enumerate(outputs):
        if not o.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad``."""
    tensors = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = [None] * len(tensors) if grad_tensors is None else list(_tensors(grad_tensors)
                                                                     if not isinstance(
                                                                         grad_tensors, list)
                                                                     else grad_tensors)
    _check_roots(tensors)
    grads = _make_grads(tensors, grads)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _tensors(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs`` (returned, not accumulated)."""
    from .. import _creation
    outputs = _tensors(outputs)
    inputs_t = _tensors(inputs)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads "
                         "is True, but got False")
    if allow_unused is None:
        allow_unused = materialize_grads
    go = [None] * len(outputs) if grad_outputs is None else list(_tensors(grad_outputs))
    _check_roots(outputs)
    for t in inputs_t:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    go = _make_grads(outputs, go)
    if retain_graph is None:
        retain_graph = create_graph
    res = run_backward(outputs, go, retain_graph, create_graph, inputs=inputs_t,
                       accumulate=False)
    out = []
    for t, g in zip(inputs_t, res):
        if g is None:
            if materialize_grads:
                g = _creation.zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return tuple(out)
