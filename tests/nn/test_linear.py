"""Linear, Bilinear, Identity, Flatten, Unflatten, LazyLinear and F.linear/F.bilinear against
torch: bit-exact initialization for a seed, outputs, gradients, reprs, errors."""

from __future__ import annotations

import pytest
import torch

import ember
from ember.nn import functional as F

from .util import close, e_, needs_fills, raises_like, same, text


def _seeded(lib, seed, make):
    lib.manual_seed(seed)
    return make(lib)


@needs_fills
@pytest.mark.parametrize("seed", [0, 7, 12345])
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(7, 5),
    lambda lib: lib.nn.Linear(3, 16, bias=False),
    lambda lib: lib.nn.Linear(20, 1, dtype=lib.float64),
    lambda lib: lib.nn.Linear(4, 4, device="cpu", dtype=lib.float16),
    lambda lib: lib.nn.Bilinear(3, 4, 5),
    lambda lib: lib.nn.Bilinear(2, 6, 3, bias=False, dtype=lib.float64),
])
def test_init_is_bit_exact_with_torch(seed, make):
    t, e = _seeded(torch, seed, make), _seeded(ember, seed, make)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    for a, b in zip(t.parameters(), e.parameters()):
        same(a, b)
        assert isinstance(b, ember.nn.Parameter)
    # the generator is left where torch leaves it
    same(torch.rand(3), ember.rand(3))


@needs_fills
def test_linear_with_zero_inputs():
    with pytest.warns(UserWarning, match="zero-element"):
        m = ember.nn.Linear(0, 3)
    assert m.weight.shape == (3, 0) and (m.bias == 0).all()
    assert m(ember.ones(2, 0)).tolist() == [[0.0] * 3] * 2


@needs_fills
@pytest.mark.parametrize("shape", [(4,), (2, 4), (3, 2, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward(shape, bias):
    torch.manual_seed(0)
    ember.manual_seed(0)
    t, e = torch.nn.Linear(4, 3, bias=bias), ember.nn.Linear(4, 3, bias=bias)
    x = torch.randn(*shape, requires_grad=True)
    xe = e_(x).requires_grad_()
    yt, ye = t(x), e(xe)
    close(yt, ye)
    g = torch.randn(yt.shape)
    yt.backward(g)
    ye.backward(e_(g))
    close(x.grad, xe.grad)
    for a, b in zip(t.parameters(), e.parameters()):
        close(a.grad, b.grad)


def test_functional_linear_and_bilinear_values_and_grads():
    w, b = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    close(torch.nn.functional.linear(x, w, b), F.linear(e_(x), e_(w), e_(b)))
    close(torch.nn.functional.linear(x, w), F.linear(e_(x), e_(w)))
    w2 = torch.randn(6, 4, 2, dtype=torch.float64)
    x1, x2 = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    b2 = torch.randn(6, dtype=torch.float64)
    close(torch.nn.functional.bilinear(x1, x2, w2, b2), F.bilinear(e_(x1), e_(x2), e_(w2), e_(b2)))
    args = [e_(a).requires_grad_() for a in (x1, x2, w2, b2)]
    assert ember.autograd.gradcheck(F.bilinear, args)
    args = [e_(a).requires_grad_() for a in (x[0], w, b)]
    assert ember.autograd.gradcheck(F.linear, args)


@pytest.mark.parametrize("args", [
    ((2, 3), (4, 5), None),
    ((2, 3), (4, 3), (5,)),
])
def test_linear_errors(args):
    def call(lib):
        xs, ws, bs = args
        return lib.nn.functional.linear(lib.ones(xs), lib.ones(ws),
                                        None if bs is None else lib.ones(bs))
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(ember)


@pytest.mark.parametrize("shapes", [
    ((2, 3), (2, 4, 5), (6, 3, 5), None),
    ((2, 3), (4, 5), (6, 3, 5), None),
    ((2, 4), (2, 5), (6, 3, 5), None),
    ((2, 3), (2, 4), (6, 3, 5), None),
    ((2, 3), (2, 5), (6, 3, 5), (7,)),
    ((1, 2, 3), (1, 3, 5), (6, 3, 5), None),
])
def test_bilinear_errors_match_torch(shapes):
    def call(lib):
        a, b, w, bias = shapes
        return lib.nn.functional.bilinear(lib.ones(a), lib.ones(b), lib.ones(w),
                                          None if bias is None else lib.ones(bias))
    raises_like(lambda: call(torch), lambda: call(ember))


def test_bilinear_zero_in1_raises():
    raises_like(lambda: torch.nn.Bilinear(0, 2, 3), lambda: ember.nn.Bilinear(0, 2, 3))


def test_identity_flatten_unflatten():
    x = ember.randn(2, 3, 4)
    assert ember.nn.Identity(3, foo=1)(x) is x
    for make, arg in [
        (lambda lib: lib.nn.Flatten(), (2, 3, 4)),
        (lambda lib: lib.nn.Flatten(0, 1), (2, 3, 4)),
        (lambda lib: lib.nn.Flatten(-2), (2, 3, 4)),
        (lambda lib: lib.nn.Unflatten(1, (3, 4)), (2, 12)),
        (lambda lib: lib.nn.Unflatten(-1, [2, -1]), (2, 12)),
    ]:
        t, e = make(torch), make(ember)
        assert repr(e) == repr(t)
        xt = torch.randn(*arg)
        same(t(xt), e(e_(xt)))
    for bad in [lambda lib: lib.nn.Unflatten(1, 12), lambda lib: lib.nn.Unflatten(1, (3, 4.0))]:
        raises_like(lambda bad=bad: bad(torch), lambda bad=bad: bad(ember))


@needs_fills
def test_lazy_linear_materializes_like_torch():
    def run(lib):
        lib.manual_seed(3)
        m = lib.nn.LazyLinear(4)
        before = (repr(m), repr(m.weight), list(m.state_dict()), m.has_uninitialized_params())
        y = m(lib.ones(2, 6))
        return m, y, before
    (t, yt, bt), (e, ye, be) = run(torch), run(ember)
    assert be == bt
    assert type(e) is ember.nn.Linear and repr(e) == repr(t)
    same(t.weight, e.weight)
    same(t.bias, e.bias)
    close(yt, ye)
    assert not e._forward_pre_hooks and not e._load_state_dict_pre_hooks
    assert type(e.weight) is ember.nn.Parameter


@needs_fills
def test_lazy_linear_load_state_dict_and_dtype():
    src = ember.nn.Linear(5, 2)
    m = ember.nn.LazyLinear(2, dtype=ember.float64)
    m.load_state_dict(src.state_dict())
    assert m.weight.shape == (2, 5) and m.weight.dtype is ember.float64
    same(m.weight, src.weight.double())
    m(ember.ones(1, 5, dtype=ember.float64))
    assert type(m) is ember.nn.Linear and m.in_features == 5
    nb = ember.nn.LazyLinear(3, bias=False)
    nb(ember.ones(2, 4))
    assert nb.bias is None and nb.weight.shape == (3, 4)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        ember.nn.LazyLinear(3).weight.sum()


def test_lazy_repr_before_call():
    assert repr(ember.nn.LazyLinear(3)) == repr(torch.nn.LazyLinear(3))
    assert text(str(torch.nn.LazyLinear(3).state_dict())) == str(
        ember.nn.LazyLinear(3).state_dict())
