"""Sparse COO tensors (layout ``ember.sparse_coo``), PyTorch's ``torch.sparse_coo_tensor``.

# NOTE [ Sparse COO tensors ]
A sparse tensor is a ``Tensor`` whose ``_data`` is a ``SparseCOO`` payload instead of a backend
array: ``indices`` (int64, ``(sparse_dim, nnz)``), ``values`` (``(nnz, *dense_shape)``; a hybrid
tensor has dense dims, as an embedding gradient ``(num_embeddings, dim)`` with indices
``(1, nnz)`` and values ``(nnz, dim)``), the ``shape`` and whether it is known to be coalesced.
The payload answers ``shape``/``dtype``/``ndim``/``size`` like an array, so Tensor's metadata
(size, dtype, dim, numel) and autograd's shape and dtype checks work unchanged. Its class,
``SparseTensor``, is a Tensor subclass overriding only what reads storage (stride, data_ptr,
numpy, repr, detach, pickling, ...). Payloads are replaced, not mutated, by the ops that change
the structure (coalesce, add_, zero_); in-place arithmetic writes ``values`` in place, so tensors
sharing them (``detach()``, ``_values()``) see it, as in PyTorch.

Ops reach this layout through the registry: ``apply``/``apply_inplace`` find the backend from
the array type, and a payload type, registered in ``registry.LAYOUTS``, sends the call to
``_dispatch`` instead -- only after the dense lookup has failed, so the dense path pays
nothing. ``_dispatch`` runs the op's kernel from ``_KERNELS`` / ``_INPLACE`` (keyed by op
name, written with dense ops over ``values``); an op without one raises PyTorch's
NotImplementedError ("Could not run ... with arguments from the 'SparseCPU' backend"), naming
the op, instead of computing on something that is no array.

Arithmetic follows PyTorch's CPU kernels, including the structure of uncoalesced results:
- sparse + sparse merges the two index lists as ``add_out_sparse_contiguous`` does (a
  two-pointer merge that joins equal indices; ``_merge_slots``), or concatenates them when a
  ``values`` array is not contiguous (coalescing when nnz exceeds numel);
- linear ops (neg, mul/div by a scalar) keep the structure; the other unary ops, pow and
  rounding division coalesce first;
- dense + sparse adds ``alpha * values`` into a copy of the dense tensor in nnz order; sparse +
  dense is refused, as in PyTorch.

Autograd: gradients may be sparse (``embedding(..., sparse=True)``); the engine sums and
accumulates gradients of any layout through ops, putting the dense operand first when only one
is dense (``graph.sum_grads``). Ops with a sparse input that requires grad are not recorded:
they raise. An op mixing dense inputs that require grad with sparse ones that do not (dense +
sparse) is recorded as the dense op.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._ops import REGISTRY as R
from ._ops.registry import LAYOUTS, _plain, record
from ._tensor import Size, Tensor, _make, sparse_coo
from .autograd.grad_mode import STATE as _GRAD
from .backends import _BY_ARRAY_TYPE

__all__ = ["sparse_coo_tensor"]

_I64 = np.dtype(np.int64)


class SparseCOO:
    """The payload of a sparse COO tensor (see NOTE [ Sparse COO tensors ])."""

    __slots__ = ("indices", "values", "shape", "coalesced")

    def __init__(self, indices, values, shape: tuple, coalesced: bool):
        self.indices, self.values, self.shape = indices, values, shape
        self.coalesced = coalesced

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self) -> int:
        return self.values.itemsize

    @property
    def nnz(self) -> int:
        return self.indices.shape[1]

    @property
    def sparse_dim(self) -> int:
        return self.indices.shape[0]


def _xp(a):
    return _BY_ARRAY_TYPE[type(a)].xp


def _is_sparse(t) -> bool:
    return isinstance(t, Tensor) and type(t._data) is SparseCOO


def _wrap(p: SparseCOO, requires_grad: bool = False) -> SparseTensor:
    return _make(p, requires_grad, SparseTensor)


def _new(p: SparseCOO, indices=None, values=None, coalesced=None) -> SparseTensor:
    """A sparse tensor like ``p`` with some of its parts replaced."""
    return _wrap(SparseCOO(p.indices if indices is None else indices,
                           p.values if values is None else values, p.shape,
                           p.coalesced if coalesced is None else coalesced))


def _promote(a, b):
    """PyTorch's promotion of two NumPy dtypes, as a NumPy dtype."""
    return _dtype.promote_types(_dtype.FROM_NP[np.dtype(a)], _dtype.FROM_NP[np.dtype(b)]).np


