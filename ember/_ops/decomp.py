"""Matrix decompositions and solvers (the ops behind ember.linalg).

# NOTE [ Linear algebra kernels ]
Forwards call the array module's LAPACK wrappers (``xp.linalg``: inv, det, solve, cholesky,
qr, svd, eigh, eig) where they exist. What NumPy lacks is written here over batched arrays:
LU with partial pivoting that picks LAPACK getrf's pivots (first entry of largest magnitude,
``|re| + |im|`` for complex, as i?amax), triangular substitution (trsm) and the matrix
exponential (scaling and squaring of a degree-13 Pade approximant, Higham 2005). Their loops
run over one matrix dimension, each step vectorised over the batch.

Failures follow PyTorch: a singular or non positive-definite input raises ``LinAlgError`` with
PyTorch's message naming the first failing diagonal element or leading minor (and batch
element); the ``_ex`` variants return LAPACK's ``info`` instead.

VJPs are PyTorch's (FunctionsManual.cpp) written in ember ops, with triangular solves instead
of explicit inverses, so that second derivatives come from autograd.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .registry import register


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive-definite (``torch.linalg.LinAlgError``)."""


# -- checks ---------------------------------------------------------------------------------------

def check_float(name, a, what="A"):
    if a.dtype.kind not in "fc":
        dt = _dtype.FROM_NP[a.dtype]
        if dt in (_dtype.float16, _dtype.bfloat16):
            raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {dt.word}")
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got {dt.word}")


def check_matrix(name, a, square=False, what="A"):
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    check_float(name, a, what)


def _raise_info(info, ndim, make_msg, cls=LinAlgError):
    """Raise for the first failed batch element of ``info`` (LAPACK's, > 0 on failure)."""
    flat = _host(info).reshape(-1)
    bad = np.flatnonzero(flat > 0)
    if bad.size:
        b = int(bad[0])
        prefix = f"(Batch element {b}): " if ndim > 2 else ""
        raise cls(make_msg(prefix, int(flat[b])))


def _t(a):
    return a.swapaxes(-1, -2)


def _h(a):
    return a.swapaxes(-1, -2).conj()


# -- NumPy kernels --------------------------------------------------------------------------------

def getrf(xp, a):
    """LU with partial pivoting as LAPACK's getrf, batched: (packed LU, 1-based int32 pivots,
    int32 info = first zero diagonal element of U, 1-based, or 0)."""
    *batch, m, n = a.shape
    k = min(m, n)
    lu = a.reshape(-1, m, n).copy()
    nb = lu.shape[0]
    piv = xp.empty((nb, k), np.int32)
    info = xp.zeros(nb, np.int32)
    rows = xp.arange(nb)
    one = lu.dtype.type(1)
    for j in range(k):
        col = lu[:, j:, j]
        mag = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
        p = xp.argmax(mag, axis=1) + j
        piv[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        d = lu[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        lu[:, j + 1:, j] *= (one / xp.where(zero, one, d))[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), piv.reshape(*batch, k), info.reshape(batch)


def pivots_to_perm(xp, piv, m):
    """The row order ``perm`` with ``A[perm] = L U`` from LAPACK's sequential row swaps."""
    *batch, k = piv.shape
    p = piv.reshape(-1, k).astype(np.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (p.shape[0], m)).copy()
    rows = xp.arange(p.shape[0])
    for j in range(k):
        a, b = perm[:, j].copy(), perm[rows, p[:, j]].copy()
        perm[:, j], perm[rows, p[:, j]] = b, a
    return perm.reshape(*batch, m)


def trsm(xp, a, b, upper, left=True, unit=False):
    """Solve ``A X = B`` (``X A = B`` if not left) for triangular A by substitution, batched
    with broadcasting; a zero diagonal gives inf/nan as LAPACK's trsm does."""
    if not left:
        return _t(trsm(xp, _t(a), _t(b), not upper, True, unit))
    if upper:
        return trsm(xp, a[..., ::-1, ::-1], b[..., ::-1, :], False, True, unit)[..., ::-1, :]
    n = a.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    dt = np.result_type(a.dtype, b.dtype)
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    x = xp.broadcast_to(b, batch + b.shape[-2:]).astype(dt, copy=True)
    for i in range(n):
        if i:
            x[..., i, :] -= (a[..., i:i + 1, :i] @ x[..., :i, :])[..., 0, :]
        if not unit:
            x[..., i, :] /= a[..., i, i][..., None]
    return x


def lu_solve_np(xp, lu, piv, b):
    """``A^{-1} B`` from getrf's factors (inf/nan where U is singular, as getrs gives)."""
    perm = pivots_to_perm(xp, piv, lu.shape[-1])
    batch = np.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    perm = xp.broadcast_to(perm, batch + perm.shape[-1:])
    pb = xp.take_along_axis(b, perm[..., None], axis=-2)
    y = trsm(xp, lu, pb, upper=False, unit=True)
    return trsm(xp, lu, y, upper=True)


# Pade(13) coefficients and the 1-norm bounds up to which each degree is accurate (Higham 2005)
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def _expm(xp, a):
    """exp of square matrices (batched, computed in double precision)."""
    dt = a.dtype
    w = a.astype(np.complex128 if dt.kind == "c" else np.float64)
    n = w.shape[-1]
    norm1 = xp.abs(w).sum(axis=-2).max(axis=-1) if n else xp.zeros(w.shape[:-2])
    s = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / _THETA13))).astype(np.int64)
    w = w / (2.0 ** s)[..., None, None]
    eye = xp.eye(n, dtype=w.dtype)
    b = _PADE13
    w2 = w @ w
    w4 = w2 @ w2
    w6 = w4 @ w2
    u = w @ (w6 @ (b[13] * w6 + b[11] * w4 + b[9] * w2) + b[7] * w6 + b[5] * w4 + b[3] * w2
             + b[1] * eye)
    v = w6 @ (b[12] * w6 + b[10] * w4 + b[8] * w2) + b[6] * w6 + b[4] * w4 + b[2] * w2 \
        + b[0] * eye
    r = xp.linalg.solve(v - u, v + u) if w.size else w.copy()
    for i in range(int(s.max()) if s.size else 0):
        r = xp.where((s > i)[..., None, None], r @ r, r)
    return r.astype(dt)


