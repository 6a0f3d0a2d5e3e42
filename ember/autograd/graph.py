"""Autograd graph nodes.

# NOTE [ Graph nodes ]
A node is created for each op application that needs a gradient. It knows its inputs' edges
(``edges``: ``(node, output_nr)`` pairs, None where the input needs no gradient; the public
``next_functions`` shows those as ``(None, 0)`` as PyTorch does), the shape and dtype of those
inputs (the engine reduces broadcast gradients and casts to the input dtype generically, as
PyTorch's ``validate_outputs`` does), and what backward needs (saved tensors, checked against
in-place modification through version counters). How a node turns output gradients into input
gradients is the op's VJP from the registry; no op-specific code lives here.

Hooks live where PyTorch keeps them: ``register_hook`` on a non-leaf tensor adds a tensor
pre-hook to its grad_fn for its output number, ``retain_grad`` a retains-grad hook there (moved
to the new grad_fn when an in-place op rewrites the tensor's history), and a leaf's hooks stay
on the tensor, run by its AccumulateGrad node.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import weakref

from .. import _tensor
from ..backends import _BY_ARRAY_TYPE
from . import grad_mode

_seq = itertools.count()
_InferenceCounter = _tensor._InferenceCounter


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


_CPP_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
    "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
}


def dtype_words(dtype) -> tuple:
    """The two names PyTorch's messages give a dtype: C++ (``'float'``) and ScalarType
    (``'Float'``)."""
    return _CPP_NAMES[dtype.name], dtype.word


def type_string(t) -> str:
    """PyTorch's legacy type name of a tensor, e.g. ``ember.FloatTensor``."""
    prefix = "ember.cuda." if t.device.type == "cuda" else "ember."
    return prefix + t.dtype.word + "Tensor"


