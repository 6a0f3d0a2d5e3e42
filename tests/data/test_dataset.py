"""Datasets, random_split and samplers against ``torch.utils.data``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata


def _pair(seed=None):
    if seed is None:
        return None, None
    return ember.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def _raises_like(fn_e, fn_t, *args, **kwargs):
    """``fn_e(*args, **kwargs)`` raises what ``fn_t(...)`` raises, with the same message."""
    with pytest.raises(Exception) as et:
        fn_t(*args, **kwargs)
    with pytest.raises(type(et.value)) as ee:
        fn_e(*args, **kwargs)
    assert str(ee.value) == str(et.value)


# -- datasets -----------------------------------------------------------------------------------

def test_tensor_dataset():
    x, y = ember.arange(12.).reshape(4, 3), ember.arange(4)
    ds = edata.TensorDataset(x, y)
    assert len(ds) == 4
    a, b = ds[2]
    assert a.tolist() == [6., 7., 8.] and b.item() == 2
    _raises_like(lambda: edata.TensorDataset(ember.zeros(2), ember.zeros(3)),
                 lambda: tdata.TensorDataset(torch.zeros(2), torch.zeros(3)))


def test_concat_dataset():
    ds = edata.ConcatDataset([range(3), range(10, 15)])
    ts = tdata.ConcatDataset([range(3), range(10, 15)])
    assert len(ds) == 8 and ds.cumulative_sizes == ts.cumulative_sizes
    assert [ds[i] for i in range(-8, 8)] == [ts[i] for i in range(-8, 8)]
    _raises_like(lambda: ds[-9], lambda: ts[-9])
    _raises_like(edata.ConcatDataset, tdata.ConcatDataset, [])

    class It(edata.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    class TIt(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    _raises_like(lambda: edata.ConcatDataset([It()]), lambda: tdata.ConcatDataset([TIt()]))
    with pytest.warns(FutureWarning, match="renamed"):
        assert ds.cummulative_sizes == [3, 8]

    class Sq(edata.Dataset):
        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return 3

    both = Sq() + Sq()
    assert isinstance(both, edata.ConcatDataset) and [both[i] for i in range(6)] == [0, 1, 4] * 2
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        edata.Dataset()[0]


def test_chain_and_iterable_dataset():
    class It(edata.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chain = It(2) + It(3)
    assert isinstance(chain, edata.ChainDataset)
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    bad = edata.ChainDataset([It(1), [1, 2]])
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(bad)
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(bad)


def test_stack_dataset():
    class Batched(edata.Dataset):
        def __init__(self):
            self.calls = []

        def __getitem__(self, i):
            return -i

        def __getitems__(self, idx):
            self.calls.append(idx)
            return [-i for i in idx]

        def __len__(self):
            return 3

    b = Batched()
    s = edata.StackDataset(range(3), b)
    assert s[1] == (1, -1) and len(s) == 3
    assert s.__getitems__([0, 2]) == [(0, 0), (2, -2)] and b.calls == [[0, 2]]
    d = edata.StackDataset(a=range(3), b=b)
    assert d[2] == {"a": 2, "b": -2}
    assert d.__getitems__([1]) == [{"a": 1, "b": -1}]
    for args, kwargs in [((), {}), ((range(2),), {"b": range(2)}), ((range(2), range(3)), {})]:
        _raises_like(edata.StackDataset, tdata.StackDataset, *args, **kwargs)

    class Short(Batched):
        def __getitems__(self, idx):
            return [0]

    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2"):
        edata.StackDataset(Short()).__getitems__([0, 1])


def test_subset():
    s = edata.Subset(list(range(10, 20)), [3, 1, 4])
    assert len(s) == 3 and s[0] == 13 and s.__getitems__([1, 2]) == [11, 14]

    class Bad(edata.Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(range(3), [0])


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [0.25, 0.75],
                                     [0.1, 0.1, 0.1, 0.7]])
def test_random_split_matches_torch(lengths):
    ge, gt = _pair(42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = edata.random_split(range(10), lengths, generator=ge)
        ts = tdata.random_split(range(10), lengths, generator=gt)
    assert [list(s) for s in es] == [list(s) for s in ts]


def test_random_split_default_generator_and_errors():
    ember.manual_seed(5)
    torch.manual_seed(5)
    assert ([s.indices for s in edata.random_split(range(7), [2, 5])]
            == [s.indices for s in tdata.random_split(range(7), [2, 5])])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        edata.random_split(range(1), [0.5, 0.5])
    _raises_like(edata.random_split, tdata.random_split, range(5), [2, 2])
    _raises_like(edata.random_split, tdata.random_split, range(5), [1.5, -0.5])


# -- samplers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, {"num_samples": 23}, {"num_samples": 3},
                                {"replacement": True}, {"replacement": True, "num_samples": 70}])
def test_random_sampler_matches_torch(kw):
    ge, gt = _pair(7)
    es = edata.RandomSampler(range(10), generator=ge, **kw)
    ts = tdata.RandomSampler(range(10), generator=gt, **kw)
    assert len(es) == len(ts)
    for _ in range(2):  # the generator's state carries over between passes
        assert list(es) == list(ts)


def test_random_sampler_without_generator_seeds_from_default():
    ember.manual_seed(3)
    torch.manual_seed(3)
    es, ts = edata.RandomSampler(range(9)), tdata.RandomSampler(range(9))
    assert list(es) == list(ts) and list(es) == list(ts)
    assert ember.rand(2).tolist() == pytest.approx(torch.rand(2).tolist())


def test_random_sampler_errors():
    _raises_like(edata.RandomSampler, tdata.RandomSampler, range(3), replacement=1)
    _raises_like(edata.RandomSampler, tdata.RandomSampler, range(3), num_samples=0)
    _raises_like(edata.RandomSampler, tdata.RandomSampler, [])


def test_other_samplers_match_torch():
    ge, gt = _pair(11)
    idx = [5, 9, 2, 7, 1]
    assert list(edata.SubsetRandomSampler(idx, ge)) == list(tdata.SubsetRandomSampler(idx, gt))
    assert len(edata.SubsetRandomSampler(idx)) == 5
    assert list(edata.SequentialSampler(range(4))) == [0, 1, 2, 3]
    w = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    for repl, n in [(True, 20), (False, 5)]:
        ge, gt = _pair(2)
        es = edata.WeightedRandomSampler(w, n, replacement=repl, generator=ge)
        ts = tdata.WeightedRandomSampler(w, n, replacement=repl, generator=gt)
        assert list(es) == list(ts) and len(es) == n
        assert es.weights.dtype == ember.float64
    for args in [(w, 0), (w, True), (w, 2, 1), ([[1.0, 2.0]], 2)]:
        _raises_like(edata.WeightedRandomSampler, tdata.WeightedRandomSampler, *args)


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler(drop_last):
    e = edata.BatchSampler(edata.SequentialSampler(range(10)), 3, drop_last)
    t = tdata.BatchSampler(tdata.SequentialSampler(range(10)), 3, drop_last)
    assert list(e) == list(t) and len(e) == len(t)
    for args in [(range(3), 0, False), (range(3), True, False), (range(3), 2, 1)]:
        _raises_like(edata.BatchSampler, tdata.BatchSampler, *args)


@pytest.mark.parametrize("n,replicas,shuffle,drop_last", [
    (10, 3, True, False), (10, 3, False, False), (10, 3, True, True), (11, 4, False, True),
    (2, 5, False, False), (12, 4, True, False)])
def test_distributed_sampler_matches_torch(n, replicas, shuffle, drop_last):
    for rank in range(replicas):
        e = edata.DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=3,
                                     drop_last=drop_last)
        t = tdata.DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=3,
                                     drop_last=drop_last)
        assert len(e) == len(t)
        for epoch in (0, 1):
            e.set_epoch(epoch)
            t.set_epoch(epoch)
            assert list(e) == list(t)
    _raises_like(edata.DistributedSampler, tdata.DistributedSampler, range(3), 2, 2)
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        edata.DistributedSampler(range(3))


def test_samplers_accept_numpy_weights_and_tensor_indices():
    ge, gt = _pair(0)
    es = edata.WeightedRandomSampler(np.array([1.0, 2.0, 3.0]), 4, generator=ge)
    ts = tdata.WeightedRandomSampler(np.array([1.0, 2.0, 3.0]), 4, generator=gt)
    assert list(es) == list(ts)
