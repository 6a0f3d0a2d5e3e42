"""Activation modules against torch: reprs, parameters, outputs and gradients in train and
eval mode, ``inplace``. ``check_module`` here is the module-vs-torch comparison the other
layer tests use."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

from .util import close, e_, raises_like, text


def to_ember_state(t_module) -> dict:
    """A torch module's state_dict as ember tensors."""
    return {k: ember.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()}


def pair(make):
    """The same module built by ``make(lib)`` in torch and ember, ember's state copied from
    torch's (and loaded back into torch); checks that reprs and state_dict keys agree."""
    t, e = make(torch), make(ember)
    assert repr(e) == text(repr(t))
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    e.load_state_dict(to_ember_state(t))
    # and back: ember's state loads into torch unchanged
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in e.state_dict().items()})
    return t, e


def check_module(make, *inputs, train=True, steps=1, rtol=1e-5, atol=1e-5, grad=True,
                 kwargs=None):
    """Run ``make(torch)`` and ``make(ember)`` on ``inputs`` (torch tensors; floating ones get
    gradients, or those ``grad`` marks true when it is a tuple) ``steps`` times in train or eval
    mode; compare outputs, input and parameter gradients, and buffers after each step.
    Returns the two modules."""
    t, e = pair(make)
    t.train(train)
    e.train(train)
    kwargs = kwargs or {}
    wants = (grad + (False,) * len(inputs) if isinstance(grad, tuple)
             else (grad,) * len(inputs))
    for _ in range(steps):
        ts = [x.detach().clone().requires_grad_(w and x.is_floating_point())
              if isinstance(x, torch.Tensor) else x for x, w in zip(inputs, wants)]
        es = [e_(x).requires_grad_(x.requires_grad) if isinstance(x, torch.Tensor) else x
              for x in ts]
        # an in-place module may not write into a leaf that requires grad: feed x * 1
        yt = t(*[x * 1 if isinstance(x, torch.Tensor) and x.requires_grad else x for x in ts],
               **kwargs)
        ye = e(*[x * 1 if isinstance(x, ember.Tensor) and x.requires_grad else x for x in es],
               **kwargs)
        assert tuple(ye.shape) == tuple(yt.shape) and str(ye.dtype) == text(str(yt.dtype))
        close(yt, ye, rtol, atol)
        if yt.requires_grad:
            g = torch.randn(yt.shape, dtype=yt.dtype)
            yt.backward(g)
            ye.backward(e_(g))
            for a, b in zip(ts, es):
                if isinstance(a, torch.Tensor) and a.requires_grad:
                    close(a.grad, b.grad, rtol, atol)
            for (n, a), (_, b) in zip(t.named_parameters(), e.named_parameters()):
                assert (a.grad is None) == (b.grad is None), n
                if a.grad is not None:
                    close(a.grad, b.grad, rtol, atol)
        for (n, a), (_, b) in zip(t.named_buffers(), e.named_buffers()):
            close(a, b, rtol, atol)
            assert str(b.dtype) == text(str(a.dtype)), n
    return t, e


