"""Conv1d/2d/3d, ConvTranspose1d/2d/3d and the Lazy forms against torch.nn: seeded
initialization, reprs, state_dict keys, outputs and gradients for every option, errors, and
conv's wrong-channel message behind the module path (NOTE [ Module paths in errors ])."""

from __future__ import annotations

import copy
import pickle
import re
import runpy
import sys

import numpy as np
import pytest
import torch

import ember

from .util import close, e_, np_of, raises_like, same, text


def _seeded(lib, make, seed=0):
    lib.manual_seed(seed)
    return make(lib)


def _outputs(y):
    return list(y) if isinstance(y, tuple) else [y]


def compare(make, *shapes, call=lambda m, *xs: m(*xs), rtol=1e-4, atol=1e-5, seed=0):
    """``make(lib)`` built in torch and ember (ember's weights copied from torch through
    state_dict -> numpy) give the same repr, state_dict keys, outputs and gradients for the
    inputs and parameters, in train and eval mode. Returns the pair."""
    t = _seeded(torch, make, seed)
    e = _seeded(ember, make, seed)
    assert repr(e) == text(repr(t))
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: e_(v) for k, v in t.state_dict().items()})
    rng = np.random.default_rng(seed)
    for train in (True, False):
        t.train(train)
        e.train(train)
        xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        xt = [torch.tensor(x, requires_grad=True) for x in xs]
        xe = [ember.tensor(x).requires_grad_() for x in xs]
        yt, ye = _outputs(call(t, *xt)), _outputs(call(e, *xe))
        assert len(yt) == len(ye)
        for a, b in zip(yt, ye):
            assert tuple(a.shape) == tuple(b.shape)
            close(a, b, rtol, atol)
        g = [rng.standard_normal(tuple(y.shape)).astype(np.float32) for y in yt
             if y.is_floating_point()]
        sum((y * torch.tensor(gi)).sum() for y, gi in zip(yt, g)).backward()
        sum((y * ember.tensor(gi)).sum() for y, gi in zip(ye, g)).backward()
        for a, b in zip(xt, xe):
            close(a.grad, b.grad, rtol, atol)
        for (n, p), (m, q) in zip(t.named_parameters(), e.named_parameters()):
            assert n == m
            close(p.grad, q.grad, rtol, atol)
        t.zero_grad()
        e.zero_grad()
    return t, e


# -- Conv ---------------------------------------------------------------------------------------

CONV = [
    (lambda nn: nn.Conv1d(3, 4, 3), (2, 3, 9)),
    (lambda nn: nn.Conv1d(4, 6, 2, stride=2, padding=1, dilation=2, groups=2), (2, 4, 11)),
    (lambda nn: nn.Conv1d(3, 4, 4, padding="same", dilation=3), (2, 3, 10)),
    (lambda nn: nn.Conv1d(3, 4, 3, padding="valid", bias=False), (3, 8)),  # unbatched
    (lambda nn: nn.Conv1d(2, 4, 3, padding=2, padding_mode="circular"), (2, 2, 5)),
    (lambda nn: nn.Conv2d(3, 6, 3), (2, 3, 7, 6)),
    (lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                          groups=2), (2, 4, 8, 7)),
    (lambda nn: nn.Conv2d(3, 5, (4, 3), padding="same", dilation=(1, 2)), (2, 3, 6, 7)),
    (lambda nn: nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect", groups=3), (2, 3, 5, 5)),
    (lambda nn: nn.Conv2d(2, 4, 3, padding=(2, 1), padding_mode="replicate", bias=False),
     (2, 5, 4)),  # unbatched
    (lambda nn: nn.Conv2d(2, 4, 3, stride=2, padding=(1, 2), padding_mode="circular"),
     (1, 2, 6, 5)),
    (lambda nn: nn.Conv3d(2, 4, 2), (2, 2, 4, 3, 4)),
    (lambda nn: nn.Conv3d(4, 4, (1, 2, 3), stride=(1, 2, 1), padding=(0, 1, 1),
                          dilation=(2, 1, 1), groups=4, bias=False), (1, 4, 5, 4, 5)),
    (lambda nn: nn.Conv3d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 3, 3, 4)),
    (lambda nn: nn.Conv3d(2, 3, 2, padding="same", padding_mode="replicate"), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("make, shape", CONV)
def test_conv_matches_torch(make, shape):
    compare(lambda lib: make(lib.nn), shape)


CONV_T = [
    (lambda nn: nn.ConvTranspose1d(3, 4, 3), (2, 3, 5)),
    (lambda nn: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                   dilation=2), (2, 4, 5)),
    (lambda nn: nn.ConvTranspose1d(3, 2, 2, bias=False), (3, 4)),  # unbatched
    (lambda nn: nn.ConvTranspose2d(3, 4, 3), (2, 3, 4, 5)),
    (lambda nn: nn.ConvTranspose2d(4, 2, (3, 2), stride=(2, 3), padding=(1, 0),
                                   output_padding=(1, 2), groups=2, dilation=(1, 1)),
     (2, 4, 3, 4)),
    (lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=1, output_padding=1, dilation=2),
     (2, 4, 4)),  # output_padding < dilation, unbatched
    (lambda nn: nn.ConvTranspose3d(2, 3, 2, stride=2, bias=False), (1, 2, 2, 3, 2)),
    (lambda nn: nn.ConvTranspose3d(4, 4, (2, 3, 1), stride=(1, 2, 2), padding=(0, 1, 0),
                                   output_padding=(0, 1, 1), groups=4), (2, 4, 3, 3, 2)),
]


