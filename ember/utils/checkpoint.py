"""Activation checkpointing: recompute a segment in backward instead of saving it.

# NOTE [ Checkpointing ]
Both of PyTorch's variants, with its behaviour (``use_reentrant`` not passed warns and means
True, as in PyTorch 2.13):

- reentrant (``use_reentrant=True``): a custom Function that runs the segment under no-grad,
  keeps only its inputs, and in backward reruns it with grad on detached inputs and
  backpropagates through the rerun with a nested ``backward`` (so it cannot serve
  ``autograd.grad`` or ``backward(inputs=...)``).
- non-reentrant (``use_reentrant=False``): the segment runs with grad on under
  ``saved_tensors_hooks`` whose pack hook keeps a small placeholder instead of each saved
  tensor (NOTE [ Saved tensor hooks ]). The first unpack in a backward reruns the segment
  with a pack hook that collects what it saves, in the same order, and the placeholders are
  answered from that (each once; a later backward reruns again). The shapes, dtypes and
  devices of what the rerun saved are checked against the forward's (``determinism_check``).

With ``preserve_rng_state`` the CPU generator's state from before the forward is restored for
the rerun (and the caller's state put back after it), so random ops draw the same numbers.
"""

from __future__ import annotations

import contextlib
import warnings

from .. import random as _random
from .._tensor import Tensor
from ..autograd import _is_checkpoint_valid
from ..autograd import backward as _backward
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "detach_variable",
           "noop_context_fn"]


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not save what the forward saved."""


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Detached copies of the tensors in ``inputs`` keeping their ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x.detach()
            d.requires_grad = x.requires_grad
            x = d
        out.append(x)
    return tuple(out)


@contextlib.contextmanager
def _rng_state(state):
    """Run with the CPU generator at ``state`` (if given), restoring the current one after."""
    if state is None:
        yield
        return
    current = _random.get_rng_state()
    _random.set_rng_state(state)
    try:
        yield
    finally:
        _random.set_rng_state(current)


# -- reentrant ------------------------------------------------------------------------------------

class _CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        if not any(a.requires_grad for a in args if isinstance(a, Tensor)):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        ctx.run_function = run_function
        ctx.fwd_rng_state = _random.get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not _is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, ember.utils.checkpoint is incompatible with .grad() or "
                "passing an `inputs` parameter to .backward(). To resolve this error, you can "
                "either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _rng_state(ctx.fwd_rng_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


# -- non-reentrant --------------------------------------------------------------------------------

class _Holder:
    """What the forward keeps for one saved tensor: its position in the save order."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _metadata(t) -> dict:
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


class _Frame:
    """One non-reentrant checkpointed call: the rerun and the placeholders' answers."""

    def __init__(self, recompute, check: bool, early_stop: bool):
        self.recompute, self.check, self.early_stop = recompute, check, early_stop
        self.metadata = []  # per saved tensor, in save order
        # index -> tensor saved by the rerun; kept while the graph holds this frame, since a
        # backward may read a saved tensor more than once (one rerun per backward, as PyTorch)
        self.recomputed = {}

    def pack(self, t):
        self.metadata.append(_metadata(t) if self.check else None)
        return _Holder(len(self.metadata) - 1)

    def unpack(self, holder):
        if holder.index not in self.recomputed:
            self._rerun()
        return self.recomputed[holder.index]

    def _rerun(self) -> None:
        saved = []
        n = len(self.metadata)

        def pack(t):
            if len(saved) >= n:
                raise CheckpointError(
                    "ember.utils.checkpoint: trying to save more tensors during recomputation "
                    "than during the original forward pass.")
            saved.append(t.detach())
            if self.early_stop and len(saved) == n:
                raise _StopRecomputation
            return None

        try:
            with saved_tensors_hooks(pack, _never_unpacked), enable_grad():
                self.recompute()
        except _StopRecomputation:
            pass
        if len(saved) != n:
            raise CheckpointError(
                "ember.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation.\nNumber of tensors saved during forward: "
                f"{n}\nNumber of tensors saved during recomputation: {len(saved)}.")
        if self.check:
            bad = [(i, m, _metadata(t)) for i, (m, t) in enumerate(zip(self.metadata, saved))
                   if m != _metadata(t)]
            if bad:
                raise CheckpointError(
                    "ember.utils.checkpoint: Recomputed values for the following tensors have "
                    "different metadata than during the forward pass.\n" + "".join(
                        f"tensor at position {i}:\nsaved metadata: {m}\nrecomputed metadata: "
                        f"{r}\n" for i, m, r in bad))
        self.recomputed = dict(enumerate(saved))


class _StopRecomputation(Exception):
    """Ends a rerun once it has saved everything the forward saved (``early_stop``)."""


def _never_unpacked(x):
    return x


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check,
                                  early_stop, args, kwargs):
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    rng = _random.get_rng_state() if preserve_rng_state else None

    def recompute():
        with _rng_state(rng), recompute_context:
            function(*args, **kwargs)

    frame = _Frame(recompute, determinism_check == "default", early_stop)
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        return function(*args, **kwargs)


# -- public ---------------------------------------------------------------------------------------

def checkpoint(function, *args, use_reentrant: bool | None = None,
               context_fn=noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its intermediate values for backward:
    backward recomputes them (see NOTE [ Checkpointing ])::

        y = checkpoint(lambda x: x.sin().exp(), x, use_reentrant=False)
        y.sum().backward()  # x.grad as without checkpointing

    ``debug=True`` is accepted; ember's determinism errors carry no operator trace."""
    if use_reentrant is None:
        warnings.warn(
            "ember.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return _CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         early_stop, args, kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):
    """Run ``functions`` (a list, or a module with ``children()`` such as ``nn.Sequential``)
    in order on ``input``, checkpointing all but the last of ``segments`` chunks::

        y = checkpoint_sequential([f, g, h, k], 2, x, use_reentrant=False)
    """
    if use_reentrant is None:
        warnings.warn(
            "ember.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
            "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is "
            "not passed. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    if not isinstance(functions, (list, tuple)) and hasattr(functions, "children"):
        functions = list(functions.children())
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
