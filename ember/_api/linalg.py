"""Public functions: vector/matrix products, decompositions and solvers (``ember.det``,
``ember.kron``, ...) and the functions behind ``ember.linalg``.

Primitives (the factorizations and solvers) are registry ops in ``_ops/decomp.py``; everything
else here is a composite of ember ops, differentiable through them.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _creation, _dtype
from .. import _functional as F
from .._functional import METHODS, _export
from .._ops import REGISTRY as R
from .._ops.decomp import check_float, check_matrix, tril
from .._ops.registry import apply
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_composite, autocast_listed
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..return_types import structseq


def _ret(name, fields):
    """A builder of the return type ``ember.return_types.<name>`` from its fields."""
    cls = structseq(name, tuple(fields))
    return lambda *values: cls(values)


SlogdetResult = _ret("linalg_slogdet", ["sign", "logabsdet"])
InvExResult = _ret("linalg_inv_ex", ["inverse", "info"])
SolveExResult = _ret("linalg_solve_ex", ["result", "info"])
CholeskyExResult = _ret("linalg_cholesky_ex", ["L", "info"])
LUResult = _ret("linalg_lu", ["P", "L", "U"])
LUFactorResult = _ret("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = _ret("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUUnpackResult = _ret("lu_unpack", ["P", "L", "U"])
QRResult = _ret("linalg_qr", ["Q", "R"])
SVDResult = _ret("linalg_svd", ["U", "S", "Vh"])
EigResult = _ret("linalg_eig", ["eigenvalues", "eigenvectors"])
EighResult = _ret("linalg_eigh", ["eigenvalues", "eigenvectors"])
LstsqResult = _ret("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
TorchSVDResult = _ret("svd", ["U", "S", "V"])
TorchQRResult = _ret("qr", ["Q", "R"])
TorchSlogdetResult = _ret("slogdet", ["sign", "logabsdet"])
TriangularSolveResult = _ret("triangular_solve", ["solution", "cloned_coefficient"])


def _data(x: Tensor):
    return x._data


# -- vector and matrix products -------------------------------------------------------------------

@autocast_listed
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product: ``ember.mv(ember.ones(2, 3), ember.ones(3))``."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return F.matmul(input, vec)


@autocast_listed
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``sum(conj(input) * other)`` of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return F.dot(input.conj(), other)


@autocast_listed
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims: shape ``input.shape[:-1] + other.shape[:-1]``."""
    if input.ndim == 0 or other.ndim == 0:
        return F.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


@autocast_listed
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return F.mul(input.unsqueeze(-1), vec2)


def _check_beta_alpha(name, input, beta, alpha):
    if not (input.is_floating_point() or input.is_complex()):
        for arg, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float):
                raise RuntimeError(f"For integral input tensors, argument {arg} must not be a "
                                   "floating point number.")


def _add_scaled(name, input, prod, beta, alpha):
    """``beta * input + alpha * prod``, where beta = 0 ignores input (nan and inf too)."""
    _check_beta_alpha(name, input, beta, alpha)
    if input.dtype != prod.dtype:
        raise RuntimeError(f"{name}: expected input and the product to have the same dtype, but "
                           f"got {input.dtype} and {prod.dtype}")
    F.broadcast_to(input, prod.shape)  # input must broadcast to the product's shape
    out = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return out if alpha != 1 else F.clone(out)
    return F.add(out, input if beta == 1 else input * beta)


@autocast_listed
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_scaled("addmv", input, mv(mat, vec), beta, alpha)


@autocast_listed
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _add_scaled("addr", input, outer(vec1, vec2), beta, alpha)


@autocast_listed
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled("baddbmm", input, F.bmm(batch1, batch2), beta, alpha)


@autocast_listed
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    prod = F.bmm(batch1, batch2)
    return _add_scaled("addbmm", input, prod.sum(0, dtype=prod.dtype), beta, alpha)


def _inplace_composite(fn):
    def method(self, *args, **kwargs):
        r = fn(self, *args, **kwargs)
        if r.shape != self.shape:
            raise RuntimeError(f"Bad in-place call: input tensor size {list(self.shape)} and "
                               f"output tensor size {list(r.shape)} should match")
        return self.copy_(r)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    # PyTorch's in-place forms of listed ops run below autocast: no casts, autocast off inside
    return autocast_composite(method, (None,))


