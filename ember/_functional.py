"""Public functions (``ember.add``, ``ember.sum``, ...): thin wrappers that parse PyTorch's
signatures and call registry ops. Tensor methods are bound from these in ``_methods``."""

from __future__ import annotations

import builtins
import importlib
import math
import pkgutil

from . import _api, _dtype, return_types
from ._ops import REGISTRY as R
from ._ops.registry import apply, apply_inplace
from ._ops.shape import infer_shape
from ._tensor import Tensor, contiguous_format, preserve_format
from .amp.autocast_mode import autocast_listed

__all__: list[str] = []
# public functions that are not also Tensor methods (``ember.cat`` but no ``Tensor.cat``)
NOT_METHODS = {"cat", "concat", "concatenate", "stack", "einsum", "where", "rsub"}


def _export(fn, *names, method: bool = True):
    """Make ``fn`` public as ``ember.<name>`` (and ``Tensor.<name>`` unless ``method=False``).
    Exporting a name again replaces the earlier function."""
    for n in (fn.__name__, *names):
        globals()[n] = fn
        if n not in __all__:
            __all__.append(n)
        if not method:
            NOT_METHODS.add(n)
    return fn


def _shape(args) -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` and ``f(ember.Size([2, 3]))`` all mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    for a in args:
        if type(a) is not builtins.int:
            return tuple(a.__index__() for a in args)
    return tuple(args)


# -- unary elementwise ----------------------------------------------------------------------------

_UNARY_NAMES = ["neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
                "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                "asinh", "acosh", "atanh", "sigmoid", "relu", "reciprocal", "square", "sign",
                "sgn", "floor", "ceil", "trunc", "frac", "logical_not", "bitwise_not", "isnan",
                "isinf", "isfinite", "conj"]
_ALIASES = {"neg": ["negative"], "abs": ["absolute"], "asin": ["arcsin"], "acos": ["arccos"],
            "atan": ["arctan"], "asinh": ["arcsinh"], "acosh": ["arccosh"],
            "atanh": ["arctanh"], "trunc": ["fix"]}


def _unary(name):
    op = R[name]

    def fn(input: Tensor) -> Tensor:
        return apply(op, (input,), {})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}``: ``ember.{name}(ember.tensor([0.5, 1.0]))``."
    return fn


def _inplace(name, op_name=None):
    op = R[op_name or name]

    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        return apply_inplace(op, input, args, kwargs)

    fn.__name__ = fn.__qualname__ = name + "_"
    return fn


for _n in _UNARY_NAMES:
    _export(_unary(_n), *_ALIASES.get(_n, []))
    if _n not in ("isnan", "isinf", "isfinite", "conj", "abs"):  # abs_: the pointwise area
        _export(_inplace(_n), *[a + "_" for a in _ALIASES.get(_n, [])])


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor is returned as it is, as in PyTorch."""
    return apply(R["conj"], (input,), {}) if input._data.dtype.kind == "c" else input


_export(conj)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, optionally to ``decimals`` places: ``ember.round(t, decimals=2)``."""
    return apply(R["round"], (input,), {"decimals": decimals} if decimals else {})


def round_(input: Tensor, *, decimals: int = 0) -> Tensor:
    return apply_inplace(R["round"], input, (), {"decimals": decimals} if decimals else {})


_export(round)
_export(round_)


def positive(input: Tensor) -> Tensor:
    if input.dtype is _dtype.bool:
        raise RuntimeError(
            "The `+` operator, on a bool tensor is not supported.")
    return input


_export(positive)


# -- binary elementwise ---------------------------------------------------------------------------

def _check_tensor_arg(name, input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not "
            f"{type(input).__name__}")


# ops whose ``other`` may be a Python number (PyTorch has a Scalar overload for these)
_SCALAR_OTHER = {"mul", "floor_divide", "remainder", "eq", "ne", "lt", "le", "gt", "ge",
                 "bitwise_and", "bitwise_or", "bitwise_xor"}


def _binary(name):
    op = R[name]
    scalar_ok = name in _SCALAR_OTHER

    def fn(input, other) -> Tensor:
        _check_tensor_arg(name, input, other)
        if not scalar_ok and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        return apply(op, (input, other), {})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting and PyTorch's type promotion."
    return fn


_BINARY_NAMES = {"mul": ["multiply"], "floor_divide": [], "remainder": [],
                 "maximum": [], "minimum": [], "atan2": ["arctan2"], "eq": [],
                 "ne": ["not_equal"], "lt": ["less"], "le": ["less_equal"], "gt": ["greater"],
                 "ge": ["greater_equal"], "logical_and": [], "logical_or": [], "logical_xor": [],
                 "bitwise_and": [], "bitwise_or": [], "bitwise_xor": []}
# atan2_ and logical_*_ (which refuse a number) are the pointwise area's; PyTorch has no
# maximum_/minimum_
for _n, _al in _BINARY_NAMES.items():
    _export(_binary(_n), *_al)
    if _n not in ("eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "atan2",
                  "logical_and", "logical_or", "logical_xor"):
        _export(_inplace(_n), *[a + "_" for a in _al])
for _n in ("eq", "ne", "lt", "le", "gt", "ge"):
    _export(_inplace(_n))


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` with broadcasting: ``ember.add(a, b, alpha=2)``."""
    _check_tensor_arg("add", input, other)
    return apply(R["add"], (input, other), {"alpha": alpha} if alpha != 1 else {})


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` with broadcasting."""
    _check_tensor_arg("sub", input, other)
    return apply(R["sub"], (input, other), {"alpha": alpha} if alpha != 1 else {})


