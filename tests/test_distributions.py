"""``ember.distributions`` against ``torch.distributions``: densities, moments, entropies and KL
divergences equal PyTorch's (float64), samples equal PyTorch's for the same seed, and rsample
is reparameterised (exactly for location-scale families; implicitly for Gamma/Beta/Dirichlet)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as ED


@pytest.fixture(autouse=True)
def _fresh_default_generators():
    state_t, state_e = torch.get_rng_state(), ember.get_rng_state()
    yield
    torch.set_rng_state(state_t)
    ember.set_rng_state(state_e)


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach()._host() if isinstance(x, ember.Tensor) else np.asarray(x)


def close(e, t, rtol=1e-11, atol=1e-12, exact=False):
    a, b = _np(e), _np(t)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def P(m, *vals, grad=False):
    """float64 tensors of ``vals`` in module ``m`` (leaves requiring grad if asked)."""
    return [m.tensor(v, dtype=m.float64, requires_grad=grad) for v in vals]


# name -> (builder(m, params), params, a value to evaluate log_prob at)
CASES = {
    "normal": (lambda m, p: m.distributions.Normal(*p),
               ([0.5, -1.0, 2.0], [1.0, 0.3, 2.5]), [0.1, -0.7, 5.0]),
    "normal_scalar": (lambda m, p: m.distributions.Normal(p[0], 2.0), (1.5,), 0.25),
    "uniform": (lambda m, p: m.distributions.Uniform(*p), ([0.0, -1.0], [1.0, 3.0]),
                [0.5, 2.0]),
    "bernoulli_probs": (lambda m, p: m.distributions.Bernoulli(probs=p[0]),
                        ([0.2, 0.5, 0.9],), [1.0, 0.0, 1.0]),
    "bernoulli_logits": (lambda m, p: m.distributions.Bernoulli(logits=p[0]),
                         ([-2.0, 0.0, 3.0],), [0.0, 1.0, 1.0]),
    "categorical_probs": (lambda m, p: m.distributions.Categorical(probs=p[0]),
                          ([[0.2, 0.3, 0.5], [1.0, 1.0, 2.0]],), [2, 0]),
    "categorical_logits": (lambda m, p: m.distributions.Categorical(logits=p[0]),
                           ([[0.1, -1.0, 2.0, 0.5]],), [3]),
    "gamma": (lambda m, p: m.distributions.Gamma(*p), ([0.5, 2.0, 7.5], [1.0, 0.5, 3.0]),
              [0.3, 4.0, 2.2]),
    "beta": (lambda m, p: m.distributions.Beta(*p), ([0.5, 2.0, 4.0], [1.5, 2.0, 0.7]),
             [0.3, 0.5, 0.9]),
    "dirichlet": (lambda m, p: m.distributions.Dirichlet(p[0]),
                  ([[0.5, 1.0, 2.0], [3.0, 0.7, 1.2]],), [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]),
    "mvn_cov": (lambda m, p: m.distributions.MultivariateNormal(
        p[0], covariance_matrix=p[1]), ([1.0, -1.0], [[2.0, 0.5], [0.5, 1.0]]), [0.3, 0.2]),
    "mvn_prec": (lambda m, p: m.distributions.MultivariateNormal(
        p[0], precision_matrix=p[1]), ([0.0, 1.0, 2.0],
                                       [[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]]),
        [[0.5, 0.5, 0.5], [1.0, -1.0, 0.0]]),
    "mvn_tril": (lambda m, p: m.distributions.MultivariateNormal(
        p[0], scale_tril=p[1]), ([[0.0, 1.0], [2.0, 3.0]], [[1.0, 0.0], [0.4, 0.7]]),
        [1.0, 1.0]),
    "independent": (lambda m, p: m.distributions.Independent(m.distributions.Normal(*p), 1),
                    ([[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [0.5, 1.5]]),
                    [[0.1, 0.2], [0.3, 0.4]]),
}

PROPS = ["mean", "variance", "stddev", "mode"]


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name):
    build, params, value = CASES[name]
    res = {}
    for m in (torch, ember):
        ps = P(m, *params, grad=True)
        d = build(m, ps)
        v = m.tensor(value, dtype=m.int64 if "categorical" in name else m.float64)
        out = {"batch_shape": tuple(d.batch_shape), "event_shape": tuple(d.event_shape),
               "log_prob": d.log_prob(v), "entropy": d.entropy()}
        for prop in PROPS:
            try:
                out[prop] = getattr(d, prop)
            except NotImplementedError:
                out[prop] = "raises"
        if hasattr(d, "logits") and "probs" in name or hasattr(d, "probs") and "logits" in name:
            out["other_param"] = d.logits if "probs" in name else d.probs
        if "mvn" in name:
            for attr in ("scale_tril", "covariance_matrix", "precision_matrix"):
                out[attr] = getattr(d, attr)
        (out["log_prob"].sum() + out["entropy"].sum()).backward()
        out["grads"] = [p.grad for p in ps]
        res[m] = out
    t, e = res[torch], res[ember]
    assert e["batch_shape"] == t["batch_shape"] and e["event_shape"] == t["event_shape"]
    for k in t:
        if k in ("batch_shape", "event_shape"):
            continue
        if k == "grads":
            for ge, gt in zip(e[k], t[k]):
                if gt is None:
                    assert ge is None or not _np(ge).any()
                else:
                    close(ge, gt, rtol=1e-9, atol=1e-10)
        elif isinstance(t[k], str):
            assert e[k] == t[k]
        else:
            close(e[k], t[k])


SAMPLES = {
    "normal": lambda m: m.distributions.Normal(m.tensor([0.0, 1.0]), m.tensor([1.0, 2.0])),
    "uniform": lambda m: m.distributions.Uniform(m.tensor([-1.0]), m.tensor([3.0])),
    "bernoulli": lambda m: m.distributions.Bernoulli(probs=m.tensor([0.1, 0.5, 0.9])),
    "categorical": lambda m: m.distributions.Categorical(logits=m.tensor([[0.0, 1.0, 2.0]])),
    "gamma": lambda m: m.distributions.Gamma(m.tensor([0.3, 2.0, 9.0]), m.tensor(2.0)),
    "gamma_f64": lambda m: m.distributions.Gamma(m.tensor([0.5, 5.0], dtype=m.float64), 1.0),
    "beta": lambda m: m.distributions.Beta(m.tensor([0.5, 3.0]), m.tensor([2.0, 1.0])),
    "dirichlet": lambda m: m.distributions.Dirichlet(m.tensor([0.5, 1.0, 4.0])),
    "mvn": lambda m: m.distributions.MultivariateNormal(
        m.zeros(2, dtype=m.float64), scale_tril=m.tensor([[1.0, 0.0], [0.5, 2.0]],
                                                         dtype=m.float64)),
    "independent": lambda m: m.distributions.Independent(
        m.distributions.Normal(m.zeros(2, 3), m.ones(2, 3)), 2),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_samples_match_torch_for_a_seed(name):
    out = {}
    for m in (torch, ember):
        d = SAMPLES[name](m)
        m.manual_seed(123)
        s1 = d.sample()
        s2 = d.sample((4,))
        s3 = d.rsample((2, 3)) if d.has_rsample else d.sample((2, 3))
        out[m] = (s1, s2, s3, m.rand(2, dtype=m.float64))
    for e, t in zip(out[ember], out[torch]):
        close(e, t, rtol=1e-15, atol=0, exact=name != "mvn")


@pytest.mark.parametrize("name", ["normal", "uniform", "mvn", "gamma"])
def test_rsample_gradients_match_torch(name):
    """Same seed, same samples: the reparameterised gradients are PyTorch's (for Gamma both
    use the implicit gradient ``_standard_gamma_grad``)."""
    grads = {}
    for m in (torch, ember):
        if name == "normal":
            ps = P(m, [0.0, 1.0], [1.0, 2.0], grad=True)
            d = m.distributions.Normal(*ps)
        elif name == "uniform":
            ps = P(m, [-1.0, 0.0], [1.0, 5.0], grad=True)
            d = m.distributions.Uniform(*ps)
        elif name == "mvn":
            ps = P(m, [0.0, 1.0], [[2.0, 0.3], [0.3, 1.0]], grad=True)
            d = m.distributions.MultivariateNormal(ps[0], covariance_matrix=ps[1])
        else:
            ps = P(m, [0.2, 1.5, 4.0, 12.0], [1.0, 2.0, 0.5, 1.0], grad=True)
            d = m.distributions.Gamma(*ps)
        m.manual_seed(5)
        (d.rsample((50,)) ** 2).sum().backward()
        grads[m] = [p.grad for p in ps]
    for e, t in zip(grads[ember], grads[torch]):
        close(e, t, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("which", ["dirichlet", "beta"])
def test_implicit_reparameterisation_is_unbiased(which):
    """The pathwise gradient of E[x_0] equals the gradient of its closed form a_0 / sum(a)."""
    ember.manual_seed(0)
    alpha = ember.tensor([0.7, 2.0, 3.5], dtype=ember.float64, requires_grad=True)
    n = 20000
    if which == "dirichlet":
        x0 = ED.Dirichlet(alpha).rsample((n,))[:, 0]
        a0, total = 0.7, 6.2
        want = [(total - a0) / total**2, -a0 / total**2, -a0 / total**2]
    else:
        x0 = ED.Beta(alpha[0], alpha[1]).rsample((n,))
        a, b = 0.7, 2.0
        want = [b / (a + b) ** 2, -a / (a + b) ** 2, 0.0]
    x0.mean().backward()
    np.testing.assert_allclose(alpha.grad.tolist(), want, atol=3e-3)


def test_gamma_rsample_gradient_matches_finite_difference_of_mean():
    ember.manual_seed(1)
    conc = ember.tensor([0.5, 3.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([2.0, 0.5], dtype=ember.float64, requires_grad=True)
    ED.Gamma(conc, rate).rsample((20000,)).mean(0).sum().backward()
    # E[x] = conc / rate
    np.testing.assert_allclose(conc.grad.tolist(), [0.5, 2.0], rtol=2e-2)
    np.testing.assert_allclose(rate.grad.tolist(), [-0.125, -12.0], rtol=2e-2)


KL_PAIRS = {
    "normal_normal": (lambda m: m.distributions.Normal(*P(m, [0.0, 1.0], [1.0, 2.0])),
                      lambda m: m.distributions.Normal(*P(m, [1.0, -1.0], [0.5, 3.0]))),
    "bernoulli": (lambda m: m.distributions.Bernoulli(probs=P(m, [0.0, 0.3, 1.0, 0.5])[0]),
                  lambda m: m.distributions.Bernoulli(probs=P(m, [0.2, 0.0, 0.4, 1.0])[0])),
    "categorical": (lambda m: m.distributions.Categorical(probs=P(m, [0.2, 0.8, 0.0])[0]),
                    lambda m: m.distributions.Categorical(logits=P(m, [0.0, 1.0, 2.0])[0])),
    "uniform": (lambda m: m.distributions.Uniform(*P(m, [0.0, 0.0], [1.0, 2.0])),
                lambda m: m.distributions.Uniform(*P(m, [-1.0, 0.5], [2.0, 3.0]))),
    "beta": (lambda m: m.distributions.Beta(*P(m, [0.5, 2.0], [1.0, 3.0])),
             lambda m: m.distributions.Beta(*P(m, [1.5, 0.7], [2.0, 2.0]))),
    "gamma": (lambda m: m.distributions.Gamma(*P(m, [0.5, 2.0], [1.0, 3.0])),
              lambda m: m.distributions.Gamma(*P(m, [1.5, 0.7], [2.0, 2.0]))),
    "dirichlet": (lambda m: m.distributions.Dirichlet(P(m, [0.5, 2.0, 1.0])[0]),
                  lambda m: m.distributions.Dirichlet(P(m, [[1.0, 1.0, 1.0], [2.0, 0.3, 4.0]])[0])),
    "mvn": (lambda m: m.distributions.MultivariateNormal(
        *P(m, [0.0, 1.0], [[2.0, 0.3], [0.3, 1.0]])),
        lambda m: m.distributions.MultivariateNormal(
            P(m, [1.0, 0.0])[0], scale_tril=P(m, [[[1.0, 0.0], [0.2, 0.5]]])[0])),
    "independent": (lambda m: m.distributions.Independent(
        m.distributions.Normal(*P(m, [[0.0, 1.0]], [[1.0, 2.0]])), 1),
        lambda m: m.distributions.Independent(
            m.distributions.Normal(*P(m, [[1.0, 1.0]], [[3.0, 2.0]])), 1)),
    "normal_uniform": (lambda m: m.distributions.Normal(*P(m, [0.0], [1.0])),
                       lambda m: m.distributions.Uniform(*P(m, [0.0], [1.0]))),
    "gamma_beta": (lambda m: m.distributions.Gamma(*P(m, [2.0], [1.0])),
                   lambda m: m.distributions.Beta(*P(m, [2.0], [1.0]))),
    "beta_uniform": (lambda m: m.distributions.Beta(*P(m, [2.0, 1.0], [1.0, 3.0])),
                     lambda m: m.distributions.Uniform(*P(m, [0.0, 0.2], [1.0, 1.0]))),
    "beta_gamma": (lambda m: m.distributions.Beta(*P(m, [2.0, 0.5], [1.0, 3.0])),
                   lambda m: m.distributions.Gamma(*P(m, [2.0, 1.5], [1.0, 0.3]))),
    "beta_normal": (lambda m: m.distributions.Beta(*P(m, [2.0], [1.0])),
                    lambda m: m.distributions.Normal(*P(m, [0.5], [2.0]))),
    "gamma_normal": (lambda m: m.distributions.Gamma(*P(m, [2.0, 0.4], [1.0, 2.0])),
                     lambda m: m.distributions.Normal(*P(m, [0.5, -1.0], [2.0, 1.0]))),
    "uniform_normal": (lambda m: m.distributions.Uniform(*P(m, [0.0], [2.0])),
                       lambda m: m.distributions.Normal(*P(m, [0.5], [2.0]))),
    "uniform_gamma": (lambda m: m.distributions.Uniform(*P(m, [0.5, -1.0], [2.0, 1.0])),
                      lambda m: m.distributions.Gamma(*P(m, [2.0, 2.0], [1.0, 1.0]))),
    "uniform_beta": (lambda m: m.distributions.Uniform(*P(m, [0.1, 0.5], [0.6, 1.5])),
                     lambda m: m.distributions.Beta(*P(m, [2.0, 2.0], [3.0, 1.0]))),
}


@pytest.mark.parametrize("name", list(KL_PAIRS))
def test_kl_matches_torch(name):
    p, q = KL_PAIRS[name]
    close(ED.kl_divergence(p(ember), q(ember)), TD.kl_divergence(p(torch), q(torch)))


def test_kl_registry():
    with pytest.raises(NotImplementedError, match="No KL"):
        ED.kl_divergence(ED.Bernoulli(0.5), ED.Normal(0.0, 1.0))

    class MyNormal(ED.Normal):
        pass

    @ED.register_kl(MyNormal, ED.Normal)
    def _kl(p, q):
        return ember.tensor(42.0)

    assert ED.kl_divergence(MyNormal(0.0, 1.0), ED.Normal(0.0, 1.0)).item() == 42.0
    assert ED.kl_divergence(ED.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0
    with pytest.raises(TypeError):
        ED.register_kl(int, ED.Normal)


def test_cdf_icdf():
    for m in (torch, ember):
        x = m.tensor([-1.0, 0.0, 0.7], dtype=m.float64, requires_grad=True)
        n = m.distributions.Normal(m.tensor(0.5, dtype=m.float64), 2.0)
        u = m.distributions.Uniform(m.tensor(-2.0, dtype=m.float64), 1.0)
        vals = (n.cdf(x), n.icdf(m.tensor([0.1, 0.5, 0.99], dtype=m.float64)), u.cdf(x),
                u.icdf(m.tensor([0.0, 0.25], dtype=m.float64)))
        sum(v.sum() for v in vals).backward()
        if m is torch:
            want = (*vals, x.grad)
        else:
            got = (*vals, x.grad)
    for e, t in zip(got, want):
        close(e, t, rtol=1e-12)


def test_expand_and_shapes():
    d = ED.Normal(ember.zeros(3), 1.0).expand((2, 3))
    assert d.batch_shape == ember.Size([2, 3]) and d.sample((4,)).shape == (4, 2, 3)
    assert isinstance(d, ED.Normal)
    for m in (torch, ember):
        c = m.distributions.Categorical(probs=m.ones(2, 4)).expand((5, 2))
        i = m.distributions.Independent(m.distributions.Normal(m.zeros(2, 3), 1.0), 1)
        mvn = m.distributions.MultivariateNormal(m.zeros(2), m.eye(2)).expand((3,))
        b = m.distributions.Beta(m.ones(2), 2.0).expand((4, 2))
        shapes = [(tuple(x.batch_shape), tuple(x.event_shape), tuple(x.sample((2,)).shape))
                  for x in (c, i, mvn, b)]
        shapes.append(tuple(i.expand((5, 2)).batch_shape))
        shapes.append(tuple(c.enumerate_support().shape))
        if m is torch:
            want = shapes
    assert shapes == want
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert ED.Normal(0.0, 1.0).sample_n(3).shape == (3,)


def test_support_and_constraints():
    C = ED.constraints
    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(C.real_vector) == "IndependentConstraint(Real(), 1)"
    assert repr(ED.Categorical(probs=ember.ones(3)).support) == \
        "IntegerInterval(lower_bound=0, upper_bound=2)"
    assert repr(ED.Uniform(0.0, 1.0).support).startswith("Interval(lower_bound=")
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    assert C.simplex.check(ember.tensor([[0.2, 0.8], [0.5, 0.6]])).tolist() == [True, False]
    assert C.positive_definite.check(ember.tensor([[[1.0, 0.0], [0.0, 1.0]],
                                                   [[1.0, 2.0], [2.0, 1.0]]])).tolist() == [
        True, False]
    assert C.lower_cholesky.check(ember.tensor([[1.0, 0.0], [0.3, 2.0]])).item()
    assert ED.Independent(ED.Normal(ember.zeros(2), 1.0), 1).support.event_dim == 1


BAD = [
    lambda m: m.distributions.Normal(m.tensor([0.0]), m.tensor([-1.0])),
    lambda m: m.distributions.Bernoulli(probs=m.tensor([1.5])),
    lambda m: m.distributions.Bernoulli(),
    lambda m: m.distributions.Bernoulli(probs=0.5, logits=0.0),
    lambda m: m.distributions.Categorical(probs=m.tensor(0.5)),
    lambda m: m.distributions.Categorical(probs=m.tensor([0.5, -0.1])),
    lambda m: m.distributions.Uniform(1.0, 0.0),
    lambda m: m.distributions.Gamma(m.tensor([0.0]), 1.0),
    lambda m: m.distributions.Beta(m.tensor([1.0]), m.tensor([-1.0])),
    lambda m: m.distributions.Dirichlet(m.tensor(1.0)),
    lambda m: m.distributions.MultivariateNormal(m.tensor(0.0), m.eye(1)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.tensor(
        [[1.0, 1.0], [0.0, 1.0]])),
    lambda m: m.distributions.Independent(m.distributions.Normal(0.0, 1.0), 1),
    lambda m: m.distributions.Normal(0.0, 1.0).log_prob(0.5),
    lambda m: m.distributions.Normal(m.zeros(3), 1.0).log_prob(m.zeros(2)),
    lambda m: m.distributions.Bernoulli(probs=m.tensor([0.5])).log_prob(m.tensor([0.5])),
    lambda m: m.distributions.Dirichlet(m.ones(3)).log_prob(m.ones(2)),
    lambda m: m.distributions.Uniform(0.0, 1.0).log_prob(m.tensor(2.0)),
    lambda m: m.distributions.Independent(
        m.distributions.Normal(m.zeros(2), 1.0), 1).enumerate_support(),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_arguments_raise_like_torch(i):
    got = want = None
    try:
        BAD[i](torch)
    except Exception as e:  # noqa: BLE001
        want = (type(e), str(e).split("\n")[0].split(" of distribution")[0])
    try:
        BAD[i](ember)
    except Exception as e:  # noqa: BLE001
        got = (type(e), str(e).split("\n")[0].split(" of distribution")[0])
    assert want is not None and got is not None
    assert got[0] is want[0], (got, want)
    assert got[1].replace("ember", "torch") == want[1], (got, want)


def test_validation_can_be_turned_off():
    d = ED.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)
    assert d.scale.item() == -1.0
    assert ED.Uniform(0.0, 1.0, validate_args=False).log_prob(ember.tensor(2.0)).item() == \
        float("-inf")


def test_import_paths():
    from ember.distributions.normal import Normal
    assert Normal is ED.Normal and ember.distributions.kl.kl_divergence is ED.kl_divergence


def test_gamma_cdf_matches_torch():
    c, r, v = [0.5, 2.0, 7.5], [1.0, 0.5, 3.0], [0.3, 4.0, 2.5]
    want = torch.distributions.Gamma(torch.tensor(c, dtype=torch.float64),
                                     torch.tensor(r, dtype=torch.float64)).cdf(
        torch.tensor(v, dtype=torch.float64))
    got = ember.distributions.Gamma(ember.tensor(c, dtype=ember.float64),
                                    ember.tensor(r, dtype=ember.float64)).cdf(
        ember.tensor(v, dtype=ember.float64))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