@autocast_listed
def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or the listed
    dims): ``ember.tensordot(a, b, dims=([1, 0], [0, 1]))``."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [d % builtins.max(a.ndim, 1) for d in da]
    db = [d % builtins.max(b.ndim, 1) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in dim "
                               f"{y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    am = a.permute(fa + da).reshape(math.prod(a.shape[d] for d in fa), k)
    bm = b.permute(db + fb).reshape(k, math.prod(b.shape[d] for d in fb))
    return F.matmul(am, bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: blocks ``input[i, j] * other``."""
    nd = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape([v for s in sa for v in (s, 1)])
    b = other.reshape([v for s in sb for v in (1, s)])
    return F.mul(a, b).reshape([x * y for x, y in zip(sa, sb)])


def _cross(name, input, other, dim):
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if input.ndim != other.ndim:
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    d = dim % builtins.max(len(shape), 1)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    a, b = input.expand(shape), other.expand(shape)

    def roll(x, s):
        return F.cat([x.narrow(d, s, 3 - s), x.narrow(d, 0, s)], d)
    return roll(a, 1) * roll(b, 2) - roll(a, 2) * roll(b, 1)


@autocast_listed
def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (by default the first dim of size 3)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return _cross("linalg.cross", input, other, dim)


@autocast_listed
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype is _dtype.bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return input.diagonal().sum()


def _chain_order(shapes):
    """Optimal parenthesisation of a matrix chain (the classic dynamic program)."""
    n = len(shapes)
    p = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


@autocast_listed
def multi_dot(tensors, *, out=None) -> Tensor:
    """Product of a chain of matrices in the cheapest order (first/last may be vectors)."""
    tensors = list(tensors)
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    ms = list(tensors)
    if first_vec:
        ms[0] = ms[0].unsqueeze(0)
    if last_vec:
        ms[-1] = ms[-1].unsqueeze(-1)
    for i, m in enumerate(ms):
        if m.ndim != 2:
            where = "first" if i == 0 else "last" if i == n - 1 else None
            raise RuntimeError(
                f"multi_dot(): the {where} tensor must be 1D or 2D but got {tensors[i].ndim}D"
                if where else
                f"multi_dot(): tensor {i} must be 2D but got {tensors[i].ndim}D")
    for i in range(n - 1):
        if ms[i].shape[1] != ms[i + 1].shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                f"{list(tensors[i + 1].shape)} cannot be multiplied")
    split = _chain_order([tuple(m.shape) for m in ms])

    def prod(i, j):
        if i == j:
            return ms[i]
        k = split[i][j]
        return F.mm(prod(i, k), prod(k + 1, j))
    r = prod(0, n - 1) if n > 2 else F.mm(ms[0], ms[1])
    if first_vec:
        r = r.squeeze(0)
    if last_vec:
        r = r.squeeze(-1)
    return r


@autocast_listed
def chain_matmul(*matrices) -> Tensor:
    """Product of a chain of matrices (``multi_dot`` of 2-D tensors)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if len(matrices) == 1:
        return F.clone(matrices[0])
    return multi_dot(matrices)


@autocast_listed
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """``sum(conj(x) * y, dim)``."""
    for t in (x, y):
        check_float("linalg.vecdot", _data(t))
    return F.mul(x.conj(), y).sum(dim)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input @ input @ ...`` (``n`` times; the inverse's power for negative ``n``)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {input.shape[-2] if input.ndim > 1 else input.shape[-1]} by "
                           f"{input.shape[-1]} matrices" if input.ndim >= 2 else
                           "linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if n == 0:  # the identity, still connected to the graph as PyTorch's copy_ is
        return F.clone(input).copy_(_creation.eye(input.shape[-1], dtype=input.dtype,
                                                      device=input.device))
    a = inv(input) if n < 0 else input
    n = abs(n)
    result = None
    base = a
    while n:  # repeated squaring
        if n & 1:
            result = base if result is None else F.matmul(result, base)
        n >>= 1
        if n:
            base = F.matmul(base, base)
    return result if result is not input else F.clone(result)


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """The matrix exponential ``sum_k A^k / k!``."""
    return apply(R["linalg_matrix_exp"], (A,), {})


# -- inverses and determinants --------------------------------------------------------------------

def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):  # noqa: N803
    """``(inverse, info)``; info > 0 marks a singular matrix instead of raising."""
    return InvExResult(*apply(R["linalg_inv_ex"], (A,), {"check_errors": check_errors}))


@autocast_listed
def inv(A: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """The inverse of square matrices: ``ember.linalg.inv(a) @ a`` is the identity."""
    return apply(R["linalg_inv_ex"], (A,), {"check_errors": True})[0]


@autocast_listed
def inverse(input: Tensor) -> Tensor:
    """Alias of ``ember.linalg.inv``."""
    return inv(input)


def det(A: Tensor) -> Tensor:  # noqa: N803
    """The determinant of square matrices."""
    return apply(R["linalg_det"], (A,), {})


def slogdet(A: Tensor):  # noqa: N803
    """``(sign, log|det|)`` of square matrices."""
    return SlogdetResult(*apply(R["linalg_slogdet"], (A,), {}))


def _torch_slogdet(input: Tensor):
    return TorchSlogdetResult(*slogdet(input))


_torch_slogdet.__name__ = "slogdet"


def logdet(input: Tensor) -> Tensor:
    """``log(det(input))``: nan for a negative determinant of a real matrix."""
    sign, logabs = slogdet(input)
    if input.is_complex():
        return logabs + sign.log()
    return F.where(sign == -1, math.nan, logabs)


# -- solvers --------------------------------------------------------------------------------------

def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False,  # noqa: N803
             out=None):
    """``(X, info)`` with ``A X = B`` (``X A = B`` if not left); info > 0 for singular A."""
    return SolveExResult(*apply(R["linalg_solve_ex"], (A, B),
                                {"left": left, "check_errors": check_errors}))


@autocast_listed
def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:  # noqa: N803
    """The solution X of ``A X = B`` (``X A = B`` with ``left=False``); B may be a vector."""
    return apply(R["linalg_solve_ex"], (A, B), {"left": left, "check_errors": True})[0]


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,  # noqa: N803
                     unitriangular: bool = False, out=None) -> Tensor:
    """Solve ``A X = B`` for triangular A (only the ``upper`` or lower triangle is read)."""
    return apply(R["linalg_solve_triangular"], (A, B),
                 {"upper": upper, "left": left, "unitriangular": unitriangular})


@autocast_listed
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False):
    """Deprecated form of ``solve_triangular``: ``(solution, A.clone())``."""
    a = A.mT if transpose else A
    x = solve_triangular(a, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult(x, F.clone(A))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False,  # noqa: N803
                out=None):
    """``(L, info)``; info > 0 marks the first leading minor that is not positive-definite."""
    return CholeskyExResult(*apply(R["linalg_cholesky_ex"], (A,),
                                   {"upper": upper, "check_errors": check_errors}))