def _word(np_dtype) -> str:
    return _dtype.FROM_NP[np.dtype(np_dtype)].word


# -- construction -----------------------------------------------------------------------------

def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad: bool = False, check_invariants=None,
                      is_coalesced=None) -> Tensor:
    """A sparse COO tensor with the given ``indices`` ``(sparse_dim, nnz)`` and ``values``
    ``(nnz, *dense_shape)``; ``size`` defaults to the smallest that holds the indices.

    >>> ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3., 4., 5.], (2, 3))
    """
    from ._creation import as_tensor
    vals = as_tensor(values, dtype=dtype, device=device)
    if vals._requires_grad and _GRAD.grad_enabled:
        raise NotImplementedError(
            "sparse_coo_tensor: values that require grad: autograd through sparse COO tensors "
            "is not supported (create it under no_grad, or with requires_grad=True)")
    idx = as_tensor(indices, device=vals.device)._data
    v = vals._data
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    xp = _xp(v)
    idx = idx.astype(np.int64, copy=False)
    nnz = idx.shape[1]
    v_nnz = v.shape[0] if v.ndim else 1
    if nnz != v_nnz:
        raise RuntimeError("indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {v_nnz}")
    sd, dd = idx.shape[0], max(v.ndim - 1, 0)
    if size is None:
        if nnz and int(idx.min()) < 0:
            _negative_index(xp, idx)
        size = tuple(int(m) + 1 for m in idx.max(axis=1)) if nnz else (0,) * sd
        size += tuple(v.shape[1:])
    else:
        size = tuple(Size(size))
        if len(size) != sd + dd:
            raise RuntimeError(
                f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                f"{len(size)}, sparse_dim = {sd}, dense_dim = {dd}")
        if tuple(v.shape[1:]) != size[sd:]:
            raise RuntimeError(f"values has incorrect size, expected {[nnz, *size[sd:]]}, got "
                               f"{list(v.shape)}")
    check = check_invariants
    if check and nnz:
        _check_bounds(xp, idx, size)
    if check and is_coalesced and nnz > 1:
        keys = _keys(xp, idx, size[:sd])
        if not bool((keys[1:] > keys[:-1]).all()):
            raise RuntimeError("cannot set is_coalesced to true if indices correspond to "
                               "uncoalesced COO tensor")
    t = _wrap(SparseCOO(idx, v, size, nnz < 2 if is_coalesced is None else bool(is_coalesced)))
    if requires_grad:
        if not (t.is_floating_point() or t.is_complex()):
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def _negative_index(xp, idx):
    d = int(xp.nonzero((idx < 0).any(axis=1))[0][0])
    raise RuntimeError(f"found negative index {int(idx[d].min())} for dim {d}")


def _check_bounds(xp, idx, size):
    if int(idx.min()) < 0:
        _negative_index(xp, idx)
    for d in range(idx.shape[0]):
        m = int(idx[d].max())
        if m >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {m}")


# -- structure --------------------------------------------------------------------------------

def _keys(xp, indices, sizes):
    """Row-major linear keys of index columns (their lexicographic order); ranks when the
    product of the sizes would overflow int64."""
    n = 1
    for s in sizes:
        n *= max(s, 1)
    if n < 2 ** 62:
        strides, k = [], 1
        for s in reversed(sizes):
            strides.append(k)
            k *= max(s, 1)
        st = xp.asarray(strides[::-1], dtype=np.int64)
        return (indices * st[:, None]).sum(axis=0) if len(sizes) else \
            xp.zeros(indices.shape[1], np.int64)
    return xp.unique(indices.T, axis=0, return_inverse=True)[1].reshape(-1)


def _coalesce(p: SparseCOO) -> SparseCOO:
    """Indices sorted and unique, duplicates' values summed in nnz order (PyTorch's
    coalesce); ``p`` itself when it is coalesced already."""
    if p.coalesced:
        return p
    xp = _xp(p.values)
    keys = _keys(xp, p.indices, p.shape[:p.sparse_dim])
    order = xp.argsort(keys, kind="stable")
    ks = keys[order]
    first = xp.ones(ks.shape, bool)
    first[1:] = ks[1:] != ks[:-1]
    starts = xp.nonzero(first)[0]
    vals = p.values[order]
    if starts.size and starts.size != vals.shape[0]:
        vals = xp.add.reduceat(vals, starts, axis=0).astype(p.values.dtype, copy=False)
    return SparseCOO(p.indices[:, order[starts]], vals, p.shape, True)


