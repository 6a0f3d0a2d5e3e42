"""Indexing behaviour beyond the op table, against real PyTorch: ``x[i] = v`` and ``x[i] += v``
(values, version counters, gradients to self and value, views), warnings, grad_fn names and
the gradients of scatter_reduce with a larger source."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

MODULES = {"torch": torch, "ember": ember}


def _np(t):
    return t.detach().numpy() if t is not None else None


def _both(program):
    """Run ``program(m)`` with torch and ember; return both results."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return program(torch), program(ember)


def _same(ref, ours):
    if isinstance(ref, (tuple, list)):
        assert len(ref) == len(ours)
        for a, b in zip(ref, ours):
            _same(a, b)
    elif isinstance(ref, torch.Tensor):
        assert tuple(ours.shape) == tuple(ref.shape)
        assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
        np.testing.assert_allclose(_np(ours), _np(ref), rtol=1e-6, atol=1e-6)
    else:
        assert ours == ref


def _x(m, shape=(4, 5, 3), dtype="float32"):
    return m.tensor(np.arange(np.prod(shape), dtype=dtype).reshape(shape))


# -- x[index] = value: values and version counters ------------------------------------------------

def _mask(m):
    return m.tensor(np.array([True, False, True, True]))


SETITEM = {
    "int": lambda m, x: x.__setitem__(1, 7),
    "slice_tensor": lambda m, x: x.__setitem__(slice(1, 3), m.ones(5, 3)),
    "list": lambda m, x: x.__setitem__([0, 2], -1.5),
    "mask": lambda m, x: x.__setitem__(_mask(m), m.ones(3)),
    "int_among_lists": lambda m, x: x.__setitem__((1, slice(None), [0, 2]), m.ones(5, 2)),
    "separated": lambda m, x: x.__setitem__(([0, 1], slice(1, 3), [0, 2]), m.ones(2, 2)),
    "duplicates_last_wins": lambda m, x: x.__setitem__([0, 0], m.tensor([[[1.0]], [[2.0]]])),
    "false": lambda m, x: x.__setitem__(False, 3),
    "true": lambda m, x: x.__setitem__(True, 3),
    "none": lambda m, x: x.__setitem__((None, 0), 3),
    "ellipsis_list": lambda m, x: x.__setitem__((Ellipsis, [2]), m.ones(4, 5, 1)),
    "leading_ones": lambda m, x: x.__setitem__([1], m.ones(1, 1, 5, 3)),
    "int_value_float": lambda m, x: x.__setitem__(0, m.ones(5, 3, dtype=m.float64)),
    "iadd_view": lambda m, x: x[1:3].__iadd__(1),
    "iadd_advanced": lambda m, x: x.__setitem__([0, 0, 1], x[[0, 0, 1]] + 1),
}


@pytest.mark.parametrize("name", SETITEM)
def test_setitem(name):
    def run(m):
        x = _x(m)
        SETITEM[name](m, x)
        return x, x._version
    ref, ours = _both(run)
    _same(ref, ours)


def test_augmented_assignment_with_duplicates():
    def run(m):
        x = _x(m, (5,))
        x[[0, 0, 1]] += m.tensor([1.0, 2.0, 3.0])
        y = _x(m, (5,))
        y[1:3] += 1
        z = _x(m, (5,))
        z[z > 2] *= 2
        w = _x(m, (5,), "int64")
        w[1] -= 1
        return x, x._version, y, y._version, z, z._version, w, w._version
    _same(*_both(run))


def test_setitem_int_tensor_truncates_a_number():
    def run(m):
        x = _x(m, (3,), "int64")
        x[[0, 2]] = 2.7
        x[1] = -1.9
        return x
    _same(*_both(run))


@pytest.mark.parametrize("value", [[1.0, 2.0], (1.0, 2.0)])
def test_setitem_rejects_sequences(value):
    for m in MODULES.values():
        with pytest.raises(TypeError, match="can't assign a"):
            _x(m)[0, 0, :2] = value