def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:  # noqa: N803
    """The Cholesky factor L (``L L^H = A``) of Hermitian positive-definite matrices."""
    return apply(R["linalg_cholesky_ex"], (A,), {"upper": upper, "check_errors": True})[0]


def _torch_cholesky(input: Tensor, upper: bool = False) -> Tensor:
    return cholesky(input, upper=upper)


_torch_cholesky.__name__ = "cholesky"


@autocast_listed
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """Solve ``A X = B`` given A's Cholesky factor L (or U with ``upper=True``)."""
    if upper:
        y = solve_triangular(L.mH, B, upper=False)
        return solve_triangular(L, y, upper=True)
    y = solve_triangular(L, B, upper=False)
    return solve_triangular(L.mH, y, upper=True)


@autocast_listed
def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """``A^{-1}`` given A's Cholesky factor."""
    if L.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 "
                           "dimensions.")
    eye = _creation.eye(L.shape[-1], dtype=L.dtype, device=L.device).expand(L.shape)
    return cholesky_solve(eye, L, upper)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False,  # noqa: N803
                 out=None):
    """``(LU, pivots, info)``: LAPACK's packed LU with partial pivoting (1-based pivots)."""
    return LUFactorExResult(*apply(R["linalg_lu_factor_ex"], (A,),
                                   {"pivot": pivot, "check_errors": check_errors}))


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):  # noqa: N803
    """``(LU, pivots)``; raises if U has a zero on its diagonal."""
    lu_, piv, _ = apply(R["linalg_lu_factor_ex"], (A,), {"pivot": pivot, "check_errors": True})
    return LUFactorResult(lu_, piv)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True, *, out=None):
    """``(P, L, U)`` from ``lu_factor``'s packed output."""
    low, up = apply(R["lu_unpack"], (LU_data, LU_pivots), {"unpack_data": unpack_data})
    p = apply(R["lu_permutation"], (LU_data, LU_pivots), {}) if unpack_pivots else \
        LU_data.new_zeros((0,))
    return LUUnpackResult(p, low, up)


