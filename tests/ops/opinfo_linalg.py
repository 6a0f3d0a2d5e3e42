"""Op table entries: linalg ops (see ``opinfo.py``).

Decompositions whose outputs are unique only up to sign or phase (svd, eigh, eig) are tested
through gauge-invariant functions of their outputs, as PyTorch's own OpInfos do; functions that
read one triangle of a Hermitian input (cholesky, eigh) are fed ``X X^H + I`` built inside the
tested function, so that finite differences see the same function autograd differentiates.
"""

from __future__ import annotations

import math

import numpy as np

from .opinfo import COMPLEX, FLOATS, A, ErrorCase, Sample, add, arr

NUM = FLOATS + COMPLEX
INT_NUM = ("int32", "int64") + NUM
TOL = {"atol": 1e-4, "rtol": 1e-4}


def _sq(rng, shape, dtype):
    """A well-conditioned square matrix (batch): random plus n on the diagonal."""
    a = arr(rng, shape, dtype, -1, 1)
    return (a + shape[-1] * np.eye(shape[-1])).astype(a.dtype)


def _sq_samples(shapes=((3, 3), (2, 3, 3), (1, 1)), empty=((0, 0), (2, 0, 0)), extra=None):
    def gen(dtype, rng):
        out = [Sample((A(_sq(rng, s, dtype)),) + tuple(extra or ()), name=str(s))
               for s in shapes]
        out.append(Sample((A(_sq(rng, (3, 3), dtype), noncontig=True),) + tuple(extra or ()),
                          name="noncontig"))
        out += [Sample((A(arr(rng, s, dtype)),) + tuple(extra or ()), name=str(s))
                for s in empty]
        return out
    return gen


def _rect_samples(shapes=((3, 3), (4, 2), (2, 4), (2, 3, 2), (2, 2, 3)), kw=None):
    def gen(dtype, rng):
        out = []
        for s in shapes:
            a = arr(rng, s, dtype, -1, 1)
            k = min(s[-2:])
            a[..., range(k), range(k)] += 3  # singular values well apart from 0
            out.append(Sample((A(a),), dict(kw or {}), name=str(s)))
        out.append(Sample((A(arr(rng, (2, 3), dtype, -1, 1) + np.eye(2, 3, dtype=dtype) * 3,
                             noncontig=True),), dict(kw or {}), name="noncontig"))
        return out
    return gen


_F32 = (A(np.ones((2, 3), np.float32)),)
_NOT_SQUARE = ErrorCase(_F32, match="square")
_ONE_D = ErrorCase((A(np.ones(3, np.float32)),), match="at least 2 dimensions")
_INT = ErrorCase((A(np.ones((2, 2), np.int64)),), match="floating point")
_SQ_ERRORS = (_NOT_SQUARE, _ONE_D, _INT)


def _spd(rng, shape, dtype):
    a = arr(rng, shape, dtype, -1, 1)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + np.eye(shape[-1])).astype(a.dtype)


def _hpd(m, a):
    """``a a^H + I``: Hermitian positive-definite from any square ``a``."""
    return a @ a.mH + m.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _sym(m, a):
    return (a + a.mH) / 2


# -- inverses, determinants -----------------------------------------------------------------------

add("linalg_inv_ex", fn=lambda m, a: m.linalg.inv_ex(a), samples=_sq_samples(), dtypes=NUM,
    errors=_SQ_ERRORS, **TOL)
add("linalg_inv", fn=lambda m, a: m.linalg.inv(a), samples=_sq_samples(), dtypes=NUM, **TOL)
add("inverse", fn=lambda m, a: a.inverse(), samples=_sq_samples(), dtypes=FLOATS, **TOL)
add("linalg_det", fn=lambda m, a: m.linalg.det(a), samples=_sq_samples(), dtypes=NUM,
    errors=_SQ_ERRORS, **TOL)
add("det", fn=lambda m, a: a.det(), samples=_sq_samples(), dtypes=FLOATS, **TOL)
add("linalg_slogdet", fn=lambda m, a: m.linalg.slogdet(a), samples=_sq_samples(), dtypes=NUM,
    errors=_SQ_ERRORS, **TOL)
