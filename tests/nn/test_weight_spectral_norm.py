"""Weight norm, spectral norm and orthogonal parametrizations, and the old hook-based weight_norm
and spectral_norm, against torch.nn.utils."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

from .util import close, raises_like, same

R = np.random.RandomState(1)
X4 = R.randn(2, 4).astype(np.float32)


def linear(lib, i=4, o=3, seed=0, dtype=np.float32):
    r = np.random.RandomState(seed)
    m = lib.nn.Linear(i, o)
    m.weight = lib.nn.Parameter(lib.tensor(r.randn(o, i).astype(dtype)))
    m.bias = lib.nn.Parameter(lib.tensor(r.randn(o).astype(dtype)))
    return m


def holder(lib, shape, seed=0):
    """A module with one parameter ``weight`` of any shape."""
    m = lib.nn.Module()
    m.weight = lib.nn.Parameter(lib.tensor(np.random.RandomState(seed).randn(*shape)))
    return m


def grads_match(mt, me, out_t, out_e, rtol=1e-5, atol=1e-6):
    out_t.sum().backward()
    out_e.sum().backward()
    names = [n for n, _ in mt.named_parameters()]
    assert [n for n, _ in me.named_parameters()] == names
    for (_, pt), (_, pe) in zip(mt.named_parameters(), me.named_parameters()):
        close(pt.grad, pe.grad, rtol, atol)


# -- parametrizations.weight_norm -------------------------------------------------------------

@pytest.mark.parametrize("shape,dim", [((3, 4), 0), ((3, 4), 1), ((3, 4), None), ((2, 3, 4), 1),
                                       ((2, 3, 4), -1), ((2, 3, 4), 2)])
def test_weight_norm_parametrization(shape, dim):
    mt, me = holder(torch, shape), holder(ember, shape)
    torch.nn.utils.parametrizations.weight_norm(mt, dim=dim)
    ember.nn.utils.parametrizations.weight_norm(me, dim=dim)
    assert list(me.state_dict()) == ["parametrizations.weight.original0",
                                     "parametrizations.weight.original1"]
    for k, v in mt.state_dict().items():
        assert me.state_dict()[k].shape == v.shape
        close(v, me.state_dict()[k], 1e-12, 1e-12)
    close(mt.weight, me.weight, 1e-12, 1e-12)
    grads_match(mt, me, (mt.weight ** 2), (me.weight ** 2), 1e-10, 1e-12)
    assert repr(me) == repr(mt)


def test_weight_norm_parametrization_loads_old_state_dict():
    old = linear(ember)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        ember.nn.utils.weight_norm(old)
    new = ember.nn.utils.parametrizations.weight_norm(linear(ember, seed=5))
    new.load_state_dict(old.state_dict())
    close(new.weight, old.weight)
    close(new.parametrizations.weight.original0, old.weight_g)


# -- parametrizations.spectral_norm -----------------------------------------------------------

@pytest.mark.parametrize("shape,dim,iters", [((3, 4), None, 1), ((4, 3), None, 3),
                                             ((2, 3, 2), 1, 2), ((2, 3, 2), -1, 1)])
def test_spectral_norm_parametrization(shape, dim, iters):
    torch.manual_seed(7)
    ember.manual_seed(7)
    mt = torch.nn.utils.parametrizations.spectral_norm(holder(torch, shape), dim=dim,
                                                       n_power_iterations=iters)
    me = ember.nn.utils.parametrizations.spectral_norm(holder(ember, shape), dim=dim,
                                                       n_power_iterations=iters)
    st, se = mt.state_dict(), me.state_dict()
    assert list(se) == list(st) == ["parametrizations.weight.original",
                                    "parametrizations.weight.0._u",
                                    "parametrizations.weight.0._v"]
    for k in st:
        close(st[k], se[k], 1e-10, 1e-12)
    wt, we = mt.weight, me.weight  # training: one more power-iteration step
    close(wt, we, 1e-10, 1e-12)
    close(mt.parametrizations.weight[0]._u, me.parametrizations.weight[0]._u, 1e-10, 1e-12)
    grads_match(mt, me, wt * wt, we * we, 1e-8, 1e-10)
    mt.eval()
    me.eval()
    u = me.parametrizations.weight[0]._u.clone()
    close(mt.weight, me.weight, 1e-10, 1e-12)
    same(u, me.parametrizations.weight[0]._u)  # eval: no update
    assert repr(me) == repr(mt)


def test_spectral_norm_start_vectors_bit_exact():
    """u and v come from the same normal_ draws as PyTorch's (u first); after the power
    iterations they agree to rounding (matrix-vector products sum in another order)."""
    torch.manual_seed(3)
    ember.manual_seed(3)
    ut = torch.nn.functional.normalize(torch.empty(5).normal_(0, 1), dim=0)
    vt = torch.nn.functional.normalize(torch.empty(4).normal_(0, 1), dim=0)
    from ember.nn.utils.spectral_norm import _power_iteration_start
    t = ember.ones(1)
    same(ut, _power_iteration_start(5, t, 1e-12))
    same(vt, _power_iteration_start(4, t, 1e-12))


@pytest.mark.parametrize("new", [True, False])
def test_spectral_norm_transposed_conv_defaults_to_dim_1(monkeypatch, new):
    """A transposed convolution's weight is (in, out, ...): dim 1 by default. (A stand-in class
    until ember's ConvTranspose modules land; the lookup is by name in ember.nn.modules.)"""
    class ConvTranspose2d(ember.nn.Module):
        pass

    monkeypatch.setattr(ember.nn.modules, "ConvTranspose2d", ConvTranspose2d, raising=False)
    tconv = torch.nn.ConvTranspose2d(3, 2, 2)
    econv = ConvTranspose2d()
    econv.weight = ember.nn.Parameter(ember.tensor(tconv.weight.detach().numpy()))
    torch.manual_seed(5)
    ember.manual_seed(5)
    utils_t, utils_e = torch.nn.utils, ember.nn.utils
    if new:
        utils_t, utils_e = utils_t.parametrizations, utils_e.parametrizations
    utils_t.spectral_norm(tconv)
    utils_e.spectral_norm(econv)
    wt, we = tconv.weight, econv.weight  # (a training-mode access is a power-iteration step)
    close(wt, we)
    assert we.shape == (3, 2, 2, 2)
    u = "parametrizations.weight.0._u" if new else "weight_u"
    assert econv.state_dict()[u].shape == (2,)
    close(tconv.state_dict()[u], econv.state_dict()[u])


