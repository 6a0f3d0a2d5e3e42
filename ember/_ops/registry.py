"""The op registry and the eager interpreter over it.

# NOTE [ The op registry ]
An op is defined once, as an ``OpDef``:

- ``impl(xp, *args, **params)``: the forward over backend arrays (``xp`` is the array module
  of the inputs, NumPy or CuPy) and Python scalars; it applies PyTorch's dtype rules itself
  through the shared helpers in ``_rules``. ``kernels`` may override it per backend.
- ``vjp(ctx, grad)``: the backward, written in ember ops so that higher-order gradients come
  from autograd itself. ``ctx`` is the graph node: ``ctx.inputs`` (the saved inputs, None where
  not saved), ``ctx.out`` (the saved output), ``ctx.params``, ``ctx.needs_input_grad``. It
  returns one gradient per positional argument (None for non-tensors or unneeded ones), of the
  input's shape or any shape broadcastable to it.
- ``save``: which positional inputs backward needs (``"out"`` in it saves the outputs,
  ``"out1"`` only output 1), so a node keeps alive only what its VJP reads.
- ``view``: the output is a view of input 0 (shares memory and its version counter).
- ``nout``: number of outputs (tuples for > 1).

Eager execution (``apply``), in-place execution (``apply_inplace``) and autograd recording are
interpreters over these entries; tracing, export and compilation will be more of them. Public
functions and Tensor methods are thin wrappers generated from or written over the registry.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .. import _tensor as _tensor_mod
from .._tensor import Tensor, _AutogradMeta, _inference_error, _is_inference, _make
from ..autograd.anomaly_mode import ANOMALY as _ANOMALY
from ..autograd.anomaly_mode import store_stack
from ..autograd.grad_mode import STATE as _GRAD
from ..autograd.graph import (
    CopySlices,
    InplaceOpNode,
    OpNode,
    SavedTensor,
    grad_edge,
    set_history,
    short_name,
)
from ..backends import _BY_ARRAY_TYPE, DeviceMismatch

REGISTRY: dict[str, OpDef] = {}
# payload type -> handler(op, args, params, self) of a layout other than strided, whose tensors
# hold no backend array (NOTE [ Sparse COO tensors ]); consulted only after the dense lookup of
# a backend failed, so the dense path pays nothing for it
LAYOUTS: dict = {}
# the number of threads with autocast on (NOTE [ Autocast ]): while it is 0, autocast costs
# ``apply`` this one global read
AUTOCAST_THREADS = 0

_ndarray = np.ndarray


class _All:
    def __contains__(self, i) -> bool:
        return True


_ALL = _All()


class OpDef:
    """One op with all of its rules (see NOTE [ The op registry ])."""

    __slots__ = ("name", "impl", "vjp", "save", "save_for", "save_out", "view", "nout",
                 "kernels", "backward_name", "inplace")

    def __init__(self, name, impl, *, vjp=None, save=(), view=False, nout=1,
                 backward_name=None, inplace=None):
        self.name, self.impl, self.vjp = name, impl, vjp
        # ``inplace(xp, dst, *args, **params)``: an optional direct in-place kernel, used when
        # no graph is recorded (``x[i] = v``, ``add_`` under no_grad) to skip a copy
        self.inplace = inplace
        # ``save`` as a dict, {input: inputs its gradient reads}, saves only what the inputs
        # that need a gradient read, as PyTorch does (so an in-place change of an input no
        # gradient needs is no error)
        self.save_for = {k: tuple(v) for k, v in save.items()} if isinstance(save, dict) \
            else None
        if self.save_for is not None:
            save = tuple(sorted({i for v in self.save_for.values() for i in v}, key=str))
        self.save = _ALL if save == "all" else tuple(i for i in save if not isinstance(i, str))
        # "out" saves every output; "out1", "out2", ... save only those outputs (so that an
        # in-place change of the others, such as ``bn(x).relu_()``, is no error)
        outs = () if save == "all" else tuple(i for i in save if isinstance(i, str))
        self.save_out = True if "out" in outs else frozenset(int(o[3:]) for o in outs)
        self.view, self.nout, self.kernels = view, nout, {}
        # a string, or a function of the node for ops whose PyTorch name depends on the overload
        # (``inplace_overload``)
        self.backward_name = backward_name or (
            "".join(p.capitalize() for p in name.strip("_").split("_")) + "Backward0")

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __call__(self, *args, **params):
        return apply(self, args, params)


def inplace_overload(base: str):
    """A ``backward_name`` for ops whose in-place overload PyTorch differentiates separately:
    ``<base>Backward0``, or ``<base>Backward1`` for an in-place application."""
    names = (base + "Backward0", base + "Backward1")
    return lambda node: names[node.inplace]


def register(name: str, impl, **kw) -> OpDef:
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is registered twice")
    op = REGISTRY[name] = OpDef(name, impl, **kw)
    return op


def _as_array(r):
    # NumPy returns scalars, not 0-d arrays, from ufuncs on 0-d inputs and full reductions.
    return r if type(r) in _BY_ARRAY_TYPE else np.asarray(r)


def _devices_error(op, args):
    devs = []
    for a in args:
        if isinstance(a, Tensor) and str(a.device) not in devs:
            devs.append(str(a.device))
    devs.sort(key=lambda d: d == "cpu")  # PyTorch names the accelerator (the op's device) first
    return RuntimeError(
        f"{op.name}: Expected all tensors to be on the same device, but found at least two "
        f"devices, {devs[0]} and {devs[1]}!")


def apply(op: OpDef, args: tuple, params: dict):
    """Run ``op`` eagerly on tensors/scalars ``args``; record a graph node when needed."""
    if AUTOCAST_THREADS and _GRAD.autocast is not None:  # NOTE [ Autocast ]
        args = _GRAD.autocast(op, args, params)
    arrays = [None]  # the backend's array module goes first
    rg = False
    atype = None
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if atype is None:
                atype = type(d)
            elif type(d) is not atype:
                return _other_layout(op, args, params, None)
            arrays.append(d)
            if a._requires_grad:
                rg = True
        else:
            arrays.append(a)
    if atype is None:
        raise TypeError(f"{op.name}(): expected at least one Tensor argument, got "
                        f"{', '.join(type(a).__name__ for a in args) or 'none'}")
    try:
        backend = _BY_ARRAY_TYPE[atype]
    except KeyError:
        return _other_layout(op, args, params, None)
    fn = op.kernels.get(backend.name, op.impl) if op.kernels else op.impl
    try:
        if backend.call is None:
            arrays[0] = backend.xp
            out = fn(*arrays, **params) if params else fn(*arrays)
        else:  # a backend with several devices checks and selects the device (NOTE [ Backends ])
            out = backend.call(fn, arrays[1:], params)
    except DeviceMismatch:
        raise _devices_error(op, args) from None
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        raise _op_error(op, e, args) from None
    if op.nout == 1:
        out = _make(out if type(out) is atype else _as_array(out))
        if op.view:
            _mark_view(out, args[0], False)
        if rg and _GRAD.grad_enabled and op.vjp is not None:
            record(op, args, params, (out,))
        return out
    outs = tuple(_make(_as_array(o)) for o in out)
    if op.view:
        for o in outs:
            _mark_view(o, args[0], True)
    if rg and _GRAD.grad_enabled and op.vjp is not None:
        record(op, args, params, outs)
    return outs


def _other_layout(op: OpDef, args: tuple, params: dict, self):
    """Run ``op`` through the handler of the first non-strided layout among its tensors
    (``self`` is the destination of an in-place op); with none, the tensors' arrays are of
    different backends."""
    for a in args if self is None else (self, *args):
        if isinstance(a, Tensor) and type(a._data) in LAYOUTS:
            return LAYOUTS[type(a._data)](op, args, params, self)
    raise _devices_error(op, args if self is None else (self, *args))


def _op_error(op: OpDef, e: Exception, args: tuple) -> Exception:
    """The error of a failed op in the user's terms: the op, what went wrong, and the shapes
    and dtypes it was given. NumPy's shape errors become PyTorch's RuntimeError."""
    msg = str(e)
    if getattr(e, "_ember_op", False):
        return e
    shapes = [a._data.shape for a in args if isinstance(a, Tensor)]
    if "could not be broadcast" in msg and len(shapes) >= 2:
        from .rules import broadcast_shapes
        try:
            broadcast_shapes(op.name, *shapes)
        except RuntimeError as b:
            msg = str(b).partition(": ")[2]
    kind = RuntimeError if type(e) is ValueError else type(e)
    desc = ", ".join(f"{_dtype.FROM_NP[a._data.dtype].name}{list(a._data.shape)}"
                     if isinstance(a, Tensor) else type(a).__name__ for a in args)
    prefix = "" if msg.startswith(op.name) else f"{op.name}(): "
    try:
        err = kind(f"{prefix}{msg} (inputs: {desc})")
    except TypeError:  # an exception type with a different constructor: keep it as it is
        return e
    err._ember_op = True
    return err


def _mark_view(out: Tensor, src: Tensor, multi: bool) -> None:
    # the version counter is shared through ``_base`` (Tensor._version_counter), lazily
    base = src._base if src._base is not None else src
    out._base = base
    out._vc = None  # shares the base's counter (an inference mark from _make is dropped)
    if base._requires_grad or (multi and _GRAD.grad_enabled):
        _view_meta(out, src, multi)


def _view_meta(out: Tensor, src: Tensor, multi: bool) -> None:
    """PyTorch's view bookkeeping (NOTE [ Views and in-place ])."""
    meta = out._meta = _AutogradMeta()  # ``out`` is new: no metadata yet
    vc = out._vc = out._base._version_counter()
    meta.view_version = vc.value
    grad = _GRAD.grad_enabled
    how = ("multi_output" if multi else None) if grad else "no_grad"
    inherited = src._meta.view_creation_meta if src._meta is not None else None
    meta.view_creation_meta = how or inherited
    if not grad:
        out._requires_grad = True  # as in PyTorch, though no gradient will reach it