@pytest.mark.parametrize("make, shape", CONV_T)
def test_conv_transpose_matches_torch(make, shape):
    compare(lambda lib: make(lib.nn), shape)


@pytest.mark.parametrize("d, size, in_shape", [
    (1, [10], (2, 4, 5)),
    (2, [8, 7], (2, 4, 4, 4)),
    (2, [2, 3, 8, 7], (2, 4, 4, 4)),  # with batch and channel dims
    (2, [3, 8, 8], (4, 4, 4)),  # unbatched: channel dim leads
    (3, [6, 5, 8], (1, 4, 3, 3, 4)),
])
def test_conv_transpose_output_size(d, size, in_shape):
    compare(lambda lib: getattr(lib.nn, f"ConvTranspose{d}d")(4, 3, 3, stride=2, padding=1),
            in_shape, call=lambda m, x: m(x, output_size=size))


@pytest.mark.parametrize("size", [[20, 20], [7, 8], [1, 2, 3]])
def test_conv_transpose_bad_output_size(size):
    x = np.ones((1, 4, 4, 4), np.float32)
    raises_like(lambda: torch.nn.ConvTranspose2d(4, 3, 3, stride=2)(torch.tensor(x), size),
                lambda: ember.nn.ConvTranspose2d(4, 3, 3, stride=2)(ember.tensor(x), size))


# -- initialization, repr, state_dict -------------------------------------------------------------

INIT = [
    lambda nn: nn.Conv1d(3, 8, 5),
    lambda nn: nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False),
    lambda nn: nn.Conv2d(6, 9, (3, 1), padding="same", dilation=2, groups=3,
                         padding_mode="circular"),
    lambda nn: nn.Conv3d(2, 4, (1, 2, 3), padding="valid", padding_mode="reflect"),
    lambda nn: nn.ConvTranspose1d(4, 6, 3, groups=2, output_padding=1, stride=2),
    lambda nn: nn.ConvTranspose2d(5, 3, 4, stride=2, padding=1, dilation=3),
    lambda nn: nn.ConvTranspose3d(2, 2, 2, bias=False),
    lambda nn: nn.Conv2d(0, 4, 3),  # zero fan-in
]


@pytest.mark.parametrize("seed", [0, 1234])
@pytest.mark.parametrize("make", INIT)
def test_seeded_init_is_bit_exact_with_torch(make, seed):
    t, e = _seeded(torch, lambda lib: make(lib.nn), seed), _seeded(ember, lambda lib: make(lib.nn),
                                                                     seed)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for (n, p), (m, q) in zip(t.named_parameters(), e.named_parameters()):
        assert n == m and isinstance(q, ember.nn.Parameter)
        same(p, q)
    same(torch.rand(3), ember.rand(3))  # the generator is left where torch leaves it
    _seeded(torch, lambda lib: t.reset_parameters(), seed + 1)
    _seeded(ember, lambda lib: e.reset_parameters(), seed + 1)
    for p, q in zip(t.parameters(), e.parameters()):
        same(p, q)