add("slogdet", fn=lambda m, a: m.slogdet(-a), samples=_sq_samples(), dtypes=FLOATS, **TOL)
add("logdet", fn=lambda m, a: m.logdet(a), samples=_sq_samples(), dtypes=NUM, **TOL)
add("logdet_negative", fn=lambda m, a: m.logdet(-a), samples=_sq_samples(shapes=((3, 3),),
                                                                         empty=()),
    dtypes=FLOATS, grad=False)


# -- solvers --------------------------------------------------------------------------------------

def _solve_samples(dtype, rng):
    return [Sample((A(_sq(rng, (3, 3), dtype)), A(arr(rng, (3, 2), dtype))), name="matrix"),
            Sample((A(_sq(rng, (2, 3, 3), dtype)), A(arr(rng, (3, 1), dtype))), name="bcast"),
            Sample((A(_sq(rng, (3, 3), dtype)), A(arr(rng, (3,), dtype))), name="vector"),
            Sample((A(_sq(rng, (2, 2, 2), dtype)), A(arr(rng, (2, 2), dtype))), name="bvector"),
            Sample((A(_sq(rng, (3, 3), dtype)), A(arr(rng, (2, 3), dtype))), {"left": False},
                   name="right"),
            Sample((A(_sq(rng, (3, 3), dtype), noncontig=True),
                    A(arr(rng, (2, 3), dtype), noncontig=True)), name="noncontig"),
            Sample((A(arr(rng, (0, 0), dtype)), A(arr(rng, (0, 2), dtype))), name="empty")]


_SOLVE_ERRORS = (ErrorCase((A(np.eye(3, dtype=np.float32)), A(np.ones(2, np.float32))),
                           match="Incompatible shapes"),
                 ErrorCase((A(np.eye(3, dtype=np.float32)), A(np.ones((3, 1)))),
                           match="dtype"))
add("linalg_solve_ex", fn=lambda m, a, b, **k: m.linalg.solve_ex(a, b, **k),
    samples=_solve_samples, dtypes=NUM, errors=_SOLVE_ERRORS, **TOL)
add("linalg_solve", fn=lambda m, a, b, **k: m.linalg.solve(a, b, **k), samples=_solve_samples,
    dtypes=NUM, errors=_SOLVE_ERRORS, **TOL)
add("tensorsolve", fn=lambda m, a, b, **k: m.linalg.tensorsolve(a, b, **k),
    samples=lambda d, r: [Sample((A(_sq(r, (6, 6), d).reshape(2, 3, 6)), A(arr(r, (2, 3), d)))),
                          Sample((A(_sq(r, (4, 4), d).reshape(4, 2, 2)), A(arr(r, (4,), d))),
                                 {"dims": (0,)})],
    dtypes=FLOATS, **TOL)
add("tensorinv", fn=lambda m, a, **k: m.linalg.tensorinv(a, **k),
    samples=lambda d, r: [Sample((A(_sq(r, (6, 6), d).reshape(6, 2, 3)),), {"ind": 1}),
                          Sample((A(_sq(r, (4, 4), d).reshape(2, 2, 2, 2)),))],
    dtypes=FLOATS, **TOL)


def _tri_samples(dtype, rng):
    a, b = _sq(rng, (3, 3), dtype), arr(rng, (3, 2), dtype)
    out = []
    for kw in ({"upper": True}, {"upper": False}, {"upper": True, "left": False},
               {"upper": False, "unitriangular": True},
               {"upper": True, "left": False, "unitriangular": True}):
        bb = b.T.copy() if kw.get("left", True) is False else b
        out.append(Sample((A(a), A(bb)), kw, name=str(kw)))
    out.append(Sample((A(_sq(rng, (2, 3, 3), dtype)), A(arr(rng, (3, 1), dtype))),
                      {"upper": False}, name="bcast"))
    out.append(Sample((A(a, noncontig=True), A(b)), {"upper": True}, name="noncontig"))
    return out


add("linalg_solve_triangular", fn=lambda m, a, b, **k: m.linalg.solve_triangular(a, b, **k),
    samples=_tri_samples, dtypes=NUM, **TOL,
    errors=(ErrorCase((A(np.eye(3, dtype=np.float32)), A(np.ones((2, 1), np.float32))),
                      {"upper": True}, match="Incompatible shapes"),))
add("triangular_solve", fn=lambda m, b, a, **k: m.triangular_solve(b, a, **k),
    samples=lambda d, r: [Sample((A(arr(r, (3, 2), d)), A(_sq(r, (3, 3), d))), k) for k in
                          ({}, {"upper": False}, {"transpose": True},
                           {"unitriangular": True})], dtypes=FLOATS, **TOL)


