"""The Tensor: a backend array plus autograd metadata.

# NOTE [ Tensor layout ]
``_data`` is the backend array (NumPy on CPU). Views are backend views, so memory is shared
exactly as PyTorch shares it and strides/offsets are read from the array. ``_base`` is the root
tensor a view was taken from (None for a non-view), and views share one ``_VersionCounter``
with their base, bumped by every in-place op, so autograd can detect a saved tensor that was
overwritten. The counter is created lazily (most tensors never need one). ``_meta`` holds rare
autograd state (hooks, retain_grad, the leaf's AccumulateGrad node) and is None for most
tensors, so that making a tensor on the no-grad path costs a handful of slot stores.

Methods for ops are attached by the op registry (``ember._ops``); this module has only what is
intrinsic to a tensor.
"""

from __future__ import annotations

import builtins
import copy

import numpy as np

from . import _dtype
from .backends import of_array as _backend_of

_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple of ints, ``ember.Size([2, 3])``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        out = []
        for i, s in enumerate(sizes):
            if type(s) is not int:
                if isinstance(s, float) or not hasattr(s, "__index__"):
                    raise TypeError(f"ember.Size() takes an iterable of 'int' (item {i} is "
                                    f"'{type(s).__name__}')")
                s = s.__index__()
            out.append(s)
        return tuple.__new__(cls, out)

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return _size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to "
                            "ember.Size")
        return _size(tuple(self) + other)

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _size(other + tuple(self))

    def __mul__(self, n):
        return _size(tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def _size(shape) -> Size:
    """A Size from a tuple of ints, unchecked (the hot path's constructor)."""
    return tuple.__new__(Size, shape)


class memory_format:
    """A memory layout: ``ember.contiguous_format``, ``ember.channels_last``, ..."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):
        return self.name


class layout(memory_format):
    """A tensor layout: ``ember.strided`` (dense) or ``ember.sparse_coo`` (NOTE [ Sparse COO
    tensors ] in ``ember/_sparse.py``)."""

    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
strided = layout("strided")
sparse_coo = layout("sparse_coo")
# dims from fastest to slowest varying in each format (c10's compute_*_contiguous order)
_FORMAT_ORDER = {channels_last: (4, (1, 3, 2, 0)), channels_last_3d: (5, (1, 4, 3, 2, 0))}


def format_strides(shape: tuple, fmt: memory_format) -> tuple:
    """Element strides of a dense tensor of ``shape`` laid out in ``fmt`` (c10's
    get_channels_last_strides for the channels-last formats)."""
    if fmt not in _FORMAT_ORDER:
        return _contiguous_strides(shape)
    rank, order = _FORMAT_ORDER[fmt]
    if len(shape) != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt.name} format")
    st, n = [0] * rank, 1
    for d in order:
        st[d] = n
        n *= shape[d]
    return tuple(st)


class _VersionCounter:
    __slots__ = ("value", "modified_by")

    def __init__(self):
        self.value = 0
        self.modified_by = None


# NOTE [ Inference tensors ]
# A tensor made in ``inference_mode`` (by an op or a creation function, but not a view of a
# normal tensor) is an inference tensor, as in PyTorch: it has no version counter, may not be
# saved for backward or modified in place outside inference mode, and cannot start requiring
# grad there. ember marks one by giving it an ``_InferenceCounter`` as its version counter,
# which its views share through ``_base`` like any counter. ``_make`` marks new tensors while
# any thread is in inference mode (``INFERENCE_THREADS``, so the hot path pays one global read
# otherwise); views drop the mark and share their base's counter. Unlike PyTorch, an in-place
# op refused on an inference tensor leaves it unchanged (PyTorch writes, then raises).
INFERENCE_THREADS = 0
INFERENCE_SEEN = False  # set once any inference_mode region was entered
_grad_state = None  # grad_mode.STATE, set by inference_mode before INFERENCE_THREADS rises


class _InferenceCounter(_VersionCounter):
    __slots__ = ()


def _is_inference(t) -> bool:
    vc = t._vc
    if vc is None and t._base is not None:
        vc = t._base._vc
    return type(vc) is _InferenceCounter


def _inference_error(what: str) -> RuntimeError:
    return RuntimeError({
        "inplace": "Inplace update to inference tensor outside InferenceMode is not allowed."
                   "You can make a clone to get a normal tensor before doing inplace update."
                   "See https://github.com/pytorch/rfcs/pull/17 for more details.",
        "save": "Inference tensors cannot be saved for backward. Please do not use Tensors "
                "created in inference mode in computation tracked by autograd. To work around "
                "this, you can make a clone to get a normal tensor and use it in autograd, or "
                "use `torch.no_grad()` instead of `torch.inference_mode()`.",
        "version": "Inference tensors do not track version counter.",
        "requires_grad": "Setting requires_grad=True on inference tensor outside "
                         "InferenceMode is not allowed.",
    }[what])


class _AutogradMeta:
    __slots__ = ("hooks", "retains_grad", "post_acc_hooks", "accumulate", "view_version",
                 "view_creation_meta")

    def __init__(self):
        # hook lists are made on first registration (most metadata belongs to views)
        self.hooks = self.post_acc_hooks = ()
        self.retains_grad = False
        self.accumulate = None
        self.view_version = None
        self.view_creation_meta = None


class Tensor:
    """An n-dimensional array with autograd, PyTorch's ``torch.Tensor``."""

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_grad", "_vc", "_base",
                 "_meta", "__weakref__", "__dict__")
    __hash__ = object.__hash__
    # NumPy must defer to our reflected operators (np.float32(2) * t -> Tensor).
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs):
        # torch.Tensor(data) / torch.Tensor(2, 3): the legacy constructor, default dtype.
        from ._creation import legacy_new
        return legacy_new(cls, *args, **kwargs)

    # -- intrinsic attributes ---------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return _size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim``."""
        if dim is None:
            return _size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.FROM_NP[self._data.dtype]

    @property
    def device(self):
        return _backend_of(self._data).device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        a = self._data
        isz = a.itemsize
        st = tuple([s // isz for s in a.strides])
        if not a.size and not any(st):
            st = _contiguous_strides(a.shape)  # NumPy zeroes an empty array's strides
        return st if dim is None else st[_wrap_dim(dim, a.ndim)]

    def storage_offset(self) -> int:
        root = _root_array(self._data)
        return (_address(self._data) - _address(root)) // self._data.itemsize

    def data_ptr(self) -> int:
        return _address(self._data)

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements are dense in row-major order (or in ``memory_format``)."""
        if memory_format not in _FORMAT_ORDER:
            return self._data.flags.c_contiguous or self._data.size <= 1
        rank, order = _FORMAT_ORDER[memory_format]
        shape, st = self._data.shape, self.stride()
        if len(shape) != rank:
            return False
        expected = 1
        for d in order:
            if shape[d] != 1:
                if st[d] != expected:
                    return False
                expected *= shape[d]
        return True

    @property
    def layout(self) -> layout:
        return strided

    # a sparse tensor is a subclass (NOTE [ Sparse COO tensors ] in ember/_sparse.py)
    is_sparse = False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self.dtype is _dtype.bfloat16

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    @property
    def _version(self) -> int:
        vc = self._version_counter()
        if type(vc) is _InferenceCounter:
            raise _inference_error("version")
        return vc.value

    def _version_counter(self) -> _VersionCounter:
        """This tensor's version counter, shared with its base and its views."""
        if self._vc is None:
            owner = self._base if self._base is not None else self
            if owner._vc is None:
                owner._vc = _VersionCounter()
            self._vc = owner._vc
        return self._vc

    def _bump_version(self, op_name: str) -> None:
        vc = self._vc if self._vc is not None else self._version_counter()
        vc.value += 1
        vc.modified_by = op_name

    # -- autograd attributes ----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether autograd records operations on this leaf tensor; returns self."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and not (self.is_floating_point() or self.is_complex()):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and _is_inference(self) and not (
                _grad_state is not None and _grad_state.inference):
            raise _inference_error("requires_grad")
        self._requires_grad = builtins.bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}")
            if value.dtype is not self.dtype:
                from .autograd.graph import dtype_words
                got, want = dtype_words(value.dtype)[0], dtype_words(self.dtype)[1]
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{got}' to a tensor with "
                    f"grad_dtype '{want}'. The gradient must match the tensor's grad_dtype "
                    "(defaults to the tensor's dtype). You can set the tensor's grad_dtype "
                    "attribute with a specific dtype, or None to allow any dtype. Set grad_dtype "
                    "with caution. Diverging the dtypes of a tensor and its gradient may break "
                    "downstream systems that assume they match.")
            if value.device != self.device:
                raise RuntimeError(
                    f"attempting to assign a gradient with device type '{value.device.type}' to "
                    f"a tensor with device type '{self.device.type}'. Please ensure that the "
                    "gradient and the tensor are on the same device")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size")
        self._grad = value

    @property
    def grad_fn(self):
        if self._base is not None and self._requires_grad:
            # a view whose base was modified in place shows its re-read history, as in PyTorch
            from ._ops.registry import current_grad_fn
            return current_grad_fn(self)
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    def _is_view(self) -> bool:
        return self._base is not None

    def is_inference(self) -> bool:
        """Whether this tensor was made in ``inference_mode`` (NOTE [ Inference tensors ])."""
        return _is_inference(self)

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's storage, outside autograd."""
        return _make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    def _autograd_meta(self) -> _AutogradMeta:
        if self._meta is None:
            self._meta = _AutogradMeta()
        return self._meta

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor | None`` to run when this tensor's gradient is
        computed (a returned tensor replaces the gradient); returns a handle with
        ``remove()``. On a non-leaf the hook stays with the current grad_fn: after an in-place
        op it sees the gradient of the value it was registered on, as in PyTorch."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            meta = self._autograd_meta()
            if type(meta.hooks) is tuple:
                meta.hooks = []
            meta.hooks.append(hook)
            return RemovableHandle(meta.hooks, hook)
        from ._ops.registry import current_grad_fn
        return current_grad_fn(self).add_tensor_hook(self._output_nr, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)`` to run after the gradient is accumulated into ``.grad``."""
        if self._grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        meta = self._autograd_meta()
        if type(meta.post_acc_hooks) is tuple:
            meta.post_acc_hooks = []
        meta.post_acc_hooks.append(hook)
        return RemovableHandle(meta.post_acc_hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (a no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self.retains_grad:
            return
        from ._ops.registry import current_grad_fn
        current_grad_fn(self).retain(self._output_nr, self)
        self._autograd_meta().retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._meta is not None and self._meta.retains_grad

    def detach(self) -> Tensor:
        """A tensor sharing storage and version counter with this one, cut from the graph."""
        t = _make(self._data)
        t._vc = self._version_counter()
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (not allowed on views)."""
        if self._base is not None and (self.is_floating_point() or self.is_complex()):
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    # -- conversion to Python / NumPy -------------------------------------------------------
    def _host(self) -> np.ndarray:
        return _backend_of(self._data).to_numpy(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        v = self._host().reshape(()).item()
        return float(v) if self.dtype is _dtype.bfloat16 else v

    def tolist(self):
        """The values as nested Python lists (a number for a 0-d tensor)."""
        h = self._host()
        if self.dtype is _dtype.bfloat16:
            h = h.astype(np.float32)
        return h.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory (on CPU)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        if not force and self.device.type != "cpu":
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first.")
        return self._host()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __dlpack__(self, *args, **kwargs):
        if self._requires_grad:
            raise RuntimeError(
                "Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        n = self._data.size
        if n != 1:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if n == 0
                               else "Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self._host().reshape(()))

    def _number(self, c_type: str):
        """The one element as a real Python number (PyTorch's checked cast to ``c_type``)."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        v = self.item()
        if isinstance(v, complex):
            if v.imag:
                raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
            return v.real
        return v

    def __float__(self) -> float:
        return builtins.float(self._number("double"))

    def __int__(self) -> int:
        return builtins.int(self._number("int64_t"))

    def __complex__(self) -> complex:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return complex(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._tensor_str import tensor_repr
        fn = self._grad_fn
        return tensor_repr(
            self._host(),
            dtype_name=self.dtype.name, default_dtype_name=_dtype.get_default_dtype().name,
            device=str(self.device),
            requires_grad=self._requires_grad and fn is None,
            grad_fn_name=None if fn is None else fn.name().rpartition("::")[2])

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def _storage(self):
        """(root array, element offset, element strides, whether the root is shared) of the
        storage this tensor views, so that pickling and deepcopy keep views of one storage
        sharing it, as PyTorch does."""
        a = self._data
        root = _root_array(a)
        if not root.flags.c_contiguous or a.size == 0:  # not a plain buffer: a compact copy
            return a.copy(), 0, _contiguous_strides(a.shape), False
        return root, (_address(a) - _address(root)) // a.itemsize, self.stride(), True

    def share_memory_(self) -> Tensor:
        """Move this tensor's storage into shared memory (a no-op if it is there already), so
        that processes it reaches through ``ember.multiprocessing`` share its writes; see
        NOTE [ Shared tensor memory ]. A view's base moves with it; other views of the old
        storage keep the old memory.

        >>> ember.zeros(3).share_memory_().is_shared()
        True
        """
        from ._ops.shape import strided
        from .multiprocessing.reductions import segment_of, shared_copy
        root, offset, strides, whole = self._storage()
        if segment_of(root) is not None:
            return self
        new_root = shared_copy(root)
        base = self._base
        if whole and base is not None and _root_array(base._data) is root:
            base._data = strided(new_root, base._data.shape, base.stride(), base.storage_offset())
        self._data = strided(new_root, self._data.shape, strides, offset)
        return self

    def is_shared(self) -> bool:
        """Whether this tensor's storage is in shared memory (see ``share_memory_``)."""
        from .multiprocessing.reductions import is_shared_array
        return is_shared_array(self._data)

    def __reduce_ex__(self, protocol):
        root, offset, strides, _ = self._storage()
        host = _backend_of(root).to_numpy(root)
        state = self.__dict__ or None
        return (_rebuild, (type(self), host, offset, tuple(self._data.shape), strides,
                           self._requires_grad, str(self.device), state))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                "this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        from ._ops.shape import strided
        root, offset, strides, shared = self._storage()
        # the root array is memoised as deepcopy would memoise it: views keep sharing
        new_root = memo.get(id(root)) if shared else None
        if new_root is None:
            new_root = root.copy()
            if shared:
                memo[id(root)] = new_root
        t = _make(strided(new_root, self._data.shape, strides, offset), self._requires_grad)
        if type(self) is not Tensor:
            t = _as_subclass(t, type(self))
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        if self.__dict__:
            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = t
        return t


def _rebuild(cls, root, offset, shape, strides, requires_grad, device, state):
    from ._creation import _to_device_array
    from ._ops.shape import strided
    t = _make(strided(_to_device_array(root, device), shape, strides, offset), requires_grad)
    if cls is not Tensor:
        t = _as_subclass(t, cls)
    if state:
        t.__dict__.update(state)
    return t


def _as_subclass(t: Tensor, cls):
    s = object.__new__(cls)
    for name in Tensor.__slots__[:-2]:
        object.__setattr__(s, name, getattr(t, name))
    return s


class RemovableHandle:
    """Returned by hook registrations: ``handle.remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _make(data, requires_grad: bool = False, cls=Tensor, _new=object.__new__) -> Tensor:
    """Wrap a backend array (or another layout's payload, with that layout's Tensor subclass
    ``cls``) into a Tensor (the hot path: slot stores only)."""
    t = _new(cls)
    t._data = data
    t._requires_grad = requires_grad
    t._grad_fn = t._grad = t._vc = t._base = t._meta = None
    t._output_nr = 0
    if INFERENCE_THREADS and _grad_state.inference:  # NOTE [ Inference tensors ]
        t._vc = _InferenceCounter()
    return t


def _contiguous_strides(shape) -> tuple:
    st, n = [], 1
    for s in reversed(shape):
        st.append(n)
        n *= max(s, 1)
    return tuple(reversed(st))


def _wrap_dim(dim: int, ndim: int) -> int:
    """``dim`` of size()/stride() wrapped into ``range(ndim)``, with PyTorch's errors."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    n = ndim
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _root_array(a):
    while isinstance(a.base, type(a)):
        a = a.base
    return a


def _address(a) -> int:
    if isinstance(a, _ndarray):
        return a.__array_interface__["data"][0]
    return a.data.ptr

