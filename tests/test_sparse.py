"""Sparse COO tensors (NOTE [ Sparse COO tensors ]) against PyTorch: construction, structure,
printing, arithmetic (including the structure of uncoalesced results), sparse embedding
gradients and the optimizers that take them."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from ember._sparse import _merge_slots

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


@pytest.fixture(autouse=True)
def _float64_torch_reset():
    yield
    torch.set_default_dtype(torch.float32)


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def check(e, t, rtol=1e-12, structure=True):
    """``e`` (ember) equals ``t`` (torch): layout, shape, dtype, and for sparse tensors the
    coalesced flag, indices and values in order (the uncoalesced structure)."""
    if isinstance(t, torch.Tensor):
        assert e.is_sparse == t.is_sparse, (e, t)
        assert tuple(e.shape) == tuple(t.shape)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        if t.is_sparse:
            assert e.is_coalesced() == t.is_coalesced()
            if structure:
                np.testing.assert_array_equal(_np(e._indices()), _np(t._indices()))
                np.testing.assert_allclose(_np(e._values()), _np(t._values()), rtol=rtol,
                                           atol=1e-300)
            e, t = e.to_dense(), t.to_dense()
        np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=1e-300)
    else:
        assert e == t


def both(fn, *args):
    """``fn(module, *args)`` with ember and with torch."""
    return fn(ember, *args), fn(torch, *args)


def raises_same(fn, match_message=True):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert ee.type is te.type, (ee.value, te.value)
    if match_message:
        assert str(ee.value) == str(te.value).replace("torch.", "ember.")
    return ee.value


IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VALS = [3.0, 4.0, 5.0, 6.0]


def s2(m, idx=IDX, vals=VALS, size=(2, 3), **kw):
    return m.sparse_coo_tensor(idx, vals, **kw) if size is None else \
        m.sparse_coo_tensor(idx, vals, size, **kw)


def hybrid(m, idx=((2, 0, 2, 1),), size=(4, 2)):
    return m.sparse_coo_tensor(list(idx), [[1., 2], [3, 4], [5, 6], [7, 8]][:len(idx[0])], size)


# -- construction and structure -----------------------------------------------------------------

@pytest.mark.parametrize("case", [
    lambda m: s2(m),
    lambda m: s2(m, size=None),
    lambda m: hybrid(m),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1, 2], (3,)),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1.5, 2], (3,), dtype=m.int32),
    lambda m: m.sparse_coo_tensor(m.tensor([[0, 1]]).int(), m.tensor([1., 2.]), (3,),
                                  dtype=m.float64),
    lambda m: m.sparse_coo_tensor(m.zeros(1, 0, dtype=m.int64), m.zeros(0, 3), (4, 3)),
    lambda m: m.sparse_coo_tensor(m.zeros(1, 0, dtype=m.int64), m.zeros(0, 3)),
    lambda m: m.sparse_coo_tensor([[0]], [1.]),
    lambda m: m.sparse_coo_tensor([[1, 0]], [1., 2.], (2,), is_coalesced=True),
])
def test_construction(case):
    e, t = both(case)
    check(e, t)
    assert e.layout is ember.sparse_coo and e.is_sparse and not ember.ones(1).is_sparse
    assert (e._nnz(), e.sparse_dim(), e.dense_dim()) == (t._nnz(), t.sparse_dim(), t.dense_dim())
    assert (e.dim(), e.numel(), tuple(e.size()), e.size(0)) == \
        (t.dim(), t.numel(), tuple(t.size()), t.size(0))


def test_construction_without_invariant_checks():
    e, t = both(lambda m: s2(m, size=(2, 2)))  # out of bounds: accepted, as PyTorch
    assert tuple(e.shape) == tuple(t.shape) == (2, 2)
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())


@pytest.mark.parametrize("case", [
    lambda m: m.sparse_coo_tensor(m.tensor([0, 1]), m.tensor([1., 2.])),
    lambda m: m.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [1., 2.], (2, 3)),
    lambda m: m.sparse_coo_tensor([[0, 1]], 1.),
    lambda m: m.sparse_coo_tensor([[0, 1]], [[1., 2.], [3., 4.]], (3, 3)),
    lambda m: m.sparse_coo_tensor([[0, 1]], [[1., 2.], [3., 4.]], (3, 2, 2)),
    lambda m: m.sparse_coo_tensor([[0, 1], [0, 1]], [1., 2.], (3,)),
    lambda m: m.sparse_coo_tensor([[-1, 1]], [1., 2.]),
    lambda m: m.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3., 4., 5.], (2, 2),
                                  check_invariants=True),
    lambda m: m.sparse_coo_tensor([[-1, 1]], [1., 2.], (3,), check_invariants=True),
    lambda m: m.sparse_coo_tensor([[0, 0]], [1., 2.], (3,), check_invariants=True,
                                  is_coalesced=True),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1, 2], (3,), requires_grad=True),
])
def test_construction_errors(case):
    raises_same(case)


def test_coalesce_and_accessors():
    for make in (s2, hybrid):
        e, t = both(make)
        raises_same(lambda m, make=make: make(m).indices())
        raises_same(lambda m, make=make: make(m).values())
        check(e._indices(), t._indices())
        ec, tc = e.coalesce(), t.coalesce()
        check(ec, tc)
        check(ec.indices(), tc.indices())
        check(ec.values(), tc.values())
        assert ec.coalesce() is ec and ec.to_sparse() is ec
        ec.values().mul_(10)  # values() shares memory, as PyTorch's
        tc.values().mul_(10)
        check(ec, tc)


def test_dense_tensor_methods():
    for name in ("indices", "values", "coalesce", "is_coalesced", "_nnz"):
        raises_same(lambda m, n=name: getattr(m.ones(3), n)(), name != "_nnz")
    e, t = both(lambda m: m.ones(2, 3))
    assert (e.sparse_dim(), e.dense_dim()) == (t.sparse_dim(), t.dense_dim())
    assert e.to_dense() is e and e.layout is ember.strided


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([[0., 1.], [2., 0.]]).to_sparse(),
    lambda m: m.tensor([[0., 1.], [0., 0.], [2., 0.]]).to_sparse(1),
    lambda m: m.tensor([[[0., 1.], [0., 0.]], [[0, 0], [3, 0]]]).to_sparse(2),
    lambda m: m.zeros(2, 3, dtype=m.int64).to_sparse(),
    lambda m: m.zeros(2, 0).to_sparse(),
    lambda m: m.tensor(3.).to_sparse(),
    lambda m: m.tensor([[0., 1.], [2., 0.]]).to_sparse(layout=m.sparse_coo),
    lambda m: hybrid(m).to_dense(),
    lambda m: hybrid(m).to_sparse(1),
])
def test_conversions(case):
    check(*both(case))


@pytest.mark.parametrize("case", [
    lambda m: m.tensor([[0., 1.], [2., 0.]]).to_sparse(3),
    lambda m: m.tensor([[0., 1.], [2., 0.]]).to_sparse(0),
    lambda m: hybrid(m).to_sparse(2),
])
def test_conversion_errors(case):
    raises_same(case)


def _repr(t):
    return repr(t).replace("torch.", "ember.")


@pytest.mark.parametrize("case", [
    lambda m: s2(m),
    lambda m: hybrid(m),
    lambda m: hybrid(m).coalesce(),
    lambda m: m.sparse_coo_tensor(m.zeros(1, 0, dtype=m.int64), m.zeros(0, 3), (4, 3)),
    lambda m: s2(m).double(),
    lambda m: s2(m).half(),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1, 2], (3,)),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1., 2.], (3,), requires_grad=True),
    lambda m: m.tensor([[0.5, 1.25], [2., 0.]]).to_sparse(),
])
def test_repr(case):
    e, t = both(case)
    assert repr(e) == _repr(t)


def test_repr_default_float64():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    e, t = both(lambda m: s2(m))
    assert repr(e) == _repr(t)
    assert repr(e.float()) == _repr(t.float())


# -- storage-reading paths and unsupported ops --------------------------------------------------

def test_storage_paths():
    e, t = both(s2)
    assert e.stride() == t.stride() and e.storage_offset() == t.storage_offset()
    assert e.is_contiguous() == t.is_contiguous() is False
    raises_same(lambda m: s2(m).data_ptr())
    raises_same(lambda m: s2(m).numpy())
    raises_same(lambda m: s2(m).contiguous())
    raises_same(lambda m: s2(m).item())
    raises_same(lambda m: bool(s2(m)))
    assert e.device == ember.device("cpu") and e.requires_grad is False and e.grad_fn is None


@pytest.mark.parametrize("fn", [
    lambda s: s.view(6), lambda s: s.exp(), lambda s: s == s, lambda s: s[0],
    lambda s: s.reshape(6), lambda s: s @ ember.ones(3), lambda s: s.fill_(1),
    lambda s: s.t(), lambda s: s.sum(1, keepdim=True), lambda s: 1 / s,
    lambda s: s * ember.ones(2, 3), lambda s: s * s,
])
def test_unsupported_ops_name_the_op_and_layout(fn):
    with pytest.raises((NotImplementedError, RuntimeError)) as e:
        fn(s2(ember))
    assert "sparse" in str(e.value).lower() or "Sparse" in str(e.value)


# -- arithmetic ---------------------------------------------------------------------------------

def _random_sparse(rng, sizes, nnz, dense=(), coalesced=False):
    idx = np.stack([rng.integers(0, s, nnz) for s in sizes]) if nnz else \
        np.zeros((len(sizes), 0), np.int64)
    vals = rng.standard_normal((nnz,) + dense)
    if coalesced and nnz:
        _, keep = np.unique(np.ravel_multi_index(idx, sizes), return_index=True)
        idx, vals = idx[:, keep], vals[keep]
    t = torch.sparse_coo_tensor(torch.tensor(idx), torch.tensor(vals), sizes + dense)
    e = ember.sparse_coo_tensor(ember.tensor(idx), ember.tensor(vals), sizes + dense)
    if coalesced:
        t, e = t.coalesce(), e.coalesce()
    return e, t


@pytest.mark.parametrize("seed", range(12))
def test_add_structure_matches_pytorch(seed):
    rng = np.random.default_rng(seed)
    sizes = ((4,), (3, 2), (6,))[seed % 3]
    dense = ((), (2,))[seed % 2]
    ea, ta = _random_sparse(rng, sizes, int(rng.integers(0, 9)), dense, seed % 4 == 0)
    eb, tb = _random_sparse(rng, sizes, int(rng.integers(0, 9)), dense, seed % 5 == 0)
    check(ea + eb, ta + tb)
    check(ea.add(eb, alpha=2.5), ta.add(tb, alpha=2.5))
    check(ea - eb, ta - tb)
    check(ea + ea, ta + ta)
    check(ember.zeros(ea.shape).add(eb, alpha=-2), torch.zeros(ta.shape).add(tb, alpha=-2))
    check(ember.ones(ea.shape, dtype=ember.float64) + ea, torch.ones(ta.shape) + ta)
    ea.add_(eb)
    ta.add_(tb)
    check(ea, ta)
    ed, td = ember.zeros(ea.shape), torch.zeros(ta.shape)
    ed.add_(ea, alpha=3)
    td.add_(ta, alpha=3)
    check(ed, td, rtol=1e-6)


def test_add_non_contiguous_values_concatenates():
    def make(m):
        a = m.sparse_coo_tensor([[2, 0, 2, 1]], m.ones(1, 2).expand(4, 2), (4, 2))
        b = m.sparse_coo_tensor([[0, 1, 2]], m.arange(6.).reshape(3, 2), (4, 2)).coalesce()
        return a + b, b + a, a + a
    for e, t in zip(*both(make)):
        check(e, t)


def test_merge_slots_is_the_two_pointer_merge():
    def reference(a, b):
        i = j = 0
        out = []
        while i < len(a) or j < len(b):
            cmp = -1 if i >= len(a) else 1 if j >= len(b) else (a[i] < b[j]) - (a[i] > b[j])
            ia = ib = -1
            if cmp >= 0:
                ia, i = i, i + 1
            if cmp <= 0:
                ib, j = j, j + 1
            out.append((ia, ib))
        return out
    rng = np.random.default_rng(0)
    for _ in range(300):
        a = rng.integers(0, rng.integers(1, 8), rng.integers(0, 12))
        b = rng.integers(0, rng.integers(1, 8), rng.integers(0, 12))
        ia, ib = _merge_slots(np, a.astype(np.int64), b.astype(np.int64))
        assert list(zip(ia.tolist(), ib.tolist())) == reference(a.tolist(), b.tolist())


@pytest.mark.parametrize("case", [
    lambda m: s2(m) + m.ones(2, 3),
    lambda m: s2(m) + m.sparse_coo_tensor([[0, 1]], [1., 2.], (4,)),
    lambda m: m.ones(3) + s2(m),
    lambda m: hybrid(m) + m.sparse_coo_tensor([[0, 1], [0, 1]], [1., 2.], (4, 2)),
    lambda m: m.ones(3, dtype=m.int64).add_(m.sparse_coo_tensor([[0, 1]], [1., 2.], (3,))),
    lambda m: s2(m).add_(m.ones(2, 3)),
    lambda m: s2(m).pow(0),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1, 2], (3,)).mul_(2.5),
    lambda m: m.zeros(2, 3).copy_(s2(m)),
])
def test_arithmetic_errors(case):
    raises_same(case)


@pytest.mark.parametrize("case", [
    lambda m, s: s * 2, lambda m, s: 2 * s, lambda m, s: s * m.tensor(2.5), lambda m, s: s / 4,
    lambda m, s: s.div(2, rounding_mode="floor"), lambda m, s: s // 2, lambda m, s: -s,
    lambda m, s: s.neg(), lambda m, s: s ** 2, lambda m, s: s.pow(0.5), lambda m, s: s.pow(-1),
    lambda m, s: s.sqrt(), lambda m, s: s.abs(), lambda m, s: s.sin(), lambda m, s: s.tanh(),
    lambda m, s: s.sign(), lambda m, s: s.floor(), lambda m, s: s.expm1(),
    lambda m, s: s.log1p(), lambda m, s: s.erf(), lambda m, s: s.asinh(),
    lambda m, s: s.sum(), lambda m, s: s.sum(dtype=m.float64), lambda m, s: s.sum(0),
    lambda m, s: s.clone(), lambda m, s: s.detach(), lambda m, s: s.double(),
    lambda m, s: s.to(m.float16), lambda m, s: s.int(), lambda m, s: m.zeros_like(s),
    lambda m, s: m.sparse.sum(s), lambda m, s: m.sparse.sum(s, 0),
    lambda m, s: s.mul_(3), lambda m, s: s.div_(2), lambda m, s: s.zero_(),
    lambda m, s: s.neg_(), lambda m, s: s.sub_(s),
    lambda m, s: s.copy_(m.sparse_coo_tensor([[1, 0]], [[1., 1.], [2., 2.]], (4, 2))),
    lambda m, s: m.ones(4, 2).sparse_mask(s), lambda m, s: m.ones(4, 2).sparse_mask(s.coalesce()),
])
def test_values_ops(case):
    e, t = both(lambda m: case(m, hybrid(m)))
    check(e, t, rtol=1e-6)


@pytest.mark.parametrize("dim", [None, 0, 1, 2, (0, 1), (1, 2), (0, 2), (0, 1, 2)])
def test_sparse_sum(dim):
    def make(m):
        s = m.sparse_coo_tensor([[0, 1, 0, 2], [1, 1, 1, 0]], m.arange(8.).reshape(4, 2), (3, 2, 2))
        return m.sparse.sum(s, dim)
    e, t = both(make)
    check(e, t, rtol=1e-6)


def test_pickle_and_deepcopy():
    e = hybrid(ember)
    for c in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert c.is_sparse and not c.is_coalesced()
        np.testing.assert_array_equal(c._indices().numpy(), e._indices().numpy())
        np.testing.assert_array_equal(c.to_dense().numpy(), e.to_dense().numpy())


def test_sparse_input_requiring_grad_is_not_differentiated():
    s = ember.sparse_coo_tensor([[0, 1]], [1., 2.], (3,), requires_grad=True)
    assert s.requires_grad and s.is_leaf
    with pytest.raises(NotImplementedError, match="autograd"):
        s * 2
    with ember.no_grad():
        check(s * 2, torch.sparse_coo_tensor([[0, 1]], [2., 4.], (3,)))


def test_dense_plus_sparse_is_differentiable_in_the_dense_input():
    def run(m):
        w = m.ones(2, 3, requires_grad=True)
        ((w + s2(m)) ** 2).sum().backward()
        return w.grad
    check(*both(run))


# -- sparse embedding gradients -----------------------------------------------------------------

def _weights(m, n=7, d=3, seed=0):
    w = np.random.default_rng(seed).standard_normal((n, d))
    return m.tensor(w, dtype=m.float64, requires_grad=True)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -6}, {"max_norm": 1.0}])
@pytest.mark.parametrize("upstream", ["sum", "linear"])
def test_embedding_sparse_grad(kw, upstream):
    x = [[1, 2, 1], [4, 3, 1]]

    def run(m):
        w = _weights(m)
        lin = m.tensor(np.arange(6.).reshape(3, 2) / 5)
        y = m.nn.functional.embedding(m.tensor(x), w, sparse=True, **kw)
        (y.sum() if upstream == "sum" else ((y @ lin) ** 2).sum()).backward()
        g1 = w.grad
        y = m.nn.functional.embedding(m.tensor([0, 1, 6]), w, sparse=True, **kw)
        (y.sum() if upstream == "sum" else ((y @ lin) ** 2).sum()).backward()
        assert w.grad is g1  # sparse + sparse accumulates in place, as PyTorch
        return g1
    check(*both(run))


@pytest.mark.parametrize("case", [
    lambda m, w: m.nn.functional.embedding(m.tensor([1, 1]), w, sparse=True, padding_idx=1),
    lambda m, w: m.nn.functional.embedding(m.tensor([[1, 2]]), w, sparse=True) * 3,
])
def test_embedding_sparse_grad_cases(case):
    def run(m):
        w = _weights(m)
        case(m, w).sum().backward()
        return w.grad
    check(*both(run))


def test_embedding_sparse_scale_grad_by_freq_raises():
    def run(m):
        w = _weights(m)
        m.nn.functional.embedding(m.tensor([1, 2]), w, sparse=True,
                                  scale_grad_by_freq=True).sum().backward()
    raises_same(run)


@pytest.mark.parametrize("kw", [
    {"mode": "sum"}, {"mode": "mean"}, {"mode": "sum", "padding_idx": 4},
    {"mode": "mean", "padding_idx": 1}, {"mode": "sum", "per_sample_weights": True},
    {"mode": "sum", "include_last_offset": True}, {"mode": "mean", "two_d": True},
])
def test_embedding_bag_sparse_grad(kw):
    kw = dict(kw)
    two_d = kw.pop("two_d", False)

    def run(m, kw=kw):
        kw = dict(kw)
        w = _weights(m)
        if two_d:
            inp, off = m.tensor([[1, 2, 4], [4, 3, 1]]), None
        else:
            inp, off = m.tensor([1, 2, 4, 4, 3, 1]), m.tensor([0, 2, 2, 5])
        if kw.get("per_sample_weights"):
            kw["per_sample_weights"] = m.arange(6., dtype=m.float64)
        y = m.nn.functional.embedding_bag(inp, w, off, sparse=True, **kw)
        (y ** 2).sum().backward()
        return w.grad
    check(*both(run))


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("extra", [{}, {"padding_idx": 4}, {"include_last_offset": True},
                                   {"per_sample_weights": True}])
def test_embedding_bag_scale_grad_by_freq_dense(mode, extra):
    # PyTorch's CPU kernel reads the count of the i-th smallest index for the i-th distinct one
    extra = dict(extra)
    if "per_sample_weights" in extra and mode != "sum":
        return

    def run(m):
        w = _weights(m)
        kw = dict(extra)
        if kw.get("per_sample_weights"):
            kw["per_sample_weights"] = m.arange(1., 8., dtype=m.float64)
        y = m.nn.functional.embedding_bag(m.tensor([1, 2, 4, 4, 3, 1, 6]), w,
                                          m.tensor([0, 2, 2, 5]), mode=mode,
                                          scale_grad_by_freq=True, **kw)
        (y ** 2).sum().backward()
        return w.grad
    check(*both(run))


def test_embedding_bag_sparse_scale_grad_by_freq_raises():
    def run(m):
        w = _weights(m)
        m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]), sparse=True,
                                      scale_grad_by_freq=True).sum().backward()
    raises_same(run)


def test_modules_and_grad_handling():
    def run(m):
        m.manual_seed(0)
        emb = m.nn.Embedding(6, 3, sparse=True).double()
        bag = m.nn.EmbeddingBag(6, 3, sparse=True).double()
        with m.no_grad():
            emb.weight.copy_(_weights(m, 6))
            bag.weight.copy_(_weights(m, 6, seed=1))
        x = m.tensor([[0, 5, 2], [2, 2, 1]])
        (emb(x).sum() + bag(x).sum()).backward()
        out = [emb.weight.grad.clone(), bag.weight.grad.clone()]
        # a dense gradient after a sparse one, and a sparse one after a dense one
        (emb.weight ** 2).sum().backward()
        out.append(emb.weight.grad)
        bag.weight.grad = None
        (bag.weight * 3).sum().backward()
        bag(x).sum().backward()
        out.append(bag.weight.grad)
        opt = m.optim.SGD(emb.parameters(), lr=0.1)
        emb.weight.grad = None
        emb(x).sum().backward()
        opt.zero_grad(set_to_none=False)
        out.append(emb.weight.grad)
        return out
    for e, t in zip(*both(run)):
        check(e, t)


def test_tied_weight_gets_sparse_and_dense_gradients_in_one_backward():
    def run(m):
        w = _weights(m)
        y = m.nn.functional.embedding(m.tensor([1, 3, 1]), w, sparse=True)
        (y.sum() + (w * 2).sum() + m.nn.functional.embedding(m.tensor([0]), w,
                                                             sparse=True).sum()).backward()
        return w.grad
    check(*both(run))


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph")
def test_create_graph_accumulates_sparse():
    def run(m):
        w = _weights(m)
        m.nn.functional.embedding(m.tensor([1, 3]), w, sparse=True).sum().backward(
            create_graph=True)
        g = w.grad
        m.nn.functional.embedding(m.tensor([2]), w, sparse=True).sum().backward()
        assert w.grad is g and not g.requires_grad
        return g
    check(*both(run))


def test_clip_grad_norm_refuses_sparse_gradients_as_pytorch():
    def run(m):
        w = _weights(m)
        m.nn.functional.embedding(m.tensor([1, 3]), w, sparse=True).sum().backward()
        m.nn.utils.clip_grad_norm_([w], 0.5)
    raises_same(run, match_message=False)


# -- optimizers ---------------------------------------------------------------------------------

_X = [np.random.default_rng(i).integers(0, 10, (3, 5)) for i in range(6)]


def _train(m, make_opt, bag=False, accum=False, steps=6):
    m.set_default_dtype(m.float64)
    m.manual_seed(0)
    emb = m.nn.EmbeddingBag(10, 4, mode="mean", sparse=True) if bag else \
        m.nn.Embedding(10, 4, sparse=True)
    rng = np.random.default_rng(0)
    with m.no_grad():
        emb.weight.copy_(m.tensor(rng.standard_normal((10, 4))))
    lin = m.tensor(rng.standard_normal((4, 2)))
    opt = make_opt(m, [emb.weight])
    for x in _X[:steps]:
        opt.zero_grad()
        for _ in range(2 if accum else 1):
            ((emb(m.tensor(x)) @ lin) ** 2).sum().backward()
        opt.step()
    return emb.weight, opt


@pytest.mark.parametrize("make_opt, kw", [
    (lambda m, p: m.optim.SparseAdam(p, lr=0.1), {}),
    (lambda m, p: m.optim.SparseAdam(p, lr=0.05, betas=(0.8, 0.9), maximize=True),
     {"accum": True}),
    (lambda m, p: m.optim.SparseAdam(p, lr=0.1), {"bag": True}),
    (lambda m, p: m.optim.SGD(p, lr=0.01), {}),
    (lambda m, p: m.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True), {"accum": True}),
    (lambda m, p: m.optim.SGD(p, lr=0.01, momentum=0.9, dampening=0.1, foreach=True), {}),
    (lambda m, p: m.optim.SGD(p, lr=0.01, maximize=True), {"bag": True}),
    (lambda m, p: m.optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1), {}),
    (lambda m, p: m.optim.Adagrad(p, lr=0.1, foreach=True, maximize=True),
     {"bag": True, "accum": True}),
])
def test_optimizer_trajectories(make_opt, kw):
    (ew, eo), (tw, to) = both(lambda m: _train(m, make_opt, **kw))
    check(ew, tw)
    es, ts = eo.state_dict()["state"], to.state_dict()["state"]
    assert es.keys() == ts.keys()
    for k in ts:
        assert es[k].keys() == ts[k].keys()
        for name, v in ts[k].items():
            if isinstance(v, torch.Tensor):
                check(es[k][name], v)
            else:
                assert type(es[k][name]) is type(v) and es[k][name] == v


@pytest.mark.parametrize("make_opt", [
    lambda m, p: m.optim.Adam(p), lambda m, p: m.optim.AdamW(p), lambda m, p: m.optim.Adamax(p),
    lambda m, p: m.optim.Adadelta(p), lambda m, p: m.optim.ASGD(p),
    lambda m, p: m.optim.NAdam(p), lambda m, p: m.optim.RAdam(p),
    lambda m, p: m.optim.RMSprop(p), lambda m, p: m.optim.Rprop(p),
    lambda m, p: m.optim.Adafactor(p), lambda m, p: m.optim.SGD(p, lr=0.1, weight_decay=0.1),
    lambda m, p: m.optim.SGD(p, lr=0.1, fused=True),
    lambda m, p: m.optim.Adagrad(p, weight_decay=0.1),
    lambda m, p: m.optim.Adagrad(p, fused=True),
])
def test_optimizers_refusing_sparse_gradients(make_opt):
    raises_same(lambda m: _train(m, make_opt, steps=1))


def test_sparse_adam_errors():
    raises_same(lambda m: m.optim.SparseAdam([m.sparse_coo_tensor([[0]], [1.], (2,))]))
    raises_same(lambda m: m.optim.SparseAdam([m.zeros(2, requires_grad=True)], lr=0))

    def dense(m):
        w = m.zeros(2, requires_grad=True)
        w.sum().backward()
        m.optim.SparseAdam([w]).step()
    raises_same(dense)


def test_lbfgs_takes_sparse_gradients():
    def run(m):
        w = _weights(m)
        opt = m.optim.LBFGS([w], lr=0.1, max_iter=3)

        def closure():
            opt.zero_grad()
            loss = (m.nn.functional.embedding(m.tensor([1, 3, 1]), w, sparse=True) ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return w
    check(*both(run))


def test_save_load_in_pytorch_format(tmp_path):
    e, t = both(hybrid)
    ember.save({"s": e, "c": e.coalesce()}, tmp_path / "e.pt")
    torch.save({"s": t, "c": t.coalesce()}, tmp_path / "t.pt")
    from_ember = torch.load(tmp_path / "e.pt")
    from_torch = ember.load(tmp_path / "t.pt", weights_only=True)
    for k in ("s", "c"):
        check(from_torch[k], from_ember[k])
        check(from_torch[k], t if k == "s" else t.coalesce())


def test_values_requiring_grad_are_refused():
    v = ember.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="autograd"):
        ember.sparse_coo_tensor([[0, 1]], v, (3,))
    with ember.no_grad():
        assert not ember.sparse_coo_tensor([[0, 1]], v, (3,)).requires_grad