def _lstsq_samples(dtype, rng):
    def full(s):
        a = arr(rng, s, dtype, -1, 1)
        a[..., range(s[-1]), range(s[-1])] += 3
        return a
    return [Sample((A(full((4, 2))), A(arr(rng, (4, 3), dtype))), name="tall"),
            Sample((A(full((3, 3))), A(arr(rng, (3, 1), dtype))), name="square"),
            Sample((A(full((2, 4, 2))), A(arr(rng, (4, 2), dtype))), name="batch"),
            Sample((A(full((3, 2))), A(arr(rng, (3,), dtype))), name="vector"),
            Sample((A(full((4, 2))), A(arr(rng, (4, 1), dtype))), {"driver": "gelsd"},
                   name="gelsd"),
            Sample((A(full((4, 2))), A(arr(rng, (4, 1), dtype))), {"driver": "gels"},
                   name="gels")]


add("linalg_lstsq", fn=lambda m, a, b, **k: m.linalg.lstsq(a, b, **k), samples=_lstsq_samples,
    dtypes=NUM, grad=False, **TOL)
# gradients of the non-empty outputs (ember's gradcheck does not take empty outputs)
add("linalg_lstsq_grad", fn=lambda m, a, b, **k: tuple(
    t for t in m.linalg.lstsq(a, b, **k) if t.numel()), samples=_lstsq_samples, dtypes=FLOATS,
    **TOL)


# -- Cholesky -------------------------------------------------------------------------------------

add("linalg_cholesky_ex", fn=lambda m, a, **k: m.linalg.cholesky_ex(_hpd(m, a), **k),
    samples=_sq_samples(), dtypes=NUM, **TOL)
add("cholesky_ex_raw", fn=lambda m, a, **k: m.linalg.cholesky_ex(a, **k), samples=lambda d, r: [
    Sample((A(_spd(r, (3, 3), d)),)), Sample((A(_spd(r, (2, 2, 2), d)),), {"upper": True}),
    Sample((A(np.diag([1.0, -1.0, 2.0]).astype(d)),), name="not positive-definite")],
    dtypes=NUM, grad=False, errors=_SQ_ERRORS, **TOL)
add("linalg_cholesky", fn=lambda m, a, **k: m.linalg.cholesky(_hpd(m, a), **k),
    samples=lambda d, r: [Sample((A(arr(r, (3, 3), d)),), {"upper": True}),
                          Sample((A(arr(r, (2, 3, 3), d)),))], dtypes=NUM, **TOL)
add("cholesky", fn=lambda m, a, *k: _hpd(m, a).cholesky(*k),
    samples=lambda d, r: [Sample((A(arr(r, (3, 3), d)), True)),
                          Sample((A(arr(r, (3, 3), d)), False))], dtypes=FLOATS, **TOL)
add("cholesky_solve", fn=lambda m, b, a, *k: m.cholesky_solve(b, m.linalg.cholesky(
    _hpd(m, a), upper=bool(k)), *k),
    samples=lambda d, r: [Sample((A(arr(r, (3, 2), d)), A(arr(r, (3, 3), d)))),
                          Sample((A(arr(r, (2, 3, 1), d)), A(arr(r, (3, 3), d)), True))],
    dtypes=NUM, **TOL)
add("cholesky_inverse", fn=lambda m, a, *k: m.cholesky_inverse(m.linalg.cholesky(
    _hpd(m, a), upper=bool(k)), *k),
    samples=lambda d, r: [Sample((A(arr(r, (3, 3), d)),)), Sample((A(arr(r, (3, 3), d)), True))],
    dtypes=NUM, **TOL)


# -- LU -------------------------------------------------------------------------------------------

_LU_SHAPES = ((3, 3), (2, 3), (3, 2), (2, 3, 3))
add("linalg_lu_factor_ex", fn=lambda m, a: m.linalg.lu_factor_ex(a),
    samples=_rect_samples(_LU_SHAPES), dtypes=NUM, errors=(_ONE_D,), **TOL)
add("linalg_lu_factor", fn=lambda m, a: m.linalg.lu_factor(a), samples=_rect_samples(_LU_SHAPES),
    dtypes=FLOATS, **TOL)