def _merge_slots(xp, ka, kb):
    """The entries PyTorch's two-pointer merge of the key lists ``ka`` and ``kb`` produces
    (add_out_sparse_contiguous: take the smaller head, both heads when equal): for each output
    entry its position in ``a`` and in ``b`` (-1: none).

    Vectorised by levels: with P the running maximum of a list, an element of ``a`` comes
    before one of ``b`` iff its P is smaller; the runs of equal P that both lists share meet
    at their heads (which are joined) and their tails merge the same way, one level down."""
    n, m = ka.size, kb.size
    rank = xp.unique(xp.concatenate([ka, kb]), return_inverse=True)[1].reshape(-1)
    big = n + m + 1
    key = [rank[:n].astype(np.int64), rank[n:].astype(np.int64)]
    pos = [xp.arange(n), xp.arange(m)]
    seg = [xp.zeros(n, np.int64), xp.zeros(m, np.int64)]
    partner = xp.full(n, -1, np.int64)
    b_slot = xp.ones(m, bool)
    cols = []
    while pos[0].size or pos[1].size:
        col_run = xp.zeros(n + m, np.int64)
        col_sub = xp.zeros(n + m, np.int64)
        runs = []
        for s in (0, 1):
            v = seg[s] * big + key[s]
            runs.append(xp.maximum.accumulate(v) if v.size else v)
        shared = xp.intersect1d(runs[0], runs[1])
        every = xp.union1d(runs[0], runs[1])
        heads = []
        for s in (0, 1):
            r = runs[s]
            k = xp.arange(r.size)
            start = xp.ones(r.shape, bool)
            start[1:] = r[1:] != r[:-1]
            within = k - xp.maximum.accumulate(xp.where(start, k, 0)) if r.size else k
            sh = xp.isin(r, shared)
            head = within == 0
            at = pos[s] + (n if s else 0)
            col_run[at] = xp.searchsorted(every, r)
            col_sub[at] = xp.where(sh, xp.where(head, 0, 1), within)
            heads.append(pos[s][sh & head])
            child = sh & ~head
            seg[s] = xp.searchsorted(shared, r[child])
            pos[s], key[s] = pos[s][child], key[s][child]
        # heads of shared runs pair up in order (the running maxima ascend along each list)
        partner[heads[0]] = heads[1]
        b_slot[heads[1]] = False
        cols += [col_run, col_sub]
    order = xp.lexsort(cols[::-1]) if cols else xp.zeros(0, np.int64)
    owner = xp.concatenate([xp.ones(n, bool), b_slot])
    order = order[owner[order]]
    in_a = order < n
    ia = xp.where(in_a, order, -1)
    ib = xp.where(in_a, partner[xp.minimum(order, max(n - 1, 0))] if n else -1, order - n)
    return ia, ib


def _add_sparse(a: SparseCOO, b: SparseCOO, alpha, out_dtype) -> SparseCOO:
    """``a + alpha * b`` of two sparse tensors, structured as PyTorch's CPU kernel."""
    xp = _xp(a.values)
    common = _promote(a.values.dtype, b.values.dtype)
    av = a.values.astype(common, copy=False)
    bv = b.values.astype(common, copy=False)
    if alpha != 1:
        bv = (_make(bv) * alpha)._data.astype(common, copy=False)
    if b.nnz == 0:
        return SparseCOO(a.indices.copy(), av.astype(out_dtype), a.shape, a.coalesced)
    if a.nnz == 0:
        return SparseCOO(b.indices.copy(), bv.astype(out_dtype), a.shape, b.coalesced)
    if a.values.flags.c_contiguous and b.values.flags.c_contiguous:
        sizes = a.shape[:a.sparse_dim]
        ia, ib = _merge_slots(xp, _keys(xp, a.indices, sizes), _keys(xp, b.indices, sizes))
        has_a, has_b = ia >= 0, ib >= 0
        indices = xp.where(has_a, a.indices[:, xp.maximum(ia, 0)],
                           b.indices[:, xp.maximum(ib, 0)])
        vals = xp.zeros((ia.size,) + av.shape[1:], common)
        vals[has_a] += av[ia[has_a]]
        vals[has_b] += bv[ib[has_b]]
        return SparseCOO(indices, vals.astype(out_dtype, copy=False), a.shape,
                         a.coalesced and b.coalesced)
    # a non-contiguous values array: PyTorch concatenates
    p = SparseCOO(xp.concatenate([a.indices, b.indices], axis=1),
                  xp.concatenate([av, bv]).astype(out_dtype, copy=False), a.shape, False)
    return _coalesce(p) if p.nnz > p.size else p