# -- ember-level helpers for the VJPs -------------------------------------------------------------

def _tri(x, k, lower):
    """``tril(x, k)`` (or ``triu``) of the last two dims, differentiable."""
    from .. import _creation
    from .. import _functional as F
    m, n = x.shape[-2:]
    mask = np.tri(m, n, k, dtype=bool)
    if not lower:
        mask = ~np.tri(m, n, k - 1, dtype=bool)
    return F.where(_creation.tensor(mask, device=x.device), x, 0.0)


def tril(x, k=0):
    return _tri(x, k, True)


def triu(x, k=0):
    return _tri(x, k, False)


def eye_like(x, n=None):
    from .. import _creation
    n = x.shape[-1] if n is None else n
    return _creation.eye(n, dtype=x.dtype, device=x.device)


def diag_embed(v):
    """Matrices with ``v`` on their diagonals."""
    return v.unsqueeze(-1) * eye_like(v)


def _L():
    from .._api import linalg
    return linalg


def _real_if(g, meta):
    """Gradients for a real input are the real part of a complex gradient."""
    return g.real if g is not None and g.is_complex() and meta[1].kind != "c" else g


# -- inverse, determinants ------------------------------------------------------------------------

def _singular_msg(name):
    return lambda pre, i: (f"{name}: {pre}The diagonal element {i} is zero, the inversion could "
                           "not be completed because the input matrix is singular.")


def _inv_ex(xp, a, check_errors=False):
    check_matrix("linalg.inv", a, square=True)
    try:
        return xp.linalg.inv(a), xp.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        lu, piv, info = getrf(xp, a)
    if check_errors:
        _raise_info(info, a.ndim, _singular_msg("linalg.inv"))
    with np.errstate(all="ignore"):
        return lu_solve_np(xp, lu, piv, xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype),
                                                         a.shape)), info


def _inv_vjp(c, g):
    inv = c.out[0]
    return (-(inv.mH @ g[0] @ inv.mH),)


register("linalg_inv_ex", _inv_ex, save=("out",), vjp=_inv_vjp, nout=2)


def _det(xp, a):
    check_matrix("linalg.det", a, square=True)
    return xp.linalg.det(a)