add("linalg_lu", fn=lambda m, a: m.linalg.lu(a), samples=_rect_samples(_LU_SHAPES), dtypes=NUM,
    **TOL)
add("lu", fn=lambda m, a, **k: a.lu(**k), samples=_rect_samples(((3, 3), (2, 3, 3)),
                                                                kw={"get_infos": True}),
    dtypes=FLOATS, **TOL)
add("lu_unpack", fn=lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a)),
    samples=_rect_samples(_LU_SHAPES), dtypes=NUM, **TOL)
add("lu_permutation", fn=lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a), unpack_data=False),
    samples=_rect_samples(_LU_SHAPES), dtypes=FLOATS, grad=False)


def _lu_solve_samples(dtype, rng):
    out = []
    for kw in ({}, {"adjoint": True}, {"left": False}, {"left": False, "adjoint": True}):
        b = arr(rng, (3, 2) if kw.get("left", True) else (2, 3), dtype)
        out.append(Sample((A(_sq(rng, (3, 3), dtype)), A(b)), kw, name=str(kw)))
    out.append(Sample((A(_sq(rng, (2, 2, 2), dtype)), A(arr(rng, (2, 1), dtype))), name="batch"))
    return out


add("lu_solve", fn=lambda m, a, b, **k: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, **k),
    samples=_lu_solve_samples, dtypes=NUM, **TOL)
add("lu_solve_legacy", fn=lambda m, a, b: b.lu_solve(*m.linalg.lu_factor(a)),
    samples=lambda d, r: [Sample((A(_sq(r, (3, 3), d)), A(arr(r, (3, 2), d))))], dtypes=FLOATS,
    **TOL)


# -- QR, SVD, eigendecompositions -----------------------------------------------------------------

_QR_SHAPES = ((3, 3), (3, 2), (2, 3), (2, 3, 2), (0, 2))
add("linalg_qr", fn=lambda m, a, **k: m.linalg.qr(a, **k), samples=_rect_samples(_QR_SHAPES),
    dtypes=NUM, errors=(_ONE_D, _INT), **TOL)
add("linalg_qr_complete", fn=lambda m, a: m.linalg.qr(a, mode="complete"),
    samples=_rect_samples(((3, 3), (2, 3), (2, 2, 3))), dtypes=NUM, **TOL)
add("linalg_qr_r", fn=lambda m, a: m.linalg.qr(a, mode="r"),
    samples=_rect_samples(((3, 2), (2, 3))), dtypes=FLOATS, grad=False, **TOL)
add("qr", fn=lambda m, a, *k: a.qr(*k), samples=_rect_samples(((3, 2),)), dtypes=FLOATS, **TOL)


def _svd_invariants(m, a, full_matrices=False):
    u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    return s, u @ vh, (u * u.conj()).real, (vh * vh.conj()).real


_SVD_SHAPES = ((3, 3), (4, 2), (2, 4), (2, 3, 2))
add("linalg_svd", fn=_svd_invariants, samples=_rect_samples(_SVD_SHAPES), dtypes=NUM,
    errors=(_ONE_D, _INT), **TOL)
add("linalg_svd_full", fn=lambda m, a: _svd_invariants(m, a, True),
    samples=_rect_samples(_SVD_SHAPES), dtypes=FLOATS, **TOL)
add("svdvals", fn=lambda m, a: m.linalg.svdvals(a), samples=_rect_samples(_SVD_SHAPES + ((0, 2),)),
    dtypes=NUM, **TOL)
add("svd_legacy", fn=lambda m, a: (lambda r: (r[1], r[0] @ r[2].mH))(a.svd()),
    samples=_rect_samples(_SVD_SHAPES), dtypes=FLOATS, **TOL)


def _eigh_invariants(m, a, **k):
    lam, v = m.linalg.eigh(_sym(m, a), **k)
    return lam, (v * v.conj()).real


def _spaced_sym(dtype, rng, shape):
    """Symmetric with well separated eigenvalues."""
    q = np.linalg.qr(rng.standard_normal(shape))[0]
    d = np.arange(1, shape[-1] + 1) * 1.5
    a = (q * d[..., None, :]) @ np.swapaxes(q, -1, -2)
    a = a + 0.05 * arr(rng, shape, dtype, -1, 1)
    return a.astype(dtype)