def lu(A: Tensor, *, pivot: bool = True, out=None):  # noqa: N803
    """``(P, L, U)`` with ``A = P L U``."""
    lu_, piv, _ = apply(R["linalg_lu_factor_ex"], (A,), {"pivot": pivot})
    return LUResult(*lu_unpack(lu_, piv))


@autocast_listed
def _torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False):  # noqa: N803
    r = apply(R["linalg_lu_factor_ex"], (A,), {"pivot": pivot})
    return tuple(r) if get_infos else (r[0], r[1])


_torch_lu.__name__ = "lu"


@autocast_listed
def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,  # noqa: N803
             adjoint: bool = False, out=None) -> Tensor:
    """Solve ``A X = B`` (or with A^H, or ``X A = B``) from ``lu_factor``'s output."""
    p, low, up = lu_unpack(LU, pivots)
    st = solve_triangular
    if left and not adjoint:  # U^{-1} L^{-1} P^T B
        return st(up, st(low, p.mT @ B, upper=False, unitriangular=True), upper=True)
    if left:  # A^H X = B: P L^{-H} U^{-H} B
        return p @ st(low.mH, st(up.mH, B, upper=False), upper=True, unitriangular=True)
    if not adjoint:  # X P L U = B
        y = st(up, B, upper=True, left=False)
        return st(low, y, upper=False, left=False, unitriangular=True) @ p.mT
    y = B @ p  # X U^H L^H P^T = B
    return st(up.mH, st(low.mH, y, upper=True, left=False, unitriangular=True), upper=False,
              left=False)


@autocast_listed
def _torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    return lu_solve(LU_data, LU_pivots, b)


_torch_lu_solve.__name__ = "lu_solve"


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):  # noqa: N803
    """Least-squares solution of ``A X = B``: ``(solution, residuals, rank, singular_values)``
    filled in as PyTorch's CPU driver (default 'gelsy') fills them."""
    return LstsqResult(*apply(R["linalg_lstsq"], (A, B), {"rcond": rcond, "driver": driver}))


# -- factorizations -------------------------------------------------------------------------------

def qr(A: Tensor, mode: str = "reduced", *, out=None):  # noqa: N803
    """``(Q, R)`` with ``A = Q R`` (mode 'reduced', 'complete', or 'r' for R only)."""
    return QRResult(*apply(R["linalg_qr"], (A,), {"mode": mode}))


def _torch_qr(input: Tensor, some: bool = True):
    return TorchQRResult(*qr(input, "reduced" if some else "complete"))