def rsub(input, other, *, alpha=1) -> Tensor:
    return sub(other, input, alpha=alpha)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """True division (int inputs give floats), or ``rounding_mode='trunc'|'floor'``."""
    _check_tensor_arg("div", input, other)
    return apply(R["div"], (input, other),
                 {"rounding_mode": rounding_mode} if rounding_mode is not None else {})


def pow(input, exponent) -> Tensor:  # noqa: A001
    """``input ** exponent`` elementwise; either may be a Python number."""
    _check_tensor_arg("pow", input, exponent)
    return apply(R["pow"], (input, exponent), {})


def true_divide(input, other) -> Tensor:
    return div(input, other)


_export(add)
_export(sub, "subtract")
_export(rsub)
_export(div, "divide")
_export(pow)
_export(true_divide)


def add_(input, other, *, alpha=1):
    return apply_inplace(R["add"], input, (other,), {"alpha": alpha} if alpha != 1 else {})


def sub_(input, other, *, alpha=1):
    return apply_inplace(R["sub"], input, (other,), {"alpha": alpha} if alpha != 1 else {})


def div_(input, other, *, rounding_mode=None):
    return apply_inplace(R["div"], input, (other,),
                         {"rounding_mode": rounding_mode} if rounding_mode is not None else {})


def pow_(input, exponent):
    return apply_inplace(R["pow"], input, (exponent,), {})


_export(add_)
_export(sub_, "subtract_")
_export(div_, "divide_", "true_divide_")
_export(pow_)


