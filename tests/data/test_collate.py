"""``default_collate`` / ``default_convert`` against PyTorch's on every container and leaf."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata

Point = collections.namedtuple("Point", ["x", "y"])


class FrozenMap(collections.abc.Mapping):
    """An immutable mapping that cannot be built from a dict (collate falls back to dict)."""

    def __init__(self, **items):
        self._d = items

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)


def _to_torch(x):
    """The same sample structure with ember tensors replaced by torch tensors."""
    if isinstance(x, ember.Tensor):
        return torch.from_numpy(x.numpy().copy())
    if isinstance(x, Point):
        return Point(*(_to_torch(v) for v in x))
    if isinstance(x, tuple):
        return tuple(_to_torch(v) for v in x)
    if isinstance(x, list):
        return [_to_torch(v) for v in x]
    if isinstance(x, dict):
        return {k: _to_torch(v) for k, v in x.items()}
    return x


def _same(e, t):
    """``e`` (ember's result) equals ``t`` (torch's): same types, values and dtypes."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        assert e.shape == tuple(t.shape)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        return
    assert type(e) is type(t), (type(e), type(t))
    if isinstance(t, np.ndarray):
        np.testing.assert_array_equal(e, t)
    elif isinstance(t, dict):
        assert list(e) == list(t)
        for k in t:
            _same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
    else:
        assert e == t


BATCHES = {
    "ints": [0, 1, 2],
    "floats": [0.5, 1.5],
    "bools": [True, False],
    "strings": ["a", "b"],
    "bytes": [b"a", b"b"],
    "tensors": [ember.arange(3), ember.arange(3, 6)],
    "float tensors": [ember.ones(2, 2), ember.zeros(2, 2)],
    "0-d tensors": [ember.tensor(1.5), ember.tensor(2.5)],
    "numpy arrays": [np.arange(4, dtype=np.int32), np.ones(4, dtype=np.int32)],
    "numpy scalars": [np.float32(1.5), np.float32(2.5)],
    "numpy float64": [np.float64(1.5), np.float64(2.5)],
    "numpy bool": [np.bool_(True), np.bool_(False)],
    "numpy 0-d": [np.array(3.0), np.array(4.0)],
    "dicts": [{"a": 0, "b": ember.ones(2)}, {"a": 1, "b": ember.zeros(2)}],
    "nested": [{"x": [1, (2.0, "s")], "y": {"z": np.zeros(2)}},
               {"x": [3, (4.0, "t")], "y": {"z": np.ones(2)}}],
    "tuples": [(0, 1.0), (2, 3.0)],
    "lists": [[0, 1], [2, 3]],
    "namedtuples": [Point(0, ember.ones(1)), Point(1, ember.zeros(1))],
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_collate_matches_torch(name):
    batch = BATCHES[name]
    _same(edata.default_collate(batch), tdata.default_collate(_to_torch(batch)))


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_convert_matches_torch(name):
    sample = BATCHES[name]
    _same(edata.default_convert(sample), tdata.default_convert(_to_torch(sample)))
    _same(edata.default_convert(tuple(sample)), tdata.default_convert(_to_torch(tuple(sample))))


def test_collate_keeps_mapping_and_sequence_types():
    od = [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)]
    out = edata.default_collate(od)
    assert type(out) is collections.OrderedDict and list(out) == ["b", "a"]
    frozen = edata.default_collate([FrozenMap(k=1), FrozenMap(k=2)])
    assert type(frozen) is dict and frozen["k"].tolist() == [1, 2]
    dq = edata.default_collate([collections.deque([1, 2]), collections.deque([3, 4])])
    assert type(dq) is collections.deque and [t.tolist() for t in dq] == [[1, 3], [2, 4]]
    assert type(edata.default_convert(FrozenMap(k=np.zeros(1)))) is dict
    strings = np.array(["a", "b"])
    assert edata.default_convert(strings) is strings


def test_collate_errors_match_torch():
    cases = [[object(), object()], [[1, 2], [3]], [np.array(["a"]), np.array(["b"])],
             [ember.zeros(2), ember.zeros(3)]]
    for batch in cases:
        with pytest.raises(Exception) as et:
            tdata.default_collate(_to_torch(batch))
        with pytest.raises(type(et.value)) as ee:
            edata.default_collate(batch)
        assert str(et.value).replace("torch", "ember") in str(ee.value)


def test_collate_fn_map_extension():
    def collate_point(batch, *, collate_fn_map):
        return sum(p.x for p in batch)

    from ember.utils.data._utils.collate import collate, default_collate_fn_map
    fn_map = {**default_collate_fn_map, Point: collate_point}
    assert collate([Point(1, 0), Point(2, 0)], collate_fn_map=fn_map) == 3
    assert collate([[Point(1, 0)], [Point(5, 0)]], collate_fn_map=fn_map) == [6]
