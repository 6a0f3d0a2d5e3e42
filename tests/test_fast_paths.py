"""The fast paths of the small breadth ops against real PyTorch, on the inputs that pick them and
on the inputs that must leave them: descending sort by an order-reversing key (NaN, signed
zeros, integer extremes, bools), topk by partition (ties across the k-th place, NaN),
``x[ints, slices, index tensors]`` read without the general index parser, and the one-pass
bounds checks (negative indices, their messages)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _pair(a):
    return ember.tensor(a), torch.tensor(a)


def _same_bits(ours, ref):
    ours, ref = ours.numpy(), ref.numpy()
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert ours.tobytes() == ref.tobytes()


@pytest.mark.parametrize("values, dtype", [
    ([0.0, -0.0, np.nan, 1.0, -np.inf, np.inf, np.nan, 0.0, 1.0], np.float32),
    ([0.0, -0.0, 2.5, 1.0, -np.inf, 2.5, -0.0, 0.0], np.float64),
    ([1.0, np.nan, 1.0, -2.0], np.float16),
    ([-128, 127, 0, -128, 127, 5, 0], np.int8),
    ([0, 255, 3, 255, 0], np.uint8),
    ([np.iinfo(np.int64).min, 7, np.iinfo(np.int64).max, 7], np.int64),
    ([True, False, True, False], np.bool_),
])
def test_descending_stable_sort(values, dtype):
    a = np.array([values, values[::-1]], dtype=dtype)
    for x, t in (_pair(a), _pair(np.ascontiguousarray(a.T))):
        for dim in (0, 1):
            ours = x.sort(dim=dim, descending=True, stable=True)
            ref = t.sort(dim=dim, descending=True, stable=True)
            _same_bits(ours.values, ref.values)
            _same_bits(ours.indices, ref.indices)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("case", ["distinct", "tied_within", "tied_across", "nan", "int"])
def test_topk_by_partition_is_the_stable_sorts_head(case, largest):
    rng = np.random.default_rng(0)
    a = rng.permutation(300 * 3).reshape(3, 300).astype(np.float32)
    k = 20
    if case == "tied_within":  # ties among the chosen entries only
        a[:, :5] = 1e4 if largest else -1e4
    elif case == "tied_across":  # a tie straddling the k-th place: the whole-slice sort
        a = rng.integers(0, 30, (3, 300)).astype(np.float32)
    elif case == "nan":
        a[1, 7] = a[2, 100] = np.nan
    elif case == "int":
        a = rng.integers(-50, 50, (3, 300)).astype(np.int64)
    x, t = _pair(a)
    for dim in (1, 0):
        if dim == 0:
            x, t = _pair(np.ascontiguousarray(a.T))
        ours = x.topk(k, dim=dim, largest=largest)
        ref = t.sort(dim=dim, descending=largest, stable=True)
        head = (slice(None), slice(0, k)) if dim == 1 else (slice(0, k),)
        _same_bits(ours.values, ref.values[head].contiguous())
        _same_bits(ours.indices, ref.indices[head].contiguous())
        _same_bits(ours.values, t.topk(k, dim=dim, largest=largest).values)


def test_topk_backward_through_partition():
    a = np.random.default_rng(1).standard_normal((2, 100))
    x, t = (m.tensor(a, requires_grad=True) for m in (ember, torch))
    for v in (x, t):
        (v.topk(5).values * v.new_tensor(np.arange(5.0))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("index", [
    lambda m: (slice(None), slice(1, 3)),
    lambda m: (2, slice(None, None, 2)),
    lambda m: (m.tensor([0, 3, 3]), slice(1, 4)),
    lambda m: (slice(None), m.tensor([[1], [0]])),
    lambda m: (1, m.tensor([2, 0])),
    lambda m: (m.tensor([0, 1], dtype=m.int32), m.tensor([2, 2])),
    lambda m: (-4, slice(-2, None)),
])
def test_simple_tuple_index(index):
    a = np.arange(20.0).reshape(4, 5)
    x, t = _pair(a)
    np.testing.assert_array_equal(x[index(ember)].numpy(), t[index(torch)].numpy())


@pytest.mark.parametrize("index", [
    lambda m: (4, slice(None)),  # int out of range
    lambda m: (slice(None), m.tensor([5])),  # index tensor out of range
    lambda m: (slice(None, None, -1),),  # negative step
    lambda m: (m.tensor([0]), m.tensor([0]), m.tensor([0])),  # too many
])
def test_simple_tuple_index_errors(index):
    a = np.arange(20.0).reshape(4, 5)
    x, t = _pair(a)
    with pytest.raises(Exception) as ref:
        t[index(torch)]
    with pytest.raises(type(ref.value)):
        x[index(ember)]


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("bad", [-1, 4, -5, 9])
def test_gather_bounds(dtype, bad):
    x, t = _pair(np.zeros((2, 4)))
    idx = np.array([[0, bad], [-3 if bad > 0 else 7, 2]], dtype=dtype)  # the first one is named
    with pytest.raises(RuntimeError) as ref:
        t.gather(1, torch.tensor(idx))
    with pytest.raises(RuntimeError) as ours:
        x.gather(1, ember.tensor(idx))
    assert str(ref.value).split(" (")[0] in str(ours.value)


@pytest.mark.parametrize("bad", [[8], [-9], [3, -20, 50]])
def test_take_bounds(bad):
    x, t = _pair(np.zeros((2, 4)))
    with pytest.raises(IndexError) as ref:
        t.take(torch.tensor(bad))
    with pytest.raises(IndexError) as ours:
        x.take(ember.tensor(bad))
    assert str(ref.value) in str(ours.value)


@pytest.mark.parametrize("op", [
    lambda m, x, i: x.index_add(1, i, m.zeros(2, 3)),
    lambda m, x, i: x.index_copy(1, i, m.zeros(2, 3)),
    lambda m, x, i: x.index_fill(1, i, 1.0),
])
@pytest.mark.parametrize("bad", [[3, -20, 50], [3, 50, -20]])
def test_index_family_names_the_first_bad_index(op, bad):
    msgs = []
    for m in (torch, ember):
        with pytest.raises((RuntimeError, IndexError)) as e:
            op(m, m.zeros(2, 4), m.tensor(bad))
        msgs.append(str(e.value).split(" (inputs")[0])
    assert msgs[0] in msgs[1]


@pytest.mark.parametrize("bad", [[0, -9, 9], [0, 9, -9]])
def test_advanced_index_names_the_first_bad_index(bad):
    msgs = []
    for m in (torch, ember):
        x = m.zeros(4, 5)
        for index in (m.tensor(bad), (slice(None), m.tensor(bad))):
            with pytest.raises(IndexError) as e:
                x[index]
            msgs.append(str(e.value).split(" (inputs")[0])
    assert msgs[:2] == msgs[2:]
