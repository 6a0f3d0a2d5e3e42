"""Dropout, embedding, distance and upsampling modules against torch: seeded masks and
initialisation bit for bit, outputs and gradients, reprs, options, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

from .test_activation_modules import check_module, pair, raises_within
from .util import close, e_, raises_like, same, text

DROPOUTS = [
    (lambda L: L.nn.Dropout(), (4, 6)),
    (lambda L: L.nn.Dropout(0.2, inplace=True), (3, 4, 5)),
    (lambda L: L.nn.Dropout(p=1.0), (3, 4)),
    (lambda L: L.nn.Dropout(p=0.0), (3, 4)),
    (lambda L: L.nn.Dropout1d(0.3), (2, 5, 4)),
    (lambda L: L.nn.Dropout1d(0.3), (5, 4)),
    (lambda L: L.nn.Dropout2d(0.4), (2, 5, 3, 3)),
    (lambda L: L.nn.Dropout2d(0.4, inplace=True), (5, 3, 3)),
    (lambda L: L.nn.Dropout3d(0.5), (2, 4, 2, 2, 2)),
    (lambda L: L.nn.AlphaDropout(0.2), (4, 6)),
    (lambda L: L.nn.FeatureAlphaDropout(0.3), (2, 5, 3, 3)),
]


@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("make, shape", DROPOUTS)
def test_dropout_matches_torch_for_a_seed(make, shape, train):
    x = torch.randn(*shape)
    torch.manual_seed(5)
    ember.manual_seed(5)
    t, e = check_module(make, x, train=train)
    # the same number of draws (check_module drew one output gradient from torch)
    torch.manual_seed(6)
    ember.manual_seed(6)
    same(torch.rand(2), ember.rand(2))
    x = ember.randn(*shape)
    if not train:
        y = e(x)
        assert ember.equal(y, x)


def test_dropout_reprs_and_errors():
    for make in [lambda L: L.nn.Dropout(), lambda L: L.nn.Dropout2d(0.1, True),
                 lambda L: L.nn.AlphaDropout(0.3), lambda L: L.nn.FeatureAlphaDropout()]:
        assert repr(make(ember)) == repr(make(torch))
    for p in (-0.1, 1.5):
        raises_like(lambda p=p: torch.nn.Dropout(p), lambda p=p: ember.nn.Dropout(p))
    with pytest.warns(UserWarning):
        torch.nn.Dropout2d()(torch.ones(2, 3))
    with pytest.warns(UserWarning):
        ember.nn.Dropout2d()(ember.ones(2, 3))


def test_dropout_inplace_writes_the_input():
    x = ember.ones(50, 20)
    y = ember.nn.Dropout(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}


EMBEDDINGS = [
    lambda L: L.nn.Embedding(10, 3),
    lambda L: L.nn.Embedding(10, 3, padding_idx=2),
    lambda L: L.nn.Embedding(10, 3, padding_idx=-1),
    lambda L: L.nn.Embedding(10, 4, scale_grad_by_freq=True),
    lambda L: L.nn.Embedding(10, 3, max_norm=1.0),
    lambda L: L.nn.Embedding(10, 3, max_norm=0.5, norm_type=1.0),
    lambda L: L.nn.Embedding(10, 3, dtype=L.float64),
]


@pytest.mark.parametrize("seed", [0, 11])
@pytest.mark.parametrize("make", EMBEDDINGS + [lambda L: L.nn.EmbeddingBag(7, 5, mode="max"),
                                               lambda L: L.nn.EmbeddingBag(7, 2, padding_idx=0)])
def test_embedding_init_is_bit_exact(make, seed):
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    t, e = make(torch), make(ember)
    assert repr(e) == repr(t)
    same(t.weight, e.weight)
    assert type(e.weight) is ember.nn.Parameter
    same(torch.rand(3), ember.rand(3))


@pytest.mark.parametrize("make", EMBEDDINGS)
def test_embedding_forward_backward(make):
    idx = torch.tensor([[1, 2, 4], [4, 3, 9], [2, 2, 0]])
    t, e = check_module(make, idx)
    # max_norm renormalised the looked-up rows of the weight in place, as torch
    close(t.weight, e.weight)
    check_module(make, torch.tensor(7))


def test_embedding_sparse_flag_is_accepted():
    t, e = pair(lambda L: L.nn.Embedding(6, 2, sparse=True))
    assert repr(e) == "Embedding(6, 2, sparse=True)" and e.sparse
    idx = torch.tensor([0, 3, 3])
    t(idx).sum().backward()
    e(e_(idx)).sum().backward()
    assert e.weight.grad.is_sparse
    close(t.weight.grad.to_dense(), e.weight.grad.to_dense())


def test_embedding_from_pretrained():
    w = torch.randn(5, 3)
    for kw in [{}, {"freeze": False}, {"padding_idx": 1, "max_norm": 2.0}]:
        t = torch.nn.Embedding.from_pretrained(w.clone(), **kw)
        e = ember.nn.Embedding.from_pretrained(e_(w), **kw)
        assert repr(e) == repr(t) and e.weight.requires_grad == t.weight.requires_grad
        close(t(torch.tensor([1, 4])), e(ember.tensor([1, 4])))
    for kw in [{}, {"freeze": False, "mode": "sum"}, {"mode": "max", "padding_idx": 2}]:
        t = torch.nn.EmbeddingBag.from_pretrained(w.clone(), **kw)
        e = ember.nn.EmbeddingBag.from_pretrained(e_(w), **kw)
        assert repr(e) == repr(t) and e.weight.requires_grad == t.weight.requires_grad
        close(t(torch.tensor([[1, 4], [2, 2]])), e(ember.tensor([[1, 4], [2, 2]])))
    raises_like(lambda: torch.nn.Embedding.from_pretrained(torch.ones(3)),
                lambda: ember.nn.Embedding.from_pretrained(ember.ones(3)))
    raises_like(lambda: torch.nn.EmbeddingBag.from_pretrained(torch.ones(3)),
                lambda: ember.nn.EmbeddingBag.from_pretrained(ember.ones(3)))


def test_embedding_constructor_errors():
    for make in [lambda L: L.nn.Embedding(5, 2, padding_idx=5),
                 lambda L: L.nn.Embedding(5, 2, padding_idx=-6),
                 lambda L: L.nn.EmbeddingBag(5, 2, padding_idx=7),
                 lambda L: L.nn.Embedding(5, 2, _weight=L.ones(4, 2)),
                 lambda L: L.nn.EmbeddingBag(5, 2, _weight=L.ones(5, 3))]:
        raises_like(lambda make=make: make(torch), lambda make=make: make(ember))
    raises_within(lambda: torch.nn.Embedding(5, 2)(torch.tensor([5])),
                lambda: ember.nn.Embedding(5, 2)(ember.tensor([5])))


@pytest.mark.parametrize("make, args", [
    (lambda L: L.nn.EmbeddingBag(10, 3), (torch.tensor([[1, 2], [4, 5], [4, 9]]),)),
    (lambda L: L.nn.EmbeddingBag(10, 3, mode="sum"),
     (torch.tensor([1, 2, 4, 5, 4, 3]), torch.tensor([0, 2, 2]))),
    (lambda L: L.nn.EmbeddingBag(10, 3, mode="max"),
     (torch.tensor([1, 2, 4, 5, 4, 3]), torch.tensor([0, 3]))),
    (lambda L: L.nn.EmbeddingBag(10, 3, mode="sum"),
     (torch.tensor([1, 2, 4, 5]), torch.tensor([0, 1]), torch.rand(4))),
    (lambda L: L.nn.EmbeddingBag(10, 3, include_last_offset=True),
     (torch.tensor([1, 2, 4, 5, 4]), torch.tensor([0, 2, 5]))),
    (lambda L: L.nn.EmbeddingBag(10, 3, padding_idx=4, mode="mean"),
     (torch.tensor([[1, 4], [4, 4], [2, 9]]),)),
    (lambda L: L.nn.EmbeddingBag(10, 3, max_norm=1.0, mode="sum"),
     (torch.tensor([[1, 1], [2, 9]]),)),
])
def test_embedding_bag(make, args):
    check_module(make, *args)


def test_embedding_bag_reprs():
    for make in [lambda L: L.nn.EmbeddingBag(4, 2), lambda L: L.nn.EmbeddingBag(
            4, 2, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True, mode="max",
            padding_idx=-1, sparse=True, include_last_offset=True)]:
        assert repr(make(ember)) == repr(make(torch))


@pytest.mark.parametrize("make, shapes", [
    (lambda L: L.nn.PairwiseDistance(), [(4, 5), (4, 5)]),
    (lambda L: L.nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True), [(4, 5), (1, 5)]),
    (lambda L: L.nn.PairwiseDistance(p=3), [(5,), (5,)]),
    (lambda L: L.nn.CosineSimilarity(), [(4, 5), (4, 5)]),
    (lambda L: L.nn.CosineSimilarity(dim=0, eps=1e-4), [(4, 5), (4, 1)]),
])
def test_distance_modules(make, shapes):
    check_module(make, *[torch.randn(*s) for s in shapes])
    t = make(torch)
    e = make(ember)
    assert {k: v for k, v in vars(e).items() if not k.startswith("_")} == {
        k: v for k, v in vars(t).items() if not k.startswith("_")}


@pytest.mark.parametrize("make, shape", [
    (lambda L: L.nn.Upsample(scale_factor=2), (1, 2, 3, 3)),
    (lambda L: L.nn.Upsample(size=5, mode="linear"), (1, 2, 3)),
    (lambda L: L.nn.Upsample(size=(4, 5), mode="bilinear", align_corners=True), (1, 2, 3, 3)),
    (lambda L: L.nn.Upsample(scale_factor=(1.5, 2), mode="bicubic"), (1, 1, 4, 3)),
    (lambda L: L.nn.Upsample(scale_factor=1.7, mode="bilinear",
                             recompute_scale_factor=True), (1, 1, 4, 3)),
    (lambda L: L.nn.Upsample(scale_factor=2, mode="trilinear"), (1, 1, 2, 2, 2)),
    (lambda L: L.nn.Upsample(scale_factor=3, mode="nearest-exact"), (1, 2, 3)),
    (lambda L: L.nn.UpsamplingNearest2d(scale_factor=2), (2, 1, 2, 3)),
    (lambda L: L.nn.UpsamplingNearest2d(size=(3, 5)), (2, 1, 2, 3)),
    (lambda L: L.nn.UpsamplingBilinear2d(scale_factor=2), (2, 1, 2, 3)),
])
def test_upsampling_modules(make, shape):
    check_module(make, torch.randn(*shape))


def test_upsample_attributes_and_state():
    t, e = torch.nn.Upsample(scale_factor=(2, 3)), ember.nn.Upsample(scale_factor=(2, 3))
    assert e.scale_factor == (2.0, 3.0) and e.name == "Upsample" and repr(e) == repr(t)
    assert ember.nn.Upsample(scale_factor=0).scale_factor is None
    state = dict(vars(e))
    del state["recompute_scale_factor"]
    e.__setstate__(state)
    assert e.recompute_scale_factor is True
    assert text(repr(torch.nn.UpsamplingBilinear2d(size=3))) == repr(
        ember.nn.UpsamplingBilinear2d(size=3))