def _det_vjp(c, g):
    """``g conj(det) A^{-H}``; zero for exactly singular matrices, as PyTorch gives."""
    (a,) = c.inputs
    det = c.out.unsqueeze(-1).unsqueeze(-1)
    rhs = (g.unsqueeze(-1).unsqueeze(-1) * det.conj()) * eye_like(a)
    if a.numel() == 0 or bool((det != 0).all()):
        return (_L().solve(a.mH, rhs),)
    from .. import _functional as F
    return (F.where(det == 0, 0.0, _L().solve_ex(a.mH, rhs).result),)


register("linalg_det", _det, save=(0, "out"), vjp=_det_vjp)


def _slogdet(xp, a):
    check_matrix("linalg.slogdet", a, square=True)
    sign, logabs = xp.linalg.slogdet(a)
    return sign, logabs


def _slogdet_vjp(c, g):
    (a,) = c.inputs
    gs, gl = g
    sign = c.out[0]
    w = gl if gl is not None else None
    if a.is_complex() and gs is not None:
        im = (gs.conj() * sign).imag
        w = (gl + 1j * im) if gl is not None else 1j * im
        w = w.conj()
    if w is None:
        return (None,)
    return (_L().solve(a.mH, w.unsqueeze(-1).unsqueeze(-1) * eye_like(a)),)


register("linalg_slogdet", _slogdet, save=(0, "out"), vjp=_slogdet_vjp, nout=2)


# -- solvers --------------------------------------------------------------------------------------