_BF16 = _dtype.bfloat16.np



def record(op: OpDef, args: tuple, params: dict, outs: tuple, self_value=None) -> OpNode:
    """Attach a graph node for ``op`` applied to ``args`` giving ``outs``; ``self_value``
    replaces ``args[0]`` as the value saved for backward (an in-place op's old self)."""
    edges, in_meta, saved = [], [], []
    save = op.save
    if op.save_for is not None:
        for a in args:
            if not (isinstance(a, Tensor) and a._requires_grad):
                save = _saves_for(op, args)  # (with every input needing a gradient: all)
                break
    i = 0
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if not a._requires_grad:
                edges.append(None)
            elif a._base is not None:
                edges.append(_edge(a))
            elif a._grad_fn is not None:
                edges.append((a._grad_fn, a._output_nr))  # _edge's common cases, inlined
            else:
                edges.append(grad_edge(a))
            in_meta.append((d.shape, d.dtype))
            saved.append(SavedTensor(self_value if i == 0 and self_value is not None else a,
                                     False, op.name) if i in save else None)
        else:
            # non-tensor arguments (numbers, None) are kept as they are for the VJP
            edges.append(None)
            in_meta.append(None)
            saved.append(a)
        i += 1
    node = OpNode(op, params, tuple(edges), tuple(in_meta), tuple(saved), len(outs))
    i = 0
    for o in outs:
        if o._data.dtype.kind in "fc" or o._data.dtype == _BF16:
            o._grad_fn, o._output_nr, o._requires_grad = node, i, True
        i += 1
    if op.save_out:
        node.saved_out = (SavedTensor(outs[0], True, op.name) if op.nout == 1 else
                          tuple(SavedTensor(o, True, op.name)
                                if op.save_out is True or i in op.save_out else None
                                for i, o in enumerate(outs)))
    if _ANOMALY.enabled:
        store_stack(node)
    return node


