"""nn.init against torch.nn.init: exact values for a seed (and a generator), statistics,
errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ember

from .util import close, needs_fills, needs_qr, np_of, raises_like, same


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 1),
                                  ("selu",), ("conv_transpose3d",)])
def test_calculate_gain(args):
    assert ember.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


@pytest.mark.parametrize("args", [("softmax",), ("leaky_relu", True), ("leaky_relu", "x")])
def test_calculate_gain_errors(args):
    raises_like(lambda: torch.nn.init.calculate_gain(*args),
                lambda: ember.nn.init.calculate_gain(*args))


RANDOM = [
    ("uniform_", (3, 5), {}),
    ("uniform_", (40,), {"a": -2.0, "b": 3.0}),
    ("normal_", (4, 6), {"mean": 1.0, "std": 0.5}),
    ("normal_", (5,), {}),
    ("xavier_uniform_", (6, 4), {"gain": 2.0}),
    ("xavier_normal_", (8, 3, 2), {}),
    ("kaiming_uniform_", (7, 5), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (4, 3, 3, 3), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (20, 9), {}),
    ("kaiming_normal_", (6, 2, 5), {"mode": "FAN_OUT", "nonlinearity": "tanh"}),
    ("trunc_normal_", (50, 40), {}),
    ("trunc_normal_", (300,), {"mean": 0.01, "std": 0.02, "a": -0.04, "b": 0.04}),
    ("trunc_normal_", (64,), {"a": -0.3, "b": 0.3}),  # the rejection-sampling branch
    ("trunc_normal_", (64,), {"mean": 2.0, "std": 0.5, "a": -0.5, "b": 0.5}),  # warns
    ("sparse_", (10, 6), {"sparsity": 0.3}),
]


@needs_fills
@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("name,shape,kw", RANDOM)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_inits_are_bit_exact(name, shape, kw, dtype):
    def run(lib):
        lib.manual_seed(11)
        t = lib.empty(shape, dtype=getattr(lib, dtype))
        out = getattr(lib.nn.init, name)(t, **kw)
        assert out is t
        return t
    same(run(torch), run(ember))
    same(torch.rand(2), ember.rand(2))  # the stream is left at the same place


@needs_fills
@pytest.mark.filterwarnings("ignore:mean is more than 2 std")
@pytest.mark.parametrize("name,shape,kw", [r for r in RANDOM if r[0] != "sparse_"])
def test_generator_argument(name, shape, kw):
    gt, ge = torch.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    torch.manual_seed(0)
    ember.manual_seed(0)
    a = getattr(torch.nn.init, name)(torch.empty(shape), **kw, generator=gt)
    b = getattr(ember.nn.init, name)(ember.empty(shape), **kw, generator=ge)
    same(a, b)
    same(torch.rand(2), ember.rand(2))  # the default generator was not used


@needs_fills
def test_init_statistics_and_no_grad():
    ember.manual_seed(0)
    w = ember.nn.Parameter(ember.empty(256, 128))
    ember.nn.init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(6 / 128)
    v = np_of(w)
    assert w.requires_grad and w.grad_fn is None
    assert np.abs(v).max() <= bound and np.abs(v).max() > 0.99 * bound
    assert abs(v.std() - bound / math.sqrt(3)) < 0.01
    ember.nn.init.xavier_normal_(w)
    assert abs(np_of(w).std() - math.sqrt(2 / (256 + 128))) < 0.002
    ember.nn.init.trunc_normal_(w, std=0.5, a=-0.3, b=0.3)
    assert np.abs(np_of(w)).max() <= 0.3
    ember.nn.init.sparse_(w, 0.25)
    assert ((np_of(w) == 0).sum(0) == math.ceil(0.25 * 256)).all()


@pytest.mark.parametrize("name,shape,args", [
    ("constant_", (3, 4), (0.3,)),
    ("ones_", (2, 3), ()),
    ("zeros_", (5,), ()),
    ("eye_", (3, 5), ()),
    ("eye_", (4, 2), ()),
    ("dirac_", (4, 3, 5), ()),
    ("dirac_", (6, 2, 3, 3), (2,)),
    ("dirac_", (4, 4, 3, 2, 3), (4,)),
])
def test_deterministic_inits(name, shape, args):
    def run(lib):
        p = lib.nn.Parameter(lib.full(shape, 7.0))
        out = getattr(lib.nn.init, name)(p, *args)
        assert out is p and p.requires_grad
        return p
    same(run(torch), run(ember))


@needs_fills
@needs_qr
@pytest.mark.parametrize("shape", [(3, 5), (6, 4), (4, 2, 3)])
def test_orthogonal(shape):
    def run(lib):
        lib.manual_seed(2)
        return lib.nn.init.orthogonal_(lib.empty(shape), gain=2.0)
    t, e = run(torch), run(ember)
    close(t, e, rtol=1e-4, atol=1e-5)
    flat = np_of(e).reshape(shape[0], -1)
    small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)),
    lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3, 4), mode="fan_avg"),
    lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
    lambda lib: lib.nn.init.dirac_(lib.empty(2, 2)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 2, 2), groups=2),
    lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    lambda lib: lib.nn.init.sparse_(lib.empty(3), 0.1),
])
def test_init_errors(call):
    raises_like(lambda: call(torch), lambda: call(ember))


def test_zero_element_and_deprecated_aliases():
    with pytest.warns(UserWarning, match="zero-element"):
        t = ember.nn.init.kaiming_normal_(ember.empty(0, 3))
    assert t.shape == (0, 3)
    with pytest.warns(FutureWarning, match="nn.init.constant_"):
        ember.nn.init.constant(ember.empty(2), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.init.zeros_(ember.empty(2))