def is_vector_rhs(a_shape, b_shape) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if 1-D or shaped like A without its last
    dim."""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and
                                 tuple(b_shape) == tuple(a_shape[:-1]))


def _solve_ex(xp, a, b, left=True, check_errors=False):
    check_matrix("linalg.solve", a, square=True)
    check_float("linalg.solve", b, "B")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {_dtype.FROM_NP[a.dtype].word} and B of type "
                           f"{_dtype.FROM_NP[b.dtype].word} instead")
    vec = is_vector_rhs(a.shape, b.shape)
    if vec:
        b = b[..., None] if left else b[..., None, :]
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        shape = (f"{n}x{n} and {b.shape[-2]}x{b.shape[-1]}")
        raise RuntimeError("linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({shape})")
    if not left:
        a, b = _t(a), _t(b)
    batch = a.shape[:-2]
    a2, b2 = a, b
    if b.shape[:-2] != batch:  # (broadcast_to costs more than a small solve)
        batch = np.broadcast_shapes(batch, b.shape[:-2])
        a2, b2 = xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])
    info = xp.zeros(batch, np.int32)
    try:
        x = xp.linalg.solve(a2, b2) if a2.size and b2.size else xp.zeros(b2.shape, b2.dtype)
    except np.linalg.LinAlgError:
        lu, piv, info = getrf(xp, a2)
        if check_errors:
            _raise_info(info, len(batch) + 2, lambda pre, i: (
                f"torch.linalg.solve: {pre}The solver failed because the input matrix is "
                "singular."))
        with np.errstate(all="ignore"):
            x = lu_solve_np(xp, lu, piv, b2)
    if not left:
        x = _t(x)
    if vec:
        x = x[..., 0] if left else x[..., 0, :]
    return x, info


def _solve_vjp(c, g):
    a, b = c.inputs
    x = c.out[0]
    left = c.params.get("left", True)
    gx = g[0]
    if gx is None:
        return None, None
    vec = is_vector_rhs(a.shape, b.shape)
    if vec:
        gx, x = (gx.unsqueeze(-1), x.unsqueeze(-1)) if left else (gx.unsqueeze(-2),
                                                                   x.unsqueeze(-2))
    gb = _L().solve(a.mH, gx, left=left)
    ga = None
    if c.needs_input_grad[0]:
        ga = -(gb @ x.mH) if left else -(x.mH @ gb)
    if vec:
        gb = gb.squeeze(-1) if left else gb.squeeze(-2)
    return ga, gb


register("linalg_solve_ex", _solve_ex, save=(0, 1, "out"), vjp=_solve_vjp, nout=2)


def _solve_triangular(xp, a, b, upper, left=True, unitriangular=False):
    name = "linalg.solve_triangular"
    check_matrix(name, a, square=True)
    check_matrix(name, b, what="B")
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of "
                           f"type {_dtype.FROM_NP[a.dtype].word} and B of type "
                           f"{_dtype.FROM_NP[b.dtype].word} instead")
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    with np.errstate(all="ignore"):
        return trsm(xp, a, b, upper, left, unitriangular)


def _solve_triangular_vjp(c, g):
    a, b = c.inputs
    x = c.out
    p = c.params
    upper, left, unit = p["upper"], p.get("left", True), p.get("unitriangular", False)
    gb = _L().solve_triangular(a.mH, g, upper=not upper, left=left, unitriangular=unit)
    ga = None
    if c.needs_input_grad[0]:
        ga = -(gb @ x.mH) if left else -(x.mH @ gb)
        ga = triu(ga, 1 if unit else 0) if upper else tril(ga, -1 if unit else 0)
    return ga, gb


register("linalg_solve_triangular", _solve_triangular, save=(0, 1, "out"),
         vjp=_solve_triangular_vjp)


# -- Cholesky -------------------------------------------------------------------------------------

def _cholesky_partial(xp, a):
    """Unblocked right-looking Cholesky, stopping at the first non-positive pivot: (lower
    factor with the unfinished trailing block as it stood, info)."""
    w = a.reshape((-1,) + a.shape[-2:]).copy()
    n = w.shape[-1]
    info = xp.zeros(w.shape[0], np.int32)
    for j in range(n):
        d = w[:, j, j].real
        bad = (info == 0) & ~(d > 0)
        info[bad] = j + 1
        ok = info == 0
        r = xp.sqrt(xp.where(ok, d, 1.0))
        w[ok, j, j] = r[ok]
        w[ok, j + 1:, j] /= r[ok, None]
        upd = w[:, j + 1:, j:j + 1] * w[:, j + 1:, j:j + 1].conj().swapaxes(-1, -2)
        w[ok, j + 1:, j + 1:] -= upd[ok]
    return w.reshape(a.shape), info.reshape(a.shape[:-2])


def _cholesky_ex(xp, a, upper=False, check_errors=False):
    check_matrix("linalg.cholesky", a, square=True)
    try:
        low = xp.linalg.cholesky(a) if a.size else a.copy()
        info = xp.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        low, info = _cholesky_partial(xp, a)
        if check_errors:
            _raise_info(info, a.ndim, lambda pre, i: (
                f"linalg.cholesky: {pre}The factorization could not be completed because the "
                f"input is not positive-definite (the leading minor of order {i} is not "
                "positive-definite)."))
    low = xp.tril(low)
    return (_h(low).copy() if upper else low), info


def _cholesky_vjp(c, g):
    gl = g[0]
    low = c.out[0]
    if c.params.get("upper", False):
        low, gl = low.mH, gl.mH
    linv = _L().solve_triangular(low, eye_like(low), upper=False)
    phi = tril(low.mH @ gl)
    phi = phi - 0.5 * diag_embed(phi.diagonal(0, -2, -1))
    ga = linv.mH @ phi @ linv
    return (0.5 * (ga + ga.mH),)


register("linalg_cholesky_ex", _cholesky_ex, save=("out",), vjp=_cholesky_vjp, nout=2)


# -- LU -------------------------------------------------------------------------------------------

def _lu_factor_ex(xp, a, pivot=True, check_errors=False):
    if a.dtype.kind not in "fc" and a.ndim >= 2:
        raise NotImplementedError(f'"lu_cpu" not implemented for '
                                  f"'{_dtype.FROM_NP[a.dtype].word}'")
    check_matrix("torch.linalg.lu_factor_ex", a)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, piv, info = getrf(xp, a)
    if check_errors:
        _raise_info(info, a.ndim, lambda pre, i: (
            f"torch.linalg.lu_factor_ex: {pre}U[{i},{i}] is zero and using it on lu_solve "
            "would result in a division by zero. If you still want to perform the "
            "factorization, consider calling linalg.lu(A, pivot) or "
            "linalg.lu_factor_ex(A, pivot)"), RuntimeError)
    return lu, piv, info


def _lu_factor_vjp(c, g):
    """PyTorch's linalg_lu_backward for A = P L U, from the packed factor's gradient."""
    glu = g[0]
    lu, piv = c.out[0], c.out[1]
    p, low, up = _L().lu_unpack(lu, piv)
    gl, gu = tril(glu, -1), triu(glu)
    m, n = lu.shape[-2:]
    k = min(m, n)
    st = _L().solve_triangular
    from .. import _functional as F
    if m <= n:
        gl = gl[..., :, :k]
        ga = tril(low.mH @ gl - gu @ up.mH, -1)
        ga = st(up[..., :, :k].mH, ga, upper=False, left=False)
        ga = F.cat([ga + triu(gu[..., :, :k]), gu[..., :, k:]], -1)
        ga = st(low.mH, ga, upper=True, unitriangular=True)
    else:
        gu = gu[..., :k, :]
        ga = triu(gu @ up.mH - low.mH @ gl)
        ga = st(low[..., :k, :].mH, ga, upper=True, unitriangular=True)
        ga = F.cat([ga + tril(gl[..., :k, :], -1), gl[..., k:, :]], -2)
        ga = st(up.mH, ga, upper=False, left=False)
    return (p @ ga,)


register("linalg_lu_factor_ex", _lu_factor_ex, save=("out",), vjp=_lu_factor_vjp, nout=3)


def _lu_unpack(xp, lu, piv, unpack_data=True):
    if lu.ndim < 2:
        raise RuntimeError("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(lu.shape)} instead")
    if not unpack_data:
        return xp.zeros((0,), lu.dtype), xp.zeros((0,), lu.dtype)
    m, n = lu.shape[-2:]
    k = min(m, n)
    return xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype), xp.triu(lu[..., :k, :])


def _lu_unpack_vjp(c, g):
    gl, gu = g
    m, n = c.in_meta[0][0][-2:]
    k = min(m, n)
    from .. import _functional as F
    out = None
    if gl is not None:
        gl = tril(gl, -1)
        out = gl if n == k else F.cat([gl, gl.new_zeros(gl.shape[:-1] + (n - k,))], -1)
    if gu is not None:
        gu = triu(gu)
        gu = gu if m == k else F.cat([gu, gu.new_zeros(gu.shape[:-2] + (m - k, n))], -2)
        out = gu if out is None else out + gu
    return out, None


register("lu_unpack", _lu_unpack, vjp=_lu_unpack_vjp, nout=2)


def _lu_permutation(xp, lu, piv):
    """The permutation matrix P of ``A = P L U`` from getrf's pivots (not differentiable)."""
    m = lu.shape[-2]
    perm = pivots_to_perm(xp, piv, m)
    p = xp.zeros(perm.shape + (m,), lu.dtype)
    xp.put_along_axis(p, perm[..., None, :], 1, axis=-2)
    return xp.broadcast_to(p, lu.shape[:-2] + (m, m)).copy()