def _add_into_dense(dst, p: SparseCOO, alpha):
    """``dst += alpha * p`` for a dense array ``dst`` (a fresh one or a tensor's), in nnz
    order and in the promoted dtype."""
    xp = _xp(dst)
    common = _promote(dst.dtype, p.values.dtype)
    v = p.values.astype(common, copy=False)
    if alpha != 1:
        v = (_make(v) * alpha)._data.astype(common, copy=False)
    work = dst if dst.dtype == common else dst.astype(common)
    if p.sparse_dim:
        xp.add.at(work, tuple(p.indices), v)
    else:
        work += v.sum(axis=0)
    if work is not dst:
        xp.copyto(dst, work, casting="unsafe")


def _check_same_size(name: str, a, b, dense: bool):
    if tuple(a.shape) != tuple(b.shape):
        if dense:
            raise RuntimeError(
                f"{name}: expected 'self' and 'other' to have same size, but self has size "
                f"{list(a.shape)} while other has size {list(b.shape)} (FYI: dense-sparse "
                "addition does not currently support broadcasting)")
        raise RuntimeError(f"{name}: expected sizes of 'self' and 'other' to match, but "
                           f"{list(a.shape)} != {list(b.shape)}")
    if not dense and a.sparse_dim != b.sparse_dim:
        raise RuntimeError(
            f"{name}: expected 'self' and 'other' to have same density, but 'self' has "
            f"{a.sparse_dim} sparse dimensions while 'other' has {b.sparse_dim} sparse "
            "dimensions")


def _sparse_dense_error():
    return RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")


# -- op kernels -------------------------------------------------------------------------------

def _add(a, b, alpha=1, name="add"):
    if not _is_sparse(a):
        if not isinstance(a, Tensor):
            raise _sparse_dense_error()
        _check_same_size(name, a, b._data, True)
        out = a._data.astype(_promote(a._data.dtype, b._data.dtype))
        _add_into_dense(out, b._data, alpha)
        return _make(out)
    if not _is_sparse(b):
        raise _sparse_dense_error()
    pa, pb = a._data, b._data
    _check_same_size(name, pa, pb, False)
    return _wrap(_add_sparse(pa, pb, alpha, _promote(pa.dtype, pb.dtype)))


def _sub(a, b, alpha=1):
    return _add(a, b, -alpha, "sub")


def _add_inplace(self, other, alpha=1, name="add"):
    if not _is_sparse(self):  # dense += sparse
        _check_same_size(name, self, other._data, True)
        common = _promote(self._data.dtype, other._data.dtype)
        if not _dtype.can_cast(_dtype.FROM_NP[common], self.dtype):
            raise RuntimeError(f"Can't convert result type {_word(common)} to output "
                               f"{self.dtype.word} in {name} operation")
        _add_into_dense(self._data, other._data, alpha)
        self._bump_version(name + "_")
        return self
    if not _is_sparse(other):
        raise _sparse_dense_error()
    p = self._data
    _check_same_size(name, p, other._data, False)
    self._data = _add_sparse(p, other._data, alpha, p.dtype)
    self._bump_version(name + "_")
    return self


def _sub_inplace(self, other, alpha=1):
    return _add_inplace(self, other, -alpha, "sub")


def _scalar_operand(op_name: str, x):
    """A Python number or a 0-d dense tensor; anything else is not supported here."""
    if isinstance(x, Tensor) and (x.is_sparse or x.dim() != 0):
        raise NotImplementedError(
            f"{op_name}: ember supports a sparse COO tensor with a number or a 0-d tensor only, "
            f"not with a {'sparse' if x.is_sparse else f'{x.dim()}-d dense'} tensor")
    return x


