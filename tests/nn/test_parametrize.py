"""nn.utils.parametrize against torch.nn.utils.parametrize."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import ember

from .util import close, raises_like, same

R = np.random.RandomState(0)
W33 = R.randn(3, 3).astype(np.float32)
W43 = R.randn(4, 3).astype(np.float32)
X = R.randn(2, 3).astype(np.float32)


def P(lib):
    return lib.nn.utils.parametrize


def linear(lib, w=W33):
    m = lib.nn.Linear(w.shape[1], w.shape[0])
    with lib.no_grad():
        m.weight.copy_(lib.tensor(w))
        m.bias.copy_(lib.linspace(-1, 1, w.shape[0]))
    return m


def parametrizations(lib):
    """Symmetric (with right_inverse), Scale (without), RankOne (tuple right_inverse) and
    Double (changes the shape: unsafe only), alike in torch and ember."""
    nn = lib.nn

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()

    class Scale(nn.Module):
        def __init__(self, s=2.0):
            super().__init__()
            self.s = s
            self.calls = 0

        def forward(self, X):
            self.calls += 1
            return X * self.s

    class RankOne(nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), Z[0, :].clone()

    class Double(nn.Module):
        def forward(self, X):
            return lib.cat([X, X])

    return Symmetric, Scale, RankOne, Double


def both(build):
    return build(torch), build(ember)


def check_same_module(mt, me, x=X):
    assert repr(me) == repr(mt)
    assert type(me).__name__ == type(mt).__name__
    sdt, sde = mt.state_dict(), me.state_dict()
    assert list(sde) == list(sdt)
    for k in sdt:
        close(sdt[k], sde[k])
    yt, ye = mt(torch.tensor(x)), me(ember.tensor(x))
    close(yt, ye)
    yt.sum().backward()
    ye.sum().backward()
    for (nt, pt), (ne, pe) in zip(mt.named_parameters(), me.named_parameters()):
        assert nt == ne
        close(pt.grad, pe.grad)


def test_register_symmetric_value_grad_repr_state_dict():
    def build(lib):
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[0]())
        return m

    mt, me = both(build)
    check_same_module(mt, me)
    close(mt.weight, me.weight)
    assert isinstance(me.parametrizations, ember.nn.ModuleDict)
    assert type(me.parametrizations.weight).__name__ == "ParametrizationList"
    assert isinstance(me.parametrizations.weight.original, ember.nn.Parameter)
    assert P(ember).is_parametrized(me) and P(ember).is_parametrized(me, "weight")
    assert not P(ember).is_parametrized(me, "bias")
    assert P(ember).type_before_parametrizations(me) is ember.nn.Linear
    assert type(me).__bases__ == (ember.nn.Linear,)
    # other instances keep their class
    assert type(ember.nn.Linear(2, 2)) is ember.nn.Linear
    assert P(ember).type_before_parametrizations(ember.nn.Linear(2, 2)) is ember.nn.Linear
    assert [n for n, _ in me.named_parameters()] == ["bias", "parametrizations.weight.original"]


def test_assignment_runs_right_inverse():
    a = (W33 + W33.T).astype(np.float32)

    def build(lib):
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[0]())
        orig = m.parametrizations.weight.original
        m.weight = lib.tensor(a)
        assert m.parametrizations.weight.original is orig
        return m

    mt, me = both(build)
    same(mt.parametrizations.weight.original, me.parametrizations.weight.original)
    close(me.weight, torch.tensor(a))
    # no right_inverse: assignment fails as in torch
    def assign(lib):
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[1]())
        m.weight = lib.ones(3, 3)
    raises_like(lambda: assign(torch), lambda: assign(ember))

    def assign_parameter(lib):  # a Parameter would be registered: the property is in the way
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[0]())
        m.weight = lib.nn.Parameter(lib.ones(3, 3))
    raises_like(lambda: assign_parameter(torch), lambda: assign_parameter(ember))


def test_stacked_parametrizations_and_buffers():
    def build(lib):
        sym, scale, _, _ = parametrizations(lib)
        m = linear(lib)
        m.register_buffer("buf", lib.tensor(W33))
        P(lib).register_parametrization(m, "weight", sym())
        P(lib).register_parametrization(m, "weight", scale(3.0))
        P(lib).register_parametrization(m, "buf", scale(0.5))
        return m

    mt, me = both(build)
    check_same_module(mt, me)
    close(mt.buf, me.buf)
    assert "parametrizations.buf.original" in me.state_dict()
    assert [n for n, _ in me.named_buffers()] == ["parametrizations.buf.original"]
    assert len(me.parametrizations.weight) == 2


def test_tuple_right_inverse_original0_original1():
    def build(lib):
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[2]())
        return m

    mt, me = both(build)
    check_same_module(mt, me)
    assert me.parametrizations.weight.ntensors == 2 and not me.parametrizations.weight.is_tensor
    assert all(isinstance(p, ember.nn.Parameter) for p in me.parametrizations.weight.parameters())
    raises_like(lambda: P(torch).remove_parametrizations(mt, "weight", leave_parametrized=False),
                lambda: P(ember).remove_parametrizations(me, "weight", leave_parametrized=False))
    P(torch).remove_parametrizations(mt, "weight")
    P(ember).remove_parametrizations(me, "weight")
    assert type(me) is ember.nn.Linear and isinstance(me.weight, ember.nn.Parameter)
    close(mt.weight, me.weight)
    assert list(me.state_dict()) == list(mt.state_dict())


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    def build(lib):
        sym, scale, _, _ = parametrizations(lib)
        m = linear(lib)
        m.register_buffer("buf", lib.tensor(W33))
        P(lib).register_parametrization(m, "weight", sym())
        P(lib).register_parametrization(m, "buf", scale())
        orig = m.parametrizations.weight.original
        P(lib).remove_parametrizations(m, "weight", leave_parametrized=leave)
        assert m.weight is orig and P(lib).is_parametrized(m)
        P(lib).remove_parametrizations(m, "buf", leave_parametrized=leave)
        return m

    mt, me = both(build)
    assert type(me) is ember.nn.Linear and not hasattr(me, "parametrizations")
    assert not P(ember).is_parametrized(me)
    assert repr(me) == repr(mt)
    check_same_module(mt, me)
    close(mt.buf, me.buf)
    assert "buf" in me._buffers


def test_cached_computes_once():
    for lib in (torch, ember):
        m = linear(lib)
        scale = parametrizations(lib)[1]()
        P(lib).register_parametrization(m, "weight", scale, unsafe=True)
        with P(lib).cached():
            w1, w2 = m.weight, m.weight
            with P(lib).cached():
                assert m.weight is w1
        assert w1 is w2 and scale.calls == 1
        assert m.weight is not w1 and scale.calls == 2


def test_unsafe_allows_shape_change_and_checks_otherwise():
    def build(lib, unsafe):
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[3](), unsafe=unsafe)
        return m

    raises_like(lambda: build(torch, False), lambda: build(ember, False))
    mt, me = build(torch, True), build(ember, True)
    assert me.weight.shape == (6, 3)
    close(mt.weight, me.weight)
    # a failed registration leaves the module as it was
    m = linear(ember)
    with pytest.raises(ValueError):
        P(ember).register_parametrization(m, "weight", parametrizations(ember)[3]())
    assert type(m) is ember.nn.Linear and "weight" in m._parameters


def test_errors():
    def missing(lib):
        P(lib).register_parametrization(linear(lib), "nope", parametrizations(lib)[0]())

    def not_tensor(lib):
        class Bad(lib.nn.Module):
            def forward(self, X):
                return 1.0
        P(lib).register_parametrization(linear(lib), "weight", Bad())

    def dtype_change(lib):
        class Cast(lib.nn.Module):
            def forward(self, X):
                return X.double()
        P(lib).register_parametrization(linear(lib), "weight", Cast())

    def stacked_shape_change(lib):
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[0]())
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[3]())

    def stacked_bad_right_inverse(lib):
        class BadInv(lib.nn.Module):
            def forward(self, X):
                return X

            def right_inverse(self, X):
                return X.double()
        m = linear(lib)
        P(lib).register_parametrization(m, "weight", parametrizations(lib)[0]())
        P(lib).register_parametrization(m, "weight", BadInv())

    def remove_missing(lib):
        P(lib).remove_parametrizations(linear(lib), "weight")

    def empty_list(lib):
        P(lib).ParametrizationList([], lib.ones(2))

    for case in (missing, not_tensor, dtype_change, stacked_shape_change,
                 stacked_bad_right_inverse, remove_missing, empty_list):
        raises_like(lambda c=case: c(torch), lambda c=case: c(ember))


def test_train_mode_deepcopy_pickle_load_state_dict():
    me = linear(ember).eval()
    sym = parametrizations(ember)[0]()
    P(ember).register_parametrization(me, "weight", sym)
    assert not sym.training
    me.train()
    assert sym.training
    dup = copy.deepcopy(me)
    assert type(dup).__name__ == "ParametrizedLinear" and dup.weight is not me.weight
    close(dup.weight, me.weight)
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(me)
    fresh = linear(ember, np.zeros((3, 3), np.float32))
    P(ember).register_parametrization(fresh, "weight", parametrizations(ember)[0]())
    assert str(fresh.load_state_dict(me.state_dict())) == "<All keys matched successfully>"
    close(fresh.weight, me.weight)


def test_transfer_parametrizations_and_params():
    def build(lib):
        src = linear(lib)
        P(lib).register_parametrization(src, "weight", parametrizations(lib)[0]())
        dst = linear(lib, np.zeros((3, 3), np.float32))
        P(lib).transfer_parametrizations_and_params(src, dst)
        assert dst.parametrizations.weight.original is src.parametrizations.weight.original
        return dst

    mt, me = both(build)
    check_same_module(mt, me)
