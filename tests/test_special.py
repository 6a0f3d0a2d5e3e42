"""ember.special and the special functions beyond the op table: accuracy against PyTorch over wide
ranges and special values, softmax's PyTorch-compatible signatures, grad_fn names, errors."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember

_RNG = np.random.default_rng(0)


def _wide(lo, hi, n=2000):
    return _RNG.uniform(lo, hi, n)


def _logs(lo, hi, n=1000):
    a = 10.0 ** _RNG.uniform(lo, hi, n)
    return np.concatenate([a, -a])


_EDGES = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-300, -1e-300, 1.0, -1.0, 2.0, -2.0])

# function -> arguments spanning its domain: small, large, tails, near zeros and poles
_RANGES = {
    "erf": [_wide(-7, 7), _logs(-300, 1.5)],
    "erfc": [_wide(-7, 28), _logs(-300, 1.5)],
    "erfcx": [_wide(-26, 60), _logs(-300, 300)],
    "erfinv": [_wide(-1, 1), 1 - 10 ** _RNG.uniform(-16, 0, 500), 10 ** _RNG.uniform(-300, 0, 500)],
    "ndtr": [_wide(-8, 8)],
    "log_ndtr": [_wide(-1e3, 10), _logs(-300, 2)],
    "ndtri": [_wide(0, 1), 10 ** _RNG.uniform(-300, 0, 500), 1 - 10 ** _RNG.uniform(-16, 0, 500)],
    "gammaln": [_wide(-50, 50), _logs(-300, 300), 1 + _wide(-0.3, 0.3, 500),
                2 + _wide(-0.3, 0.3, 500)],
    "digamma": [_wide(-50, 50), _logs(-300, 300)],
    "i0": [_wide(-700, 700), _logs(-300, 2.8)],
    "i0e": [_wide(-700, 700), _logs(-300, 300)],
    "i1": [_wide(-700, 700), _logs(-300, 2.8)],
    "i1e": [_wide(-700, 700), _logs(-300, 300)],
    "entr": [_wide(-1, 10), _logs(-300, 300)],
}


def _check(ours, ref, rtol, tiny):
    a, b = ours.numpy().astype(np.float64), ref.numpy().astype(np.float64)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(b)
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=tiny)


@pytest.mark.parametrize("name", list(_RANGES))
def test_accuracy_float64(name):
    x = np.concatenate(_RANGES[name] + [_EDGES])
    ours = getattr(ember.special, name)(ember.tensor(x))
    ref = getattr(torch.special, name)(torch.tensor(x))
    # ndtr is 1 + erf (as in PyTorch): its left tail is only absolutely accurate
    _check(ours, ref, 1e-12, 1e-15 if name == "ndtr" else 1e-300)


@pytest.mark.parametrize("name", list(_RANGES))
def test_accuracy_float32(name):
    x = np.concatenate(_RANGES[name] + [_EDGES]).astype(np.float32)
    if name in ("i0", "i1", "gammaln"):
        # PyTorch's float32 kernels overflow internally just below float32's maximum
        x = x[~(np.abs(x) > 85) | np.isnan(x)] if name != "gammaln" else x[np.abs(x) < 1e36]
    ours = getattr(ember.special, name)(ember.tensor(x))
    ref = getattr(torch.special, name)(torch.tensor(x))
    _check(ours, ref, 1e-5, 1e-6)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6])
def test_polygamma_accuracy(n):
    x = np.concatenate([_wide(-30, 30), _logs(-10, 3), _EDGES])
    _check(ember.polygamma(n, ember.tensor(x)), torch.polygamma(n, torch.tensor(x)), 1e-10,
           1e-300)


def test_zeta_accuracy():
    x = np.concatenate([_wide(1, 12), np.round(_wide(-2, 12, 500)), [1.0, 0.5, np.inf, np.nan]])
    q = np.concatenate([_wide(-25, 25), _wide(-25, 25, 500), [1.0, 1.0, 2.0, 1.0]])
    _check(ember.special.zeta(ember.tensor(x), ember.tensor(q)),
           torch.special.zeta(torch.tensor(x), torch.tensor(q)), 1e-12, 1e-300)
    _check(ember.special.zeta(3, ember.tensor(q)), torch.special.zeta(3, torch.tensor(q)),
           1e-12, 1e-300)


def test_namespace_matches_torch_special():
    names = ["expit", "erf", "erfc", "erfcx", "erfinv", "log_ndtr", "ndtr", "ndtri", "gammaln",
             "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "xlog1py",
             "entr", "softmax", "log_softmax", "zeta", "logsumexp", "round", "log1p", "expm1",
             "exp2", "gammainc", "gammaincc"]
    for n in names:
        assert hasattr(torch.special, n) and callable(getattr(ember.special, n)), n
    assert ember.special.gammaln is ember.lgamma and ember.special.psi is ember.digamma
    assert ember.special.expit is ember.sigmoid and ember.special.multigammaln is ember.mvlgamma
    for n in ("erf", "erfc", "erfinv", "lgamma", "digamma", "i0", "polygamma", "mvlgamma",
              "softmax", "log_softmax"):
        assert callable(getattr(ember, n)) and hasattr(ember.Tensor, n), n
    for n in ("erf_", "erfc_", "erfinv_", "lgamma_", "digamma_", "i0_", "polygamma_",
              "mvlgamma_"):
        assert hasattr(ember.Tensor, n), n


def test_no_scipy_at_runtime():
    code = ("import sys, ember; ember.special.zeta(2.0, ember.ones(2)); "
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("shape,dim", [((64, 1000), 1), ((64, 1000), 0), ((8, 50, 7), 1),
                                       ((300,), 0)])
def test_half_log_softmax_rounds_as_pytorch(dtype, shape, dim):
    """Bit-exact half-type log_softmax: PyTorch's last-dim kernel rounds the sum of exps and
    its log to the input type, its other kernel keeps them in float32."""
    x = torch.from_numpy(_RNG.standard_normal(shape).astype(np.float32) * 3)
    ours = ember.log_softmax(ember.tensor(x.numpy()).to(getattr(ember, dtype)), dim)
    theirs = torch.log_softmax(x.to(getattr(torch, dtype)), dim)
    np.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


# -- softmax's signatures -------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 2)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_implicit_dim(name, shape):
    x = _RNG.standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice") as ours:
        a = getattr(ember, name)(ember.tensor(x))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        b = getattr(torch.nn.functional, name)(torch.tensor(x))
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # _stacklevel points at the caller, as in PyTorch
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_softmax_positional_forms():
    x = _RNG.standard_normal((3, 4)).astype(np.float32)
    ref = torch.softmax(torch.tensor(x), 1, torch.float64).numpy()
    for out in (ember.softmax(ember.tensor(x), 1, ember.float64),  # torch.softmax(x, dim, dtype)
                ember.softmax(ember.tensor(x), 1, 3, ember.float64),  # F.softmax(..., _stacklevel)
                ember.softmax(ember.tensor(x), dim=1, _stacklevel=5, dtype=ember.float64),
                ember.tensor(x).softmax(1, dtype=ember.float64),
                ember.special.softmax(ember.tensor(x), 1, dtype=ember.float64)):
        assert out.dtype is ember.float64
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)


def test_softmax_dtype_is_differentiable():
    x = ember.tensor(_RNG.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ember.log_softmax(x, 1, dtype=ember.float64).pow(2).sum().backward()
    torch.log_softmax(tx, 1, dtype=torch.float64).pow(2).sum().backward()
    assert x.grad.dtype is ember.float32
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


# -- autograd -------------------------------------------------------------------------------------

def _grad_fn(m, fn):
    x = m.tensor([0.3, 0.6], dtype=m.float64, requires_grad=True)
    return fn(m, x).grad_fn.name()


@pytest.mark.parametrize("fn", [
    lambda m, x: m.erf(x), lambda m, x: m.erfinv(x), lambda m, x: m.lgamma(x),
    lambda m, x: m.polygamma(2, x), lambda m, x: m.special.i0e(x), lambda m, x: m.special.i1(x),
    lambda m, x: m.special.erfcx(x), lambda m, x: m.special.log_ndtr(x),
    lambda m, x: m.special.ndtri(x), lambda m, x: m.special.entr(x),
    lambda m, x: m.special.xlog1py(x, x), lambda m, x: m.special.xlog1py(2.0, x),
    lambda m, x: m.special.xlog1py(x, 2.0), lambda m, x: m.special.zeta(2.0, x),
    lambda m, x: m.softmax(x, 0), lambda m, x: m.log_softmax(x, 0),
    lambda m, x: m.igamma(x.detach(), x), lambda m, x: m.special.gammaincc(x.detach(), x)])
def test_grad_fn_names(fn):
    assert _grad_fn(ember, fn) == _grad_fn(torch, fn)


def test_zeta_has_no_derivative_in_x():
    for m in (torch, ember):
        x = m.tensor([2.5, 3.0], dtype=m.float64, requires_grad=True)
        q = m.tensor([1.5, 2.0], dtype=m.float64, requires_grad=True)
        with pytest.raises(NotImplementedError, match="derivative for 'zeta'"):
            m.autograd.grad(m.special.zeta(x, q).sum(), [x, q])


def test_i1_gradient_at_zero():
    for name in ("i1", "i1e"):
        grads = []
        for m in (torch, ember):
            x = m.tensor([0.0, 1.0], dtype=m.float64, requires_grad=True)
            (g,) = m.autograd.grad(getattr(m.special, name)(x).sum(), [x])
            grads.append(g.detach().numpy())
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


# -- errors ---------------------------------------------------------------------------------------

def test_errors():
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([3, 4]).mvlgamma_(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([3, 4]).polygamma_(2)
    with pytest.raises(NotImplementedError, match="erfcx_cpu"):
        ember.special.erfcx(ember.ones(2, dtype=ember.float16))
    with pytest.raises(NotImplementedError, match="'ComplexFloat'"):
        ember.erf(ember.ones(2, dtype=ember.complex64))
    with pytest.raises(NotImplementedError, match="softmax"):
        ember.softmax(ember.tensor([1, 2]), 0)
    with pytest.raises(TypeError, match="zeta"):
        ember.special.zeta(2, 3)


def test_namespace_has_torch_special_functions():
    names = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "log_ndtr", "ndtr", "ndtri",
             "gammaln", "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e",
             "xlog1py", "xlogy", "entr", "sinc", "softmax", "log_softmax", "zeta", "logsumexp",
             "round", "log1p", "expm1", "exp2", "gammainc", "gammaincc"]
    x = torch.tensor([0.25, 0.5])
    for name in names:
        assert hasattr(torch.special, name), name
        fn = getattr(ember.special, name)
        args = {"polygamma": (1, x), "multigammaln": (x + 2, 2), "zeta": (x + 2, x),
                "gammainc": (x, x), "gammaincc": (x, x), "xlogy": (x, x), "xlog1py": (x, x),
                "softmax": (x, 0), "log_softmax": (x, 0), "logsumexp": (x, 0)}.get(name, (x,))
        want = getattr(torch.special, name)(*args)
        got = fn(*[ember.tensor(a.numpy()) if isinstance(a, torch.Tensor) else a for a in args])
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, err_msg=name)