register("lu_permutation", _lu_permutation)


# -- QR, SVD, eigendecompositions -----------------------------------------------------------------

def _qr(xp, a, mode="reduced"):
    check_matrix("linalg.qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = a.shape[-2:]
    k = min(m, n)
    if a.size == 0:
        qn = m if mode == "complete" else k
        q = xp.broadcast_to(xp.eye(m, qn, dtype=a.dtype), a.shape[:-2] + (m, qn)).copy()
        r = xp.zeros(a.shape[:-2] + (qn, n), a.dtype)
    elif mode == "r":
        r = xp.linalg.qr(a, mode="r")
    else:
        q, r = xp.linalg.qr(a, mode=mode)
    if mode == "r":
        q = xp.zeros((0,), a.dtype)
    return q, r


def _qr_vjp(c, g):
    """PyTorch's linalg_qr_backward: with M = gR R^H - Q^H gQ,
    gA = (gQ + Q copyutl(M)) R^{-H}; a wide A = Q [R1 R2] passes R2 = Q^H Y's gradient on."""
    mode = c.params.get("mode", "reduced")
    (a,) = c.inputs
    q, r = c.out
    gq, gr = g
    m, n = a.shape[-2:]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                           "going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    if m >= n:
        return (_qr_grad(q, r, gq, gr),)
    from .. import _functional as F
    y = a[..., :, m:]
    gy = None
    if gr is not None:
        gq = y @ gr[..., :, m:].mH + (gq if gq is not None else 0)
        gy = q @ gr[..., :, m:]
        gr = gr[..., :, :m]
    gx = _qr_grad(q, r[..., :, :m], gq, gr)
    return (F.cat([gx, gy if gy is not None else y.new_zeros(y.shape)], -1),)


def _qr_grad(q, r, gq, gr):
    m = None
    if gr is not None:
        m = gr @ r.mH
    if gq is not None:
        m = -(q.mH @ gq) if m is None else m - q.mH @ gq
    up = triu(m, 1)
    d = m.diagonal(0, -2, -1)
    h = up + up.mH + diag_embed(d.real if d.is_complex() else d)
    b = q @ h if gq is None else gq + q @ h
    return _L().solve_triangular(r.mH, b, upper=False, left=False)


register("linalg_qr", _qr, save=(0, "out"), vjp=_qr_vjp, nout=2)


def _svd(xp, a, full_matrices=True, compute_uv=True):
    check_matrix("linalg.svd", a)
    m, n = a.shape[-2:]
    k = min(m, n)
    rdt = np.float32 if a.dtype in (np.float32, np.complex64) else np.float64
    if a.size == 0:
        um, vn = (m, n) if full_matrices else (k, k)
        u = xp.broadcast_to(xp.eye(m, um, dtype=a.dtype), a.shape[:-2] + (m, um)).copy()
        vh = xp.broadcast_to(xp.eye(vn, n, dtype=a.dtype), a.shape[:-2] + (vn, n)).copy()
        s = xp.zeros(a.shape[:-2] + (k,), rdt)
    elif compute_uv:
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    else:
        s = xp.linalg.svd(a, compute_uv=False)
    if not compute_uv:
        u = vh = xp.zeros((0,), a.dtype)
    return u, s.astype(rdt, copy=False), vh


def _svd_vjp(c, g):
    """PyTorch's svd_backward, on the reduced factors."""
    (a,) = c.inputs
    u, s, vh = c.out
    gu, gs, gvh = g
    m, n = a.shape[-2:]
    k = min(m, n)
    if c.params.get("full_matrices", True):
        u, vh = u[..., :, :k], vh[..., :k, :]
        gu = gu[..., :, :k] if gu is not None else None
        gvh = gvh[..., :k, :] if gvh is not None else None
    if gu is None and gvh is None:
        return (_real_if(u @ (gs.unsqueeze(-1) * vh), c.in_meta[0]),)
    v = vh.mH
    gv = gvh.mH if gvh is not None else None
    uhgu = u.mH @ gu if gu is not None else None
    vhgv = vh @ gv if gv is not None else None
    uhgu = uhgu - uhgu.mH if uhgu is not None else None
    vhgv = vhgv - vhgv.mH if vhgv is not None else None
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1)
    e = e + eye_like(e)
    if uhgu is not None and vhgv is not None:
        ga = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
    elif uhgu is not None:
        ga = (uhgu * s.unsqueeze(-2)) / e
    else:
        ga = (s.unsqueeze(-1) * vhgv) / e
    if gs is not None:
        ga = ga + diag_embed(gs)
    if a.is_complex() and uhgu is not None:
        ga = ga + diag_embed(uhgu.diagonal(0, -2, -1) / (2 * s))
    if m > n and gu is not None:
        ga = u @ ga
        gusinv = gu / s.unsqueeze(-2)
        ga = ga + gusinv - u @ (u.mH @ gusinv)
        ga = ga @ vh
    elif m < n and gv is not None:
        ga = ga @ vh
        gvsinv = gv / s.unsqueeze(-2)
        ga = ga + gvsinv.mH - (gvsinv.mH @ v) @ vh
        ga = u @ ga
    else:
        ga = u @ (ga @ vh)
    return (_real_if(ga, c.in_meta[0]),)