def test_setitem_dtype_must_match_for_advanced_index():
    for m in MODULES.values():
        with pytest.raises(RuntimeError, match="Float for the destination and Double"):
            _x(m)[[0]] = m.ones(5, 3, dtype=m.float64)
    x = _x(ember)
    x[[0]] = 1.5  # a number takes self's dtype
    assert x._version == 1 and float(x[0, 0, 0]) == 1.5


# -- gradients through x[index] = value -----------------------------------------------------------

GRAD_SETITEM = {
    "advanced": (lambda m: [2, 0], (2, 5, 3)),
    "mask": (lambda m: _mask(m), (3, 5, 3)),
    "int_among_lists": (lambda m: (1, slice(None), [0, 2]), (5, 2)),
    "view_then_index": (lambda m: (slice(1, None), [0, 2]), (3, 2, 3)),
    "broadcast_value": (lambda m: ([0, 1], slice(1, 3), [0, 2]), (2,)),
    "basic": (lambda m: (slice(0, 2), 1), (2, 3)),
    "duplicates": (lambda m: [1, 1, 3], (3, 5, 3)),
}


@pytest.mark.parametrize("name", GRAD_SETITEM)
def test_setitem_gradients_reach_self_and_value(name):
    index, vshape = GRAD_SETITEM[name]
    rng = np.random.default_rng(0)
    xa, va, wa = rng.standard_normal((4, 5, 3)), rng.standard_normal(vshape), \
        rng.standard_normal((4, 5, 3))

    def run(m):
        x = m.tensor(xa, requires_grad=True)
        v = m.tensor(va, requires_grad=True)
        y = x * 2
        y[index(m)] = v * 3
        (y * m.tensor(wa)).sum().backward()
        return y, x.grad, v.grad, y.grad_fn.name().replace(m.__name__, "")
    ref, ours = _both(run)
    _same(ref, ours)


def test_augmented_assignment_gradient():
    rng = np.random.default_rng(1)
    xa, va = rng.standard_normal((5, 2)), rng.standard_normal((3, 2))

    def run(m):
        x = m.tensor(xa, requires_grad=True)
        v = m.tensor(va, requires_grad=True)
        y = x.clone()
        y[[0, 3, 3]] += v
        (y ** 2).sum().backward()
        return y, x.grad, v.grad
    _same(*_both(run))


def test_setitem_on_leaf_requiring_grad_is_an_error():
    for m in MODULES.values():
        x = m.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x[[0]] = 1.0


def test_index_put_accumulate_sums_duplicates_and_differentiates():
    def run(m):
        x = m.zeros(4, 2, dtype=m.float64, requires_grad=True)
        v = m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=m.float64, requires_grad=True)
        y = m.index_put(x, (m.tensor([0, 0, 2]),), v, accumulate=True)
        (y * m.arange(8.0, dtype=m.float64).reshape(4, 2)).sum().backward()
        z = m.zeros(4)
        z.index_put_((m.tensor([1, 1]),), m.tensor(1.0), True)
        return y, x.grad, v.grad, z, z._version
    _same(*_both(run))


# -- what PyTorch warns and names -----------------------------------------------------------------

def test_warnings():
    x = _x(ember)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        x[[[0, 1], [1, 2]]]
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        x[ember.tensor([1, 0, 1, 1], dtype=ember.uint8)]


def test_warnings_once_per_process():
    from ember._api import indexing
    indexing._WARNED.clear()
    x, i = ember.ones(3, 2), ember.tensor([[0, 1]])
    for _ in range(2):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x.scatter(0, i, ember.ones(1, 2), reduce="add")
            x.index_reduce(0, ember.tensor([0]), ember.ones(1, 2), "prod")
            x.scatter(0, i, 2.0, reduce="add")  # a number: no warning
        assert len(w) == (2 if _ == 0 else 0)
        assert all(r.filename == __file__ for r in w)


