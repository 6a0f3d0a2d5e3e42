"""Autograd graph nodes.

# NOTE [ Graph nodes ]
A node is created for each op application that needs a gradient. It knows its inputs' edges
(``next_functions``: ``(node, output_nr)`` pairs, None where the input needs no gradient), the
shape and dtype of those inputs (the engine reduces broadcast gradients and casts to the input
dtype generically, as PyTorch's ``validate_outputs`` does), and what backward needs (saved
tensors, checked against in-place modification through version counters). How a node turns
output gradients into input gradients is the op's VJP from the registry; no op-specific code
lives here.
"""

from __future__ import annotations

import itertools
import weakref

_seq = itertools.count()

_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}


def type_string(t) -> str:
    """PyTorch's legacy type name of a tensor, e.g. ``ember.FloatTensor``."""
    prefix = "ember.cuda." if t.device.type == "cuda" else "ember."
    return prefix + _TYPE_NAMES[t.dtype.name]


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved.

    An op's own output is saved as its array only (with the node re-attached on unpack), so
    that a node never keeps its output alive through a reference cycle."""

    __slots__ = ("tensor", "data", "vc", "version", "output_nr", "is_output", "saved_by")

    def __init__(self, t, is_output: bool, saved_by: str):
        vc = t._version_counter()
        self.vc, self.version, self.is_output, self.saved_by = vc, vc.value, is_output, saved_by
        if is_output:
            self.tensor, self.data, self.output_nr = None, t._data, t._output_nr
        else:
            self.tensor, self.data, self.output_nr = t, None, 0

    def unpack(self, node):
        if self.vc.value != self.version:
            from .._tensor import _make
            t = self.tensor if self.tensor is not None else _make(self.data)
            where = (f"which is output {self.output_nr} of {node.name()}" if self.is_output else
                     f"which is output {t._output_nr} of {t._grad_fn.name()}"
                     if t._grad_fn is not None else "which is a leaf tensor")
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{type_string(t)} {list(t.shape)}], {where}, is at version "
                f"{self.vc.value}; expected version {self.version} instead. It was saved for "
                f"backward by '{self.saved_by}' and last modified in place by "
                f"'{self.vc.modified_by}'. Hint: compute the in-place op on a clone, or make it "
                "out-of-place.")
        if not self.is_output:
            return self.tensor
        from .._tensor import _make
        t = _make(self.data, True)
        t._grad_fn, t._output_nr, t._vc = node, self.output_nr, self.vc
        return t


class Node:
    """A backward function in the graph; ``tensor.grad_fn`` is one of these."""

    __slots__ = ("next_functions", "in_meta", "seq", "_pre_hooks", "_post_hooks",
                 "_tensor_hooks", "_retained", "metadata", "__weakref__")

    def __init__(self, next_functions: tuple, in_meta: tuple):
        self.next_functions = next_functions
        self.in_meta = in_meta
        self.seq = next(_seq)
        self._pre_hooks = self._post_hooks = self._tensor_hooks = self._retained = None
        self.metadata = {}

    def name(self) -> str:
        return type(self).__name__

    def apply(self, grads: list) -> tuple:
        raise NotImplementedError

    def release(self) -> None:
        """Free saved tensors after a backward without ``retain_graph``."""

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        from .._tensor import RemovableHandle
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(fn)
        return RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; may return new grad_outputs."""
        from .._tensor import RemovableHandle
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr: int, fn):
        from .._tensor import RemovableHandle
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        hooks = self._tensor_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def _retain(self, output_nr: int, tensor) -> None:
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(tensor)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def __call__(self, *grads):
        return self.apply(list(grads))


class OpNode(Node):
    """The backward of one registry op application."""

    __slots__ = ("op", "params", "saved", "saved_out", "needs_input_grad", "freed", "nout",
                 "out_meta")

    def __init__(self, op, params, next_functions, in_meta, saved, saved_out, nout, out_meta):
        Node.__init__(self, next_functions, in_meta)
        self.op, self.params, self.saved, self.saved_out = op, params, saved, saved_out
        self.needs_input_grad = tuple(e is not None for e in next_functions)
        self.freed = False
        self.nout, self.out_meta = nout, out_meta

    def name(self) -> str:
        return self.op.backward_name

    # The VJP reads what it needs through these (the ctx API of registry VJPs).
    @property
    def inputs(self) -> tuple:
        self._check_freed()
        return tuple(s.unpack(self) if type(s) is SavedTensor else s for s in self.saved)

    @property
    def out(self):
        self._check_freed()
        if isinstance(self.saved_out, tuple):
            return tuple(None if s is None else s.unpack(self) for s in self.saved_out)
        return self.saved_out.unpack(self)

    def _check_freed(self) -> None:
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")

    def apply(self, grads: list) -> tuple:
        single = self.op.nout == 1
        g = grads[0] if single else grads
        if single and g is None:
            return (None,) * len(self.next_functions)
        return self.op.vjp(self, g)

    def release(self) -> None:
        if self.saved or self.saved_out is not None:
            self.saved, self.saved_out, self.freed = (), None, True


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds incoming gradients into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        Node.__init__(self, (), ())
        self.variable = variable

    def apply(self, grads: list) -> tuple:
        from . import grad_mode
        var, g = self.variable, grads[0]
        if g is None:
            return ()
        if var._grad is None:
            var._grad = g if grad_mode.STATE.grad_enabled else g.detach()
        elif grad_mode.STATE.grad_enabled:
            var._grad = var._grad + g
        else:
            var._grad.add_(g)
        if var._meta is not None:
            for hook in list(var._meta.post_acc_hooks):
                hook(var)
        return ()


class GraphRoot(Node):
    __slots__ = ("grads",)

    def __init__(self, edges, grads):
        Node.__init__(self, tuple(edges), ())
        self.grads = grads

    def apply(self, grads):
        return tuple(self.grads)


def grad_edge(t):
    """The edge through which gradient reaches ``t``: its grad_fn, or its leaf's sink."""
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    meta = t._autograd_meta()
    acc = meta.accumulate() if meta.accumulate is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        meta.accumulate = weakref.ref(acc)
    return (acc, 0)


class CopySlices(Node):
    """The base's history after an in-place op on one of its views (PyTorch's CopySlices):
    the gradient of the view's region goes through the in-place op's node ``fn``; the rest of
    the base's gradient flows to the base's previous history unchanged."""

    __slots__ = ("index", "fn")

    def __init__(self, base_edge, base, index, fn):
        Node.__init__(self, (base_edge, *fn.next_functions[1:]),
                      ((base._data.shape, base._data.dtype), *fn.in_meta[1:]))
        self.index, self.fn = index, fn

    def name(self) -> str:
        return "CopySlices"

    def apply(self, grads: list) -> tuple:
        from .._ops import index_ops
        g = grads[0]
        if g is None:
            return (None,) * len(self.next_functions)
        region = index_ops.take_flat(g, self.index)
        res = list(self.fn.apply([region]))
        meta0 = self.fn.in_meta[0]
        r0 = res[0]
        if r0 is not None and r0._data.shape != meta0[0]:
            r0 = r0.sum_to_size(meta0[0])
        g = index_ops.put_flat(g, self.index, r0)
        return (g, *res[1:])

    def release(self) -> None:
        self.fn.release()