def _saves_for(op: OpDef, args: tuple):
    """The inputs to save for the gradients of those inputs that need one (``save`` as a
    dict)."""
    chosen = set()
    for k, a in enumerate(args):
        if not isinstance(a, Tensor):
            # (with a Python number PyTorch saves it as a tensor, freed after backward like any
            # other; saving everything keeps that behaviour)
            return op.save
        if a._requires_grad:
            chosen.update(op.save_for.get(k, ()))
    return chosen


# -- views and in-place ---------------------------------------------------------------------------
#
# NOTE [ Views and in-place ]
# As in PyTorch, a view whose base requires grad remembers the version of the shared counter
# its history was recorded at (``view_version``) and how it was made (``view_creation_meta``:
# in no-grad mode, by a multi-output op such as unbind, or inside a custom Function).
# - In-place on a view rewrites the base's history to CopySlices (the view's region goes
#   through the in-place op's node, the rest of the base through its old history) and re-reads
#   the view's history from the base.
# - A view used after its base or another view was modified in place (the counter moved on)
#   gets its history re-read from the base the same way (``_edge``).
# - Views made in no-grad mode, by multi-output ops or in custom Functions may not be modified
#   in place with grad on, directly or through their base: the graph could not be rewritten
#   correctly, so PyTorch's errors are raised instead.