def _eigh_samples(dtype, rng):
    return [Sample((A(_spaced_sym(dtype, rng, (3, 3))),), name="3x3"),
            Sample((A(_spaced_sym(dtype, rng, (2, 3, 3))),), {"UPLO": "U"}, name="batch U"),
            Sample((A(_spaced_sym(dtype, rng, (3, 3)), noncontig=True),), name="noncontig"),
            Sample((A(arr(rng, (0, 0), dtype)),), name="empty")]


add("linalg_eigh", fn=_eigh_invariants, samples=_eigh_samples, dtypes=NUM, **TOL)
add("eigvalsh", fn=lambda m, a, **k: m.linalg.eigvalsh(_sym(m, a), **k), samples=_eigh_samples,
    dtypes=NUM, **TOL)
add("eigh_raw_lower", fn=lambda m, a, **k: m.linalg.eigh(a, **k)[0], samples=_eigh_samples,
    dtypes=FLOATS, grad=False, **TOL,
    errors=(_NOT_SQUARE, ErrorCase((A(np.ones((2, 2), np.int64)),), match="not implemented")))


def _eig_invariants(m, a):
    lam, v = m.linalg.eig(a)
    return lam, (v * v.conj()).real


def _eig_samples(dtype, rng):
    def distinct(shape):
        a = arr(rng, shape, dtype, -0.3, 0.3)
        a[..., range(shape[-1]), range(shape[-1])] += np.arange(1, shape[-1] + 1)
        return a
    return [Sample((A(distinct((3, 3))),), name="3x3"),
            Sample((A(distinct((2, 2, 2))),), name="batch"),
            Sample((A(np.array([[0.0, -1.0], [1.0, 0.0]], dtype=dtype)),), name="complex pair"),
            Sample((A(distinct((3, 3)), noncontig=True),), name="noncontig")]


add("linalg_eig", fn=_eig_invariants, samples=_eig_samples, dtypes=NUM,
    errors=(_NOT_SQUARE, _INT), **TOL)
add("eigvals", fn=lambda m, a: m.linalg.eigvals(a), samples=_eig_samples, dtypes=NUM, **TOL)


# -- pseudo-inverse, rank, matrix functions -------------------------------------------------------

add("linalg_pinv", fn=lambda m, a, **k: m.linalg.pinv(a, **k),
    samples=_rect_samples(((3, 3), (4, 2), (2, 4), (2, 3, 2))), dtypes=NUM, **TOL,
    errors=(_ONE_D, _INT))
add("linalg_pinv_hermitian", fn=lambda m, a: m.linalg.pinv(_hpd(m, a), hermitian=True),
    samples=lambda d, r: [Sample((A(arr(r, (3, 3), d)),))], dtypes=NUM, **TOL)
add("linalg_pinv_tol", fn=lambda m, a, **k: m.linalg.pinv(a, **k),
    samples=lambda d, r: [Sample((A(np.diag([3.0, 1.0, 1e-3]).astype(d)),), {"atol": 0.1}),
                          Sample((A(np.diag([3.0, 1.0, 1e-3]).astype(d)),), {"rtol": 0.1}),
                          Sample((A(np.diag([3.0, 1.0, 1e-3]).astype(d)),),
                                 {"atol": 0.01, "rtol": 0.5})], dtypes=FLOATS, grad=False)
add("pinverse", fn=lambda m, a, *k: a.pinverse(*k), samples=_rect_samples(((2, 3), (3, 2))),
    dtypes=FLOATS, **TOL)
add("matrix_rank", fn=lambda m, a, **k: m.linalg.matrix_rank(a, **k), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)),)), Sample((A(np.ones((2, 3, 3), d)),)),
    Sample((A(np.diag([3.0, 1.0, 1e-3]).astype(d)),), {"atol": 0.01}),
    Sample((A(np.diag([3.0, 1.0, 1e-3]).astype(d)),), {"rtol": 0.5}),
    Sample((A(np.diag([3.0, -1.0, 1e-3]).astype(d)),), {"hermitian": True, "atol": 0.01})],
    dtypes=NUM, grad=False)


def _mexp_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 3), dtype, -1, 1)),), name="3x3"),
            Sample((A(arr(rng, (2, 2, 2), dtype, -1, 1)),), name="batch"),
            Sample((A(arr(rng, (3, 3), dtype, -1, 1) * 4),), name="squaring"),
            Sample((A(arr(rng, (3, 3), dtype, -1, 1), noncontig=True),), name="noncontig"),
            Sample((A(arr(rng, (0, 0), dtype)),), name="empty")]


