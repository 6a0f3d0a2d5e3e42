"""``DataLoader``: batches, order, seeding and arguments against ``torch.utils.data``, in the
main process and with worker processes (the "fork" context, Linux's default)."""

from __future__ import annotations

import warnings
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata

from ._datasets import Big, Pids, Range, Seeds, Sharded


class TorchSharded(tdata.IterableDataset):
    __init__, __iter__, __len__ = Sharded.__init__, Sharded.__iter__, Sharded.__len__


def _plain(x):
    """Batches as nested Python values, comparable between ember and torch."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return (str(x.dtype).split(".")[1], x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _tensor_data(lib, n=10):
    return lib.utils.data.TensorDataset(lib.arange(n * 2.).reshape(n, 2), lib.arange(n))


CONFIGS = [
    {"batch_size": 4},
    {"batch_size": 3, "drop_last": True},
    {"batch_size": None},
    {"batch_size": 4, "shuffle": True, "seed": 0},
    {"batch_size": 1, "shuffle": True, "seed": 123},
    {"batch_size": 3, "shuffle": True, "drop_last": True, "seed": 9},
]


def _loaders(cfg, **kw):
    cfg = dict(cfg)
    seed = cfg.pop("seed", None)
    out = []
    for lib in (ember, torch):
        gen = None if seed is None else lib.Generator().manual_seed(seed)
        out.append(lib.utils.data.DataLoader(_tensor_data(lib), generator=gen, **cfg, **kw))
    return out


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_single_process_matches_torch(cfg):
    e, t = _loaders(cfg)
    assert len(e) == len(t)
    for _ in range(2):  # a second epoch continues the generator's stream
        assert [_plain(b) for b in e] == [_plain(b) for b in t]


@pytest.mark.parametrize("cfg", CONFIGS[:2] + CONFIGS[3:4], ids=str)
def test_workers_match_torch(cfg):
    e, t = _loaders(cfg, num_workers=2)
    eb, tb = list(e), list(t)
    assert [_plain(b) for b in eb] == [_plain(b) for b in tb]
    assert all(x.is_shared() for b in eb for x in b)


def test_samplers_and_collate_fn_arguments():
    ds_e, ds_t = _tensor_data(ember), _tensor_data(torch)
    kinds = [
        lambda lib, ds: {"sampler": lib.utils.data.SubsetRandomSampler(
            [1, 5, 7, 2], lib.Generator().manual_seed(1)), "batch_size": 2},
        lambda lib, ds: {"batch_sampler": lib.utils.data.BatchSampler(
            lib.utils.data.RandomSampler(ds, generator=lib.Generator().manual_seed(4)), 3,
            False)},
        lambda lib, ds: {"batch_size": 2, "collate_fn": lambda b: len(b)},
        lambda lib, ds: {"batch_size": None, "sampler": [[0, 1], [4, 5]]},
    ]
    for kind in kinds:
        e = edata.DataLoader(ds_e, **kind(ember, ds_e))
        t = tdata.DataLoader(ds_t, **kind(torch, ds_t))
        assert [_plain(b) for b in e] == [_plain(b) for b in t]


def test_argument_errors_match_torch():
    ds_e, ds_t = Range(4), Range(4)
    it_e, _it_t = Sharded(0, 4), Sharded(0, 4)

    class TIt(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(4))
    bad = [
        {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2},
        {"num_workers": 1, "prefetch_factor": -1}, {"persistent_workers": True},
        {"sampler": [0], "shuffle": True}, {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_sampler": [[0]], "drop_last": True}, {"batch_size": None, "drop_last": True},
        {"multiprocessing_context": "fork"},
        {"num_workers": 1, "multiprocessing_context": "nope"},
        {"num_workers": 1, "multiprocessing_context": 3},
        {"batch_size": 0},
    ]
    for kw in bad:
        with pytest.raises(Exception) as et:
            tdata.DataLoader(ds_t, **kw)
        with pytest.raises(type(et.value)) as ee:
            edata.DataLoader(ds_e, **kw)
        assert str(ee.value) == str(et.value), kw
    for kw in [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}]:
        with pytest.raises(ValueError) as et:
            tdata.DataLoader(TIt(), **kw)
        with pytest.raises(ValueError) as ee:
            edata.DataLoader(it_e, **kw)
        assert str(ee.value).split(",")[0] == str(et.value).split(",")[0]
    loader = edata.DataLoader(ds_e)
    for attr in ["batch_size", "sampler", "dataset", "drop_last"]:
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after "
                                             "DataLoader is initialized"):
            setattr(loader, attr, None)
    with pytest.raises(NotImplementedError, match="cannot be pickled"):
        import pickle
        pickle.dumps(iter(loader))


def test_len_and_iterable_dataset_warning():
    assert len(edata.DataLoader(Range(10), batch_size=4)) == 3
    assert len(edata.DataLoader(Range(10), batch_size=4, drop_last=True)) == 2
    loader = edata.DataLoader(Sharded(0, 10), batch_size=4)
    assert len(loader) == 3 and len(edata.DataLoader(Sharded(0, 10), batch_size=None)) == 10
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b.tolist() for b in edata.DataLoader(Sharded(0, 10), batch_size=4,
                                                 drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # an unsharded iterable dataset with workers yields duplicates: PyTorch's warning
    loader = edata.DataLoader(Sharded(0, 4, shard=False), batch_size=None, num_workers=2)
    assert len(loader) == 4
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = [int(x) for x in loader]
    assert str(w[0].message).endswith(
        "was reported to be 4(when accessing len(dataloader)), but 5 samples have been fetched. "
        "For multiprocessing data-loading, this could be caused by not properly configuring the "
        "IterableDataset replica at each worker. Please see https://pytorch.org/docs/stable/"
        "data.html#torch.utils.data.IterableDataset for examples.")
    assert len(w) == 4
    assert sorted(out) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_worker_seeding_matches_torch():
    """Workers seed ``random``, NumPy and the default generator from the loader's generator
    exactly as PyTorch's workers do."""
    runs = []
    for lib in ("ember", "torch"):
        mod = ember if lib == "ember" else torch
        loader = mod.utils.data.DataLoader(
            Seeds(lib), batch_size=2, num_workers=2, shuffle=True,
            generator=mod.Generator().manual_seed(2024))
        runs.append([_plain(b) for epoch in range(2) for b in loader])
    e, t = runs
    assert [b[:3] for b in e] == [b[:3] for b in t]  # index, worker id, seed
    for be, bt in zip(e, t):
        for col in (3, 4, 5):  # random, NumPy, default generator
            np.testing.assert_allclose(be[col][1], bt[col][1], rtol=1e-6)