def _edge(t: Tensor):
    """``grad_edge`` of a recorded op's input, re-reading a stale view's history from its
    base; None for a view made in no-grad mode (PyTorch passes it no gradient)."""
    meta = t._meta
    if t._base is not None and meta is not None and meta.view_version is not None:
        if meta.view_version != t._version_counter().value:
            _rebase_view(t)
        elif t._grad_fn is None and meta.view_creation_meta == "no_grad":
            return None
    return grad_edge(t)


def current_grad_fn(t: Tensor):
    """``t``'s grad_fn as PyTorch's ``grad_fn`` reads it: re-read from the base first for a
    view whose base was modified in place."""
    if t._base is not None and t._requires_grad:
        _edge(t)
    return t._grad_fn


_VIEW_HINTS = {
    "multi_output": " This view is the output of a function that returns multiple views. Such "
                    "functions do not allow the output views to be modified inplace. You should "
                    "replace the inplace operation by an out-of-place one.",
    "no_grad": " Given that this use case is ambiguous and error-prone, it is forbidden. You can "
               "clarify your code by moving both the view and the inplace either both inside the "
               "no_grad block (if you don't want the inplace to be tracked) or both outside (if "
               "you want the inplace to be tracked).",
    "custom_function": " This view was created inside a custom Function (or because an input "
                       "was returned as-is) and the autograd logic to handle view+inplace would "
                       "override the custom backward associated with the custom Function, "
                       "leading to incorrect gradients. This behavior is forbidden. You can fix "
                       "this by cloning the output of the custom Function.",
}


def _view_error(view: Tensor, indirect: bool) -> RuntimeError:
    how, fn = view._meta.view_creation_meta, view._grad_fn
    what = "its base or another view of its base has been" if indirect else "is being"
    if how == "no_grad" or fn is None:
        prefix = (f"Output {view._output_nr} of {short_name(fn)} is a view of a view which was "
                  "created in" if fn is not None else "A view was created in")
        msg = f"{prefix} no_grad mode and {what} modified inplace with grad mode enabled."
    else:
        msg = f"Output {view._output_nr} of {short_name(fn)} is a view and {what} modified inplace."
    return RuntimeError(msg + _VIEW_HINTS[how])


def _check_inplace(op: OpDef, self: Tensor, rg: bool) -> None:
    if _tensor_mod.INFERENCE_SEEN and not _GRAD.inference and _is_inference(self):
        raise _inference_error("inplace")  # NOTE [ Inference tensors ]
    if not (rg and _GRAD.grad_enabled):
        return
    base = self._base
    if base is not None:
        if self._meta is not None and self._meta.view_creation_meta is not None:
            raise _view_error(self, indirect=False)
        if base._grad_fn is None and base._requires_grad:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation. The in-place op was {op.name}_.")
    elif self._grad_fn is None and self._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. The "
            f"in-place op was {op.name}_.")


def apply_inplace(op: OpDef, self: Tensor, args: tuple, params: dict) -> Tensor:
    """Run ``op(self, *args)`` and write the result into ``self`` (``self.op_(...)``)."""
    rg = self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
    _check_inplace(op, self, rg)
    dst = self._data
    if type(dst) is _ndarray:
        if not dst.flags.writeable:
            raise _read_only_error(op, dst)
    elif type(dst) in LAYOUTS:
        return _other_layout(op, args, params, self)
    record_it = rg and _GRAD.grad_enabled and op.vjp is not None
    if not record_it and op.inplace is not None:
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        for a in arrays:
            if type(a) is not type(dst) and (type(a) in _BY_ARRAY_TYPE or type(a) in LAYOUTS):
                return _other_layout(op, args, params, self)
        backend = _BY_ARRAY_TYPE[type(dst)]
        try:
            if backend.call is None:
                op.inplace(backend.xp, dst, *arrays, **params)
            else:
                backend.call(op.inplace, (dst, *arrays), params)
        except DeviceMismatch:
            raise _devices_error(op, (self, *args)) from None
        except (RuntimeError, ValueError, IndexError, TypeError) as e:
            raise _op_error(op, e, (self, *args)) from None
        self._bump_version(op.name + "_")
        return self
    all_args = (self, *args)
    # backward needs self's value from before the write: save a copy (with history, for
    # double backward, though not an input of the node)
    old = REGISTRY["clone"](self) if record_it and 0 in op.save else None
    with _plain():
        result = apply(op, all_args, params)
    # the node is made before the write, so that it reads self's history from before it
    node = record(op, all_args, params, (result,), old) if record_it else None
    _write_into(op, self, result._data)
    if node is not None:
        node.__class__ = InplaceOpNode  # same layout; only the backward's name may differ
        if self._base is not None:
            _rebase_base(self, node)
        else:
            set_history(self, node)
        if op.save_out:
            node.saved_out = SavedTensor(self, True, op.name)
    return self