def test_attributes_match_torch():
    names = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
             "transposed", "output_padding", "groups", "padding_mode",
             "_reversed_padding_repeated_twice"]
    for make in [*INIT, lambda nn: nn.Conv2d(2, 2, (4, 5), padding="same", dilation=(2, 1)),
                 lambda nn: nn.Conv1d(2, 2, [3], padding=[2], stride=[2])]:
        t, e = make(torch.nn), make(ember.nn)
        for n in names:
            assert getattr(e, n) == getattr(t, n), n
            assert type(getattr(e, n)) is type(getattr(t, n)), n
        assert e.__constants__ == t.__constants__


def test_dtype_and_nested_repr():
    def make(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(3, 8, 3, dtype=lib.float64),
                             nn.Sequential(nn.ConvTranspose2d(8, 4, 2, stride=2),
                                           nn.Conv1d(1, 1, 1)))
    t, e = _seeded(torch, make), _seeded(ember, make)
    assert repr(e) == repr(t)
    assert e[0].weight.dtype == ember.float64 and e[0].bias.dtype == ember.float64
    assert list(e.state_dict()) == list(t.state_dict())
    for p, q in zip(t.parameters(), e.parameters()):
        same(p, q)


def test_copy_and_pickle_round_trip():
    m = ember.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(c) is ember.nn.Conv2d and repr(c) == repr(m)
        x = ember.ones(1, 2, 4, 4)
        np.testing.assert_array_equal(np_of(c(x)), np_of(m(x)))


# -- construction errors ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", ["Conv1d", "Conv2d", "Conv3d"])
@pytest.mark.parametrize("args, kwargs", [
    ((4, 4, 3), {"groups": 0}),
    ((3, 4, 3), {"groups": 2}),
    ((4, 3, 3), {"groups": 2}),
    ((2, 2, 3), {"padding": "full"}),
    ((2, 2, 3), {"padding": "same", "stride": 2}),
    ((2, 2, 3), {"padding_mode": "mirror"}),
])
def test_conv_constructor_errors_match_torch(cls, args, kwargs):
    with pytest.raises(ValueError) as et:
        getattr(torch.nn, cls)(*args, **kwargs)
    with pytest.raises(ValueError) as ee:
        getattr(ember.nn, cls)(*args, **kwargs)
    # the messages show Python sets, whose order varies with the hash seed
    def unordered(msg):
        return re.sub(r"\{[^}]*\}", lambda m: str(sorted(m.group(0)[1:-1].split(", "))), msg)
    assert unordered(str(ee.value)) == unordered(str(et.value))


@pytest.mark.parametrize("cls", ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"])
@pytest.mark.parametrize("kwargs", [{"padding_mode": "reflect"}, {"groups": 2}])
def test_conv_transpose_constructor_errors_match_torch(cls, kwargs):
    raises_like(lambda: getattr(torch.nn, cls)(3, 2, 3, **kwargs),
                lambda: getattr(ember.nn, cls)(3, 2, 3, **kwargs))


# -- module paths in shape errors -------------------------------------------------------------

def _net():
    nn = ember.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Identity(), nn.MaxPool2d(2),
                                          nn.Conv2d(16, 32, 3))
            self.head = nn.ModuleDict({"up": nn.ConvTranspose2d(32, 4, 2)})

        def forward(self, x, skip_features=False):
            return self.head["up"](x if skip_features else self.features(x))

    return Net()


def test_wrong_channels_error_names_module_path():
    net = _net()
    with pytest.raises(RuntimeError) as info:
        net(ember.ones(2, 3, 16, 16))
    assert str(info.value) == ("features.3 (Conv2d 16->32): expected input with 16 channels, "
                               "got [2, 8, 7, 7]")
    # torch's own message stays reachable as the cause
    assert "expected input[2, 8, 7, 7] to have 16 channels" in str(info.value.__cause__)
    with pytest.raises(RuntimeError, match=r"^features\.0 \(Conv2d 3->8\): expected input with "
                                           r"3 channels, got \[5, 16, 16\]$"):
        net(ember.ones(5, 16, 16))  # unbatched
    with pytest.raises(RuntimeError, match=r"^head\.up \(ConvTranspose2d 32->4\): expected "
                                           r"input with 32 channels, got \[1, 3, 2, 2\]$"):
        net(ember.ones(1, 3, 2, 2), skip_features=True)