def test_iterable_dataset_sharded_by_worker():
    loader = edata.DataLoader(Sharded(3, 17), batch_size=2, num_workers=2)
    got = [x for b in loader for x in b.tolist()]
    assert sorted(got) == list(range(3, 17))
    assert len(got) == 14
    # single samples, and per-worker streams interleaved as in PyTorch (worker 0's first)
    e = [int(x) for x in edata.DataLoader(Sharded(3, 7), num_workers=2, batch_size=None)]
    t = [int(x) for x in tdata.DataLoader(TorchSharded(3, 7, lib="torch"), num_workers=2,
                                          batch_size=None)]
    assert e == t == [3, 5, 4, 6]


def test_worker_init_fn_and_worker_info():
    assert edata.get_worker_info() is None
    loader = edata.DataLoader(Range(4), batch_size=2, num_workers=2,
                              worker_init_fn=_check_worker_info)
    assert [b["i"].tolist() for b in loader] == [[0, 1], [2, 3]]


def _check_worker_info(worker_id):
    info = edata.get_worker_info()
    assert info.id == worker_id and info.num_workers == 2 and isinstance(info.dataset, Range)
    with pytest.raises(AttributeError):
        info.id = 5


def test_persistent_workers_keep_processes_across_epochs():
    loader = edata.DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    first = {p for b in loader for p in b.tolist()}
    second = {p for b in loader for p in b.tolist()}
    assert len(first) == 2 and first == second
    fresh = edata.DataLoader(Pids(), batch_size=2, num_workers=2)
    assert {p for b in fresh for p in b.tolist()}.isdisjoint(first)
    it_loader = edata.DataLoader(Sharded(0, 6), batch_size=2, num_workers=2,
                                 persistent_workers=True)
    for _ in range(2):
        assert sorted(x for b in it_loader for x in b.tolist()) == list(range(6))
    del loader._iterator, it_loader._iterator


def test_in_order_false_and_prefetch_factor():
    loader = edata.DataLoader(Range(12), batch_size=2, num_workers=2, in_order=False,
                              prefetch_factor=1)
    got = sorted(i for b in loader for i in b["i"].tolist())
    assert got == list(range(12))
    loader = edata.DataLoader(Range(12), batch_size=2, num_workers=2, prefetch_factor=4,
                              multiprocessing_context="fork")
    assert [i for b in loader for i in b["i"].tolist()] == list(range(12))


def test_large_batches_travel_as_shared_memory():
    loader = edata.DataLoader(Big(), batch_size=4, num_workers=2)
    batches = list(loader)
    assert [b.shape for b in batches] == [(4, 256, 1024)] * 2
    assert all(b.is_shared() for b in batches)
    assert batches[1][2].flatten()[:3].tolist() == [6.0] * 3
    # a 4 MiB tensor pickles (for a multiprocessing queue) to a handle, not to its bytes
    assert len(ForkingPickler.dumps(batches[0])) < 1000
    assert len(ForkingPickler.dumps(ember.ones(1 << 20))) < 1000


def test_pin_memory_is_accepted():
    with pytest.warns(UserWarning, match="no accelerator is found"):
        out = [b.tolist() for b in edata.DataLoader(Sharded(0, 4), batch_size=2,
                                                    pin_memory=True)]
    assert out == [[0, 1], [2, 3]]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        list(edata.DataLoader(Sharded(0, 2), pin_memory=True, pin_memory_device="cuda"))
    assert any("pin_memory_device is deprecated" in str(x.message) for x in w)


def test_too_many_workers_warns():
    import os
    n = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning, match=f"This DataLoader will create {n} worker processes"):
        edata.DataLoader(Range(2), num_workers=n)
