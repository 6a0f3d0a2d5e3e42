"""nn.Module against torch.nn.Module: registration, traversal, conversion, state_dict, repr."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember

from .util import block_classes, close, e_, nets, np_of, raises_like, same, text


def _names(it):
    return [n for n, _ in it]


# -- registration -------------------------------------------------------------------------------

def test_setattr_registers_parameters_buffers_modules():
    m = ember.nn.Module()
    m.p = ember.nn.Parameter(ember.zeros(2))
    m.b = ember.nn.Buffer(ember.ones(3))
    m.nb = ember.nn.Buffer(ember.ones(1), persistent=False)
    m.sub = ember.nn.Identity()
    m.plain = ember.zeros(1)  # a plain tensor is a plain attribute
    assert list(m._parameters) == ["p"] and list(m._buffers) == ["b", "nb"]
    assert m._non_persistent_buffers_set == {"nb"} and list(m._modules) == ["sub"]
    assert "plain" in m.__dict__ and m.p is m._parameters["p"]
    assert list(m.state_dict()) == ["p", "b"]
    # reassigning a registered buffer name keeps it a buffer (and its persistence)
    m.nb = ember.zeros(4)
    assert m._buffers["nb"].shape == (4,) and "nb" in m._non_persistent_buffers_set
    # a Parameter replaces a plain attribute / buffer / module of that name
    m.sub = ember.nn.Parameter(ember.zeros(1))
    assert "sub" not in m._modules and "sub" in m._parameters
    m.p = None
    assert m._parameters["p"] is None and m.p is None
    del m.b, m.sub, m.plain
    assert "b" not in m._buffers and "sub" not in m._parameters and not hasattr(m, "plain")
    assert "p" in dir(m) and "nb" in dir(m)


@pytest.mark.parametrize("case", [
    lambda lib, m: setattr(m, "p", lib.zeros(1)),  # tensor into a parameter slot
    lambda lib, m: setattr(m, "sub", lib.zeros(1)),  # tensor into a module slot
    lambda lib, m: setattr(m, "b", 3),  # int into a buffer slot
    lambda lib, m: m.register_buffer("a.b", lib.zeros(1)),
    lambda lib, m: m.register_buffer("", lib.zeros(1)),
    lambda lib, m: m.register_buffer("p", lib.zeros(1)),
    lambda lib, m: m.register_buffer("x", [1]),
    lambda lib, m: m.register_buffer(3, lib.zeros(1)),
    lambda lib, m: m.register_parameter("q", lib.zeros(1)),
    lambda lib, m: m.register_parameter("x.y", None),
    lambda lib, m: m.register_parameter("q", lib.nn.Parameter(lib.ones(1)) * 2),
    lambda lib, m: m.register_parameter("q", lib.nn.Parameter(lib.ones(1)).__mul__(2)),
    lambda lib, m: m.add_module("a.b", lib.nn.Identity()),
    lambda lib, m: m.add_module("", lib.nn.Identity()),
    lambda lib, m: m.add_module("p", lib.nn.Identity()),
    lambda lib, m: m.add_module("z", 3),
    lambda lib, m: m.get_submodule("sub.x"),
    lambda lib, m: m.get_submodule("b"),
    lambda lib, m: m.get_parameter("sub.weight"),
    lambda lib, m: m.get_parameter("b"),
    lambda lib, m: m.get_buffer("p"),
    lambda lib, m: m.get_buffer("zz"),
    lambda lib, m: m.set_submodule("", lib.nn.Identity()),
    lambda lib, m: m.set_submodule("p", lib.nn.Identity()),
    lambda lib, m: m.set_submodule("new", lib.nn.Identity(), strict=True),
    lambda lib, m: m.set_submodule("sub", 3),
    lambda lib, m: m.missing,
    lambda lib, m: m.train("yes"),
    lambda lib, m: m.to(lib.int64),
    lambda lib, m: m.load_state_dict([1]),
    lambda lib, m: m(lib.zeros(1)),  # no forward
])
def test_registration_errors_match_torch(case):
    def make(lib):
        m = lib.nn.Module()
        m.p = lib.nn.Parameter(lib.zeros(2))
        m.register_buffer("b", lib.zeros(1))
        m.sub = lib.nn.Identity()
        return m
    raises_like(lambda: case(torch, make(torch)), lambda: case(ember, make(ember)))


def test_assign_before_init_and_init_arguments():
    class Early(ember.nn.Module):
        def __init__(self):
            self.p = ember.nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    raises_like(lambda: torch.nn.Module(3), lambda: ember.nn.Module(3))
    raises_like(lambda: torch.nn.Module(x=3), lambda: ember.nn.Module(x=3))


def test_get_set_submodule_parameter_buffer():
    t, e = nets()
    assert e.get_submodule("enc.2") is e.enc[2] and e.get_submodule("") is e
    assert e.get_parameter("heads.a.bias") is e.heads.a.bias
    assert e.get_buffer("enc.0.steps") is e.enc[0].steps
    for m in (t, e):
        m.set_submodule("heads.c", type(m.enc[1])())
        m.set_submodule("enc.1", type(m.enc[1])(), strict=True)
    assert repr(e) == text(repr(t))


# -- traversal ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, {"prefix": "net"}, {"recurse": False},
                                {"remove_duplicate": False}])
def test_named_members_match_torch(kw):
    t, e = nets()
    for fn in ("named_parameters", "named_buffers"):
        nt, ne = list(getattr(t, fn)(**kw)), list(getattr(e, fn)(**kw))
        assert _names(nt) == _names(ne)
        for (_, a), (_, b) in zip(nt, ne):
            same(a, b)
    mkw = {k: v for k, v in kw.items() if k != "recurse"}
    assert _names(t.named_modules(**mkw)) == _names(e.named_modules(**mkw))
    assert _names(t.named_children()) == _names(e.named_children())
    assert len(list(e.parameters())) == len(list(t.parameters())) == 9  # tied ones once
    assert len(list(e.modules())) == len(list(t.modules()))
    assert len(list(e.buffers(recurse=False))) == 0


def test_tied_parameters_counted_once():
    lin = ember.nn.Module()
    lin.w = ember.nn.Parameter(ember.ones(2))
    m = ember.nn.Module()
    m.a, m.b = lin, ember.nn.Module()
    m.b.w = lin.w
    assert _names(m.named_parameters()) == ["a.w"]
    assert _names(m.named_parameters(remove_duplicate=False)) == ["a.w", "b.w"]


def test_apply_order_train_eval():
    t, e = nets()
    order_t, order_e = [], []
    t.apply(lambda m: order_t.append(type(m).__name__))
    assert e.apply(lambda m: order_e.append(type(m).__name__)) is e
    assert order_t == order_e
    assert e.eval() is e and not any(m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    e.enc.train(False)
    assert e.training and not e.enc[0].training


def test_requires_grad_and_zero_grad():
    _, e = nets()
    e(ember.ones(2, 4)).sum().backward()
    assert all(p.grad is not None for p in e.parameters())
    e.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in e.parameters())
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    assert e.requires_grad_(False) is e and not any(p.requires_grad for p in e.parameters())


# -- forward and backward -----------------------------------------------------------------------

def test_forward_backward_match_torch():
    t, e = nets()
    x = torch.randn(5, 4)
    yt, ye = t(x), e(e_(x))
    close(yt, ye)
    yt.square().sum().backward()
    ye.square().sum().backward()
    for (_, a), (_, b) in zip(t.named_parameters(), e.named_parameters()):
        close(a.grad, b.grad)


# -- conversion ---------------------------------------------------------------------------------

def test_to_dtype_keeps_identity_and_integer_buffers():
    _, e = nets()
    w = e.enc[0].weight
    e(ember.ones(1, 4)).sum().backward()
    assert e.double() is e
    assert e.enc[0].weight is w and w.dtype is ember.float64 and w.grad.dtype is ember.float64
    assert e.enc[0].steps.dtype is ember.int64 and e.enc[0].scratch.dtype is ember.float64
    e.to(ember.float32)
    assert w.dtype is ember.float32 and w.requires_grad
    e.half()
    assert w.dtype is ember.float16
    e.bfloat16()
    assert w.dtype is ember.bfloat16
    e.float()
    e.to("cpu", ember.float64)
    assert w.dtype is ember.float64
    e.to(ember.zeros(1, dtype=ember.float32))
    assert w.dtype is ember.float32
    e.type(ember.float64)
    assert e.enc[0].steps.dtype is ember.float64  # type() casts everything, as in torch
    assert e.cpu() is e
    with pytest.warns(UserWarning, match="Complex modules"):
        ember.nn.Module().to(ember.complex64)


def test_cuda_raises_cleanly_without_gpu():
    _, e = nets()
    if ember.randn(1).to("cpu").device.type == "cpu":
        try:
            ember.zeros(1).to("cuda")
        except RuntimeError as ex:
            with pytest.raises(RuntimeError, match="CUDA is not available") as info:
                e.cuda()
            assert "CUDA" in str(ex) and "CUDA" in str(info.value)
            assert e.enc[0].weight.device.type == "cpu"


def test_to_empty_and_memory_format():
    m = ember.nn.Module()
    m.w = ember.nn.Parameter(ember.ones(2, 3, 4, 5))
    m.to(memory_format=ember.channels_last)
    assert m.w.is_contiguous(memory_format=ember.channels_last)
    m.to_empty(device="cpu")
    assert m.w.shape == (2, 3, 4, 5)


# -- state_dict -----------------------------------------------------------------------------------

def test_state_dict_keys_order_metadata_values():
    t, e = nets()
    st, se = t.state_dict(), e.state_dict()
    assert isinstance(se, OrderedDict) and list(st) == list(se)
    assert dict(st._metadata) == dict(se._metadata)
    for k in st:
        same(st[k], se[k])
        assert not se[k].requires_grad
    kv = e.state_dict(keep_vars=True)
    assert kv["scale"] is e.scale
    pre = e.state_dict(prefix="model.")
    assert list(pre) == ["model." + k for k in st] and "model" in pre._metadata
    dest = {}
    assert e.state_dict(destination=dest) is dest and list(dest) == list(st)
    with pytest.warns(FutureWarning, match="Positional args"):
        e.state_dict(OrderedDict(), "p.")


def _bad_state(lib, sd):
    sd = OrderedDict(sd)
    del sd["scale"]
    sd["extra.9.weight"] = lib.zeros(1)
    sd["enc.0.bias"] = lib.zeros(5)
    sd["heads.zz"] = lib.zeros(1)
    sd["enc.2.steps"] = 3
    return sd


def test_load_state_dict_errors_match_torch():
    t, e = nets()
    sdt, sde = _bad_state(torch, t.state_dict()), _bad_state(ember, e.state_dict())
    err = raises_like(lambda: t.load_state_dict(sdt), lambda: e.load_state_dict(sde))
    assert "Missing key(s)" in str(err) and "size mismatch for enc.0.bias" in str(err)
    del sdt["enc.0.bias"], sde["enc.0.bias"], sdt["enc.2.steps"], sde["enc.2.steps"]
    rt = t.load_state_dict(sdt, strict=False)
    re_ = e.load_state_dict(sde, strict=False)
    assert re_ == rt and text(repr(rt)) == repr(re_)
    assert repr(e.load_state_dict(e.state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_copies_values_and_assign():
    t, e = nets()
    with torch.no_grad():
        for p in t.parameters():
            p.mul_(3).add_(1)
    w = e.enc[0].weight
    e.load_state_dict({k: e_(v) for k, v in t.state_dict().items()})
    assert e.enc[0].weight is w
    for (_, a), (_, b) in zip(t.state_dict().items(), e.state_dict().items()):
        same(a, b)
    sd = {k: e_(v) * 0 for k, v in t.state_dict().items()}
    e.load_state_dict(sd, assign=True)
    assert e.enc[0].weight is not w and isinstance(e.enc[0].weight, ember.nn.Parameter)
    assert e.enc[0].weight.requires_grad and not e.enc[0].weight.any()
    assert e.enc[2].steps is sd["enc.2.steps"]
    # a 0-d parameter takes a one-element 1-d entry
    m = ember.nn.Module()
    m.s = ember.nn.Parameter(ember.tensor(1.0))
    m.load_state_dict({"s": ember.tensor([5.0])})
    assert m.s.item() == 5.0


def test_load_state_dict_casts_like_copy_():
    def load(lib):
        m = lib.nn.Module()
        m.w = lib.nn.Parameter(lib.zeros(2))
        m.register_buffer("n", lib.zeros(2, dtype=lib.int32))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.load_state_dict({"w": lib.tensor([1.5, 2.5], dtype=lib.float64),
                               "n": lib.tensor([1.7, -2.2])})
        return m
    t, e = load(torch), load(ember)
    same(t.w, e.w)
    same(t.n, e.n)


def test_extra_state_and_version_hooks():
    seen = []

    class Counter(ember.nn.Module):
        _version = 3

        def __init__(self):
            super().__init__()
            self.n = 7
            self.w = ember.nn.Parameter(ember.zeros(1))

        def get_extra_state(self):
            return {"n": self.n}

        def set_extra_state(self, state):
            self.n = state["n"]

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            seen.append(local_metadata.get("version"))
            if local_metadata.get("version", 3) < 3:  # an old checkpoint named w "old_w"
                state_dict[prefix + "w"] = state_dict.pop(prefix + "old_w")
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    c = Counter()
    sd = c.state_dict()
    assert list(sd) == ["w", "_extra_state"] and sd._metadata[""] == {"version": 3}
    c.n = 0
    c.load_state_dict(sd)
    assert c.n == 7 and seen == [3]
    old = OrderedDict(old_w=ember.ones(1), _extra_state={"n": 1})
    old._metadata = {"": {"version": 1}}
    c.load_state_dict(old)
    assert c.w.item() == 1 and c.n == 1 and seen == [3, 1]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        c.load_state_dict({"w": ember.ones(1)})


def test_state_dict_hooks_order_and_arguments():
    def run(lib):
        log = []
        _, net = block_classes(lib)
        m = net()
        m.enc.register_state_dict_pre_hook(lambda mod, prefix, kv: log.append(("pre", prefix)))
        m.enc.register_state_dict_post_hook(
            lambda mod, sd, prefix, meta: log.append(("post", prefix, len(sd), meta)))

        def replace(mod, sd, prefix, meta):
            log.append(("private", prefix))
            sd[prefix + "added"] = lib.zeros(1)
        m._register_state_dict_hook(replace)
        m.heads.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, meta, strict, missing, unexpected, errors:
            log.append(("lpre", type(mod).__name__, prefix, sorted(sd), strict)))
        m.heads.register_load_state_dict_post_hook(
            lambda mod, keys: log.append(("lpost", list(keys.missing_keys),
                                          list(keys.unexpected_keys))))
        sd = m.state_dict()
        log.append(sorted(sd))
        m.load_state_dict(sd, strict=False)
        return log
    assert run(ember) == run(torch)


def test_state_dict_post_hook_must_return_none():
    m = ember.nn.Identity()
    m.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()


# -- repr, copy, pickle ---------------------------------------------------------------------------

def test_repr_matches_torch():
    t, e = nets()
    assert repr(e) == text(repr(t))

    def multi(lib):
        class Multi(lib.nn.Module):
            def extra_repr(self):
                return "a=1\n\nb=2"
        m = Multi()
        m.child = Multi()
        return m
    assert repr(multi(ember)) == repr(multi(torch))
    assert repr(ember.nn.Module()) == "Module()"


def test_deepcopy_and_pickle():
    _, e = nets()
    c = copy.deepcopy(e)
    assert c.tied is c.enc[0] and c.enc[0].weight is not e.enc[0].weight
    for a, b in zip(e.parameters(), c.parameters()):
        same(a, b)
        assert isinstance(b, ember.nn.Parameter) and b.requires_grad
    seq = ember.nn.Sequential(ember.nn.Identity(), ember.nn.Flatten(0))
    seq.register_buffer("b", ember.arange(3))
    r = pickle.loads(pickle.dumps(seq))
    assert repr(r) == repr(seq) and r.b.tolist() == [0, 1, 2]


def test_to_parse_errors():
    m = ember.nn.Module()
    with pytest.raises(TypeError):
        m.to(ember.float32, "cpu", "extra")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.to("cpu", non_blocking=True)


def test_module_outputs_keep_numpy_equal_to_torch_under_no_grad():
    t, e = nets()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    with torch.no_grad(), ember.no_grad():
        yt, ye = t(torch.from_numpy(x)), e(ember.from_numpy(x))
    assert not ye.requires_grad
    np.testing.assert_allclose(np_of(ye), np_of(yt), rtol=1e-5, atol=1e-6)
