"""Sampling ops and in-place random fills against PyTorch: the same seed gives the same values bit
for bit (and leaves the generator in the same place), on every dtype and layout they accept."""

from __future__ import annotations

import pytest
import torch

import ember
from tests.test_creation import check


@pytest.fixture(autouse=True)
def _fresh_default_generators():
    state_t, state_e = torch.get_rng_state(), ember.get_rng_state()
    yield
    torch.set_rng_state(state_t)
    ember.set_rng_state(state_e)


def _t(m, shape=(3, 4), dtype=None, layout="contig"):
    x = m.zeros(shape, dtype=dtype or m.float32)
    if layout == "t":
        return x.t()
    if layout == "slice":
        return m.zeros((shape[0], 2 * shape[1]), dtype=dtype or m.float32)[:, ::2]
    return x


FILLS = {
    "uniform": lambda m, g: _t(m).uniform_(generator=g),
    "uniform_range": lambda m, g: _t(m, (5, 7)).uniform_(-2, 3, generator=g),
    "uniform_f64_t": lambda m, g: _t(m, (4, 5), m.float64, "t").uniform_(1, 2, generator=g),
    "uniform_f16": lambda m, g: _t(m, (3, 3), m.float16).uniform_(generator=g),
    "uniform_bf16_slice": lambda m, g: _t(m, (3, 3), m.bfloat16, "slice").uniform_(
        generator=g),
    "uniform_c64": lambda m, g: _t(m, (2, 3), m.complex64).uniform_(generator=g),
    "uniform_from_kw": lambda m, g: _t(m).uniform_(**{"from": -1, "to": 0}, generator=g),
    "normal": lambda m, g: _t(m, (2, 3)).normal_(generator=g),
    "normal_big": lambda m, g: _t(m, (5, 7)).normal_(1, 2, generator=g),
    "normal_big_t": lambda m, g: _t(m, (5, 7), layout="t").normal_(1, 2, generator=g),
    "normal_slice": lambda m, g: _t(m, (4, 9), m.float64, "slice").normal_(generator=g),
    "normal_f16": lambda m, g: _t(m, (4, 9), m.float16).normal_(generator=g),
    "normal_c64_t": lambda m, g: _t(m, (3, 4), m.complex64, "t").normal_(generator=g),
    "random": lambda m, g: _t(m, dtype=m.int64).random_(generator=g),
    "random_f32": lambda m, g: _t(m).random_(generator=g),
    "random_f64_t": lambda m, g: _t(m, dtype=m.float64, layout="t").random_(generator=g),
    "random_f16": lambda m, g: _t(m, dtype=m.float16).random_(generator=g),
    "random_bf16": lambda m, g: _t(m, dtype=m.bfloat16).random_(generator=g),
    "random_i8": lambda m, g: _t(m, dtype=m.int8).random_(generator=g),
    "random_u8": lambda m, g: _t(m, dtype=m.uint8).random_(generator=g),
    "random_i16": lambda m, g: _t(m, dtype=m.int16).random_(generator=g),
    "random_i32": lambda m, g: _t(m, dtype=m.int32).random_(generator=g),
    "random_bool": lambda m, g: _t(m, dtype=m.bool).random_(generator=g),
    "random_to": lambda m, g: _t(m, dtype=m.int64).random_(7, generator=g),
    "random_from_to": lambda m, g: _t(m, dtype=m.int32).random_(-3, 9, generator=g),
    "random_from_to_f32": lambda m, g: _t(m).random_(2, 2**40, generator=g),
    "random_from_none": lambda m, g: _t(m, dtype=m.int16).random_(5, None, generator=g),
    "random_from_none_i64": lambda m, g: _t(m, dtype=m.int64).random_(-5, None, generator=g),
    "random_from_none_f64": lambda m, g: _t(m, dtype=m.float64).random_(0, None, generator=g),
    "random_full": lambda m, g: _t(m, dtype=m.int64).random_(-(2**63), None, generator=g),
    "random_full_f32": lambda m, g: _t(m).random_(-(2**63), None, generator=g),
    "exponential": lambda m, g: _t(m).exponential_(generator=g),
    "exponential_f64_t": lambda m, g: _t(m, (4, 6), m.float64, "t").exponential_(
        3.5, generator=g),
    "exponential_f16": lambda m, g: _t(m, dtype=m.float16).exponential_(0.5, generator=g),
    "exponential_bf16": lambda m, g: _t(m, dtype=m.bfloat16).exponential_(generator=g),
    "geometric": lambda m, g: _t(m).geometric_(0.3, generator=g),
    "geometric_i64": lambda m, g: _t(m, dtype=m.int64).geometric_(0.05, generator=g),
    "geometric_u8_slice": lambda m, g: _t(m, dtype=m.uint8, layout="slice").geometric_(
        0.5, generator=g),
    "log_normal": lambda m, g: _t(m).log_normal_(generator=g),
    "log_normal_f64": lambda m, g: _t(m, (5, 7), m.float64).log_normal_(0.5, 0.25,
                                                                         generator=g),
    "cauchy": lambda m, g: _t(m).cauchy_(generator=g),
    "cauchy_f64_t": lambda m, g: _t(m, (3, 5), m.float64, "t").cauchy_(-1, 3, generator=g),
    "cauchy_f16": lambda m, g: _t(m, dtype=m.float16).cauchy_(generator=g),
    "bernoulli_float": lambda m, g: _t(m).bernoulli_(0.3, generator=g),
    "bernoulli_default": lambda m, g: _t(m, dtype=m.bool).bernoulli_(generator=g),
    "bernoulli_int_t": lambda m, g: _t(m, dtype=m.int32, layout="t").bernoulli_(
        0.7, generator=g),
    "bernoulli_tensor": lambda m, g: _t(m).bernoulli_(
        m.linspace(0, 1, 12).reshape(3, 4), generator=g),
    "bernoulli_tensor_bcast": lambda m, g: _t(m, dtype=m.int64).bernoulli_(
        m.tensor([0.1, 0.5, 0.9, 1.0], dtype=m.float64), generator=g),
    "bernoulli_tensor_t": lambda m, g: _t(m, (4, 3), layout="t").bernoulli_(
        m.linspace(0, 1, 12, dtype=m.float16).reshape(3, 4), generator=g),
    "bernoulli_fn": lambda m, g: m.bernoulli(m.linspace(0, 1, 20).reshape(4, 5), generator=g),
    "bernoulli_fn_t_f64": lambda m, g: m.bernoulli(
        m.linspace(0, 1, 20, dtype=m.float64).reshape(4, 5).t(), generator=g),
    "bernoulli_fn_p": lambda m, g: m.bernoulli(m.zeros(3, 4), 0.25, generator=g),
    "bernoulli_method": lambda m, g: m.full((6,), 0.5).bernoulli(generator=g),
    "empty": lambda m, g: m.zeros(0).exponential_(generator=g),
    "scalar": lambda m, g: m.zeros(()).cauchy_(generator=g),
}


