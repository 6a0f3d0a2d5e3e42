"""Bit-for-bit agreement with PyTorch where its CPU kernels fix the rounding: training RReLU's
noise stream, half-type addmm/linear, the activation backward kernels, and the legacy
``size_average``/``reduce`` warnings."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF

TF = torch.nn.functional
DTYPES = ["float32", "float64", "bfloat16"]


def to_e(t: torch.Tensor, requires_grad: bool = False) -> ember.Tensor:
    """The same values as an ember tensor of the same dtype."""
    dt = str(t.dtype).split(".")[-1]
    e = ember.tensor(t.detach().double().numpy()).to(getattr(ember, dt))
    return e.requires_grad_() if requires_grad else e


def bits(t) -> np.ndarray:
    return t.detach().double().numpy()


def assert_bits(e, t, few: bool = False) -> None:
    """Bit-equal; with ``few``, up to 0.2% of the elements (at least 2) may be 1 ulp off (a float32
    transcendental or sum order away from PyTorch's, seen through the rounding to a half type).
    """
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    if not few:
        np.testing.assert_array_equal(bits(e), bits(t))
        return
    a, b = bits(e), bits(t)
    off = a != b
    assert off.sum() <= max(2, 0.002 * off.size), off.sum()
    ulp = np.spacing(np.abs(bits(t)).astype(np.float16 if t.dtype == torch.float16 else
                                            np.float32))
    if t.dtype == torch.bfloat16:
        ulp = ulp * 2.0 ** 16
    assert (np.abs(a - b)[off] <= ulp[off]).all()


# -- rrelu ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,lower,upper", [((7, 5), 1 / 8, 1 / 3), ((300, 41), 0.1, 0.7),
                                               ((4,), 0.2, 0.2), ((0, 3), 0.1, 0.3)])
def test_rrelu_training_is_torch_bit_for_bit(dtype, shape, lower, upper):
    x = torch.randn(shape).to(getattr(torch, dtype)).requires_grad_()
    ex = to_e(x, True)
    g = torch.randn(shape).to(x.dtype)
    torch.manual_seed(11)
    ember.manual_seed(11)
    y = TF.rrelu(x, lower, upper, training=True)
    ey = EF.rrelu(ex, lower, upper, training=True)
    assert_bits(ey, y)
    assert ey.grad_fn.name() == y.grad_fn.name()
    y.backward(g)
    ey.backward(to_e(g))
    assert_bits(ex.grad, x.grad)
    # the generators are left in the same state: only non-positive elements drew
    np.testing.assert_array_equal(torch.get_rng_state().numpy(),
                                  ember.get_rng_state().numpy())


@pytest.mark.parametrize("inplace", [False, True])
def test_rrelu_module_noncontiguous_and_inplace(inplace):
    x = torch.randn(6, 5).t()
    ex = to_e(x).t().contiguous().t()
    assert not ex.is_contiguous()
    torch.manual_seed(2)
    ember.manual_seed(2)
    y = torch.nn.RReLU(0.1, 0.4, inplace=inplace)(x)
    ey = ember.nn.RReLU(0.1, 0.4, inplace=inplace)(ex)
    assert_bits(ey, y)
    assert (ey is ex) == inplace
    assert_bits(ember.rand(4), torch.rand(4))


def test_rrelu_errors_match_torch():
    for fn in (lambda L, x: L.nn.functional.rrelu(x, 0.5, 0.1, True),
               lambda L, x: L.nn.functional.rrelu(x.half(), training=True),
               lambda L, x: L.nn.functional.rrelu(x.long(), training=True)):
        with pytest.raises(Exception) as et:
            fn(torch, torch.ones(3))
        with pytest.raises(Exception) as ee:
            fn(ember, ember.ones(3))
        assert type(ee.value) is type(et.value) and str(ee.value) == str(et.value)


# -- addmm / linear -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("m,k,n", [(4, 3, 5), (8, 16, 8), (3, 1000, 7)])
def test_half_addmm_and_linear_round_once(dtype, m, k, n):
    torch.manual_seed(m * k + n)
    dt = getattr(torch, dtype)
    a, w, b = torch.randn(m, k).to(dt), torch.randn(n, k).to(dt), torch.randn(n).to(dt)
    ea, ew, eb = to_e(a), to_e(w), to_e(b)
    # rounding twice (the product, then the sum) was off in ~28% of the elements; what is
    # left is the float32 sum order of the product (oneDNN's or ATen's gemm vs. BLAS)
    assert_bits(ember.addmm(eb, ea, ew.t()), torch.addmm(b, a, w.t()), few=True)
    assert_bits(ember.addmm(eb, ea, ew.t(), beta=0.5, alpha=2.0),
                torch.addmm(b, a, w.t(), beta=0.5, alpha=2.0), few=True)
    assert_bits(EF.linear(ea, ew, eb), TF.linear(a, w, b), few=True)
    # N-d contiguous input goes through addmm too (PyTorch's _flatten_nd_linear)
    a3 = torch.randn(2, m, k).to(dt)
    assert_bits(EF.linear(to_e(a3), ew, eb), TF.linear(a3, w, b), few=True)
    assert_bits(EF.linear(to_e(a3[0, 0]), ew, eb), TF.linear(a3[0, 0], w, b), few=True)


def test_linear_graph_matches_torch():
    w = torch.randn(4, 3, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    ew, eb = to_e(w, True), to_e(b, True)
    for x in (torch.randn(3), torch.randn(2, 5, 3), torch.randn(5, 2, 3).transpose(0, 1)):
        ex = to_e(x)
        if not x.is_contiguous():
            ex = ex.transpose(0, 1).contiguous().transpose(0, 1)
        y, ey = TF.linear(x, w, b), EF.linear(ex, ew, eb)
        assert ey.grad_fn.name() == y.grad_fn.name()
        np.testing.assert_allclose(bits(ey), bits(y), rtol=1e-6, atol=1e-6)
        y.sum().backward()
        ey.sum().backward()
    np.testing.assert_allclose(bits(ew.grad), bits(w.grad), rtol=1e-5)
    np.testing.assert_allclose(bits(eb.grad), bits(b.grad), rtol=1e-5)


# -- activation backward kernels ------------------------------------------------------------------

ACTS = {
    "tanh": lambda L, x: L.tanh(x),
    "sigmoid": lambda L, x: L.sigmoid(x),
    "tanhshrink": lambda L, x: L.nn.functional.tanhshrink(x),
    "silu": lambda L, x: L.nn.functional.silu(x),
    "elu": lambda L, x: L.nn.functional.elu(x),
    "selu": lambda L, x: L.nn.functional.selu(x),
    "celu": lambda L, x: L.nn.functional.celu(x, 1.5),
    "softplus": lambda L, x: L.nn.functional.softplus(x, 2.0),
    "logsigmoid": lambda L, x: L.nn.functional.logsigmoid(x),
    "hardsigmoid": lambda L, x: L.nn.functional.hardsigmoid(x),
    "hardswish": lambda L, x: L.nn.functional.hardswish(x),
    "leaky_relu": lambda L, x: L.nn.functional.leaky_relu(x, 0.1),
    "rrelu_eval": lambda L, x: L.nn.functional.rrelu(x, 0.1, 0.3),
}


# kernels with an exp in float32, where numpy's and PyTorch's (SLEEF) exp may differ by an ulp
TRANSCENDENTAL = {"silu", "elu", "selu", "celu", "softplus", "logsigmoid"}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(ACTS))
def test_half_activation_backward_rounds_once(name, dtype):
    """PyTorch's backward kernels compute half types in float32 and round once (float16
    sigmoid_backward in float16 arithmetic); the gradients agree bit for bit, but for the
    rare ulp of a float32 exp."""
    torch.manual_seed(0)
    base = torch.randn(4000) * 3
    base[:4] = torch.tensor([-3.0, 3.0, 0.0, -0.0])
    x = base.to(getattr(torch, dtype)).requires_grad_()
    g = torch.randn(4000).to(x.dtype)
    ex = to_e(x, True)
    y, ey = ACTS[name](torch, x), ACTS[name](ember, ex)
    assert_bits(ey, y)
    y.backward(g)
    ey.backward(to_e(g))
    assert_bits(ex.grad, x.grad, few=name in TRANSCENDENTAL)


@pytest.mark.parametrize("name", ["hardsigmoid", "hardswish"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hard_activations_bit_for_bit(name, dtype):
    x = (torch.arange(-40, 41) / 8).to(getattr(torch, dtype)).requires_grad_()
    ex = to_e(x, True)
    y, ey = ACTS[name](torch, x), ACTS[name](ember, ex)
    assert_bits(ey, y)
    g = torch.randn(x.shape, dtype=x.dtype)
    y.backward(g)
    ey.backward(to_e(g))
    assert_bits(ex.grad, x.grad)


def test_half_backward_double_backward_still_works():
    x = ember.tensor([-1.0, 0.5, 2.0], dtype=ember.bfloat16, requires_grad=True)
    (gx,) = ember.autograd.grad(ember.tanh(x).sum(), x, create_graph=True)
    assert gx.dtype is ember.bfloat16
    gx.sum().backward()
    t = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.bfloat16, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.tanh(t).sum(), t, create_graph=True)
    gt.sum().backward()
    np.testing.assert_allclose(bits(x.grad), bits(t.grad), rtol=1e-2)


# -- legacy reduction arguments -------------------------------------------------------------------

@pytest.mark.parametrize("size_average,reduce", itertools.product([None, True, False], repeat=2))
def test_legacy_reduction_warnings_match_torch(size_average, reduce):
    def run(L):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = L.nn.MSELoss(size_average=size_average, reduce=reduce)
            L.nn.functional.l1_loss(L.ones(2), L.zeros(2), size_average=size_average,
                                    reduce=reduce)
        return m.reduction, [(str(x.message), x.category) for x in w]
    assert run(ember) == run(torch)


# -- recurrent layers in bfloat16 -----------------------------------------------------------------

def _run_rnn(L, mode, cell, dtype):
    L.manual_seed(0)
    m = getattr(L.nn, mode + "Cell")(5, 4) if cell else getattr(L.nn, mode)(5, 4, num_layers=2)
    x = L.randn(3, 5) if cell else L.randn(6, 3, 5)
    m = m.to(getattr(L, dtype))
    x = x.to(getattr(L, dtype)).requires_grad_()
    out = m(x)
    o = out[0] if isinstance(out, tuple) else out
    o.float().sum().backward()
    return o, x.grad


@pytest.mark.parametrize("cell", [False, True])
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_bfloat16_recurrent_layers(mode, cell):
    """bfloat16 in, bfloat16 out; the forward rounds where PyTorch's native CPU cell rounds,
    so it is bit-equal to it (PyTorch runs bfloat16 LSTM layers through oneDNN where the CPU
    has avx512_bf16: compared within an ulp there)."""
    with torch.backends.mkldnn.flags(enabled=False):
        t, tg = _run_rnn(torch, mode, cell, "bfloat16")
    e, eg = _run_rnn(ember, mode, cell, "bfloat16")
    assert e.dtype is ember.bfloat16 and eg.dtype is ember.bfloat16
    assert_bits(e, t)
    np.testing.assert_allclose(bits(eg), bits(tg), atol=1e-2)
    t_default, _ = _run_rnn(torch, mode, cell, "bfloat16")
    np.testing.assert_allclose(bits(e), bits(t_default), atol=8e-3)