add("linalg_matrix_exp", fn=lambda m, a: m.linalg.matrix_exp(a), samples=_mexp_samples,
    dtypes=NUM, errors=(_NOT_SQUARE,), **TOL)
add("matrix_exp", fn=lambda m, a: a.matrix_exp(), samples=_mexp_samples, dtypes=FLOATS, **TOL)
add("matrix_power", fn=lambda m, a, n: a.matrix_power(n),
    samples=lambda d, r: [Sample((A(_sq(r, s, d) / 3),) + (n,), name=f"{s},{n}")
                          for s, n in (((3, 3), 3), ((2, 2, 2), 0), ((3, 3), 1), ((3, 3), -2),
                                       ((2, 2), 6), ((0, 0), 2))],
    dtypes=INT_NUM, **TOL)
add("householder_product", fn=lambda m, a, t: m.linalg.householder_product(a, t),
    samples=lambda d, r: [Sample((A(arr(r, (3, 2), d)), A(arr(r, (2,), d)))),
                          Sample((A(arr(r, (2, 3, 3), d)), A(arr(r, (2, 2), d)))),
                          Sample((A(arr(r, (3, 3), d)), A(arr(r, (0,), d))))],
    dtypes=NUM, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(1, np.float32))),
                      match="greater than or equal"),))


# -- norms and condition numbers ------------------------------------------------------------------

def _norm_samples(kws, shapes=((3, 4), (2, 3, 3))):
    def gen(dtype, rng):
        out = [Sample((A(arr(rng, s, dtype)),), dict(kw), name=f"{s} {kw}")
               for s in shapes for kw in kws]
        out.append(Sample((A(arr(rng, (4, 3), dtype), noncontig=True),), dict(kws[0]),
                          name="noncontig"))
        return out
    return gen


_MORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)
add("matrix_norm", fn=lambda m, a, **k: m.linalg.matrix_norm(a, **k),
    samples=_norm_samples([{"ord": o} for o in _MORDS] + [{"keepdim": True, "ord": "nuc"},
                                                           {"dim": (0, -1), "ord": 1},
                                                           {"dim": (-1, 0), "ord": 2,
                                                            "keepdim": True}]),
    dtypes=NUM, **TOL, errors=(ErrorCase((A(np.ones(3, np.float32)),), match="2 dimensions"),))
def _vector_norm(m, a, dtype=None, **k):
    return m.linalg.vector_norm(a, **k, **({} if dtype is None else {"dtype": getattr(m, dtype)}))


def _vector_norm_samples(dtype, rng):
    out = _norm_samples([{}, {"ord": 1}, {"ord": math.inf}, {"ord": 3, "dim": 1},
                         {"ord": 0.5, "dim": (0, 1), "keepdim": True}],
                        shapes=((3, 4), (2, 3, 2), ()))(dtype, rng)
    if dtype == "float32":
        out.append(Sample((A(arr(rng, (3,), dtype)),), {"dtype": "float64"}, name="dtype"))
    return out


add("vector_norm", fn=_vector_norm, samples=_vector_norm_samples,
    dtypes=NUM, **TOL, errors=(ErrorCase((A(np.ones(3, np.int64)),), match="floating"),))
add("linalg_norm", fn=lambda m, a, **k: m.linalg.norm(a, **k), samples=_norm_samples(
    [{}, {"ord": "nuc"}, {"ord": 2}, {"ord": 1, "dim": 0}, {"dim": (0, 1)},
     {"ord": -math.inf, "dim": (1, 0), "keepdim": True}], shapes=((3, 4),)),
    dtypes=NUM, **TOL)
add("norm_matrix", fn=lambda m, a, **k: m.norm(a, **k), samples=_norm_samples(
    [{"p": "nuc"}, {"p": "fro", "dim": (0, 1)}, {"p": "nuc", "dim": (1, 0), "keepdim": True},
     {"p": 3, "dim": 1}], shapes=((3, 4),)), dtypes=FLOATS, **TOL)
add("cond", fn=lambda m, a, *p: m.linalg.cond(a, *p),
    samples=lambda d, r: [Sample((A(_sq(r, (3, 3), d)),) + p, name=str(p)) for p in
                          [(), (2,), (-2,)]] +
    [Sample((A(_sq(r, (2, 3, 3), d)),)), Sample((A(arr(r, (2, 3), d) + np.eye(2, 3)),))],
    dtypes=NUM, **TOL)
