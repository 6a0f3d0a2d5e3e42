"""Parameter, Buffer and the uninitialized kinds against torch."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import ember
from ember import nn

from .util import e_, raises_like, same, text


def test_parameter_is_a_tensor_sharing_storage():
    data = ember.zeros(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, nn.Parameter) and isinstance(p, ember.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    data[0, 0] = 5
    assert p[0, 0].item() == 5  # shares storage
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    # ops give plain tensors; in-place ops give the Parameter back
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor
    with ember.no_grad():
        assert p.add_(1) is p
    q = nn.Parameter(p)
    assert q is not p and type(q) is nn.Parameter


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Parameter(lib.tensor([[1.5, -2.0], [0.25, 3.0]])),
    lambda lib: lib.nn.Parameter(lib.tensor([1, 2]), requires_grad=False),
    lambda lib: lib.nn.Parameter(lib.zeros(3, dtype=lib.float64)),
    lambda lib: lib.nn.Parameter(),
])
def test_parameter_repr(make):
    assert repr(make(ember)) == text(repr(make(torch)))
    assert str(make(ember)) == text(str(make(torch)))


def test_parameter_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ember.tensor([1, 2]))


def test_parameter_deepcopy_and_pickle():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    p.grad = ember.ones(2)
    p.note = "kept by pickle"
    c = copy.deepcopy(p)
    assert type(c) is nn.Parameter and c.requires_grad and c.grad is None  # as torch
    same(c, p)
    c.data.add_(1)
    assert p.tolist() == [1.0, 2.0]
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.requires_grad and r.note == "kept by pickle"
    same(r, p)
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    tp.grad = torch.ones(2)
    assert copy.deepcopy(tp).grad is None
    m = {}
    assert copy.deepcopy([p, p], m)[0] is m[id(p)]


def test_buffer():
    b = nn.Buffer(ember.ones(2))
    assert isinstance(b, nn.Buffer) and type(b) is ember.Tensor and b.persistent
    assert not isinstance(ember.ones(2), nn.Buffer)
    nb = nn.Buffer(ember.ones(1, requires_grad=True), persistent=False)
    assert nb.requires_grad and nb.is_leaf and not nb.persistent
    assert nn.Buffer().shape == (0,)
    tb = torch.nn.Buffer(torch.ones(2))
    assert repr(b) == text(repr(tb))


def test_uninitialized_parameter():
    def make(lib):
        return lib.nn.UninitializedParameter()
    e, t = make(ember), make(torch)
    assert repr(e) == "<UninitializedParameter>" == repr(t)
    assert isinstance(e, nn.Parameter) and nn.parameter.is_lazy(e)
    assert e.requires_grad and e.dtype is ember.float32 and e.grad is None
    raises_like(lambda: t.shape, lambda: e.shape)
    for fn in (lambda x: x.sum(), lambda x: x.requires_grad_(False), lambda x: x + 1,
               lambda x: x.view(2), lambda x: x.share_memory_()):
        with pytest.raises(Exception) as et:
            fn(make(torch))
        with pytest.raises(type(et.value)) as ee:
            fn(make(ember))
        assert str(ee.value) == text(str(et.value)).replace("ember._C.TensorBase", "ember.Tensor")
    d = nn.UninitializedParameter(requires_grad=False, dtype=ember.float64)
    c = copy.deepcopy(d)
    assert type(c) is nn.UninitializedParameter and c.dtype is ember.float64
    assert not c.requires_grad
    r = pickle.loads(pickle.dumps(d))
    assert type(r) is nn.UninitializedParameter and not r.requires_grad
    d.materialize((2, 3))
    assert type(d) is nn.Parameter and d.shape == (2, 3) and d.dtype is ember.float64
    assert (d * 0).sum().item() == 0


def test_uninitialized_buffer():
    b = nn.UninitializedBuffer(persistent=False)
    assert isinstance(b, nn.Buffer) and not b.persistent and not b.requires_grad
    assert repr(b) == "<UninitializedBuffer>"
    b.materialize((4,), dtype=ember.int64)
    assert type(b) is ember.Tensor and b.shape == (4,) and b.dtype is ember.int64


def test_module_to_changes_uninitialized_dtype():
    m = nn.Module()
    m.w = nn.UninitializedParameter()
    m.double()
    assert m.w.dtype is ember.float64 and nn.parameter.is_lazy(m.w)
    m.w.materialize((3,))
    assert m.w.dtype is ember.float64


def test_parameter_from_torch_values():
    t = torch.nn.Parameter(torch.randn(3, 2))
    e = nn.Parameter(e_(t))
    same(t, e)