@pytest.mark.parametrize("name", list(FILLS))
def test_fill_matches_torch(name):
    def program(m):
        g = m.Generator().manual_seed(2024)
        out = FILLS[name](m, g)
        return (out, m.rand(3, dtype=m.float64, generator=g),
                m.randn(3, dtype=m.float64, generator=g))
    check(program)


def test_default_generator():
    def program(m):
        m.manual_seed(7)
        return (m.zeros(5).exponential_(), m.zeros(5).cauchy_(), m.zeros(4).log_normal_(),
                m.rand(2))
    check(program)


SAMPLERS = {
    "multinomial_1": lambda m, g: m.multinomial(m.tensor([0.1, 0.2, 0.7]), 1, generator=g),
    "multinomial_noreplace": lambda m, g: m.multinomial(
        m.tensor([1., 2., 3., 4., 5.]), 4, generator=g),
    "multinomial_noreplace_2d": lambda m, g: m.multinomial(
        m.rand(3, 6, generator=g) + 0.1, 3, generator=g),
    "multinomial_noreplace_2d_t": lambda m, g: m.multinomial(
        (m.rand(6, 3, generator=g) + 0.1).t(), 2, generator=g),
    "multinomial_noreplace_f64": lambda m, g: m.multinomial(
        m.tensor([0.3, 0.0, 0.2, 0.5], dtype=m.float64), 3, generator=g),
    "multinomial_replace": lambda m, g: m.multinomial(
        m.tensor([0.1, 0.2, 0.7]), 20, True, generator=g),
    "multinomial_replace_2d": lambda m, g: m.multinomial(
        m.tensor([[0., 1., 2.], [5., 0., 0.], [1., 1., 1.]]), 10, replacement=True,
        generator=g),
    "multinomial_replace_f64": lambda m, g: m.multinomial(
        m.rand(4, 7, dtype=m.float64, generator=g), 9, True, generator=g),
    "multinomial_replace_f16": lambda m, g: m.multinomial(
        m.rand(2, 5, generator=g).half(), 6, True, generator=g),
    "multinomial_method": lambda m, g: m.tensor([0.5, 0.5]).multinomial(3, True, generator=g),
    "poisson": lambda m, g: m.poisson(m.tensor([0., 0.5, 3., 9.99, 10., 55., 1e4]),
                                      generator=g),
    "poisson_f64_2d": lambda m, g: m.poisson(m.rand(3, 5, dtype=m.float64, generator=g) * 30,
                                             generator=g),
    "standard_gamma": lambda m, g: m._standard_gamma(
        m.tensor([0.05, 0.5, 1., 2.5, 10., 200.]), generator=g),
    "standard_gamma_f64": lambda m, g: m._standard_gamma(
        m.rand(3, 4, dtype=m.float64, generator=g) * 4, generator=g),
    "sample_dirichlet": lambda m, g: m._sample_dirichlet(
        m.tensor([[0.5, 1., 2.], [3., 0.1, 7.]]), generator=g),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_sampler_matches_torch(name):
    def program(m):
        g = m.Generator().manual_seed(99)
        return SAMPLERS[name](m, g), m.rand(2, dtype=m.float64, generator=g)
    check(program)


def test_samplers_are_differentiable_with_zero_gradients():
    def program(m):
        p = m.full((4,), 0.5, requires_grad=True)
        rates = m.full((3,), 2.0, requires_grad=True)
        m.manual_seed(1)
        b, q = m.bernoulli(p), m.poisson(rates)
        (b.sum() + q.sum()).backward()
        return b.requires_grad, p.grad, rates.grad
    check(program)


def test_fill_of_non_leaf_blocks_gradient():
    def program(m):
        x = m.ones(4, requires_grad=True)
        y = x * 2
        y.uniform_(generator=m.Generator().manual_seed(0))
        y.sum().backward()
        return x.grad
    check(program)


def test_fill_returns_self_and_bumps_version():
    x = ember.zeros(3)
    v = x._version
    assert x.normal_() is x and x._version > v


def test_fill_through_view_writes_base():
    def program(m):
        base = m.zeros(4, 6)
        base[:, 1:4].exponential_(generator=m.Generator().manual_seed(3))
        return base
    check(program)


ERRORS = [
    lambda m: m.zeros(3, requires_grad=True).uniform_(),
    lambda m: m.zeros(3).uniform_(2, 1),
    lambda m: m.zeros(3, dtype=m.int32).uniform_(),
    lambda m: m.zeros(3, dtype=m.int32).normal_(),
    lambda m: m.zeros(3).normal_(0, -1),
    lambda m: m.zeros(3).exponential_(-1),
    lambda m: m.zeros(3).exponential_(0),
    lambda m: m.zeros(3, dtype=m.int32).exponential_(),
    lambda m: m.zeros(3).geometric_(0),
    lambda m: m.zeros(3).geometric_(1),
    lambda m: m.zeros(3, dtype=m.bool).geometric_(0.5),
    lambda m: m.zeros(3).log_normal_(0, 0),
    lambda m: m.zeros(3, dtype=m.int64).log_normal_(),
    lambda m: m.zeros(3).cauchy_(0, -1),
    lambda m: m.zeros(3, dtype=m.int32).cauchy_(),
    lambda m: m.zeros(3).bernoulli_(1.5),
    lambda m: m.zeros(3).bernoulli_(m.tensor([1, 0, 1])),
    lambda m: m.zeros(3).random_(5, 3),
    lambda m: m.zeros(3).random_(-5),
    lambda m: m.zeros(3, dtype=m.int8).random_(0, 1000),
    lambda m: m.multinomial(m.tensor([0.1, -1.]), 1),
    lambda m: m.multinomial(m.tensor([0., 0.]), 1),
    lambda m: m.multinomial(m.tensor([0.1, 0.2]), 3),
    lambda m: m.multinomial(m.zeros(2, 2, 2), 1),
    lambda m: m.multinomial(m.tensor(0.5), 1),
    lambda m: m.multinomial(m.tensor([1, 2]), 1),
    lambda m: m.multinomial(m.tensor([0.1, float("inf")]), 2, True),
    lambda m: m.multinomial(m.tensor([0.1, -0.2]), 2, True),
    lambda m: m.multinomial(m.tensor([0., 0.]), 2, True),
    lambda m: m.multinomial(m.tensor([0.1, 0.2]), 0),
    lambda m: m.poisson(m.tensor([-1.])),
    lambda m: m.poisson(m.tensor([1])),
    lambda m: m.bernoulli(m.tensor([1, 0])),
    lambda m: m.bernoulli(m.tensor([0.5]), p=2.),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    check(ERRORS[i])