# PyTorch's own backward of cond for these norms fails (it modifies inv's output in place)
add("cond_p", fn=lambda m, a, *p: m.linalg.cond(a, *p),
    samples=lambda d, r: [Sample((A(_sq(r, (3, 3), d)),) + p, name=str(p)) for p in
                          [("fro",), ("nuc",), (1,), (math.inf,), (-1,), (-math.inf,)]],
    dtypes=NUM, grad=False, **TOL)


# -- products -------------------------------------------------------------------------------------

def _mats(*shapes, dtypes=None):
    def gen(dtype, rng):
        return [Sample(tuple(A(arr(rng, s, dtype)) for s in ss), name=str(ss)) for ss in shapes]
    return gen


add("mv", samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), A(arr(r, (4,), d)))),
                                Sample((A(arr(r, (4, 3), d), noncontig=True),
                                        A(arr(r, (4,), d), noncontig=True))),
                                Sample((A(arr(r, (0, 4), d)), A(arr(r, (4,), d))))],
    dtypes=INT_NUM, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(2, np.float32))),
                      match="size mismatch"),))
add("vdot", samples=_mats(((4,), (4,)), ((0,), (0,))), dtypes=INT_NUM, **TOL,
    errors=(ErrorCase((A(np.ones(3, np.float32)), A(np.ones(2, np.float32))),
                      match="inconsistent"),))
add("inner", samples=_mats(((3, 4), (2, 4)), ((4,), (4,)), ((2, 3, 4), (4,)), ((), (3, 2))),
    dtypes=INT_NUM, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((2, 4), np.float32))),
                      match="last dimension"),))
add("outer", samples=_mats(((3,), (4,)), ((0,), (2,))), dtypes=("bool",) + INT_NUM,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(2, np.float32))),
                      match="1-D"),))
add("ger", samples=_mats(((3,), (4,))), dtypes=FLOATS)
add("kron", samples=_mats(((2, 3), (3, 2)), ((2,), (2, 3)), ((2, 1, 2), (2, 2)), ((), (3,))),
    dtypes=("bool",) + INT_NUM)
add("tensordot", fn=lambda m, a, b, **k: m.tensordot(a, b, **k), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (3, 4, 2), d)))),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (3, 2), d))), {"dims": 1}),
    Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (4, 2, 3), d))), {"dims": ([1, 2], [2, 0])}),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (4,), d))), {"dims": 0})],
    dtypes=INT_NUM, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((4, 2), np.float32))),
                      {"dims": 1}, match="contracted dimensions need to match"),))
add("trace", samples=_mats(((3, 4),), ((3, 3),), ((0, 2),)), dtypes=INT_NUM,
    errors=(ErrorCase((A(np.ones(3, np.float32)),), match="expected a matrix"),))
add("linalg_cross", fn=lambda m, a, b, **k: m.linalg.cross(a, b, **k), samples=lambda d, r: [
    Sample((A(arr(r, (4, 3), d)), A(arr(r, (4, 3), d)))),
    Sample((A(arr(r, (3, 2), d)), A(arr(r, (3, 1), d))), {"dim": 0}),
    Sample((A(arr(r, (2, 1, 3), d)), A(arr(r, (1, 4, 3), d))))],
    dtypes=INT_NUM, errors=(ErrorCase((A(np.ones(4, np.float32)), A(np.ones(4, np.float32))),
                                      match="must have length 3"),))
add("cross", fn=lambda m, a, b, *d: m.cross(a, b, *d), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)))),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (2, 3), d))), name="dim")], dtypes=INT_NUM)
add("vecdot", fn=lambda m, a, b, **k: m.linalg.vecdot(a, b, **k), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (4,), d)))),
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d))), {"dim": 0})], dtypes=INT_NUM)
add("multi_dot", fn=lambda m, *xs: m.linalg.multi_dot(list(xs)), samples=_mats(
    ((2, 3), (3, 2)), ((3,), (3, 4), (4, 2), (2,)), ((2, 3), (3, 4), (4, 1)),
    ((4,), (4,))), dtypes=INT_NUM, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((2, 3), np.float32))),
                      match="cannot be multiplied"),))
