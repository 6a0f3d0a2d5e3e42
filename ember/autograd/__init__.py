"""``ember.autograd``: reverse-mode automatic differentiation.

``backward`` and ``grad`` drive the engine (NOTE [ Backward engine ]); ``Function`` defines
custom differentiable operations; ``gradcheck``/``gradgradcheck`` verify gradients numerically.
"""

from __future__ import annotations

from .. import _ops  # noqa: F401 - the registry first: it imports autograd's graph
from .._tensor import Tensor, _make
from ..backends import of_array
from . import functional, grad_mode, graph  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly
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
           "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "detect_anomaly",
           "set_detect_anomaly", "functional", "graph"]


def _is_checkpoint_valid() -> bool:
    """False while a backward that was given ``inputs`` (or ``autograd.grad``) runs: the
    reentrant checkpoint cannot work then (``torch.autograd._is_checkpoint_valid``)."""
    return grad_mode.STATE.checkpoint_valid


def _tensors(x) -> tuple:
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _grads_tuple(grads, n: int) -> tuple:
    return (None,) * n if grads is None else _tensors(grads)


def _make_grads(outputs, grads, is_grads_batched=False) -> list:
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if isinstance(g, Tensor):
            shape = g.shape[1:] if is_grads_batched else g.shape
            if tuple(shape) != tuple(o.shape):
                if is_grads_batched:
                    raise RuntimeError(
                        "If `is_grads_batched=True`, we interpret the first dimension of each "
                        "grad_output as the batch dimension. The sizes of the remaining "
                        "dimensions are expected to match the shape of corresponding output, but "
                        f"a mismatch was detected: grad_output[{i}] has a shape of {g.shape} and "
                        f"output[{i}] has a shape of {o.shape}. If you only want some tensors in "
                        "`grad_output` to be considered batched, consider using vmap.")
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {o.shape}.")
            if g.is_complex() != o.is_complex():
                raise RuntimeError(
                    "For complex Tensors, both grad_output and output are required to have the "
                    f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} "
                    f"and output[{i}] has a dtype of {o.dtype}.")
        elif g is None:
            if o._requires_grad:
                if o.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not o.is_floating_point():
                    raise RuntimeError(
                        f"grad can be implicitly created only for real scalar outputs but got "
                        f"{o.dtype}")
                g = _make(of_array(o._data).xp.array(1, o._data.dtype).reshape(o._data.shape))
        else:
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(g).__name__}")
        out.append(g)
    return out


def _check_roots(outputs) -> None:
    for i, o in enumerate(outputs):
        if not o._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (of ``inputs`` only,
    when given: non-leaf ones then keep ``.grad``, as with ``retain_grad``)::

        x = ember.tensor([1.0, 2.0], requires_grad=True)
        ember.autograd.backward((x * x).sum())  # x.grad == tensor([2., 4.])
    """
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments both "
                               "passed to backward(). Please only use 'grad_tensors'.")
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = _tensors(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    tensors = _tensors(tensors)
    grads = _make_grads(tensors, _grads_tuple(grad_tensors, len(tensors)))
    if retain_graph is None:
        retain_graph = create_graph
    _check_roots(tensors)
    if inputs is not None:
        for t in inputs:
            t.retain_grad()  # as PyTorch does (and raises for one not requiring grad)
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (a tuple, or a dict for a
    dict of inputs) instead of accumulated into ``.grad``::

        x = ember.tensor([1.0, 2.0], requires_grad=True)
        (g,) = ember.autograd.grad((x * x).sum(), x)  # tensor([2., 4.])
    """
    from .. import _creation
    from .._functional import stack
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _tensors(outputs)
    inputs_t = tuple(inputs.values()) if type(inputs) is dict else _tensors(inputs)
    if not inputs_t:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    go = _make_grads(outputs, _grads_tuple(grad_outputs, len(outputs)), is_grads_batched)
    if retain_graph is None:
        retain_graph = create_graph
    _check_roots(outputs)
    for t in inputs_t:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if is_grads_batched:
        # one backward per row of the grad_outputs, stacked
        n = len(go[0])
        rows = [run_backward(outputs, [g[b] for g in go], retain_graph or b < n - 1,
                             create_graph, inputs=inputs_t, accumulate=False) for b in range(n)]
        res = [None if r[0] is None else stack(r) for r in zip(*rows)]
    else:
        res = run_backward(outputs, go, retain_graph, create_graph, inputs=inputs_t,
                           accumulate=False)
    out = []
    for i, (t, g) in enumerate(zip(inputs_t, res)):
        if g is None:
            if materialize_grads:
                g = _creation.zeros_like(t, requires_grad=create_graph)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return dict(zip(inputs.keys(), out)) if type(inputs) is dict else tuple(out)