def raises_within(fn_t, fn_e):
    """Both raise the same exception type, ember's message containing torch's (ember's ops add
    the op name and the input shapes around it)."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value) is type(et.value), (et.value, ee.value)
    assert text(str(et.value)) in str(ee.value), (et.value, ee.value)


X = torch.randn(3, 4, 5)

ACTIVATIONS = [
    lambda L: L.nn.ReLU(),
    lambda L: L.nn.ReLU(inplace=True),
    lambda L: L.nn.ReLU6(),
    lambda L: L.nn.ReLU6(True),
    lambda L: L.nn.LeakyReLU(),
    lambda L: L.nn.LeakyReLU(0.2, inplace=True),
    lambda L: L.nn.PReLU(),
    lambda L: L.nn.PReLU(4, init=0.1),
    lambda L: L.nn.ELU(),
    lambda L: L.nn.ELU(alpha=0.5, inplace=True),
    lambda L: L.nn.SELU(),
    lambda L: L.nn.SELU(True),
    lambda L: L.nn.CELU(2.0),
    lambda L: L.nn.CELU(0.5, inplace=True),
    lambda L: L.nn.GELU(),
    lambda L: L.nn.GELU(approximate="tanh"),
    lambda L: L.nn.SiLU(),
    lambda L: L.nn.SiLU(inplace=True),
    lambda L: L.nn.Mish(),
    lambda L: L.nn.Mish(True),
    lambda L: L.nn.Softplus(),
    lambda L: L.nn.Softplus(beta=2, threshold=1),
    lambda L: L.nn.Softsign(),
    lambda L: L.nn.Softshrink(),
    lambda L: L.nn.Softshrink(0.2),
    lambda L: L.nn.Hardshrink(),
    lambda L: L.nn.Hardshrink(1.0),
    lambda L: L.nn.Tanhshrink(),
    lambda L: L.nn.Hardtanh(),
    lambda L: L.nn.Hardtanh(-0.5, 0.7, inplace=True),
    lambda L: L.nn.Hardsigmoid(),
    lambda L: L.nn.Hardsigmoid(inplace=True),
    lambda L: L.nn.Hardswish(),
    lambda L: L.nn.Hardswish(True),
    lambda L: L.nn.Sigmoid(),
    lambda L: L.nn.LogSigmoid(),
    lambda L: L.nn.Tanh(),
    lambda L: L.nn.Threshold(0.1, 20.0),
    lambda L: L.nn.Threshold(-0.2, 0.5, inplace=True),
    lambda L: L.nn.GLU(),
    lambda L: L.nn.GLU(dim=1),
    lambda L: L.nn.Softmax(dim=1),
    lambda L: L.nn.Softmax(-1),
    lambda L: L.nn.Softmin(dim=0),
    lambda L: L.nn.LogSoftmax(dim=2),
    lambda L: L.nn.Softmax2d(),
    lambda L: L.nn.RReLU(0.1, 0.3),
    lambda L: L.nn.RReLU(inplace=True),
]


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("make", ACTIVATIONS)
def test_activation_matches_torch(make, train):
    if isinstance(make(torch), torch.nn.RReLU) and train:
        pytest.skip("training RReLU draws noise: test_rrelu_training")
    x = X[:, :, :4] if isinstance(make(torch), torch.nn.GLU) else X
    check_module(make, x, train=train)


@pytest.mark.parametrize("make", [m for m in ACTIVATIONS if getattr(m(torch), "inplace", False)])
def test_inplace_returns_its_input(make):
    x = e_(X)
    before = x.clone()
    y = make(ember)(x)
    assert y is x
    assert not ember.equal(x, before) or make(torch)(X.clone()).equal(X)


def test_rrelu_training():
    x = ember.randn(200, 50)
    m = ember.nn.RReLU(0.1, 0.3)
    y = m(x)
    neg = x < 0
    slope = (y[neg] / x[neg]).numpy()
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.01
    assert ember.equal(y[~neg], x[~neg])
    m.eval()
    close(m(x), ember.nn.functional.leaky_relu(x, 0.2))


def test_prelu_parameters_and_dtype():
    t, e = pair(lambda L: L.nn.PReLU(3, init=0.3, dtype=L.float64))
    assert e.weight.dtype is ember.float64 and e.weight.requires_grad
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    check_module(lambda L: L.nn.PReLU(3, dtype=L.float64), x)
    e.weight.data.fill_(1.0)
    e.reset_parameters()
    assert e.weight.tolist() == [0.3] * 3


def test_activation_errors_match_torch():
    raises_like(lambda: torch.nn.Hardtanh(1.0, 0.5), lambda: ember.nn.Hardtanh(1.0, 0.5))
    raises_like(lambda: torch.nn.Softmax2d()(torch.ones(2, 3)),
                lambda: ember.nn.Softmax2d()(ember.ones(2, 3)))
    raises_like(lambda: torch.nn.PReLU(3)(torch.ones(2, 4)),
                lambda: ember.nn.PReLU(3)(ember.ones(2, 4)))
    raises_like(lambda: torch.nn.GLU()(torch.ones(2, 3)), lambda: ember.nn.GLU()(ember.ones(2, 3)))


def test_hardtanh_deprecated_keywords():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = ember.nn.Hardtanh(min_value=-2.0, max_value=3.0)
    assert [str(x.message).split("`")[1] for x in w] == ["min_value", "max_value"]
    assert all(x.category is FutureWarning for x in w)
    assert (m.min_val, m.max_val) == (-2.0, 3.0)


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        y = ember.nn.Softmax()(ember.ones(2, 3))
    close(y, torch.full((2, 3), 1 / 3))
    m = ember.nn.LogSoftmax()
    del m.dim
    m.__setstate__(m.__dict__)
    assert m.dim is None


def test_activations_in_a_sequential_train_loop():
    def make(L):
        L.manual_seed(0)
        return L.nn.Sequential(L.nn.Linear(5, 8), L.nn.GELU(), L.nn.Linear(8, 8),
                               L.nn.Hardswish(), L.nn.Linear(8, 3), L.nn.LogSoftmax(dim=1))
    t, e = check_module(make, torch.randn(4, 5))
    assert np.allclose(t[0].weight.grad.numpy(), e[0].weight.grad.numpy(), atol=1e-6)
