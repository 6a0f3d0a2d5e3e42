"""``ember.device`` against ``torch.device``, and CUDA requests without a GPU."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import ember
from ember.backends import cuda as cuda_backend

GOOD = ["cpu", "cuda", "cuda:1", "cpu:0", "meta", "cuda:0", "cuda:12"]
BAD = ["cuda:-1", "cuda:x", "gpu", "cuda:1:2", "CUDA", " cuda", "cuda: 1", "cuda:01", "",
       "cuda:"]


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - comparing whatever each library raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("s", GOOD)
def test_parse(s):
    e, t = ember.device(s), torch.device(s)
    assert (e.type, e.index) == (t.type, t.index)
    assert str(e) == str(t)
    assert repr(e) == repr(t)
    assert ember.device(e) == e


@pytest.mark.parametrize("s", BAD)
def test_parse_errors(s):
    te, ee = _error(lambda: torch.device(s)), _error(lambda: ember.device(s))
    assert te is not None and ee is not None
    assert ee[0] is te[0]
    if "Expected one of" in te[1]:  # ember lists only its own device types
        assert ee[1] == f"Expected one of cpu, cuda, meta device type at start of device " \
                        f"string: {s}"
    else:
        assert ee[1] == te[1]


@pytest.mark.parametrize("args", [("cuda", 1), ("cpu", 0), ("cuda", None), ("cuda:1", 1),
                                  ("cuda", -1), (1.5,), (None,), ("cuda", "1")])
def test_two_argument_form(args):
    te, ee = _error(lambda: torch.device(*args)), _error(lambda: ember.device(*args))
    if te is None:
        assert ee is None
        assert repr(ember.device(*args)) == repr(torch.device(*args))
    else:
        assert ee is not None and ee[0] is te[0]
        if te[0] is RuntimeError:
            assert ee[1] == te[1]


def test_keywords_and_int():
    assert repr(ember.device(type="cuda", index=2)) == repr(torch.device(type="cuda", index=2))
    assert ember.device(1) == ember.device("cuda:1")
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        ember.device(-1)


def test_equality_and_hash():
    assert ember.device("cuda:0") != ember.device("cuda")
    assert ember.device("cuda", 0) == ember.device("cuda:0")
    assert (ember.device("cpu") == "cpu") is (torch.device("cpu") == "cpu") is False
    assert (ember.device("cpu") == 3) is (torch.device("cpu") == 3) is False
    assert {ember.device("cpu"): 1}[ember.device("cpu")] == 1
    assert len({ember.device("cuda:1"), ember.device("cuda", 1)}) == 1


def test_pickle_and_copy():
    d = ember.device("cuda:1")
    assert pickle.loads(pickle.dumps(d)) == d
    assert copy.deepcopy(d) == d


def test_tensor_device():
    t = ember.zeros(2)
    assert t.device == ember.device("cpu")
    assert t.is_cpu and not t.is_cuda
    assert str(t.device) == "cpu"
    assert t.to("cpu") is t and t.cpu() is t
    assert ember.zeros(2, device=ember.device("cpu")).device.type == "cpu"


def test_device_context_manager_sets_default():
    with ember.device("cpu"):
        assert ember.get_default_device() == ember.device("cpu")
        assert ember.zeros(1).device.type == "cpu"


@pytest.mark.skipif(cuda_backend.available(), reason="a GPU is present")
@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2, device="cuda"), lambda: ember.tensor([1], device="cuda:0"),
    lambda: ember.ones(2).cuda(), lambda: ember.ones(2).to("cuda"),
    lambda: ember.randn(2, device="cuda"), lambda: ember.arange(3, device="cuda"),
])
def test_cuda_without_gpu_is_a_clear_error(make):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        make()


def test_meta_has_no_backend():
    with pytest.raises(RuntimeError, match="no backend for device type 'meta'"):
        ember.zeros(2, device="meta")