_torch_qr.__name__ = "qr"


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):  # noqa: N803
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` and S descending."""
    return SVDResult(*apply(R["linalg_svd"], (A,), {"full_matrices": full_matrices}))


def _torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    if compute_uv:
        u, s, vh = svd(input, full_matrices=not some)
        return TorchSVDResult(u, s, vh.mH)
    s = svdvals(input)
    m, n = input.shape[-2:]
    z = input.new_zeros
    return TorchSVDResult(z(tuple(input.shape[:-2]) + (m, m)), s,
                          z(tuple(input.shape[:-2]) + (n, n)))


_torch_svd.__name__ = "svd"


@autocast_listed
def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:  # noqa: N803
    """Singular values in descending order (real)."""
    need_uv = A.requires_grad and is_grad_enabled()
    return apply(R["linalg_svd"], (A,), {"full_matrices": False, "compute_uv": need_uv})[1]


def eigh(A: Tensor, UPLO: str = "L", *, out=None):  # noqa: N803
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of Hermitian matrices."""
    return EighResult(*apply(R["linalg_eigh"], (A,), {"UPLO": UPLO}))


@autocast_listed
def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:  # noqa: N803
    """Eigenvalues of Hermitian matrices, ascending."""
    return eigh(A, UPLO)[0]


def eig(A: Tensor, *, out=None):  # noqa: N803
    """Complex eigenvalues and unit-norm eigenvectors of square matrices."""
    return EigResult(*apply(R["linalg_eig"], (A,), {}))


@autocast_listed
def eigvals(A: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """Complex eigenvalues of square matrices."""
    return eig(A)[0]


@autocast_listed
def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """The first n columns of ``H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^H`` (v_i below
    A's diagonal, 1 on it), as LAPACK's orgqr."""
    name = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    k = tau.shape[-1] if tau.ndim else 0
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if A.dtype != tau.dtype:
        raise RuntimeError(f"{name}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    check_float(name, _data(A))
    eye = _creation.eye(m, n, dtype=A.dtype, device=A.device)
    v = tril(A, -1) + eye
    q = eye.expand(tuple(A.shape)) if A.ndim > 2 else eye
    for i in reversed(range(k)):
        vi = v[..., :, i:i + 1]
        q = q - tau[..., i:i + 1].unsqueeze(-1) * (vi @ (vi.mH @ q))
    return q if k else F.clone(A).copy_(q)


# -- pseudo-inverse, rank, norms ------------------------------------------------------------------

@autocast_listed
def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None,  # noqa: N803
         out=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, dropping singular values below
    ``max(atol, rtol * largest)``."""
    if rcond is not None:
        rtol = rcond
    a_, r_ = (x._data if isinstance(x, Tensor) else x for x in (atol, rtol))
    return apply(R["linalg_pinv"], (A, a_, r_), {"hermitian": hermitian})


@autocast_listed
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``pinv`` with relative tolerance ``rcond``."""
    return pinv(input, rtol=rcond)


@autocast_listed
def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None,  # noqa: N803
                rtol=None, out=None) -> Tensor:
    """Number of singular values above ``max(atol, rtol * largest)`` (int64)."""
    check_matrix("linalg.matrix_rank", _data(A))
    if tol is not None:
        atol, rtol = tol, 0.0
    with no_grad():
        s = eigvalsh(A).abs() if hermitian else svdvals(A)
    m, n = A.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None else _eps(A) * builtins.max(m, n)
    atol = 0.0 if atol is None else atol
    smax = s.amax(-1, keepdim=True) if s.shape[-1] else s.new_zeros(tuple(s.shape[:-1]) + (1,))
    tol_ = F.maximum(_as_t(atol, s).unsqueeze(-1), _as_t(rtol, s).unsqueeze(-1) * smax)
    return (s > tol_).sum(-1)


def _eps(a: Tensor) -> float:
    return float(np.finfo(np.float32 if a.dtype in (_dtype.float32, _dtype.complex64)
                          else np.float64).eps)


def _as_t(x, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x.to(like.dtype)
    return _creation.tensor(float(x), dtype=like.dtype, device=like.device)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None,  # noqa: A002
                out=None) -> Tensor:
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all elements by default); ord may be inf."""
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype.word if hasattr(x.dtype, 'word') else x.dtype}")
    if isinstance(ord, str):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be Number, not {ord!r}")
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    return apply(R["norm"], (x,), {"p": float(ord), "dim": dim if dim is None or
                                   isinstance(dim, int) else tuple(dim), "keepdim": keepdim})


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,  # noqa: N803
                dtype=None, out=None) -> Tensor:
    """Frobenius, nuclear, 1, -1, 2, -2, inf or -inf norm of matrices over ``dim``."""
    check_matrix("linalg.matrix_norm", _data(A))
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.ndim for d in dim)
    if len(dim) != 2 or d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        x = A.movedim((d0, d1), (-2, -1))
        s = svdvals(x)
        r = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
    elif ord in (1, -1, math.inf, -math.inf):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        col = A.abs().sum(sum_dim, keepdim=True)
        r = col.amax(red_dim, keepdim=True) if ord > 0 else col.amin(red_dim, keepdim=True)
        return r if keepdim else r.squeeze((d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None,  # noqa: N803
         out=None) -> Tensor:
    """``vector_norm`` or ``matrix_norm``, chosen by ``dim`` and ``ord`` as in torch.linalg."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or "
                                   f"2. Got {list(dims)}")
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. Got "
                           f"{list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be 1D or "
                       f"2D. Got {A.ndim}D.")


def _torch_norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None,
                dtype=None) -> Tensor:
    """Vector or matrix norm (``p`` a number, 'fro' or 'nuc'), as the deprecated torch.norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if isinstance(p, str):
        if p == "fro" and (dim is None or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        return matrix_norm(input, p, tuple(range(input.ndim)) if dim is None else dim, keepdim,
                           dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)


_torch_norm.__name__ = "norm"


@autocast_listed
def cond(A: Tensor, p=None) -> Tensor:  # noqa: N803
    """The condition number of matrices in the norm ``p`` (2-norm by default)."""
    check_matrix("linalg.cond", _data(A))
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s.amax(-1), s.amin(-1)
        return big / small if p != -2 else small / big
    check_matrix(f"linalg.cond(ord={p})", _data(A), square=True)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """The diagonals of a batch of matrices (a view)."""
    return F.diagonal(A, offset, dim1, dim2)


def vander(x: Tensor, N=None) -> Tensor:  # noqa: N803
    """Columns ``x^0, x^1, ..., x^(N-1)`` (torch.linalg.vander, increasing powers)."""
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least 1 dimension.")
    if x.dtype is _dtype.bool:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer "
                           "tensors, but got Bool")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    return _powers(x, n)


def _powers(x: Tensor, n: int) -> Tensor:
    """``x^0 .. x^(n-1)`` stacked last, by running products as PyTorch's cumprod."""
    if not (x.is_floating_point() or x.is_complex()):
        x = x.long()  # cumprod promotes integers to int64
    if n == 0:
        return x.new_zeros(tuple(x.shape) + (0,))
    cols = [_creation.ones_like(x)]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    return F.stack(cols, -1)


def _torch_vander(x: Tensor, N=None, increasing: bool = False) -> Tensor:  # noqa: N803
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    v = _powers(x, x.shape[0] if N is None else N)
    return v if increasing else F.flip(v, (-1,))


_torch_vander.__name__ = "vander"


@autocast_listed
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:  # noqa: N803
    """The inverse of ``A`` seen as a linear map from its first ``ind`` dims to the rest."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    p = math.prod(rows)
    if p != math.prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != {p}")
    return inv(A.reshape(p, p)).reshape(cols + rows)


@autocast_listed
def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:  # noqa: N803
    """X with ``tensordot(A, X, X.ndim) = B``."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim:])
    n = B.numel()
    if math.prod(rest) != n:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                           f" == prod(self.shape[:other.ndim]), but got {math.prod(rest)} != "
                           f"{math.prod(A.shape[:B.ndim])}")
    return solve(A.reshape(n, n), B.reshape(n)).reshape(rest)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (broadcasting)."""
    return _cross("linalg.cross", input, other, dim)


# -- publishing -----------------------------------------------------------------------------------

for _f in (mv, vdot, inner, outer, addmv, addr, baddbmm, addbmm, kron, cross, trace, inverse,
           det, logdet, matrix_power, matrix_exp, cholesky_inverse, cholesky_solve, pinverse,
           triangular_solve):
    _export(_f)
_export(outer, "ger")
for _f in (_torch_slogdet, _torch_cholesky, _torch_lu, _torch_lu_solve, _torch_qr, _torch_svd,
           _torch_norm):
    _export(_f)
for _f in (tensordot, chain_matmul, lu_unpack, _torch_vander):
    _export(_f, method=False)
_export(_inplace_composite(addmv))
for _f in (addr, baddbmm, addbmm):
    METHODS[_f.__name__ + "_"] = _inplace_composite(_f)
METHODS["addmm_"] = _inplace_composite(F.addmm)