def test_path_found_with_hooks_and_when_called_directly():
    net = _net()
    net.features[3].register_forward_hook(lambda *a: None)  # the slow __call__ path
    net.register_forward_pre_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match=r"^features\.3 \(Conv2d 16->32\)"):
        net(ember.ones(1, 3, 16, 16))
    # a layer called on its own has no path, only its summary
    with pytest.raises(RuntimeError, match=r"^Conv2d 16->32: expected input with 16 channels, "
                                           r"got \[1, 8, 5, 5\]$"):
        net.features[3](ember.ones(1, 8, 5, 5))
    # nested calls of the same model: the outermost model wins
    outer = ember.nn.Sequential(ember.nn.Identity(), net)
    with pytest.raises(RuntimeError, match=r"^1\.features\.3 \(Conv2d 16->32\)"):
        outer(ember.ones(1, 3, 16, 16))


def test_other_conv_errors_keep_torch_message_after_path():
    net = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 5))
    with pytest.raises(RuntimeError) as info:
        net(ember.ones(1, 3, 2, 2))
    with pytest.raises(RuntimeError) as tinfo:
        torch.nn.Conv2d(3, 4, 5)(torch.ones(1, 3, 2, 2))
    assert str(info.value) == "0 (Conv2d 3->4): " + text(str(tinfo.value))
    with pytest.raises(RuntimeError, match=r"^0 \(Conv2d 3->4\): Expected 3D \(unbatched\) or "
                                           r"4D \(batched\) input to conv2d"):
        net(ember.ones(3, 2))


def test_error_path_leaves_no_state():
    """Paths are looked up only on error: no hooks, no back-references, nothing left after."""
    net = _net()
    conv = net.features[3]
    before = set(vars(conv))
    with pytest.raises(RuntimeError):
        net(ember.ones(1, 3, 16, 16))
    assert set(vars(conv)) == before == set(vars(ember.nn.Conv2d(16, 32, 3)))
    assert not conv._forward_pre_hooks and not conv._forward_hooks


# -- lazy -------------------------------------------------------------------------------------

LAZY = [
    (lambda nn: nn.LazyConv1d(4, 3, stride=2), (2, 3, 9)),
    (lambda nn: nn.LazyConv2d(6, 3, padding=1, groups=2, bias=False), (2, 4, 5, 5)),
    (lambda nn: nn.LazyConv3d(2, 2, padding_mode="circular", padding=1), (3, 3, 3, 3)),
    (lambda nn: nn.LazyConvTranspose1d(4, 3, stride=2, output_padding=1), (2, 3, 5)),
    (lambda nn: nn.LazyConvTranspose2d(4, 3, groups=2, dilation=2), (2, 4, 3, 3)),
    (lambda nn: nn.LazyConvTranspose3d(2, 2, bias=False), (1, 2, 2, 2, 2)),
]


@pytest.mark.parametrize("make, shape", LAZY)
def test_lazy_conv_materializes_like_torch(make, shape):
    t, e = _seeded(torch, lambda lib: make(lib.nn)), _seeded(ember, lambda lib: make(lib.nn))
    assert repr(e) == repr(t)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    close(t(torch.tensor(x)), e(ember.tensor(x)))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    assert type(e) is getattr(ember.nn, type(t).__name__)
    for (n, p), (m, q) in zip(t.named_parameters(), e.named_parameters()):
        assert n == m
        same(p, q)
    assert e.in_channels == t.in_channels


def test_lazy_conv_load_state_dict_and_errors():
    src = ember.nn.Conv2d(4, 6, 3)
    lazy = ember.nn.LazyConv2d(6, 3)
    lazy.load_state_dict(src.state_dict())
    assert lazy.weight.shape == (6, 4, 3, 3)
    raises_like(lambda: torch.nn.LazyConv2d(4, 3)(torch.ones(2, 3)),
                lambda: ember.nn.LazyConv2d(4, 3)(ember.ones(2, 3)))
    raises_like(lambda: torch.nn.LazyConv2d(4, 3, groups=2)(torch.ones(1, 3, 4, 4)),
                lambda: ember.nn.LazyConv2d(4, 3, groups=2)(ember.ones(1, 3, 4, 4)))


# -- bench smoke ------------------------------------------------------------------------------

def test_bench_nn_runs(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["bench_nn.py", "--quick", "--filter", "linear",
                                      "--json", str(out)])
    with pytest.raises(SystemExit) as info:
        runpy.run_path("bench/bench_nn.py", run_name="__main__")
    assert info.value.code == 0
    assert "linear" in capsys.readouterr().out
    assert out.exists()