def _read_only_error(op: OpDef, dst) -> RuntimeError:
    if any(s == 0 and n > 1 for n, s in zip(dst.shape, dst.strides)):
        return RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    return RuntimeError(f"{op.name}_: the tensor is read-only (it shares memory with a "
                        "read-only array); clone() it first")


def _write_into(op: OpDef, self: Tensor, value) -> None:
    dst = self._data
    rt, st = _dtype.FROM_NP[value.dtype], _dtype.FROM_NP[dst.dtype]
    if rt is not st and not _dtype.can_cast(rt, st):
        raise RuntimeError(
            f"{op.name}_: result type {rt.word} can't be cast to the desired output "
            f"type {st.word}")
    if value.shape != dst.shape:
        try:
            shape = np.broadcast_shapes(value.shape, dst.shape)
        except ValueError:
            shape = None
        if shape != dst.shape:
            raise RuntimeError(
                f"{op.name}_: output with shape {list(dst.shape)} doesn't match the broadcast "
                f"shape {list(shape) if shape else list(value.shape)}")
    backend = _BY_ARRAY_TYPE[type(dst)]
    if backend.call is None:
        backend.xp.copyto(dst, value, casting="unsafe")
    else:
        backend.call(_copyto, (dst, value), {})
    self._bump_version(op.name + "_")


def _copyto(xp, dst, value):
    xp.copyto(dst, value, casting="unsafe")




def _rebase_base(view: Tensor, fn) -> None:
    """``view`` was modified in place by the op whose node is ``fn`` (its input 0 is the view):
    the base's history becomes CopySlices and the view's is re-read from the base."""
    base = view._base
    idx = view_index(base._data, view._data)
    copy = CopySlices(grad_edge(base) if base._requires_grad else None, base, idx, fn)
    set_history(base, copy)
    _rebase_view(view)


def _rebase_view(view: Tensor) -> None:
    meta = view._meta
    if meta is not None and meta.view_creation_meta is not None:
        raise _view_error(view, indirect=True)
    base = view._base
    idx = view_index(base._data, view._data)
    node = record(REGISTRY["_view_of_base"], (base,), {"index": idx}, (_make(view._data),))
    set_history(view, node)
    view._autograd_meta().view_version = view._version_counter().value


def view_index(base_arr, view_arr):
    """Flat (row-major) indices into ``base_arr`` of each element of its view ``view_arr``."""
    xp = _BY_ARRAY_TYPE[type(base_arr)].xp
    isz = base_arr.itemsize

    def positions(a, offset):
        pos = xp.full(a.shape, offset, dtype=np.int64)
        for d, (n, s) in enumerate(zip(a.shape, a.strides)):
            shape = [1] * a.ndim
            shape[d] = n
            pos = pos + (xp.arange(n, dtype=np.int64) * (s // isz)).reshape(shape)
        return pos

    from .._tensor import _address
    pb = positions(base_arr, 0).reshape(-1)
    pv = positions(view_arr, (_address(view_arr) - _address(base_arr)) // isz)
    if base_arr.flags.c_contiguous:
        return pv
    inv = xp.full(int(pb.max()) + 1 if pb.size else 1, -1, dtype=np.int64)
    inv[pb] = xp.arange(pb.size, dtype=np.int64)
    return inv[pv]


class _plain:
    """No recording and no autocast (PyTorch autocasts no in-place op): the out-of-place run
    of an in-place op."""

    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = _GRAD.grad_enabled, _GRAD.autocast
        _GRAD.grad_enabled, _GRAD.autocast = False, None

    def __exit__(self, *exc):
        _GRAD.grad_enabled, _GRAD.autocast = self.prev
