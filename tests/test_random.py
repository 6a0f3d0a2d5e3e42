"""``ember.random`` against PyTorch's CPU generator: the same seed gives the same numbers, bit for
bit, through every sampling function and every way of passing or restoring a generator."""

from __future__ import annotations

import pickle

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


SAMPLERS = {
    "rand": lambda m, g: m.rand(3, 5, generator=g),
    "rand_f64": lambda m, g: m.rand(20, dtype=m.float64, generator=g),
    "rand_f16": lambda m, g: m.rand(17, dtype=m.float16, generator=g),
    "rand_bf16": lambda m, g: m.rand(4, dtype=m.bfloat16, generator=g),
    "rand_c64": lambda m, g: m.rand(3, dtype=m.complex64, generator=g),
    "rand_size_kw": lambda m, g: m.rand(size=(2, 2), generator=g),
    "randn": lambda m, g: m.randn(7, generator=g),
    "randn_16": lambda m, g: m.randn(4, 4, generator=g),
    "randn_big": lambda m, g: m.randn(37, generator=g),
    "randn_f64": lambda m, g: m.randn(19, dtype=m.float64, generator=g),
    "randn_f16": lambda m, g: m.randn(21, dtype=m.float16, generator=g),
    "randn_bf16": lambda m, g: m.randn(5, dtype=m.bfloat16, generator=g),
    "randn_c64": lambda m, g: m.randn(9, dtype=m.complex64, generator=g),
    "randn_empty": lambda m, g: m.randn(0, generator=g),
    "randint": lambda m, g: m.randint(10, (6,), generator=g),
    "randint_low": lambda m, g: m.randint(-5, 5, (2, 3), generator=g),
    "randint_kw": lambda m, g: m.randint(2, 5, size=(3,), generator=g),
    "randint_high_kw": lambda m, g: m.randint(high=5, size=(3,), generator=g),
    "randint_big": lambda m, g: m.randint(0, 2**40, (4,), generator=g),
    "randint_int8": lambda m, g: m.randint(-128, 128, (5,), dtype=m.int8, generator=g),
    "randint_f32": lambda m, g: m.randint(3, (4,), dtype=m.float32, generator=g),
    "randint_bool": lambda m, g: m.randint(0, 2, (6,), dtype=m.bool, generator=g),
    "randperm": lambda m, g: m.randperm(10, generator=g),
    "randperm_f32": lambda m, g: m.randperm(6, dtype=m.float32, generator=g),
    "randperm_1": lambda m, g: m.randperm(1, generator=g),
    "randperm_0": lambda m, g: m.randperm(0, generator=g),
    "normal_floats": lambda m, g: m.normal(2., 3., (5,), generator=g),
    "normal_floats_big": lambda m, g: m.normal(-1., 0.5, size=(33,), generator=g),
    "normal_floats_f64": lambda m, g: m.normal(0., 2., (4,), dtype=m.float64, generator=g),
    "normal_tensor_float": lambda m, g: m.normal(m.arange(5.), 2., generator=g),
    "normal_tensor_float_big": lambda m, g: m.normal(m.arange(20.), 0.5, generator=g),
    "normal_float_tensor": lambda m, g: m.normal(1., m.arange(1., 6.), generator=g),
    "normal_tensors": lambda m, g: m.normal(m.zeros(4, 1), m.ones(3), generator=g),
    "normal_tensors_big": lambda m, g: m.normal(m.arange(18.), m.full((18,), 2.), generator=g),
    "normal_tensors_f16_mean": lambda m, g: m.normal(
        m.zeros(5, dtype=m.float16), m.ones(5), generator=g),
    "normal_f64_std": lambda m, g: m.normal(0., m.ones(3, dtype=m.float64), generator=g),
    "rand_like": lambda m, g: m.rand_like(m.ones(2, 3), generator=g),
    "rand_like_t": lambda m, g: m.rand_like(m.ones(3, 6).t(), generator=g),
    "randn_like": lambda m, g: m.randn_like(m.ones(20, dtype=m.float64), generator=g),
    "randn_like_t": lambda m, g: m.randn_like(m.ones(3, 6).t(), generator=g),
    "randn_like_t_small": lambda m, g: m.randn_like(m.ones(2, 3).t(), generator=g),
    "randint_like": lambda m, g: m.randint_like(m.ones(4), 7, generator=g),
    "randint_like_low": lambda m, g: m.randint_like(m.ones(4, dtype=m.int32), 3, 9,
                                                    generator=g),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_default_generator_stream(name):
    fn = SAMPLERS[name]

    def program(m):
        m.manual_seed(1234)
        first = fn(m, None)
        second = fn(m, None)  # continues the stream
        return (first, second, m.rand(2))
    check(program)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_explicit_generator(name):
    fn = SAMPLERS[name]

    def program(m):
        m.manual_seed(5)
        g = m.Generator().manual_seed(99)
        out = fn(m, g)
        return (out, fn(m, g), m.rand(1), g.initial_seed())  # the default stream is untouched
    check(program)


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 + 7, 2**63 - 1, 2**64 - 1, -1, -(2**63)])
def test_seeds(seed):
    check(lambda m: (m.manual_seed(seed).initial_seed(), m.rand(3), m.randn(2),
                     m.Generator().manual_seed(seed).initial_seed()))


def test_seed_errors():
    check(lambda m: m.manual_seed(2**64))
    check(lambda m: m.Generator().manual_seed(-(2**63) - 1))


