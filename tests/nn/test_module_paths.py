"""Errors raised in a module's forward name the module's path in the model and a summary of
it, in front of PyTorch's message, with PyTorch's exception type; control-flow exceptions and
hook errors pass unchanged (NOTE [ Module paths in errors ])."""

from __future__ import annotations

import traceback

import pytest
import torch

import ember

from .util import text, unlocated


def _raised(fn) -> BaseException:
    with pytest.raises(BaseException) as info:
        fn()
    return info.value


def _like_torch(make, inputs, where: str):
    """``make(lib)`` called on ``inputs(lib)`` fails in torch and in ember with the same type;
    ember's message is ``where: <ember's message>`` and contains torch's."""
    et = _raised(lambda: make(torch)(*inputs(torch)))
    ee = _raised(lambda: make(ember)(*inputs(ember)))
    assert type(ee) is type(et), (et, ee)
    assert str(ee) == f"{where}: {unlocated(ee)}"
    assert text(str(et)) in str(ee), (str(et), str(ee))
    return ee


# -- the path ---------------------------------------------------------------------------------

def _encoder(lib, **broken):
    """A small model; ``broken`` replaces submodules (dotted path -> ``f(nn)``)."""
    nn = lib.nn

    class Layer(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.linear1 = nn.Linear(d_in, 64)
            self.norm = nn.LayerNorm(64)
            self.linear2 = nn.Linear(64, d_out)

        def forward(self, x):
            return self.linear2(self.norm(self.linear1(x)))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Sequential(nn.Linear(64, 64), nn.ReLU()),
                                         Layer(64, 64), Layer(64, 10)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.heads = nn.ModuleDict({"cls": nn.Sequential(nn.Flatten(), nn.Linear(10, 2))})

        def forward(self, x):
            return self.heads["cls"](self.encoder(x))

    model = Model()
    for path, make in broken.items():
        parent, _, name = path.replace("__", ".").rpartition(".")
        setattr(model.get_submodule(parent), name, make(nn))
    return model


def _x(*shape):
    return lambda lib: (lib.ones(*shape),)


def test_nested_containers_and_custom_modules():
    assert _encoder(ember)(ember.ones(8, 64)).shape == (8, 2)
    _like_torch(_encoder, _x(8, 32), where="encoder.layers.0.0 (Linear 64->64)")
    e = _like_torch(lambda lib: _encoder(lib, encoder__layers__1__linear2=lambda nn:
                                         nn.Linear(32, 64)),
                    _x(8, 64), where="encoder.layers.1.linear2 (Linear 32->64)")
    assert "(8x64 and 32x64)" in str(e)
    _like_torch(lambda lib: _encoder(lib, encoder__layers__2__norm=lambda nn: nn.LayerNorm(32)),
                _x(8, 64), where="encoder.layers.2.norm (LayerNorm (32,))")
    _like_torch(lambda lib: _encoder(lib, heads__cls__1=lambda nn: nn.Linear(12, 2)),
                _x(8, 64), where="heads.cls.1 (Linear 12->2)")
    # the same layers called from a part of the model: paths relative to that part
    _like_torch(lambda lib: _encoder(lib).encoder.layers[1], _x(8, 32),
                where="linear1 (Linear 64->64)")


def test_only_the_innermost_module_adds_its_location():
    net = _encoder(ember, encoder__layers__1__linear2=lambda nn: nn.Linear(32, 64))
    e = _raised(lambda: net(ember.ones(8, 64)))
    msg = str(e)
    assert msg.count("(Linear") == 1 and msg.count("linear2") == 1
    assert msg.startswith("encoder.layers.1.linear2 (Linear 32->64): addmm(): ")
    # the exception raised where the op failed, its traceback through every __call__ kept
    frames = traceback.extract_tb(e.__traceback__)
    assert [f.name for f in frames].count("__call__") == 4  # Model, Encoder, Layer, Linear
    assert not frames[-1].filename.endswith("module.py")
    assert e.__cause__ is None


def test_layer_called_alone_gets_its_summary_only():
    e = _like_torch(lambda lib: lib.nn.Linear(16, 32), lambda lib: (lib.ones(8, 12),),
                    where="Linear 16->32")
    assert str(e).startswith("Linear 16->32: addmm(): mat1 and mat2 shapes cannot be")
    _like_torch(lambda lib: lib.nn.Sequential(lib.nn.Linear(16, 32)),
                lambda lib: (lib.ones(8, 12),), where="0 (Linear 16->32)")


def test_functional_call_in_custom_forward_gets_the_custom_module_path():
    def make(lib):
        class Head(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = lib.nn.Parameter(lib.ones(4, 6))

            def forward(self, x):
                return lib.nn.functional.linear(x, self.w).softmax(dim=2)

        return lib.nn.Sequential(lib.nn.Identity(), lib.nn.ModuleDict({"head": Head()})[
            "head"])

    e = _like_torch(make, lambda lib: (lib.ones(3, 5),), where="1 (Head)")
    assert "(3x5 and 6x4)" in str(e)
    e = _like_torch(make, lambda lib: (lib.ones(3, 6),), where="1 (Head)")
    assert type(e) is IndexError


def _shared(lib):
    nn = lib.nn

    class Branch(nn.Module):
        def __init__(self, shared):
            super().__init__()
            self.pre = nn.Identity()
            self.shared = shared

        def forward(self, x):
            return self.shared(self.pre(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            shared = nn.Linear(4, 4)
            self.a, self.b = Branch(shared), Branch(shared)

        def forward(self, x, direct=False):
            return self.b.shared(x) if direct else self.a(x) + self.b(x * 2)

    return Net()


def test_shared_module_path_follows_the_calls_else_the_first_name():
    net = _shared(ember)
    e = _raised(lambda: net(ember.ones(2, 3)))
    assert str(e).startswith("a.shared (Linear 4->4): ")
    # called through ``b``: b's name for it
    net.a.forward = lambda x: x
    e = _raised(lambda: net(ember.ones(2, 3)))
    assert str(e).startswith("b.shared (Linear 4->4): ")
    # called from Net.forward directly, past ``b``: the first name in named_modules()
    e = _raised(lambda: net(ember.ones(2, 3), direct=True))
    assert str(e).startswith("a.shared (Linear 4->4): ")


def test_caller_that_does_not_contain_the_module_keeps_the_path():
    class Apply(ember.nn.Module):
        def forward(self, model, x):
            return model(x)

    net = ember.nn.Sequential(ember.nn.Linear(4, 4))
    outer = ember.nn.Sequential(ember.nn.Identity(), net)
    e = _raised(lambda: Apply()(net, ember.ones(2, 3)))
    assert str(e).startswith("0 (Linear 4->4): addmm(): ")
    e = _raised(lambda: Apply()(outer, ember.ones(2, 3)))
    assert str(e).startswith("1.0 (Linear 4->4): addmm(): ")


def test_path_with_hooks_on_every_module():
    handle = ember.nn.modules.module.register_module_forward_pre_hook(lambda m, a: None)
    try:
        e = _raised(lambda: _encoder(ember)(ember.ones(8, 32)))
    finally:
        handle.remove()
    assert str(e).startswith("encoder.layers.0.0 (Linear 64->64): addmm(): ")


def test_message_less_and_multi_arg_errors():
    class Check(ember.nn.Module):
        def forward(self, x):
            if x.shape[1] != 3:
                raise AssertionError  # a bare ``assert`` (pytest gives this file's a message)
            return x

    class Odd(ember.nn.Module):
        def forward(self, x):
            raise ValueError("two", 2)

    net = ember.nn.Sequential(ember.nn.ModuleDict({"c": Check(), "o": Odd()}))
    e = _raised(lambda: net[0]["c"](ember.ones(2, 2)))
    assert type(e) is AssertionError and str(e) == "Check"
    e = _raised(lambda: ember.nn.Sequential(net[0]["c"])(ember.ones(2, 2)))
    assert str(e) == "0 (Check)"
    e = _raised(lambda: ember.nn.Sequential(net[0]["o"])(ember.ones(2, 2)))
    assert e.args == ("two", 2)  # not one message: left as it is


# -- what is not rewritten ----------------------------------------------------------------------

def test_control_flow_exceptions_pass_unchanged():
    class Raise(ember.nn.Module):
        def __init__(self, exc):
            super().__init__()
            self.exc = exc

        def forward(self, x):
            raise self.exc

    for exc in (StopIteration("done"), KeyboardInterrupt("stop"), KeyError("k"),
                NotImplementedError("no"), RecursionError("deep"), OSError("io")):
        net = ember.nn.Sequential(ember.nn.Sequential(Raise(exc)))
        e = _raised(lambda net=net: net(ember.ones(1)))
        assert e is exc and e.args == (exc.args[0],)


def test_getattr_attribute_errors_match_torch():
    def make(lib):
        class Net(lib.nn.Module):
            def forward(self, x):
                return self.missing(x)

        return lib.nn.Sequential(Net())

    et = _raised(lambda: make(torch)(torch.ones(1)))
    ee = _raised(lambda: make(ember)(ember.ones(1)))
    assert type(ee) is type(et) is AttributeError and str(ee) == str(et)
    et = _raised(lambda: torch.nn.Module()(torch.ones(1)))
    ee = _raised(lambda: ember.nn.Module()(ember.ones(1)))
    assert type(ee) is type(et) is NotImplementedError and str(ee) == str(et)


def test_hook_errors_pass_unchanged():
    def stop(module, args):
        raise RuntimeError("stop here")

    def bad(module, args, kwargs):
        return 3

    for lib in (torch, ember):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 2)))
        h = net[1][0].register_forward_pre_hook(stop)
        e = _raised(lambda net=net, lib=lib: net(lib.ones(1, 2)))
        assert type(e) is RuntimeError and str(e) == "stop here"
        h.remove()
        net[1][0].register_forward_hook(lambda m, a, out: out.view(7))
        e = _raised(lambda net=net, lib=lib: net(lib.ones(1, 2)))
        assert type(e) is RuntimeError and "shape '[7]' is invalid" in str(e)
        assert "Linear" not in str(e)
        net[1].register_forward_pre_hook(bad, with_kwargs=True)
        e = _raised(lambda net=net, lib=lib: net(lib.ones(1, 2)))
        assert str(e) == "forward pre-hook must return None or a tuple of (new_args, " \
                         "new_kwargs), but got 3."


def test_error_path_records_nothing_on_the_modules():
    net = _encoder(ember)
    before = {n: set(vars(m)) for n, m in net.named_modules()}
    _raised(lambda: net(ember.ones(8, 32)))
    assert {n: set(vars(m)) for n, m in net.named_modules()} == before


# -- each layer kind: PyTorch's type and message, behind the path --------------------------------

def _in(*shapes):
    """Inputs: float tensors of ``shapes`` (a tuple of ints is a long tensor's values)."""
    def make(lib):
        return tuple(lib.tensor(list(s)) if isinstance(s, list) else lib.ones(*s)
                     for s in shapes)
    return make


def _holder(layer):
    """``layer`` at ``body.m`` of a model."""
    def make(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.body = lib.nn.ModuleDict({"m": layer(lib.nn)})

            def forward(self, *args):
                return self.body["m"](*args)

        return Model()
    return make


LAYERS = [
    ("Linear 16->32", lambda nn: nn.Linear(16, 32), _in((8, 12))),
    ("Linear 16->32", lambda nn: nn.Linear(16, 32), _in((2, 8, 12))),
    ("Linear 16->32", lambda nn: nn.Linear(16, 32),
     lambda lib: (lib.ones(8, 16, dtype=lib.float64),)),
    ("Bilinear 4,5->6", lambda nn: nn.Bilinear(4, 5, 6), _in((3, 4), (3, 4))),
    ("Conv2d 3->4", lambda nn: nn.Conv2d(3, 4, 5), _in((1, 3, 2, 2))),
    ("BatchNorm1d 16", lambda nn: nn.BatchNorm1d(16), _in((8, 12))),
    ("BatchNorm1d 16", lambda nn: nn.BatchNorm1d(16, track_running_stats=False), _in((8, 12))),
    ("BatchNorm2d 16", lambda nn: nn.BatchNorm2d(16), _in((8, 16))),
    ("LayerNorm (64,)", lambda nn: nn.LayerNorm(64), _in((8, 32))),
    ("GroupNorm", lambda nn: nn.GroupNorm(4, 16), _in((8, 12, 3))),
    ("Embedding 10x4", lambda nn: nn.Embedding(10, 4), _in([1, 12])),
    ("Embedding 10x4", lambda nn: nn.Embedding(10, 4), _in([-11])),
    ("EmbeddingBag 10x4", lambda nn: nn.EmbeddingBag(10, 4), _in([[1, 12]])),
    ("RNN 32->64", lambda nn: nn.RNN(32, 64), _in((5, 3, 16))),
    ("LSTM 32->64", lambda nn: nn.LSTM(32, 64), _in((5, 3, 16))),
    ("GRU 32->64", lambda nn: nn.GRU(32, 64, batch_first=True), _in((5, 3, 16))),
    ("LSTM 32->64", lambda nn: nn.LSTM(32, 64), _in((5, 3, 32, 1))),
    ("LSTMCell 32->64", lambda nn: nn.LSTMCell(32, 64), _in((3, 16))),
    ("GRUCell 32->64", lambda nn: nn.GRUCell(32, 64), _in((3, 16))),
    ("MultiheadAttention 64, 8 heads", lambda nn: nn.MultiheadAttention(64, 8),
     _in((5, 3, 32), (5, 3, 32), (5, 3, 32))),
    ("MultiheadAttention 64, 8 heads", lambda nn: nn.MultiheadAttention(64, 8).eval(),
     _in((5, 3, 64), (6, 3, 64), (7, 3, 64))),
    ("MSELoss", lambda nn: nn.MSELoss(), _in((8, 3), (8, 4))),
    ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), _in((8, 3), [0, 1, 2, 0])),
    ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), _in((4, 3), [0, 1, 5, 0])),
    ("NLLLoss", lambda nn: nn.NLLLoss(), _in((8, 3), [0, 1, 2, 0])),
    ("BCELoss", lambda nn: nn.BCELoss(), _in((8, 3), (8, 4))),
    ("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(), _in((8, 3), (8, 4))),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(4), _in((1, 1, 2, 2))),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 5)), _in((3, 8))),
    ("ReLU", lambda nn: nn.ReLU(), _in((1,), (1,))),
]


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("summary, layer, inputs", LAYERS)
def test_layer_errors_name_path_and_shapes_like_torch(summary, layer, inputs):
    _like_torch(_holder(layer), inputs, where=f"body.m ({summary})")


def test_conv_channels_message_flows_through_the_path():
    make = _holder(lambda nn: nn.Conv2d(16, 32, 3))
    e = _raised(lambda: make(ember)(ember.ones(8, 12, 32, 32)))
    assert type(e) is RuntimeError
    assert str(e) == "body.m (Conv2d 16->32): expected input with 16 channels, got [8, 12, 32, 32]"
    et = _raised(lambda: make(torch)(torch.ones(8, 12, 32, 32)))
    assert str(et) in str(e.__cause__)