def _values_op(name, coalesce: bool):
    """A kernel applying the dense op ``name`` to the values (after coalescing when the op
    is not linear) with any scalar operands; the structure is kept."""
    op = R[name]

    def kernel(*args, **params):
        sp = [a for a in args if _is_sparse(a)]
        # one sparse operand, first unless the op commutes (2 * s)
        if len(sp) != 1 or not _is_sparse(args[0]) and name != "mul":
            raise NotImplementedError(_unsupported_msg(name, _backend_name(args)))
        p = sp[0]._data
        if coalesce or params.get("rounding_mode") is not None:
            p = _coalesce(p)
        vals = _make(p.values)
        new = op(*(vals if _is_sparse(a) else _scalar_operand(name, a) for a in args), **params)
        return _new(p, p.indices.copy() if p is sp[0]._data else None, new._data)
    return kernel


def _values_op_inplace(name):
    op = R[name]

    def kernel(self, *args, **params):
        if not _is_sparse(self) or any(_is_sparse(a) for a in args):
            raise NotImplementedError(_unsupported_msg(name + "_", _backend_name((self, *args))))
        p = self._data
        new = op(_make(p.values), *(_scalar_operand(name, a) for a in args), **params)._data
        if new.dtype != p.dtype and not _dtype.can_cast(_dtype.FROM_NP[new.dtype], self.dtype):
            raise RuntimeError(f"dtype of values ({_word(new.dtype)}) must match dtype of "
                               f"sparse tensor ({self.dtype.word})")
        _xp(p.values).copyto(p.values, new, casting="unsafe")
        self._bump_version(name + "_")
        return self
    return kernel


def _pow(a, exponent):
    if not _is_sparse(a) or isinstance(exponent, Tensor):
        raise NotImplementedError(_unsupported_msg("pow", _backend_name((a, exponent))))
    if exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make "
                           "the result tensor dense")
    return _values_op("pow", True)(a, exponent)


def _clone(a, contiguous=False):
    if contiguous:
        raise RuntimeError("unsupported memory format option Contiguous")
    p = a._data
    return _new(p, p.indices.copy(), p.values.copy())


def _to_copy(a, dtype):
    p = a._data
    return _new(p, p.indices.copy(), R["_to_copy"](_make(p.values), dtype=dtype)._data)


def _to_device(a, device, source):
    p = a._data
    move = R["_to_device"]
    return _new(p, move(_make(p.indices), device=device, source=source)._data,
                move(_make(p.values), device=device, source=source)._data)


def _sum(a, dim=None, keepdim=False, dtype=None):
    """The sum of all elements (a dense 0-d tensor) or over ``dim`` as ``ember.sparse.sum``:
    dense when every sparse dim is summed, else sparse and coalesced."""
    p = a._data
    vals = _make(p.values)
    if dim is None or dim == ():
        return R["sum"](vals, dim=None, keepdim=False, dtype=dtype)
    if keepdim:
        raise NotImplementedError("sum: keepdim=True is not supported for sparse COO tensors")
    dims = sorted({d % p.ndim for d in ((dim,) if isinstance(dim, int) else dim)})
    sd = p.sparse_dim
    dense_dims = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_dims:
        vals = R["sum"](vals, dim=dense_dims, keepdim=False, dtype=dtype)
    elif dtype is not None:
        vals = R["_to_copy"](vals, dtype=dtype)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        return R["sum"](vals, dim=(0,), keepdim=False, dtype=None)
    shape = tuple(s for d, s in enumerate(p.shape) if d not in dims)
    return _wrap(_coalesce(SparseCOO(p.indices[keep], vals._data, shape, False)))


def _fill_inplace(self, value):
    if not _is_sparse(self) or isinstance(value, Tensor) or value != 0:
        raise NotImplementedError(_unsupported_msg("fill_", _backend_name((self, value))))
    p = self._data
    xp = _xp(p.values)
    self._data = SparseCOO(xp.zeros((p.sparse_dim, 0), np.int64),
                           xp.zeros((0,) + tuple(p.shape[p.sparse_dim:]), p.dtype), p.shape, True)
    self._bump_version("zero_")
    return self


def _copy_inplace(self, src):
    if not (_is_sparse(self) and _is_sparse(src)):
        raise RuntimeError(
            "copy_() between dense and sparse Tensors is not implemented! Found self type = "
            f"{self.type()} and src type = {src.type()}")
    p = src._data
    self._data = SparseCOO(p.indices.copy(), p.values.astype(self._data.dtype), p.shape,
                           p.coalesced)
    self._bump_version("copy_")
    return self


