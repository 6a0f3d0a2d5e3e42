"""Linear algebra behaviour the op table does not cover: LinAlgError and its messages,
``info`` outputs, decompositions checked by invariants, complex gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


def _both(a, **kw):
    return torch.tensor(a, **kw), ember.tensor(a, **kw)


def _err(fn, a):
    """The error each framework raises for ``fn(module, tensor)``."""
    out = []
    for m in (torch, ember):
        with pytest.raises(RuntimeError) as e:
            fn(m, m.tensor(a))
        out.append(e.value)
    return out


@pytest.mark.parametrize("fn", [
    lambda m, a: m.linalg.inv(a),
    lambda m, a: m.inverse(a),
    lambda m, a: m.linalg.solve(a, m.ones(a.shape[-1], dtype=a.dtype)),
    lambda m, a: m.linalg.cholesky(a),
], ids=["inv", "inverse", "solve", "cholesky"])
@pytest.mark.parametrize("batched", [False, True])
def test_singular_raises_linalg_error(fn, batched):
    a = np.stack([np.eye(2), SINGULAR]) if batched else SINGULAR
    ref, ours = _err(fn, a)
    assert isinstance(ours, ember.linalg.LinAlgError)
    assert isinstance(ours, RuntimeError)
    assert str(ref) in str(ours)


def test_lu_factor_zero_pivot_message():
    ref, ours = _err(lambda m, a: m.linalg.lu_factor(a), SINGULAR)
    assert type(ours) is RuntimeError
    assert "U[2,2] is zero" in str(ours) and "U[2,2] is zero" in str(ref)


@pytest.mark.parametrize("fn", [
    lambda m, a: m.linalg.inv_ex(a).info,
    lambda m, a: m.linalg.solve_ex(a, m.ones(2, 1, dtype=a.dtype)).info,
    lambda m, a: m.linalg.cholesky_ex(a).info,
    lambda m, a: m.linalg.lu_factor_ex(a).info,
    lambda m, a: m.linalg.lu_factor_ex(a).pivots,
    lambda m, a: m.linalg.cholesky_ex(a).L,
], ids=["inv_ex", "solve_ex", "cholesky_ex", "lu_factor_ex", "pivots", "cholesky_ex_L"])
def test_ex_variants_report_info(fn):
    a = np.stack([np.eye(2), SINGULAR, np.diag([1.0, -1.0])])
    ref, ours = (fn(m, m.tensor(a)) for m in (torch, ember))
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_ex_check_errors_raises():
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.inv_ex(ember.tensor(SINGULAR), check_errors=True)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
def test_svd_reconstructs(dtype, shape):
    a = RNG.standard_normal(shape) + (1j * RNG.standard_normal(shape) if "complex" in dtype
                                      else 0)
    a = ember.tensor(a.astype(dtype))
    m, n = shape[-2:]
    for full in (True, False):
        u, s, vh = ember.linalg.svd(a, full_matrices=full)
        k = min(m, n)
        assert tuple(u.shape[-2:]) == ((m, m) if full else (m, k))
        assert tuple(vh.shape[-2:]) == ((n, n) if full else (k, n))
        assert s.dtype == ember.float64
        rec = (u[..., :k] * s.unsqueeze(-2).to(u.dtype)) @ vh[..., :k, :]
        np.testing.assert_allclose(rec.numpy(), a.numpy(), atol=1e-10)
        uu, vv = (u.mH @ u).numpy(), (vh @ vh.mH).numpy()
        np.testing.assert_allclose(uu, np.broadcast_to(np.eye(uu.shape[-1]), uu.shape),
                                   atol=1e-10)
        np.testing.assert_allclose(vv, np.broadcast_to(np.eye(vv.shape[-1]), vv.shape),
                                   atol=1e-10)
    legacy = ember.svd(a)
    np.testing.assert_allclose((legacy.U * legacy.S.unsqueeze(-2).to(a.dtype) @ legacy.V.mH)
                               .numpy(), a.numpy(), atol=1e-10)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_eig_and_eigh_invariants(dtype):
    cplx = "complex" in dtype
    a = RNG.standard_normal((2, 4, 4)) + (1j * RNG.standard_normal((2, 4, 4)) if cplx else 0)
    a = ember.tensor(a.astype(dtype))
    lam, v = ember.linalg.eig(a)
    assert lam.dtype == ember.complex128 and v.dtype == ember.complex128
    av = a.to(ember.complex128) @ v
    np.testing.assert_allclose(av.numpy(), (v * lam.unsqueeze(-2)).numpy(), atol=1e-10)
    np.testing.assert_allclose(ember.linalg.vector_norm(v, dim=-2).numpy(), 1.0, atol=1e-12)
    h = a + a.mH
    for uplo in ("L", "U"):
        w, q = ember.linalg.eigh(h, UPLO=uplo)
        assert w.dtype == ember.float64
        assert np.all(np.diff(w.numpy(), axis=-1) >= 0)
        np.testing.assert_allclose((h @ q).numpy(), (q * w.unsqueeze(-2).to(q.dtype)).numpy(),
                                   atol=1e-10)
    # only the named triangle is read
    junk = h.clone()
    junk[..., 0, 3] = 100.0
    ref = ember.linalg.eigvalsh(h)
    np.testing.assert_allclose(ember.linalg.eigvalsh(junk).numpy(), ref.numpy(), atol=1e-12)


def test_eig_matches_torch_on_real_input_with_complex_pairs():
    a = np.array([[0.0, -2.0, 0.5], [1.0, 0.0, 0.2], [0.1, 0.3, 2.0]])
    t, e = _both(a)
    np.testing.assert_allclose(ember.linalg.eigvals(e).numpy(), torch.linalg.eigvals(t).numpy(),
                               atol=1e-12)


def _gauge_free(m, a):
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    lam, v = m.linalg.eigh(a @ a.mH)
    q, r = m.linalg.qr(a)
    return s, u @ vh, lam, (v * v.conj()).real, q, r


def _complex_samples():
    a = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    return a, b


@pytest.mark.parametrize("name,fn", [
    ("inv", lambda m, a, b: m.linalg.inv(a)),
    ("det", lambda m, a, b: m.linalg.det(a)),
    ("slogdet", lambda m, a, b: m.linalg.slogdet(a)),
    ("solve", lambda m, a, b: m.linalg.solve(a, b)),
    ("solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True)),
    ("cholesky", lambda m, a, b: m.linalg.cholesky(a @ a.mH)),
    ("decompositions", lambda m, a, b: _gauge_free(m, a)),
    ("eig", lambda m, a, b: (lambda r: (r[0], (r[1] * r[1].conj()).real))(m.linalg.eig(a))),
    ("lu", lambda m, a, b: m.linalg.lu(a)[1:]),
    ("matrix_exp", lambda m, a, b: m.linalg.matrix_exp(a / 3)),
    ("pinv", lambda m, a, b: m.linalg.pinv(b)),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(b, a).solution),
    ("householder", lambda m, a, b: m.linalg.householder_product(a, b[:, 0])),
])
def test_complex_gradients_match_torch(name, fn):
    a, b = _complex_samples()
    grads = []
    for m in (torch, ember):
        ta, tb = (m.tensor(x, requires_grad=True) for x in (a, b))
        out = fn(m, ta, tb)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
        rng = np.random.default_rng(1)
        gos = [m.tensor(rng.standard_normal(tuple(o.shape)) +
                        (1j * rng.standard_normal(tuple(o.shape)) if o.is_complex() else 0),
                        dtype=o.dtype) for o in outs]
        gs = m.autograd.grad(outs, [ta, tb], gos, allow_unused=True)
        grads.append([np.zeros(a.shape if i == 0 else b.shape) if g is None else
                      g.detach().numpy() for i, g in enumerate(gs)])
    for ours, ref in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, ref, atol=1e-8, rtol=1e-6, err_msg=name)


def test_complex_gradcheck():
    a, _ = _complex_samples()
    x = ember.tensor(a, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.linalg.inv(t), (x,))
    assert ember.autograd.gradcheck(lambda t: ember.linalg.slogdet(t), (x,))
    assert ember.autograd.gradcheck(lambda t: _gauge_free(ember, t)[:2], (x,))


def test_singular_value_gradients_are_gauge_invariant():
    a = ember.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ember.linalg.svdvals(t), (a,))
    assert ember.autograd.gradcheck(lambda t: ember.linalg.matrix_norm(t, "nuc"), (a,))


def test_return_types_and_methods():
    a = ember.tensor(RNG.standard_normal((3, 3)) + 3 * np.eye(3))
    assert ember.linalg.slogdet(a).logabsdet.shape == ()
    assert ember.linalg.qr(a).R.shape == (3, 3)
    assert ember.linalg.lu_factor(a).pivots.dtype == ember.int32
    assert ember.linalg.lstsq(a, a).rank.dtype == ember.int64
    np.testing.assert_allclose((a.inverse() @ a).numpy(), np.eye(3), atol=1e-12)
    np.testing.assert_allclose(a.det().numpy(), np.linalg.det(a.numpy()))
    assert float(a.matrix_power(0).trace()) == 3.0


def test_lu_reconstructs_with_getrf_pivots():
    a = RNG.standard_normal((2, 4, 3))
    for m in (torch, ember):
        p, low, up = m.linalg.lu(m.tensor(a))
        np.testing.assert_allclose((p @ low @ up).numpy(), a, atol=1e-12)
    t = torch.linalg.lu_factor(torch.tensor(a)).pivots
    np.testing.assert_array_equal(ember.linalg.lu_factor(ember.tensor(a)).pivots.numpy(),
                                  t.numpy())


def test_matrix_exp_of_large_and_nilpotent_matrices():
    for a in (RNG.standard_normal((3, 3)) * 20, np.triu(np.ones((4, 4)), 1),
              np.zeros((2, 2))):
        ref = torch.linalg.matrix_exp(torch.tensor(a)).numpy()
        np.testing.assert_allclose(ember.linalg.matrix_exp(ember.tensor(a)).numpy(), ref,
                                   rtol=1e-10, atol=1e-10 * np.abs(ref).max())


def test_lstsq_rank_deficient_gives_minimum_norm_solution():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    b = np.array([[1.0], [2.0], [2.0]])
    t, e = (m.linalg.lstsq(m.tensor(a), m.tensor(b)) for m in (torch, ember))
    np.testing.assert_allclose(e.solution.numpy(), t.solution.numpy(), atol=1e-10)
    assert int(e.rank) == int(t.rank) == 1


@pytest.mark.parametrize("a", [SINGULAR, np.zeros((3, 3)), np.stack([np.eye(2), SINGULAR])])
def test_det_gradient_of_singular_matrices(a):
    grads = []
    for m in (torch, ember):
        x = m.tensor(a, requires_grad=True)
        m.linalg.det(x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-12)