def test_states_are_byte_identical():
    def program(m):
        m.manual_seed(3)
        m.randn(5)  # leaves a cached Box-Muller sample in the state
        s = m.get_rng_state()
        g = m.Generator().manual_seed(8)
        g_state = g.get_state()
        return (s, g_state, s.dtype, s.shape)
    check(program)


def test_set_state_with_torch_state_continues_identically():
    torch.manual_seed(11)
    torch.randn(3)
    torch.rand(4)
    state = torch.get_rng_state()
    want = (torch.randn(5), torch.rand(3), torch.randint(100, (4,)), torch.randperm(6),
            torch.randn(40))
    ember.set_rng_state(ember.tensor(state.numpy()))
    got = (ember.randn(5), ember.rand(3), ember.randint(100, (4,)), ember.randperm(6),
           ember.randn(40))
    for w, e in zip(want, got):
        assert e.tolist() == w.tolist()
    g = ember.Generator().set_state(ember.from_dlpack(state))
    tg = torch.Generator().set_state(state)
    assert g.initial_seed() == tg.initial_seed() == 11
    assert ember.randn(20, generator=g).tolist() == torch.randn(20, generator=tg).tolist()


def test_state_round_trip_and_independence():
    def program(m):
        m.manual_seed(0)
        s = m.get_rng_state()
        a = m.rand(4)
        m.set_rng_state(s)
        b = m.rand(4)
        g = m.Generator().manual_seed(0)
        gs = g.get_state()
        c = m.rand(4, generator=g)
        g.set_state(gs)
        d = m.rand(4, generator=g)
        h = g.clone_state()
        return (a, b, c, d, m.rand(4, generator=h), m.rand(4, generator=g))
    check(program)


def test_state_errors():
    check(lambda m: m.set_rng_state(m.zeros(3, dtype=m.uint8)))
    check(lambda m: m.set_rng_state(m.zeros(5056)))
    check(lambda m: m.Generator().set_state(m.zeros(5056)))
    check(lambda m: m.Generator().set_state([1]))


def test_seed_and_initial_seed():
    s = ember.seed()
    assert ember.initial_seed() == s and 0 <= s < 2**64
    g = ember.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert g.seed() == g.initial_seed()
    assert ember.manual_seed(3) is ember.default_generator
    assert ember.Generator().device == ember.device("cpu")
    assert repr(ember.Generator()).startswith("<ember.Generator object at 0x")


def test_generator_pickles():
    g = ember.Generator().manual_seed(4)
    ember.rand(3, generator=g)
    h = pickle.loads(pickle.dumps(g))
    assert ember.rand(5, generator=h).tolist() == ember.rand(5, generator=g).tolist()


SAMPLER_ERRORS = [
    lambda m: m.rand(2, dtype=m.int32), lambda m: m.randn(2, dtype=m.int64),
    lambda m: m.rand_like(m.ones(2, dtype=m.int32)),
    lambda m: m.randn_like(m.ones(2, dtype=m.int32)),
    lambda m: m.randint(5, (2,), dtype=m.bool), lambda m: m.randint(-1, 5, (3,), dtype=m.uint8),
    lambda m: m.randint(0, 300, (3,), dtype=m.int8), lambda m: m.randint(5, 5, (3,)),
    lambda m: m.randint(5.5, (3,)), lambda m: m.randint(3, 2), lambda m: m.randint(3, (2, -1)),
    lambda m: m.randint(5, (3,), requires_grad=True), lambda m: m.randperm(-1),
    lambda m: m.randperm(3, dtype=m.bool), lambda m: m.randperm(5, requires_grad=True),
    lambda m: m.normal(0., -1., (2,)), lambda m: m.normal(m.zeros(2), -1.),
    lambda m: m.normal(m.zeros(2), -m.ones(2)), lambda m: m.normal(m.zeros(2, dtype=m.int32), 1.),
    lambda m: m.normal(m.zeros(2), m.ones(3)), lambda m: m.rand(2, -1),
    lambda m: m.rand(2, requires_grad=True).requires_grad,
    lambda m: m.randint(5, (3,), dtype=m.float32, requires_grad=True).requires_grad,
    lambda m: m.normal(m.zeros(2, requires_grad=True), 1.).requires_grad,
    lambda m: m.rand(3, out=m.zeros(3)), lambda m: m.randn(2, out=m.zeros(3)),
    lambda m: m.randint(4, (3,), out=m.zeros(3, dtype=m.int64)),
    lambda m: m.randperm(4, out=m.zeros(4, dtype=m.int64)),
    lambda m: m.normal(0., 1., (2,), out=m.zeros(2)),
    lambda m: m.normal(m.zeros(3), 1., out=m.zeros(3)),
]


@pytest.mark.parametrize("i", range(len(SAMPLER_ERRORS)))
def test_sampler_errors_and_flags(i):
    def program(m):
        m.manual_seed(6)
        return SAMPLER_ERRORS[i](m)
    check(program)


def test_normal_is_differentiable_in_mean_and_std():
    def program(m):
        m.manual_seed(0)
        mean = m.zeros(3, requires_grad=True)
        std = m.ones(3, requires_grad=True)
        m.normal(mean, std).sum().backward()
        return (mean.grad, std.grad, m.normal(mean, 1.).grad_fn is not None)
    check(program)