add("chain_matmul", fn=lambda m, *xs: m.chain_matmul(*xs), samples=_mats(
    ((2, 3), (3, 2), (2, 2)), ((2, 3),)), dtypes=FLOATS, **TOL)


def _addmv_samples(dtype, rng):
    return [Sample((A(arr(rng, (3,), dtype)), A(arr(rng, (3, 4), dtype)),
                    A(arr(rng, (4,), dtype)))),
            Sample((A(arr(rng, (1,), dtype)), A(arr(rng, (3, 4), dtype)),
                    A(arr(rng, (4,), dtype))), {"beta": 2, "alpha": -1}),
            Sample((A(np.full((3,), np.nan).astype(dtype) if dtype not in ("int32", "int64")
                      else arr(rng, (3,), dtype)), A(arr(rng, (3, 4), dtype)),
                    A(arr(rng, (4,), dtype))), {"beta": 0}, name="beta0")]


add("addmv", samples=_addmv_samples, dtypes=INT_NUM, inplace="addmv_", **TOL)


def _addr_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 4), dtype)), A(arr(rng, (3,), dtype)),
                    A(arr(rng, (4,), dtype)))),
            Sample((A(arr(rng, (4,), dtype)), A(arr(rng, (3,), dtype)), A(arr(rng, (4,), dtype))),
                   {"beta": 2, "alpha": 3})]


add("addr", samples=_addr_samples, dtypes=INT_NUM, inplace="addr_")


def _baddbmm_samples(dtype, rng):
    return [Sample((A(arr(rng, (2, 3, 2), dtype)), A(arr(rng, (2, 3, 4), dtype)),
                    A(arr(rng, (2, 4, 2), dtype)))),
            Sample((A(arr(rng, (3, 2), dtype)), A(arr(rng, (2, 3, 4), dtype)),
                    A(arr(rng, (2, 4, 2), dtype))), {"beta": 2, "alpha": -1})]


add("baddbmm", samples=_baddbmm_samples, dtypes=INT_NUM, inplace="baddbmm_", **TOL)


def _addbmm_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 2), dtype)), A(arr(rng, (2, 3, 4), dtype)),
                    A(arr(rng, (2, 4, 2), dtype)))),
            Sample((A(arr(rng, (3, 2), dtype)), A(arr(rng, (2, 3, 4), dtype)),
                    A(arr(rng, (2, 4, 2), dtype))), {"beta": 0, "alpha": 2})]


add("addbmm", samples=_addbmm_samples, dtypes=INT_NUM, inplace="addbmm_", **TOL)
add("addbmm_broadcast", fn=lambda m, *a, **k: m.addbmm(*a, **k), samples=lambda d, r: [
    Sample((A(arr(r, (2,), d)), A(arr(r, (2, 3, 4), d)), A(arr(r, (2, 4, 2), d))),
           {"beta": 2})], dtypes=FLOATS, **TOL)
add("addmm_inplace", fn=lambda m, i, a, b, **k: i.addmm(a, b, **k), inplace="addmm_",
    samples=lambda d, r: [Sample((A(arr(r, (3, 2), d)), A(arr(r, (3, 4), d)),
                                  A(arr(r, (4, 2), d))), {"beta": 2, "alpha": 0.5})],
    dtypes=FLOATS, **TOL)
add("linalg_diagonal", fn=lambda m, a, **k: m.linalg.diagonal(a, **k), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3, 4), d)),)), Sample((A(arr(r, (2, 3, 4), d)),), {"offset": 1}),
    Sample((A(arr(r, (2, 3, 4), d)),), {"dim1": 0, "dim2": 2})], dtypes=INT_NUM)
add("linalg_vander", fn=lambda m, x, **k: m.linalg.vander(x, **k), samples=lambda d, r: [
    Sample((A(arr(r, (4,), d)),)), Sample((A(arr(r, (2, 3), d)),), {"N": 4}),
    Sample((A(arr(r, (3,), d)),), {"N": 1})], dtypes=("bool",) + INT_NUM)
add("vander", fn=lambda m, x, **k: m.vander(x, **k), samples=lambda d, r: [
    Sample((A(arr(r, (4,), d)),)), Sample((A(arr(r, (3,), d)),), {"N": 2, "increasing": True}),
    Sample((A(arr(r, (3,), d)),), {"N": 0})], dtypes=INT_NUM, grad=False)