def test_views_and_copies():
    for m in MODULES.values():
        x = _x(m)
        assert x[1:, 0]._base is x
        assert x[m.tensor(1)]._base is x  # a 0-d integer tensor is an int
        assert x[[1]]._base is None
        assert x[True]._base is None  # a bool indexes a new dim with a long tensor


GRAD_FNS = {
    "index": lambda m, x: x[[0, 1]],
    "index_select": lambda m, x: x.index_select(0, m.tensor([1])),
    "scatter_reduce": lambda m, x: x.scatter_reduce(0, m.tensor([[0, 1]]), x[:1, :2] * 1, "amax"),
    "index_reduce": lambda m, x: x.index_reduce(0, m.tensor([1]), x[:1] * 1, "mean"),
    "masked_select": lambda m, x: x.masked_select(x > 0),
    "masked_scatter": lambda m, x: x.masked_scatter(x > 0, x * 2),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor([[0], [1], [0]]), 1),
    "index_fill": lambda m, x: x.index_fill(1, m.tensor([0]), 2.0),
    "index_add": lambda m, x: x.index_add(1, m.tensor([0]), x[:, :1] * 1),
    "index_copy": lambda m, x: x.index_copy(1, m.tensor([0]), x[:, :1] * 1),
    "put": lambda m, x: x.put(m.tensor([0]), x[0, :1] * 1),
}


@pytest.mark.parametrize("name", GRAD_FNS)
def test_grad_fn_names(name):
    def run(m):
        x = m.tensor(np.ones((3, 2)), requires_grad=True)
        y = GRAD_FNS[name](m, x)
        return y.grad_fn.name()
    ref, ours = _both(run)
    assert ours == ref


# -- gradients PyTorch gets through other paths ---------------------------------------------------

@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_with_reduce_has_no_derivative():
    for m in MODULES.values():
        x = m.ones(3, 4, requires_grad=True)
        y = x.scatter(0, m.tensor([[0, 1]]), m.ones(1, 2), reduce="add")
        with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
            y.sum().backward()


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_gradient_with_a_larger_source(reduce):
    """PyTorch's backward fails when src is larger than index; ember's gradient is that of the
    src corner the index uses, as PyTorch gives for that corner."""
    rng = np.random.default_rng(2)
    xa, sa = rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 2, (3, 5))
    index = np.array([[2, 0, 2, 1], [2, 1, 0, 1]])

    def run(m, src_shape):
        x = m.tensor(xa, requires_grad=True)
        s = m.tensor(sa[:src_shape[0], :src_shape[1]], requires_grad=True)
        y = x.scatter_reduce(0, m.tensor(index), s, reduce, include_self=False)
        (y * m.tensor(xa)).sum().backward()
        return y, x.grad, s.grad
    ref = run(torch, (2, 4))
    ours = run(ember, (3, 5))
    _same(ref[:2], ours[:2])
    np.testing.assert_allclose(_np(ours[2])[:2, :4], _np(ref[2]), rtol=1e-12)
    assert not np.any(_np(ours[2])[2:]) and not np.any(_np(ours[2])[:, 4:])


def test_searchsorted_many_rows_matches_pytorch():
    rng = np.random.default_rng(3)
    seq = np.sort(rng.integers(-20, 20, (7, 3, 33)), axis=-1).astype(np.float32)
    vals = rng.integers(-22, 22, (7, 3, 50)).astype(np.float32)
    for right in (False, True):
        ref, ours = _both(lambda m, right=right: m.searchsorted(m.tensor(seq), m.tensor(vals),
                                                                right=right))
        _same(ref, ours)


def test_nonzero_as_tuple_and_where():
    def run(m):
        x = m.tensor([[0.0, 1.5], [2.0, 0.0]])
        return (m.nonzero(x, as_tuple=True), m.where(x > 1), m.nonzero(m.tensor(3), as_tuple=True),
                m.nonzero(m.tensor(0), as_tuple=True), m.argwhere(x))
    _same(*_both(run))