def where(condition: Tensor, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` else ``other`` (either may be a number)."""
    if input is None and other is None:
        from ._api.indexing import nonzero  # (the indexing area imports this module)
        return nonzero(condition, as_tuple=True)
    return apply(R["where"], (condition, input, other), {})


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to ``[min, max]``; bounds may be numbers or tensors."""
    return apply(R["clamp"], (input, min, max), {})


def clamp_(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    return apply_inplace(R["clamp"], input, (min, max), {})


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


_export(where)
_export(clamp, "clip")
_export(clamp_, "clip_")
_export(clamp_min)
_export(clamp_max)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, else ``input``."""
    return apply(R["masked_fill"], (input, mask, value), {})


def masked_fill_(input: Tensor, mask: Tensor, value) -> Tensor:
    return apply_inplace(R["masked_fill"], input, (mask, value), {})


_export(masked_fill)
_export(masked_fill_)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own storage, differentiable (strides kept unless ``memory_format``
    says otherwise)."""
    if memory_format is None or memory_format is preserve_format:
        return apply(R["clone"], (input,), {})
    if memory_format is contiguous_format:
        return apply(R["clone"], (input,), {"contiguous": True})
    return input.contiguous(memory_format=memory_format).clone()


_export(clone)


# -- reductions -----------------------------------------------------------------------------------

def _dim_arg(dim):
    if dim is None or isinstance(dim, builtins.int):
        return dim
    d = tuple(dim)
    return d if d else None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (int, tuple or all); integer inputs give int64."""
    return apply(R["sum"], (input,), {"dim": _dim_arg(dim), "keepdim": keepdim, "dtype": dtype})


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim``; needs a floating input (or ``dtype=``)."""
    return apply(R["mean"], (input,), {"dim": _dim_arg(dim), "keepdim": keepdim, "dtype": dtype})


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one ``dim`` or all elements."""
    return apply(R["prod"], (input,), {"dim": dim, "keepdim": keepdim, "dtype": dtype})


def _correction(name, dim, unbiased, correction):
    if isinstance(dim, builtins.bool):  # std(input, unbiased)
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise RuntimeError(f"{name}: cannot specify both unbiased and correction")
    return dim, correction


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1)."""
    dim, correction = _correction("var", dim, unbiased, correction)
    return apply(R["var"], (input,), {"dim": _dim_arg(dim), "correction": correction,
                                      "keepdim": keepdim})


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation over ``dim`` with Bessel's ``correction`` (default 1)."""
    dim, correction = _correction("std", dim, unbiased, correction)
    return apply(R["std"], (input,), {"dim": _dim_arg(dim), "correction": correction,
                                      "keepdim": keepdim})


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all by default); gradient shared evenly among ties."""
    return apply(R["amax"], (input,), {"dim": _dim_arg(dim), "keepdim": keepdim})


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all by default)."""
    return apply(R["amin"], (input,), {"dim": _dim_arg(dim), "keepdim": keepdim})


def _minmax(name):
    full, by_dim, pair = R[name], R[name + "_dim"], R[name + "imum"]
    result = getattr(return_types, name)

    def fn(input: Tensor, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return apply(pair, (input, dim), {})
        if dim is None:
            return apply(full, (input,), {"dim": None})
        v, i = apply(by_dim, (input,), {"dim": dim, "keepdim": keepdim})
        return result((v, i))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name}(input)``: the {name} value; ``{name}(input, dim)``: (values, "
                  f"indices); ``{name}(input, other)``: elementwise {name}imum.")
    return fn


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (over the flattened input when ``dim`` is None)."""
    return apply(R["argmax"], (input,), {"dim": dim, "keepdim": keepdim})


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the minimum."""
    return apply(R["argmin"], (input,), {"dim": dim, "keepdim": keepdim})


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether all elements (over ``dim``) are nonzero."""
    return apply(R["all"], (input,), {"dim": _dim_arg(dim), "keepdim": keepdim})


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether any element (over ``dim``) is nonzero."""
    return apply(R["any"], (input,), {"dim": _dim_arg(dim), "keepdim": keepdim})


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed stably."""
    return apply(R["logsumexp"], (input,), {"dim": _dim_arg(dim) if dim != () else None,
                                            "keepdim": keepdim})


for _f in (sum, mean, prod, var, std, amax, amin, argmax, argmin, all, any, logsumexp):
    _export(_f)
_export(_minmax("max"))
_export(_minmax("min"))


# -- shape and views ------------------------------------------------------------------------------

def reshape(input: Tensor, shape) -> Tensor:
    """The same data in ``shape``: a view when the strides allow, else a copy."""
    shape = infer_shape(_shape((shape,)), input.numel(), "reshape")
    if shape == tuple(input.shape):
        return apply(R["view"], (input,), {"shape": shape})
    try:
        return apply(R["view"], (input,), {"shape": shape})
    except RuntimeError:
        return apply(R["_reshape_copy"], (input,), {"shape": shape})


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    nd = input.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = start_dim % nd if -nd <= start_dim < nd else _bad_dim(start_dim, nd)
    e = end_dim % nd if -nd <= end_dim < nd else _bad_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = tuple(input.shape)
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def _bad_dim(d, nd):
    raise IndexError(
        f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {d})")


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    nd = input.ndim
    d = dim % nd if -nd <= dim < nd else _bad_dim(dim, nd)
    shp = tuple(input.shape)
    sizes = tuple(sizes)
    if -1 not in sizes and math.prod(sizes) != shp[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor")
    sizes = infer_shape(sizes, shp[d], "unflatten")
    return input.view(shp[:d] + sizes + shp[d + 1:])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``)."""
    return apply(R["squeeze"], (input,), {"dim": dim} if dim is not None else {})


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim``."""
    return apply(R["unsqueeze"], (input,), {"dim": dim})


def broadcast_to(input: Tensor, size) -> Tensor:
    """A view of ``input`` broadcast to ``size``."""
    return apply(R["expand"], (input,), {"size": tuple(size)})


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims ``dim0`` and ``dim1`` swapped."""
    return apply(R["transpose"], (input,), {"dim0": dim0, "dim1": dim1})


def permute(input: Tensor, dims) -> Tensor:
    """A view with dims reordered."""
    return apply(R["permute"], (input,), {"dims_": tuple(dims)})


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (a permute view)."""
    nd = input.ndim
    if isinstance(source, builtins.int) != isinstance(destination, builtins.int):
        raise TypeError(
            f"movedim() received an invalid combination of arguments - got "
            f"({type(source).__name__}, {type(destination).__name__}), but expected one of:\n"
            " * (int source, int destination)\n * (tuple of ints source, tuple of ints "
            "destination)")
    src = [source] if isinstance(source, builtins.int) else list(source)
    dst = [destination] if isinstance(destination, builtins.int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
            f"the same number of dims as destination ({dst} dims)")
    src = [s % builtins.max(nd, 1) for s in src]
    dst = [d % builtins.max(nd, 1) for d in dst]
    order = [i for i in range(nd) if i not in src]
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return permute(input, perm)


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix (vectors and scalars unchanged)."""
    return apply(R["t"], (input,), {})


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """A view of ``length`` elements along ``dim`` from ``start``."""
    return apply(R["narrow"], (input,), {"dim": dim, "start": builtins.int(start),
                                         "length": builtins.int(length)})


def select(input: Tensor, dim: int, index) -> Tensor:
    """A view at ``index`` along ``dim`` (that dim removed)."""
    return apply(R["select"], (input,), {"dim": dim, "index": builtins.int(index)})


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """Views of each slice along ``dim``."""
    return apply(R["unbind"], (input,), {"dim": dim})


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of consecutive chunks of ``split_size`` (or of the listed sizes) along ``dim``."""
    s = split_size_or_sections
    s = builtins.int(s) if not isinstance(s, (list, tuple)) else tuple(builtins.int(v) for v in s)
    return apply(R["split"], (tensor,), {"split_size_or_sections": s, "dim": dim})


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` views of (nearly) equal size along ``dim``."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input.size(dim)
    return split(input, builtins.max(-(-n // chunks), 1), dim)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal over ``dim1``, ``dim2`` (placed last)."""
    return apply(R["diagonal"], (input,), {"offset": offset, "dim1": dim1, "dim2": dim2})


def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view with the given sizes and element strides into ``input``'s storage."""
    return apply(R["as_strided"], (input,), {"size": tuple(size), "stride": tuple(stride),
                                             "storage_offset": storage_offset})


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along ``dim`` (types promote)."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    return apply(R["cat"], tuple(tensors), {"dim": dim})


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dim."""
    if isinstance(tensors, Tensor):
        raise TypeError("stack(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    return apply(R["stack"], tuple(tensors), {"dim": dim})


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    if isinstance(dims, builtins.int):
        raise TypeError("flip(): argument 'dims' (position 2) must be tuple of ints, not int")
    return apply(R["flip"], (input,), {"dims_": tuple(dims)})


for _f in (reshape, flatten, unflatten, squeeze, unsqueeze, broadcast_to, permute, t, narrow,
           select, unbind, split, chunk, diagonal, as_strided, stack, flip):
    _export(_f)
_export(transpose, "swapaxes", "swapdims")
_export(movedim, "moveaxis")
_export(cat, "concat", "concatenate")


# -- products -------------------------------------------------------------------------------------

def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting (1-D operands are vectors)."""
    return apply(R["matmul"], (input, other), {})


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices."""
    return apply(R["mm"], (input, mat2), {})


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of (b, n, m) and (b, m, p)."""
    return apply(R["bmm"], (input, mat2), {})


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``, the Linear layer's op."""
    return apply(R["addmm"], (input, mat1, mat2),
                 {} if beta == 1 and alpha == 1 else {"beta": beta, "alpha": alpha})


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: ``ember.einsum('bij,bjk->bik', a, b)``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return apply(R["einsum"], operands, {"equation": equation})


@autocast_listed
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    return matmul(input, tensor)


for _f in (matmul, mm, bmm, addmm, einsum, dot):
    _export(_f)


# -- methods without a module-level function ------------------------------------------------------

def _unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view of all slices of ``size`` elements along ``dimension``, ``step`` apart."""
    return apply(R["unfold"], (self,), {"dimension": dimension, "size": size, "step": step})


def real(input: Tensor) -> Tensor:
    """The real part (a view; the tensor itself for real dtypes)."""
    return input if not input.is_complex() else apply(R["real"], (input,), {})


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor (a view)."""
    return apply(R["imag"], (input,), {})


METHODS = {"unfold": _unfold, "real": property(real), "imag": property(imag)}
_export(real)
_export(imag)


# NOTE [ Public functions by area ]
# The core's public functions are above; each further area of PyTorch's op set keeps its public
# wrappers in its own module under ``ember/_api/`` and publishes them with ``_export`` (method-only
# ones go into ``METHODS``). Importing them here makes them part of ``ember`` and Tensor.
# The op-breadth areas load first, in this order (later ones use earlier ones' functions);
# the areas built on them (nn's functional ops, ...) follow in name order.
_CORE_AREAS = ("pointwise", "special", "reduction", "shape", "indexing", "linalg", "fft", "random")
for _area in _CORE_AREAS + tuple(sorted(m.name for m in pkgutil.iter_modules(_api.__path__)
                                        if m.name not in _CORE_AREAS)):
    importlib.import_module(f"{__package__}._api.{_area}")