register("linalg_svd", _svd, save=(0, "out"), vjp=_svd_vjp, nout=3)


def _eigh(xp, a, UPLO="L"):  # noqa: N803 - PyTorch's argument name
    if a.dtype.kind not in "fc" and a.ndim >= 2 and a.shape[-1] == a.shape[-2]:
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for '
                                  f"'{_dtype.FROM_NP[a.dtype].word}'")
    check_matrix("linalg.eigh", a, square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if a.size == 0:
        rdt = np.float32 if a.dtype in (np.float32, np.complex64) else np.float64
        return xp.zeros(a.shape[:-1], rdt), a.copy()
    w, v = xp.linalg.eigh(a, UPLO=UPLO)
    return w, v


def _eig_grad(c, g, hermitian):
    """PyTorch's linalg_eig_backward: gradient from the eigenvalues L and vectors V."""
    (a,) = c.inputs
    lam, v = c.out
    gl, gv = g
    if gv is None:
        if gl is None:
            return (None,)
        d = diag_embed(gl)
        ga = v @ d @ v.mH if hermitian else _L().solve(v.mH, d @ v.mH)
        return (_real_if(ga, c.in_meta[0]),)
    vhgv = v.mH @ gv
    if hermitian:
        vhgv = 0.5 * (vhgv - vhgv.mH)
    else:
        dg = vhgv.diagonal(0, -2, -1)
        vhgv = vhgv - v.mH @ (v * (dg.real if dg.is_complex() else dg).unsqueeze(-2))
    lc = lam.conj() if lam.is_complex() else lam
    e = lc.unsqueeze(-2) - lc.unsqueeze(-1)
    eye = eye_like(e)
    inner = vhgv / (e + eye) * (1 - eye)
    if gl is not None:
        inner = inner + diag_embed(gl)
    ga = v @ inner @ v.mH if hermitian else _L().solve(v.mH, inner @ v.mH)
    return (_real_if(ga, c.in_meta[0]),)


register("linalg_eigh", _eigh, save=(0, "out"), nout=2,
         vjp=lambda c, g: _eig_grad(c, g, True))


def _eig(xp, a):
    check_matrix("linalg.eig", a, square=True)
    cdt = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
    if a.size == 0:
        return xp.zeros(a.shape[:-1], cdt), a.astype(cdt)
    w, v = xp.linalg.eig(a)
    return w.astype(cdt, copy=False), v.astype(cdt, copy=False)


register("linalg_eig", _eig, save=(0, "out"), nout=2, vjp=lambda c, g: _eig_grad(c, g, False))


# -- least squares, pseudo-inverse, matrix exponential --------------------------------------------

def _pinv(xp, a, atol=None, rtol=None, hermitian=False):
    check_matrix("linalg.pinv", a, square=hermitian)
    m, n = a.shape[-2:]
    rdt = np.float32 if a.dtype in (np.float32, np.complex64) else np.float64
    if rtol is None:
        rtol = 0.0 if atol is not None and not _is_zero(atol) else \
            np.finfo(rdt).eps * max(m, n)
    atol = 0.0 if atol is None else atol
    if a.size == 0:
        return xp.zeros(a.shape[:-2] + (n, m), a.dtype)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        mag = xp.abs(w)
    else:
        u, w, vh = xp.linalg.svd(a, full_matrices=False)
        mag = w
    tol = xp.maximum(xp.asarray(atol, rdt)[..., None],
                     xp.asarray(rtol, rdt)[..., None] * mag.max(axis=-1, keepdims=True))
    keep = mag > tol
    winv = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(w.dtype)
    if hermitian:
        return (v * winv[..., None, :]) @ _h(v)
    return (_h(vh) * winv[..., None, :]) @ _h(u)


def _is_zero(x):
    return not np.any(_host(x))


def _host(a):
    """A backend array (or number) as a NumPy array (CuPy refuses ``np.asarray``)."""
    from ..backends import _BY_ARRAY_TYPE
    backend = _BY_ARRAY_TYPE.get(type(a))
    return np.asarray(a) if backend is None else backend.to_numpy(a)


def pinv_backward(g, pinva, a):
    """The gradient of ``pinv(A)`` (PyTorch's pinv_backward), in ember ops."""
    m, n = a.shape[-2:]
    pinvah, gh = pinva.mH, g.mH
    if m <= n:
        k = gh @ pinva
        kpinvah = k @ pinvah
        return (-(pinva @ k).mH + kpinvah - (a @ pinva) @ kpinvah
                + (pinvah @ pinva) @ (gh - k @ a))
    k = pinva @ gh
    pinvahk = pinvah @ k
    return (-(k @ pinva).mH + (gh - a @ k) @ pinva @ pinvah + pinvahk
            - pinvahk @ pinva @ a)


def _pinv_vjp(c, g):
    return (pinv_backward(g, c.out, c.inputs[0]), None, None)


register("linalg_pinv", _pinv, save=(0, "out"), vjp=_pinv_vjp)


def _lstsq(xp, a, b, rcond=None, driver=None):
    name = "torch.linalg.lstsq"
    check_matrix("linalg.lstsq", a)
    check_float("linalg.lstsq", b, "B")
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_dtype.FROM_NP[a.dtype]} and other's dtype "
                           f"{_dtype.FROM_NP[b.dtype]}")
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss)")
    vec = b.ndim == a.ndim - 1
    if vec:
        b = b[..., None]
    m, n = a.shape[-2:]
    if b.shape[-2] != m:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size(-2)")
    rdt = np.float32 if a.dtype in (np.float32, np.complex64) else np.float64
    if rcond is None:
        rcond = np.finfo(rdt).eps * max(m, n)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a2 = xp.broadcast_to(a, batch + (m, n))
    b2 = xp.broadcast_to(b, batch + b.shape[-2:])
    if a2.size:
        u, s, vh = xp.linalg.svd(a2, full_matrices=False)
    else:
        k = min(m, n)
        u, s, vh = (xp.zeros(batch + (m, k), a.dtype), xp.zeros(batch + (k,), rdt),
                    xp.zeros(batch + (k, n), a.dtype))
    big = s > rcond * s.max(axis=-1, keepdims=True) if s.shape[-1] else s > 0
    rank = big.sum(axis=-1).astype(np.int64)
    sinv = xp.where(big, 1 / xp.where(big, s, 1), 0).astype(s.dtype)
    x = (_h(vh) * sinv[..., None, :]) @ (_h(u) @ b2)
    full_rank = bool(np.all(rank == n))
    if driver != "gelsy" and m > n and full_rank:
        r = b2 - a2 @ x
        res = (r.real ** 2 + r.imag ** 2 if r.dtype.kind == "c" else r * r).sum(axis=-2)
        res = res.astype(rdt, copy=False)
    else:
        res = xp.zeros((0,), rdt)
    if vec:
        x = x[..., 0]
        if res.size:
            res = res[..., 0]
    if driver == "gels":
        rank = xp.zeros((0,), np.int64)
    sv = s if driver in ("gelsd", "gelss") else xp.zeros((0,), rdt)
    return x, res, rank, sv


