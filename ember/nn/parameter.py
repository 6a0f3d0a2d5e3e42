"""Parameters and buffers: the tensors a Module registers (``torch.nn.parameter``).

# NOTE [ Parameters are Tensor subclasses ]
``Parameter`` subclasses ``Tensor`` and shares the storage and version counter of the tensor it
wraps (PyTorch's ``_make_subclass``). Ops on a Parameter return plain Tensors, as PyTorch's
disabled ``__torch_function__`` makes them; in-place ops return the Parameter itself.
``Buffer`` is a marker: ``Buffer(t)`` returns a plain detached tensor flagged ``_is_buffer``
(and ``persistent``) that ``isinstance(x, Buffer)`` recognises, so that assigning it to a module
attribute registers a buffer. The uninitialized kinds hold an empty tensor (only its dtype and
device matter) until ``materialize`` gives them a shape and turns them into their final class.
"""

from __future__ import annotations

from .. import _creation
from .._tensor import Tensor, _as_subclass

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer",
           "UninitializedTensorMixin"]


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned as an attribute.

    >>> p = ember.nn.Parameter(ember.zeros(2))
    >>> p.requires_grad
    True
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = _creation.empty(0)
        t = _as_subclass(data.detach(), cls)  # shares storage and version counter
        t.requires_grad_(requires_grad)
        return t

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer",
                                                                      False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor as a buffer: ``module.stats = Buffer(ember.zeros(3))`` registers it
    (``persistent=False`` keeps it out of the state_dict). Returns a detached plain tensor."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _creation.empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


# what an uninitialized tensor still allows (PyTorch's _allowed_methods)
_ALLOWED = frozenset(["size", "copy_", "is_complex", "is_floating_point", "half", "float",
                      "double", "char", "short", "int", "long", "cuda", "cpu", "to",
                      "get_device", "materialize"])


def _refuse(cls, name: str):
    return ValueError(
        f"Attempted to use an uninitialized parameter in <method '{name}' of 'ember.Tensor' "
        "objects>. This error happens when you are using a `LazyModule` or explicitly "
        f"manipulating `ember.nn.parameter.{cls.__name__}` objects. When using LazyModules Call "
        "`forward` with a dummy batch to initialize the parameters before calling ember "
        "functions")


class UninitializedTensorMixin:
    """What uninitialized parameters and buffers share: no shape yet, and every op refuses
    them (only conversions such as ``to``/``double`` and ``copy_`` are allowed)."""

    def __getattribute__(self, name: str):
        # only uninitialized tensors pay for this: materialize() changes the class. Public
        # Tensor methods are refused; private ones stay usable by ember's own machinery.
        attr = object.__getattribute__(self, name)
        if (name[0] != "_" and name not in _ALLOWED
                and getattr(attr, "__func__", None) is getattr(Tensor, name, _ALLOWED)):
            raise _refuse(type(self), name)
        return attr

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the tensor ``shape`` (uninitialized values) and turn it into its final class
        (``Parameter`` or ``Tensor``); ``device``/``dtype`` default to the current ones."""
        ref = self.data
        self.data = _creation.empty(shape, device=ref.device if device is None else device,
                                    dtype=ref.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (type(self), (self.requires_grad,))


def _refusing_operator(name: str):
    def op(self, *args):
        raise _refuse(type(self), name.strip("_"))
    return op


for _dunder in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
                "xor", "radd", "rsub", "rmul", "rtruediv", "rfloordiv", "rmod", "rpow",
                "rmatmul", "eq", "ne", "lt", "le", "gt", "ge", "neg", "abs", "getitem",
                "setitem", "iter", "len", "bool", "float", "int", "index"):
    setattr(UninitializedTensorMixin, f"__{_dunder}__", _refusing_operator(_dunder))
UninitializedTensorMixin.__hash__ = Tensor.__hash__


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter without a shape yet (used by lazy modules); ``materialize(shape)`` turns it
    into a ``Parameter``."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        data = _creation.empty(0, device=device, dtype=dtype)
        t = _as_subclass(data, cls)
        Tensor.requires_grad_(t, requires_grad)
        return t

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        ref = self.data
        result = type(self)(self.requires_grad, ref.device, ref.dtype)
        memo[id(self)] = result
        return result


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer without a shape yet; ``materialize(shape)`` turns it into a Tensor."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        t = _as_subclass(_creation.empty(0, device=device, dtype=dtype), cls)
        Tensor.requires_grad_(t, requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