def short_name(node) -> str:
    """A node's name as PyTorch's error messages print it (``MulBackward0`` -> ``Mul``)."""
    return re.sub(r"Backward\d*$", "", node.name())


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved.

    An op's own output is saved as its array only (with the node re-attached on unpack), so
    that a node never keeps its output alive through a reference cycle. Under
    ``saved_tensors_hooks`` (NOTE [ Saved tensor hooks ]) only what the pack hook returned is
    kept."""

    __slots__ = ("tensor", "data", "vc", "version", "output_nr", "is_output", "saved_by",
                 "hooked")

    def __init__(self, t, is_output: bool, saved_by: str):
        vc = t._vc if t._vc is not None else t._version_counter()
        if type(vc) is _InferenceCounter and not grad_mode.STATE.inference:
            raise _tensor._inference_error("save")  # NOTE [ Inference tensors ]
        self.vc, self.version, self.is_output, self.saved_by = vc, vc.value, is_output, saved_by
        self.output_nr = t._output_nr
        self.tensor, self.data = (None, t._data) if is_output else (t, None)
        self.hooked = None
        hooks = grad_mode.STATE.saved_hooks
        if hooks:
            self._pack(t, *hooks[-1])

    def _pack(self, t, pack_hook, unpack_hook) -> None:
        disabled = grad_mode.STATE.saved_hooks_disabled
        if disabled is not None:
            raise RuntimeError(disabled)
        version = self.vc.value
        with grad_mode.no_grad():  # as in PyTorch: what the hook computes is not recorded
            packed = pack_hook(t)
        if self.vc.value != version:
            raise RuntimeError(
                "A saved tensor pack hook is modifying its input in place. Tensors provided as "
                "input to pack hook cannot be modified by in-place operations as this can lead "
                "to unexpected side-effects. Please open an issue if you need to perform "
                "in-place operations on the input to a pack hook.")
        # what the unpacked tensor's autograd identity needs: its grad_fn (an output's is the
        # saving node, given at unpack), or a leaf's metadata (its AccumulateGrad)
        fn = None if self.is_output else t._grad_fn
        leaf = None
        if fn is None and not self.is_output and t._requires_grad:
            leaf = (t._autograd_meta(), grad_edge(t)[0])  # the sink is kept alive with it
        self.hooked = (unpack_hook, packed, fn, t._requires_grad, leaf)
        self.tensor = self.data = None

    def free(self) -> None:
        """Drop the saved value (after backward without ``retain_graph``)."""
        self.tensor = self.data = self.hooked = self.vc = None

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        """Pack this saved tensor now with ``pack_hook``; ``unpack_hook`` gives it back."""
        if self.vc is None:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved "
                "intermediate values of the graph are freed when you call .backward() or "
                "autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved variables after calling "
                "backward.")
        if self.hooked is not None:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. "
                "Hint: only one pair of hooks is allowed at a time.")
        t = self.tensor if self.tensor is not None else _tensor._make(self.data)
        if self.is_output:
            t._output_nr = self.output_nr
        self._pack(t, pack_hook, unpack_hook)

    def unpack(self, node):
        if self.hooked is not None:
            return self._unpack_hooked(node)
        if self.vc.value != self.version:
            raise self._modified_error(node)
        if not self.is_output:
            return self.tensor
        t = _tensor._make(self.data, True)
        t._grad_fn, t._output_nr, t._vc = node, self.output_nr, self.vc
        return t

    def _unpack_hooked(self, node):
        # no version check: what the hooks keep is theirs (as in PyTorch)
        unpack_hook, packed, fn, requires_grad, leaf = self.hooked
        data = unpack_hook(packed)
        if not isinstance(data, _tensor.Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(data).__name__}")
        t = _tensor._make(data._data, requires_grad)
        t._vc = data._version_counter()
        if self.is_output or fn is not None:
            t._grad_fn, t._output_nr = node if self.is_output else fn, self.output_nr
        elif leaf is not None:
            t._meta = leaf[0]  # gradients reach the original leaf's AccumulateGrad
        return t

    def _modified_error(self, node) -> RuntimeError:
        # PyTorch names the saving node for a saved output, and the tensor's current history
        # (re-read for a view whose base changed) for a saved input.
        if self.is_output:
            t, fn = _tensor._make(self.data), node
        else:
            t = self.tensor
            from .._ops.registry import current_grad_fn  # (import cycle)
            fn = current_grad_fn(t)
        where = f", which is output {self.output_nr} of {short_name(fn)}," if fn else ""
        return RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{type_string(t)} {list(t.shape)}]{where} is at version "
            f"{self.vc.value}; expected version {self.version} instead. It was saved for backward "
            f"by '{self.saved_by}' and last modified in place by '{self.vc.modified_by}'. Hint: "
            "compute the in-place op on a clone, or make it out-of-place.")


# NOTE [ Saved tensor hooks ]
# ``saved_tensors_hooks(pack, unpack)`` pushes a pair onto a thread-local stack; every tensor
# saved for backward while it is active (by a registry op's ``save`` or a custom Function's
# ``save_for_backward``) is passed to the innermost ``pack`` and only its result is kept. When
# backward reads the tensor, ``unpack`` gives a tensor back, which gets the saved tensor's
# autograd identity (grad_fn and output number, or the leaf's AccumulateGrad) so that double
# backward still reaches the original graph. Activation checkpointing and ``save_on_cpu`` are
# built on this.

class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it go through ``pack_hook`` when
    saved and ``unpack_hook`` when backward needs them::

        with ember.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                                                      lambda a: ember.from_numpy(a)):
            y = x.exp()  # exp's output is kept as a NumPy copy
    """

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        state = grad_mode.STATE
        if state.saved_hooks_disabled is not None:
            raise RuntimeError(state.saved_hooks_disabled)
        state.saved_hooks = (*state.saved_hooks, (self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *args) -> None:
        grad_mode.STATE.saved_hooks = grad_mode.STATE.saved_hooks[:-1]


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU (pinned with ``pin_memory``) and moved back to their
    device when backward needs them; on a CPU tensor this keeps the tensor itself."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor):
            if not pin_memory:
                return tensor.device, tensor.cpu()
            from .._creation import empty
            packed = empty(tuple(tensor.shape), dtype=tensor.dtype, pin_memory=True)
            packed.copy_(tensor)
            return tensor.device, packed

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """Context manager (and decorator) under which using saved-tensor hooks raises
    RuntimeError(``error_message``), for features that cannot work with them."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        self.prev = grad_mode.STATE.saved_hooks_disabled
        grad_mode.STATE.saved_hooks_disabled = self.error_message

    def __exit__(self, *args) -> None:
        grad_mode.STATE.saved_hooks_disabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper


class Node:
    """A backward function in the graph; ``tensor.grad_fn`` is one of these."""

    __slots__ = ("edges", "in_meta", "nout", "seq", "_pre_hooks", "_post_hooks",
                 "_tensor_hooks", "_retained", "_metadata", "__weakref__")

    def __init__(self, edges: tuple, in_meta: tuple, nout: int = 1):
        self.edges, self.in_meta, self.nout = edges, in_meta, nout
        self.seq = next(_seq)
        self._pre_hooks = self._post_hooks = self._tensor_hooks = self._retained = None
        self._metadata = None

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else e for e in self.edges)

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def apply(self, grads: list) -> tuple:
        raise NotImplementedError

    def release(self) -> None:
        """Free saved tensors after a backward without ``retain_graph``."""

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = []
        return _handle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        return _handle(self._pre_hooks, fn)

    def add_tensor_hook(self, output_nr: int, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        return _handle(self._tensor_hooks.setdefault(output_nr, []), fn)

    def retain(self, output_nr: int, tensor) -> None:
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(tensor)

    def __repr__(self) -> str:
        return f"<{self.name().rpartition('::')[2]} object at {hex(id(self))}>"

    def __call__(self, *grads):
        out = self.apply(list(grads))
        return out[0] if len(out) == 1 else tuple(out)


def _handle(hooks: list, fn):
    hooks.append(fn)
    return _tensor.RemovableHandle(hooks, fn)


def set_history(t, node, output_nr: int = 0) -> None:
    """Make ``node`` the grad_fn of ``t`` (after an in-place op), carrying retain_grad along as
    PyTorch does; hooks registered earlier stay with the old grad_fn."""
    old = t._grad_fn
    if old is not None and old._retained and old._retained.get(t._output_nr) is not None:
        ref = old._retained.pop(t._output_nr)
        if ref() is t:
            node.retain(output_nr, t)
    t._grad_fn, t._output_nr, t._requires_grad = node, output_nr, True


_MISSING = object()


class OpNode(Node):
    """The backward of one registry op application."""

    __slots__ = ("op", "params", "saved", "saved_out", "freed")
    inplace = False  # True on InplaceOpNode

    def __init__(self, op, params, edges, in_meta, saved, nout):
        # Node.__init__ inlined: one node is made per recorded op, on the hot path
        self.edges, self.in_meta, self.nout = edges, in_meta, nout
        self.seq = next(_seq)
        self._pre_hooks = self._post_hooks = self._tensor_hooks = self._retained = None
        self._metadata = None
        self.op, self.params, self.saved, self.saved_out = op, params, saved, None
        self.freed = False

    @property
    def needs_input_grad(self) -> tuple:
        return tuple([e is not None for e in self.edges])

    def name(self) -> str:
        n = self.op.backward_name
        return n if type(n) is str else n(self)

    # The VJP reads what it needs through these (the ctx API of registry VJPs).
    @property
    def inputs(self) -> tuple:
        if self.freed:
            raise RuntimeError(_FREED)
        return tuple([s.unpack(self) if type(s) is SavedTensor else s for s in self.saved])

    @property
    def out(self):
        if self.freed:
            raise RuntimeError(_FREED)
        if isinstance(self.saved_out, tuple):
            return tuple(None if s is None else s.unpack(self) for s in self.saved_out)
        return self.saved_out.unpack(self)

    def __getattr__(self, name: str):
        """PyTorch's saved-value introspection, read generically from what the op saved:
        ``_saved_self``/``_saved_other`` (inputs 0 and 1), ``_saved_result`` (the output),
        ``_saved_<param>`` (a parameter such as ``dim``); ``_raw_saved_*`` gives the
        SavedTensor itself (``register_hooks``)."""
        raw = name.startswith("_raw_saved_")
        key = name[11 if raw else 7:]
        if raw or name.startswith("_saved_"):
            value = self._saved_value(key)
            if value is not _MISSING:
                if type(value) is SavedTensor and not raw:
                    return value.unpack(self)
                if raw and type(value) is not SavedTensor:
                    raise AttributeError(f"'{self.name()}' saved '{key}' is not a tensor")
                return value
        raise AttributeError(f"'{self.name()}' object has no attribute '{name}'")

    def _saved_value(self, key: str):
        pos = {"self": 0, "other": 1}.get(key)
        if pos is not None or key == "result":
            if self.freed:
                raise RuntimeError(_FREED)
            if key == "result":
                return self.saved_out if type(self.saved_out) is SavedTensor else _MISSING
            if pos < len(self.saved) and self.saved[pos] is not None:
                return self.saved[pos]
            return _MISSING
        return self.params.get(key, _MISSING)

    def apply(self, grads: list) -> tuple:
        if self.op.nout == 1:  # ops with a variable number of outputs always get a list
            g = grads[0]
            if g is None:
                return (None,) * len(self.edges)
            return self.op.vjp(self, g)
        return self.op.vjp(self, grads)

    def release(self) -> None:
        # only a node that saved tensors raises on a second backward, as in PyTorch
        out = self.saved_out
        freed = out is not None
        if freed:
            for s in out if type(out) is tuple else (out,):
                if s is not None:
                    s.free()
        for s in self.saved:
            if type(s) is SavedTensor:
                s.free()
                freed = True
        if freed:
            self.saved, self.saved_out, self.freed = (), None, True


class InplaceOpNode(OpNode):
    """The backward of an in-place application (``x.leaky_relu_()``): the same node, told
    apart for names, as PyTorch names some in-place overloads' backward ``...Backward1``."""

    __slots__ = ()
    inplace = True


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds incoming gradients into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        # Node.__init__ inlined: a leaf's sink is made again for each graph that reaches it
        self.edges = self.in_meta = ()
        self.nout = 1
        self.seq = sys.maxsize  # PyTorch runs a ready AccumulateGrad before anything else
        self._pre_hooks = self._post_hooks = self._tensor_hooks = self._retained = None
        self._metadata = None
        self.variable = variable

    def name(self) -> str:
        return "ember::autograd::AccumulateGrad"

    def apply(self, grads: list) -> tuple:
        var, g = self.variable, grads[0]
        if g is None:
            return ()
        acc = var._grad
        if grad_mode.STATE.grad_enabled:  # create_graph: differentiable, as in PyTorch
            var._grad = g.clone() if acc is None else sum_grads(acc, g)
        elif acc is None:
            # PyTorch steals a gradient nobody else holds; one that may alias another gradient,
            # a user's tensor or a broadcast view is copied (laid out like the leaf). A
            # gradient of another layout (sparse) is cloned.
            if type(g._data) not in _BY_ARRAY_TYPE:
                var._grad = g.clone()
            else:
                var._grad = _tensor._make(g._data) if _stealable(g, var) else \
                    _own_copy(g, var)
        else:
            d = acc._data
            backend = _BY_ARRAY_TYPE.get(type(d))
            if backend is not None and type(g._data) is type(d):
                # the engine has checked shape and dtype: add in place without an op dispatch
                backend.xp.add(d, g._data, out=d)
                acc._bump_version("add_")
            elif backend is None and type(g._data) in _BY_ARRAY_TYPE:
                var._grad = sum_grads(acc, g)  # sparse .grad + dense gradient: dense
            else:
                acc.add_(g)  # dense += sparse, sparse += sparse: in place, as PyTorch
        if var._meta is not None and var._meta.post_acc_hooks:
            for hook in list(var._meta.post_acc_hooks):
                hook(var)
        return ()


def sum_grads(old, new):
    """``old + new`` for two gradients of one tensor; when only one is dense, the dense one
    comes first (PyTorch defines dense + sparse, not sparse + dense)."""
    if type(old._data) not in _BY_ARRAY_TYPE and type(new._data) in _BY_ARRAY_TYPE:
        return new + old
    return old + new


def _stealable(g, like) -> bool:
    # references: the engine's list, the caller's and this function's names, getrefcount's
    # argument (the engine drops its other names for gradients it has passed on)
    d = g._data
    return (sys.getrefcount(g) <= 4 and g._base is None and g._grad_fn is None and
            d.flags.owndata and getattr(d.flags, "writeable", True) and  # CuPy: no such flag
            d.strides == like._data.strides)


def _own_copy(g, like):
    """A detached copy of ``g`` laid out like ``like`` (PyTorch's gradient layout contract)."""
    xp = _BY_ARRAY_TYPE[type(g._data)].xp
    out = xp.empty_like(like._data)
    xp.copyto(out, g._data)
    return _tensor._make(out)


class GraphRoot(Node):
    """Feeds the roots' gradients (``in_meta`` lets the engine cast them to the roots')."""

    __slots__ = ("grads",)

    def __init__(self, edges: tuple, grads, in_meta: tuple):
        # Node.__init__ inlined (one per backward); the engine never queues the root by seq
        self.edges, self.in_meta, self.nout, self.seq = edges, in_meta, 1, sys.maxsize
        self._pre_hooks = self._post_hooks = self._tensor_hooks = self._retained = None
        self._metadata = None
        self.grads = grads

    def name(self) -> str:
        return "ember::autograd::GraphRoot"

    def apply(self, grads):
        return tuple(self.grads)


def grad_edge(t):
    """The edge through which gradient reaches ``t``: its grad_fn, or its leaf's sink."""
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    meta = t._meta
    if meta is None:
        meta = t._autograd_meta()
    ref = meta.accumulate
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        meta.accumulate = weakref.ref(acc)
    return (acc, 0)


class CopySlices(Node):
    """The base's history after an in-place op on one of its views (PyTorch's CopySlices):
    the gradient of the view's region goes through the in-place op's node ``fn`` (whose first
    input is the view); the rest of the base's gradient flows to the base's previous history
    unchanged."""

    __slots__ = ("index", "fn")

    def __init__(self, base_edge, base, index, fn):
        Node.__init__(self, (base_edge, *fn.edges[1:]),
                      ((base._data.shape, base._data.dtype), *fn.in_meta[1:]))
        self.index, self.fn = index, fn

    def name(self) -> str:
        return "ember::autograd::CopySlices"

    def apply(self, grads: list) -> tuple:
        g = grads[0]
        if g is None:
            return (None,) * len(self.edges)
        from .._ops.index_ops import put_flat, take_flat  # (import cycle)
        region = take_flat(g, self.index)
        res = list(self.fn.apply([region]))
        r0 = res[0]
        if self.edges[0] is None:
            return (None, *res[1:])
        if r0 is None:
            r0 = region.new_zeros(())
        elif r0._data.shape != self.fn.in_meta[0][0]:
            r0 = r0.sum_to_size(self.fn.in_meta[0][0])
        return (put_flat(g, self.index, r0), *res[1:])

    def release(self) -> None:
        self.fn.release()