# zero-preserving ops (unary, or with a scalar): values of the coalesced tensor (neg is linear:
# no coalescing)
_UNARY = ("floor_divide", "abs", "sgn", "sign", "sin", "sinh", "tan", "tanh", "asin", "asinh",
          "atan", "atanh", "ceil", "floor", "trunc", "round", "frac", "expm1", "log1p", "sqrt",
          "erf", "deg2rad", "rad2deg")

_KERNELS = {"add": _add, "sub": _sub, "mul": _values_op("mul", False),
            "div": _values_op("div", False), "neg": _values_op("neg", False), "pow": _pow,
            "clone": _clone, "_to_copy": _to_copy, "_to_device": _to_device, "sum": _sum}
_KERNELS.update({name: _values_op(name, True) for name in _UNARY})
_INPLACE = {"add": _add_inplace, "sub": _sub_inplace, "mul": _values_op_inplace("mul"),
            "div": _values_op_inplace("div"), "neg": _values_op_inplace("neg"),
            "fill": _fill_inplace, "copy": _copy_inplace}


def _backend_name(args) -> str:
    for a in args:
        if _is_sparse(a):
            return "Sparse" + a.device.type.upper()
    return "CPU"


def _unsupported_msg(name: str, backend: str) -> str:
    return (f"Could not run '{name}' with arguments from the '{backend}' backend: ember does "
            f"not implement {name} for tensors of layout ember.sparse_coo")


def _dispatch(op, args, params, self):
    """Run ``op`` with a sparse tensor among its arguments (see NOTE [ Sparse COO tensors ]);
    ``self`` is the destination of an in-place op."""
    every = args if self is None else (self, *args)
    kernel = (_KERNELS if self is None else _INPLACE).get(op.name)
    if kernel is None:
        raise NotImplementedError(_unsupported_msg(op.name + ("_" if self is not None else ""),
                                                   _backend_name(every)))
    rg = _GRAD.grad_enabled and any(isinstance(a, Tensor) and a._requires_grad for a in every)
    if rg and (self is not None or any(_is_sparse(a) and a._requires_grad for a in every)):
        raise NotImplementedError(
            f"{op.name}: autograd through sparse COO tensors is not supported; ember computes "
            "sparse gradients (embedding(sparse=True)) but does not differentiate sparse ops")
    with _plain():
        out = kernel(*args, **params) if self is None else kernel(self, *args, **params)
    if rg:
        if _is_sparse(out) or op.vjp is None:
            raise NotImplementedError(
                f"{op.name}: autograd through sparse COO tensors is not supported")
        record(op, args, params, (out,))
    return out


LAYOUTS[SparseCOO] = _dispatch


# -- the sparse tensor class ------------------------------------------------------------------

def _storage_error():
    return RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")


