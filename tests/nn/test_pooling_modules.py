"""Pooling, unpooling, padding, pixel/channel shuffle and fold layers against torch.nn:
attributes, reprs, outputs and gradients for every option, errors, module paths in errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

from .test_conv_modules import compare
from .util import close, e_, raises_like, text

POOL = [
    (lambda nn: nn.MaxPool1d(3), (2, 3, 10)),
    (lambda nn: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), (3, 11)),
    (lambda nn: nn.MaxPool2d(2), (2, 3, 6, 7)),
    (lambda nn: nn.MaxPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True), (2, 2, 7, 6)),
    (lambda nn: nn.MaxPool2d(2, dilation=2, return_indices=True), (2, 7, 7)),
    (lambda nn: nn.MaxPool3d(2, stride=1, padding=1, return_indices=True), (1, 2, 3, 4, 3)),
    (lambda nn: nn.MaxPool3d((1, 2, 2), ceil_mode=True), (2, 5, 5, 5)),
    (lambda nn: nn.AvgPool1d(3), (2, 3, 10)),
    (lambda nn: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (3, 10)),
    (lambda nn: nn.AvgPool2d(2), (2, 3, 6, 7)),
    (lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
     (2, 2, 8, 7)),
    (lambda nn: nn.AvgPool2d((2, 3), divisor_override=4), (3, 6, 6)),
    (lambda nn: nn.AvgPool3d(2, stride=1, padding=1, divisor_override=3), (1, 2, 3, 4, 3)),
    (lambda nn: nn.AvgPool3d((1, 2, 2), count_include_pad=False, padding=(0, 1, 1)),
     (2, 3, 4, 5)),
    (lambda nn: nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
    (lambda nn: nn.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 5)),
    (lambda nn: nn.AdaptiveAvgPool2d(1), (3, 6, 6)),
    (lambda nn: nn.AdaptiveAvgPool3d((2, 3, 2)), (1, 2, 5, 4, 3)),
    (lambda nn: nn.AdaptiveMaxPool1d(3, return_indices=True), (2, 3, 10)),
    (lambda nn: nn.AdaptiveMaxPool2d((None, 3)), (2, 3, 7, 5)),
    (lambda nn: nn.AdaptiveMaxPool2d(2, return_indices=True), (3, 5, 5)),
    (lambda nn: nn.AdaptiveMaxPool3d(2), (1, 2, 5, 4, 3)),
    (lambda nn: nn.LPPool1d(2, 3), (2, 3, 10)),
    (lambda nn: nn.LPPool1d(1.5, 3, stride=2, ceil_mode=True), (3, 10)),
    (lambda nn: nn.LPPool2d(3, (2, 3), stride=1), (2, 2, 6, 6)),
    (lambda nn: nn.LPPool2d(float("inf"), 2), (2, 2, 6, 6)),
    (lambda nn: nn.LPPool3d(2, 2), (1, 2, 4, 4, 4)),
]


def _positive(m, x):
    """LPPool with fractional p needs non-negative inputs."""
    return m(x.abs() + 0.1)


@pytest.mark.parametrize("make, shape", POOL)
def test_pooling_matches_torch(make, shape):
    compare(lambda lib: make(lib.nn), shape, call=_positive)


def test_pool_attributes_match_torch():
    for make, _ in POOL:
        t, e = make(torch.nn), make(ember.nn)
        assert vars(e).keys() >= {k for k in vars(t) if not k.startswith("_")}
        for k, v in vars(t).items():
            if not k.startswith("_"):
                assert getattr(e, k) == v and type(getattr(e, k)) is type(v), k
        assert getattr(e, "__constants__", None) == getattr(t, "__constants__", None)


@pytest.mark.parametrize("d, kwargs, shape, size", [
    (1, {"kernel_size": 2}, (2, 3, 8), None),
    (1, {"kernel_size": 3, "stride": 2, "padding": 1}, (3, 9), [9]),
    (2, {"kernel_size": 2}, (2, 3, 6, 6), None),
    (2, {"kernel_size": (2, 3), "stride": (2, 2), "padding": (1, 1)}, (1, 2, 5, 7),
     [1, 2, 5, 8]),
    (3, {"kernel_size": 2}, (1, 2, 4, 4, 4), [5, 4, 5]),
])
def test_max_unpool_matches_torch(d, kwargs, shape, size):
    def make(lib):
        nn = lib.nn

        class PoolUnpool(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = getattr(nn, f"MaxPool{d}d")(return_indices=True, **kwargs)
                self.unpool = getattr(nn, f"MaxUnpool{d}d")(**kwargs)

            def forward(self, x):
                y, i = self.pool(x)
                return self.unpool(y, i, output_size=size)
        return PoolUnpool()
    compare(make, shape)
    t, e = make(torch).unpool, make(ember).unpool
    for k in ("kernel_size", "stride", "padding"):
        assert getattr(e, k) == getattr(t, k)


@pytest.mark.parametrize("d, kwargs, shape", [
    (2, {"kernel_size": 2, "output_size": 3}, (2, 3, 7, 7)),
    (2, {"kernel_size": (2, 3), "output_ratio": 0.5, "return_indices": True}, (2, 8, 9)),
    (3, {"kernel_size": 2, "output_size": (2, 3, 2), "return_indices": True}, (1, 2, 5, 6, 5)),
    (3, {"kernel_size": 2, "output_ratio": (0.5, 0.6, 0.5)}, (2, 6, 5, 6)),
])
def test_fractional_max_pool_matches_torch(d, kwargs, shape):
    n, c = (shape[0], shape[1]) if len(shape) == d + 2 else (1, shape[0])
    samples = np.random.default_rng(1).random((n, c, d)).astype(np.float32)

    def make(lib):
        return getattr(lib.nn, f"FractionalMaxPool{d}d")(
            _random_samples=lib.tensor(samples), **kwargs)
    compare(make, shape)


@pytest.mark.parametrize("args", [
    {"kernel_size": 2},
    {"kernel_size": 2, "output_size": 3, "output_ratio": 0.5},
    {"kernel_size": 2, "output_ratio": 1.5},
    {"kernel_size": 0, "output_size": 2},
])
def test_fractional_max_pool_constructor_errors(args):
    for d in (2, 3):
        if d == 2 and args["kernel_size"] == 0:
            continue
        name = f"FractionalMaxPool{d}d"
        raises_like(lambda: getattr(torch.nn, name)(**args),  # noqa: B023
                    lambda: getattr(ember.nn, name)(**args))  # noqa: B023


# -- padding ----------------------------------------------------------------------------------

PAD = [
    (lambda nn: nn.ZeroPad1d(2), (2, 3, 4)),
    (lambda nn: nn.ZeroPad1d((1, -1)), (3, 4)),
    (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 4)),
    (lambda nn: nn.ZeroPad3d(1), (1, 2, 2, 3, 2)),
    (lambda nn: nn.ConstantPad1d((2, 1), 3.5), (2, 3, 4)),
    (lambda nn: nn.ConstantPad2d(1, -1.0), (3, 4, 4)),
    (lambda nn: nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 2), (1, 2, 2, 3, 2)),
    (lambda nn: nn.ReflectionPad1d((2, 1)), (2, 3, 4)),
    (lambda nn: nn.ReflectionPad2d(2), (3, 4, 4)),
    (lambda nn: nn.ReflectionPad3d((1, 0, 2, 1, 0, 1)), (1, 2, 2, 3, 3)),
    (lambda nn: nn.ReplicationPad1d(3), (3, 4)),
    (lambda nn: nn.ReplicationPad2d((1, 2, 3, 0)), (2, 3, 4, 4)),
    (lambda nn: nn.ReplicationPad3d(2), (2, 2, 3, 2)),
    (lambda nn: nn.CircularPad1d((2, 3)), (2, 3, 4)),
    (lambda nn: nn.CircularPad2d(1), (3, 4, 4)),
    (lambda nn: nn.CircularPad3d((1, 0, 2, 1, 0, 1)), (1, 2, 2, 3, 3)),
]


@pytest.mark.parametrize("make, shape", PAD)
def test_padding_matches_torch(make, shape):
    t, e = compare(lambda lib: make(lib.nn), shape)
    assert e.padding == t.padding and type(e.padding) is tuple
    assert getattr(e, "value", None) == getattr(t, "value", None)
    # the public classes it derives from (ZeroPad2d is a ConstantPad2d)
    assert [c.__name__ for c in type(e).__mro__ if not c.__name__.startswith("_")] == \
        [c.__name__ for c in type(t).__mro__ if not c.__name__.startswith("_")]


def test_padding_errors_match_torch():
    x = np.ones((2, 3), np.float32)
    for name in ("CircularPad2d", "CircularPad3d"):
        raises_like(lambda: getattr(torch.nn, name)(1)(torch.tensor(x)),  # noqa: B023
                    lambda: getattr(ember.nn, name)(1)(ember.tensor(x)))  # noqa: B023
    with pytest.raises(RuntimeError) as et:
        torch.nn.ReflectionPad1d(4)(torch.ones(1, 2, 3))
    with pytest.raises(RuntimeError) as ee:
        ember.nn.Sequential(ember.nn.ReflectionPad1d(4))(ember.ones(1, 2, 3))
    assert str(ee.value) == "0 (ReflectionPad1d): " + text(str(et.value))


# -- shuffles and fold ------------------------------------------------------------------------

OTHER = [
    (lambda nn: nn.PixelShuffle(2), (2, 8, 3, 3)),
    (lambda nn: nn.PixelShuffle(3), (9, 2, 2)),
    (lambda nn: nn.PixelUnshuffle(2), (2, 2, 4, 6)),
    (lambda nn: nn.PixelUnshuffle(1), (3, 2, 2)),
    (lambda nn: nn.ChannelShuffle(2), (2, 4, 3, 3)),
    (lambda nn: nn.ChannelShuffle(3), (1, 6, 5)),
    (lambda nn: nn.Unfold(2), (2, 3, 4, 5)),
    (lambda nn: nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2), (3, 5, 6)),
    (lambda nn: nn.Fold((4, 5), 2), (2, 12, 12)),
    (lambda nn: nn.Fold(5, (2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2)),
     (6, 10)),
]


@pytest.mark.parametrize("make, shape", OTHER)
def test_shuffle_and_fold_match_torch(make, shape):
    t, e = compare(lambda lib: make(lib.nn), shape)
    for k, v in vars(t).items():
        if not k.startswith("_"):
            assert getattr(e, k) == v, k


def test_layer_errors_name_the_path():
    nn = ember.nn
    net = nn.Sequential(nn.Identity(), nn.ModuleDict({"pool": nn.MaxPool2d(4),
                                                      "fold": nn.Fold(3, 2)}))
    with pytest.raises(RuntimeError) as et:
        torch.nn.MaxPool2d(4)(torch.ones(1, 2, 3, 3))
    x = ember.ones(1, 2, 3, 3)

    class Apply(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x, key):
            return self.net[1][key](self.net[0](x))

    with pytest.raises(RuntimeError) as ee:
        Apply()(x, "pool")
    assert str(ee.value) == "net.1.pool (MaxPool2d): " + text(str(et.value))
    with pytest.raises(RuntimeError, match=r"^net\.1\.fold \(Fold\): "):
        Apply()(ember.ones(1, 5, 4), "fold")
    with pytest.raises(RuntimeError, match=r"^PixelShuffle: pixel_shuffle expects"):
        nn.PixelShuffle(2)(ember.ones(1, 3, 2, 2))


def test_pool_outputs_match_torch_in_float64():
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 8))
    for make in (lambda nn: nn.MaxPool2d(3, 2, 1), lambda nn: nn.AvgPool2d(3, 2, 1),
                 lambda nn: nn.AdaptiveAvgPool2d((4, 3)), lambda nn: nn.LPPool2d(2, 3, 2)):
        close(make(torch.nn)(torch.tensor(x)), make(ember.nn)(e_(torch.tensor(x))),
              rtol=1e-12, atol=1e-12)