def _lstsq_vjp(c, g):
    """PyTorch's linalg_lstsq_backward: the solution's gradient as that of ``pinv(A) @ B``;
    the residuals ``|A X - B|^2`` are stationary in X, so theirs is ``2 R`` against A and B."""
    a, b = c.inputs
    x = c.out[0]
    gx, gres = g[0], g[1]
    vec = b.ndim == a.ndim - 1
    if vec:
        b, x = b.unsqueeze(-1), x.unsqueeze(-1)
        gx = gx.unsqueeze(-1) if gx is not None else None
        gres = gres.unsqueeze(-1) if gres is not None else None
    ga = gb = None
    if gx is not None:
        pinva = _L().pinv(a)
        ga = pinv_backward(gx @ b.mH, pinva, a) if c.needs_input_grad[0] else None
        gb = pinva.mH @ gx if c.needs_input_grad[1] else None
    if gres is not None and gres.numel():
        r2 = 2 * (a @ x - b) * gres.unsqueeze(-2)
        ga = r2 @ x.mH if ga is None else ga + r2 @ x.mH
        gb = -r2 if gb is None else gb - r2
    if vec and gb is not None:
        gb = gb.squeeze(-1)
    return ga, gb


register("linalg_lstsq", _lstsq, save=(0, 1, "out"), vjp=_lstsq_vjp, nout=4)


def _matrix_exp(xp, a):
    check_matrix("linalg.matrix_exp", a, square=True)
    return _expm(xp, a)


def _matrix_exp_vjp(c, g):
    """exp's Frechet derivative as the corner block of exp([[A^H, G], [0, A^H]])."""
    from .. import _functional as F
    (a,) = c.inputs
    n = a.shape[-1]
    ah = a.mH
    top = F.cat([ah, g], -1)
    bottom = F.cat([g.new_zeros(g.shape), ah], -1)
    big = _L().matrix_exp(F.cat([top, bottom], -2))
    return (big[..., :n, n:],)


register("linalg_matrix_exp", _matrix_exp, save=(0,), vjp=_matrix_exp_vjp)