class SparseTensor(Tensor):
    """A tensor of layout ``ember.sparse_coo`` (see NOTE [ Sparse COO tensors ])."""

    __slots__ = ()
    is_sparse = True

    @property
    def layout(self):
        return sparse_coo

    @property
    def device(self):
        v = self._data.values
        return _BY_ARRAY_TYPE[type(v)].device_of(v)

    @property
    def nbytes(self) -> int:
        raise _storage_error()

    def stride(self, dim: int | None = None):
        st = (0,) * self._data.ndim  # PyTorch reports zero strides for a sparse tensor
        return st if dim is None else st[dim]

    def storage_offset(self) -> int:
        return 0

    def data_ptr(self) -> int:
        raise _storage_error()

    def is_contiguous(self, memory_format=None) -> bool:
        return False

    def contiguous(self, memory_format=None):
        raise RuntimeError("unsupported memory format option Contiguous")

    def numpy(self, *, force: bool = False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()

    def __dlpack__(self, *args, **kwargs):
        raise RuntimeError("Cannot export a sparse tensor through DLPack; use to_dense() first")

    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self.to_dense().item()

    def tolist(self):
        raise _storage_error()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            return Tensor.__bool__(self)
        return bool(self.to_dense())

    def __getitem__(self, index):
        raise NotImplementedError(_unsupported_msg("index", _backend_name((self,))))

    def __setitem__(self, index, value):
        raise NotImplementedError(_unsupported_msg("index_put_", _backend_name((self,))))

    def detach(self) -> SparseTensor:
        p = self._data
        t = _wrap(SparseCOO(p.indices, p.values, p.shape, p.coalesced))
        t._vc = self._version_counter()
        return t

    @property
    def data(self) -> SparseTensor:
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # -- the COO interface ----------------------------------------------------------------
    def coalesce(self) -> SparseTensor:
        """Sorted, unique indices with duplicates summed (self when already coalesced)."""
        p = self._data
        return self if p.coalesced else _wrap(_coalesce(p))

    def is_coalesced(self) -> bool:
        return self._data.coalesced

    def _coalesced_(self, coalesced: bool) -> SparseTensor:
        self._data.coalesced = bool(coalesced)
        return self

    def _indices(self) -> Tensor:
        return _make(self._data.indices)

    def _values(self) -> Tensor:
        return _make(self._data.values)

    def indices(self) -> Tensor:
        """The indices ``(sparse_dim, nnz)`` of a coalesced tensor (sharing memory)."""
        if not self._data.coalesced:
            raise RuntimeError(
                "Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        """The values ``(nnz, *dense_shape)`` of a coalesced tensor (sharing memory)."""
        if not self._data.coalesced:
            raise RuntimeError(
                "Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._values()

    def _nnz(self) -> int:
        return self._data.nnz

    def sparse_dim(self) -> int:
        return self._data.sparse_dim

    def dense_dim(self) -> int:
        return self._data.ndim - self._data.sparse_dim

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense tensor (duplicates summed)."""
        p = self._data
        xp = _xp(p.values)
        out = xp.zeros(p.shape, p.dtype)
        _add_into_dense(out, p, 1)
        t = _make(out)
        return t if dtype is None else t.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, sparse_coo):
            raise NotImplementedError(f"to_sparse: ember has no layout {layout}")
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self

    def to_sparse_coo(self):
        return self

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """The legacy type name (``'ember.sparse.FloatTensor'``), or ``to(dtype)``."""
        if dtype is None:
            return f"ember.sparse.{self.dtype.word}Tensor"
        return Tensor.type(self, dtype, non_blocking, **kwargs)

    def sparse_mask(self, mask):
        raise NotImplementedError(_unsupported_msg("sparse_mask", _backend_name((self,))))

    # -- printing and pickling ------------------------------------------------------------
    def __repr__(self, *, tensor_contents=None) -> str:
        from ._tensor_str import _add_suffixes, _dtype_kind, _tensor_str
        p = self._data
        indent = len("tensor(")
        suffixes = []
        dev = str(self.device)
        if self.device.type != "cpu":
            suffixes.append(f"device='{dev}'")
        suffixes += [f"size={tuple(p.shape)}", f"nnz={p.nnz}"]
        dt = self.dtype
        if dt not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool,
                      _dtype.complex128 if _dtype.get_default_dtype() is _dtype.float64
                      else _dtype.complex64):
            suffixes.append(f"dtype=ember.{dt.name}")
        parts = []
        for name, arr, dname in (("indices", p.indices, "int64"), ("values", p.values, dt.name)):
            host = _BY_ARRAY_TYPE[type(arr)].to_numpy(arr)
            if dname == "bfloat16":
                host = host.astype(np.float32)
            prefix = f"{name}=tensor("
            body = _tensor_str(host, indent + len(prefix), _dtype_kind(dname, host))
            if host.size == 0:
                body += f", size={tuple(host.shape)}"
            parts.append(prefix + body + ")")
        suffixes.append("layout=ember.sparse_coo")
        fn = self._grad_fn
        if fn is not None:
            suffixes.append(f"grad_fn=<{fn.name().rpartition('::')[2]}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        text = "tensor(" + (",\n" + " " * indent).join(parts)
        return _add_suffixes(text, suffixes, indent, force_newline=True)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        p = self._data
        to_host = _BY_ARRAY_TYPE[type(p.values)].to_numpy
        return (_rebuild_sparse, (to_host(p.indices), to_host(p.values), tuple(p.shape),
                                  p.coalesced, self._requires_grad, str(self.device)))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = self._data
        t = _wrap(SparseCOO(p.indices.copy(), p.values.copy(), p.shape, p.coalesced),
                  self._requires_grad)
        memo[id(self)] = t
        return t


def zeros_like_sparse(t, fill, dtype, device, requires_grad) -> SparseTensor:
    """``zeros_like``/``empty_like`` of a sparse tensor: one with no entries, as PyTorch."""
    if fill not in (0, None):
        raise NotImplementedError(_unsupported_msg("fill_", _backend_name((t,))))
    from ._creation import zeros
    p = t._data
    dense = tuple(p.shape[p.sparse_dim:])
    out = _wrap(SparseCOO(zeros((p.sparse_dim, 0), dtype=_dtype.int64, device=device)._data,
                          zeros((0,) + dense, dtype=dtype, device=device)._data, p.shape, True))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _rebuild_sparse(indices, values, shape, coalesced, requires_grad, device):
    from ._creation import _to_device_array
    return _wrap(SparseCOO(_to_device_array(indices, device), _to_device_array(values, device),
                           tuple(shape), coalesced), requires_grad)


# -- the same methods on dense tensors: PyTorch's errors, or the dense answer ------------------

def _layout_error(name: str, what: str = "sparse coordinate tensor"):
    def method(self, *args, **kwargs):
        raise RuntimeError(f"{name} expected {what} layout but got Strided")
    method.__name__ = name
    return method


def _dense_nnz(self):
    raise NotImplementedError("Could not run '_nnz' with arguments from the 'CPU' backend: a "
                              "strided tensor has no nnz")


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This dense tensor as a sparse COO tensor whose first ``sparse_dim`` dims (all by
    default) are sparse: ``x.to_sparse()``."""
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"to_sparse: ember has no layout {layout}")
    a = self._data
    xp = _xp(a)
    nd = a.ndim
    k = nd if sparse_dim is None else sparse_dim
    if not 0 <= k <= nd:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{nd}] range, "
                           f"but {k} is given")
    if k == 0 and nd > 0:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when "
                           "self.dim()>0")
    if nd == 0:
        indices = xp.zeros((0, 1), np.int64)
        values = a.reshape(1).copy()
    else:
        rest = 1
        for n in a.shape[k:]:
            rest *= n
        nz = (a != 0).reshape(a.shape[:k] + (rest,)).any(axis=-1)
        idx = xp.nonzero(nz)
        indices = xp.stack(idx).astype(np.int64) if idx else xp.zeros((0, 0), np.int64)
        values = a[idx]
    return _wrap(SparseCOO(indices, values, tuple(a.shape), True))


def sparse_mask(self, mask):
    """The values of this dense tensor at the indices of the sparse ``mask``, as a sparse
    tensor with ``mask``'s structure."""
    if not _is_sparse(mask):
        raise RuntimeError("sparse_mask expected sparse coordinate tensor layout but got "
                           "Strided")
    p = mask._data
    if tuple(self.shape) != tuple(p.shape):
        raise RuntimeError(f"sparse_mask(): the number of sizes provided ({list(self.shape)}) "
                           f"must match the mask's ({list(p.shape)})")
    return _wrap(SparseCOO(p.indices.copy(), self._data[tuple(p.indices)], p.shape,
                           p.coalesced))


Tensor.coalesce = _layout_error("coalesce")
Tensor.is_coalesced = _layout_error("is_coalesced")
Tensor._coalesced_ = _layout_error("_coalesced_")
Tensor.indices = _layout_error("indices")
Tensor._indices = _layout_error("_indices")
Tensor.values = _layout_error("values", "sparse tensor")
Tensor._values = _layout_error("_values", "sparse tensor")
Tensor._nnz = _dense_nnz
Tensor.sparse_dim = lambda self: 0
Tensor.dense_dim = lambda self: self._data.ndim
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: \
    self if dtype is None else self.to(dtype)
Tensor.to_sparse = to_sparse
Tensor.to_sparse_coo = lambda self: to_sparse(self)
Tensor.sparse_mask = sparse_mask


def embedding_grad(grad, indices, weight_shape, padding_idx, scale_grad_by_freq) -> Tensor:
    """The sparse gradient of an embedding table, PyTorch's embedding_sparse_backward: one
    entry per looked-up index (padding_idx's dropped), uncoalesced, with the rows of ``grad``
    ``(n, dim)`` as values."""
    if scale_grad_by_freq:
        raise RuntimeError(
            "embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    if padding_idx >= 0:
        keep = indices != padding_idx
        indices, grad = indices[keep], grad[keep]
    idx = indices.reshape(1, -1)._data.astype(np.int64, copy=False)
    return _wrap(SparseCOO(idx, grad._data, tuple(weight_shape), idx.shape[1] < 2))