def test_spectral_norm_vector_and_errors():
    mt, me = holder(torch, (5,)), holder(ember, (5,))
    torch.nn.utils.parametrizations.spectral_norm(mt)
    ember.nn.utils.parametrizations.spectral_norm(me)
    close(mt.weight, me.weight, 1e-12, 1e-12)
    assert list(me.state_dict()) == ["parametrizations.weight.original"]
    for kwargs in ({"dim": 2}, {"dim": -3}, {"n_power_iterations": 0}):
        raises_like(
            lambda kw=kwargs: torch.nn.utils.parametrizations.spectral_norm(
                holder(torch, (3, 4)), **kw),
            lambda kw=kwargs: ember.nn.utils.parametrizations.spectral_norm(
                holder(ember, (3, 4)), **kw))
    raises_like(lambda: torch.nn.utils.parametrizations.spectral_norm(linear(torch), "w"),
                lambda: ember.nn.utils.parametrizations.spectral_norm(linear(ember), "w"))


# -- parametrizations.orthogonal --------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (2, 4, 3)])
@pytest.mark.parametrize("orth_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("triv", [True, False])
def test_orthogonal(shape, orth_map, triv):
    torch.manual_seed(0)
    ember.manual_seed(0)
    mt = torch.nn.utils.parametrizations.orthogonal(holder(torch, shape), orthogonal_map=orth_map,
                                                    use_trivialization=triv)
    me = ember.nn.utils.parametrizations.orthogonal(holder(ember, shape), orthogonal_map=orth_map,
                                                    use_trivialization=triv)
    close(mt.weight, me.weight, 1e-9, 1e-10)
    assert list(me.state_dict()) == list(mt.state_dict())
    for k, v in mt.state_dict().items():
        close(v, me.state_dict()[k], 1e-9, 1e-10)
    w = me.weight.detach()
    gram = w.mT @ w if shape[-2] >= shape[-1] else w @ w.mT
    close(gram, torch.eye(min(shape[-2:])).expand(gram.shape), 1e-9, 1e-10)
    grads_match(mt, me, mt.weight[..., 0, :] * 3, me.weight[..., 0, :] * 3, 1e-7, 1e-9)
    assert repr(me) == repr(mt)


@pytest.mark.parametrize("orth_map", [None, "cayley"])
def test_orthogonal_complex(orth_map):
    r = np.random.RandomState(0)
    w = r.randn(3, 2) + 1j * r.randn(3, 2)
    mt = torch.nn.Module()
    mt.weight = torch.nn.Parameter(torch.tensor(w))
    me = ember.nn.Module()
    me.weight = ember.nn.Parameter(ember.tensor(w))
    torch.manual_seed(0)  # the random completion of the base
    ember.manual_seed(0)
    torch.nn.utils.parametrizations.orthogonal(mt, orthogonal_map=orth_map)
    ember.nn.utils.parametrizations.orthogonal(me, orthogonal_map=orth_map)
    close(mt.weight, me.weight, 1e-9, 1e-10)
    grads_match(mt, me, mt.weight.abs(), me.weight.abs(), 1e-7, 1e-9)


def test_orthogonal_assignment_and_errors():
    q = np.linalg.qr(np.random.RandomState(2).randn(4, 4))[0]
    for triv in (True, False):
        mt = torch.nn.utils.parametrizations.orthogonal(holder(torch, (4, 4)),
                                                        orthogonal_map="householder",
                                                        use_trivialization=triv)
        me = ember.nn.utils.parametrizations.orthogonal(holder(ember, (4, 4)),
                                                        orthogonal_map="householder",
                                                        use_trivialization=triv)
        mt.weight, me.weight = torch.tensor(q), ember.tensor(q)
        close(me.weight, torch.tensor(q), 1e-10, 1e-12)
        close(mt.parametrizations.weight.original, me.parametrizations.weight.original,
              1e-10, 1e-12)

    def no_triv_assign(lib):
        m = lib.nn.utils.parametrizations.orthogonal(holder(lib, (3, 3)),
                                                     use_trivialization=False)
        m.weight = lib.eye(3, dtype=lib.float64)

    def bad_shape(lib):
        m = lib.nn.utils.parametrizations.orthogonal(holder(lib, (3, 3)))
        m.weight = lib.eye(4, dtype=lib.float64)

    cases = [no_triv_assign, bad_shape,
             lambda lib: lib.nn.utils.parametrizations.orthogonal(holder(lib, (3,))),
             lambda lib: lib.nn.utils.parametrizations.orthogonal(holder(lib, (3, 3)), "nope"),
             lambda lib: lib.nn.utils.parametrizations.orthogonal(holder(lib, (3, 3)),
                                                                  orthogonal_map="svd")]
    for case in cases:
        raises_like(lambda c=case: c(torch), lambda c=case: c(ember))

    def complex_householder(lib):
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.eye(3, dtype=lib.complex64))
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map="householder")
    raises_like(lambda: complex_householder(torch), lambda: complex_householder(ember))


# -- old hook-based weight_norm ---------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm(dim):
    with pytest.warns(FutureWarning):
        mt = torch.nn.utils.weight_norm(linear(torch), dim=dim)
    with pytest.warns(FutureWarning, match="ember.nn.utils.weight_norm"):
        me = ember.nn.utils.weight_norm(linear(ember), dim=dim)
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias", "weight_g", "weight_v"]
    for k, v in mt.state_dict().items():
        close(v, me.state_dict()[k])
    assert "weight" not in me._parameters and isinstance(me.weight, ember.Tensor)
    grads_match(mt, me, mt(torch.tensor(X4)), me(ember.tensor(X4)))
    with torch.no_grad():
        mt.weight_g.mul_(2)
    with ember.no_grad():
        me.weight_g.mul_(2)
    close(mt(torch.tensor(X4)), me(ember.tensor(X4)))  # the hook recomputes the weight
    torch.nn.utils.remove_weight_norm(mt)
    ember.nn.utils.remove_weight_norm(me)
    assert list(me.state_dict()) == list(mt.state_dict())
    assert isinstance(me.weight, ember.nn.Parameter) and not me._forward_pre_hooks
    close(mt.weight, me.weight)


def test_old_weight_norm_errors():
    def twice(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.nn.utils.weight_norm(lib.nn.utils.weight_norm(linear(lib)))

    def uninitialized(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.nn.utils.weight_norm(lib.nn.LazyLinear(3))

    for case in (twice, uninitialized,
                 lambda lib: lib.nn.utils.remove_weight_norm(linear(lib))):
        raises_like(lambda c=case: c(torch), lambda c=case: c(ember))


# -- old hook-based spectral_norm -------------------------------------------------------------

@pytest.mark.parametrize("iters", [1, 2])
def test_old_spectral_norm(iters):
    torch.manual_seed(11)
    ember.manual_seed(11)
    mt = torch.nn.utils.spectral_norm(linear(torch), n_power_iterations=iters)
    me = ember.nn.utils.spectral_norm(linear(ember), n_power_iterations=iters)
    st, se = mt.state_dict(), me.state_dict()
    assert list(se) == list(st) == ["bias", "weight_orig", "weight_u", "weight_v"]
    same(st["weight_u"], se["weight_u"])
    same(st["weight_v"], se["weight_v"])
    assert se._metadata[""] == st._metadata[""] == {"version": 1, "spectral_norm":
                                                    {"weight.version": 1}}
    grads_match(mt, me, mt(torch.tensor(X4)), me(ember.tensor(X4)))
    close(mt.weight_u, me.weight_u)
    mt.eval()
    me.eval()
    u = me.weight_u.clone()
    close(mt(torch.tensor(X4)), me(ember.tensor(X4)))
    same(u, me.weight_u)
    # round trip through state_dict
    fresh = ember.nn.utils.spectral_norm(linear(ember, seed=3))
    fresh.load_state_dict(me.state_dict())
    same(fresh.weight_v, me.weight_v)
    torch.nn.utils.remove_spectral_norm(mt)
    ember.nn.utils.remove_spectral_norm(me)
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias", "weight"]
    close(mt.weight, me.weight)
    assert not me._forward_pre_hooks and not me._state_dict_hooks
    # unlike PyTorch (which leaves its load pre-hook behind), the plain module reloads its state
    assert not me._load_state_dict_pre_hooks
    me.load_state_dict(me.state_dict())


def test_old_spectral_norm_loads_version_0_state_dict():
    """A version-0 state_dict has weight, weight_orig and weight_u but no weight_v."""
    torch.manual_seed(4)
    ember.manual_seed(4)
    mt = torch.nn.utils.spectral_norm(linear(torch, dtype=np.float64))
    me = ember.nn.utils.spectral_norm(linear(ember, dtype=np.float64))
    mt(torch.tensor(X4, dtype=torch.float64))
    me(ember.tensor(X4, dtype=ember.float64))

    def old(m):
        sd = m.state_dict()
        sd["weight"] = m.weight.detach().clone()
        del sd["weight_v"]
        del sd._metadata[""]["spectral_norm"]
        return sd

    ft = torch.nn.utils.spectral_norm(linear(torch, seed=9, dtype=np.float64))
    fe = ember.nn.utils.spectral_norm(linear(ember, seed=9, dtype=np.float64))
    ft.load_state_dict(old(mt))
    fe.load_state_dict(old(me))
    close(ft.weight_v, fe.weight_v, 1e-8, 1e-10)
    ft.eval()
    fe.eval()
    close(ft(torch.tensor(X4, dtype=torch.float64)), fe(ember.tensor(X4, dtype=ember.float64)))


def test_old_spectral_norm_errors():
    def twice(lib):
        lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(linear(lib)))

    def none_param(lib):
        m = lib.nn.Linear(2, 2, bias=False)
        lib.nn.utils.spectral_norm(m, "bias")

    for case in (twice, none_param,
                 lambda lib: lib.nn.utils.spectral_norm(linear(lib), n_power_iterations=0),
                 lambda lib: lib.nn.utils.spectral_norm(lib.nn.LazyLinear(3)),
                 lambda lib: lib.nn.utils.remove_spectral_norm(linear(lib))):
        raises_like(lambda c=case: c(torch), lambda c=case: c(ember))
