"""Cross-device errors, checked with a stand-in backend (an ndarray subclass that reports
itself as 'cuda:0'), so the device checks run without a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import backends
from ember._device import device
from ember._tensor import _make


class _FakeCudaArray(np.ndarray):
    pass


class _FakeCudaBackend:
    name = "fakecuda"
    call = None
    xp = np
    array_type = _FakeCudaArray

    @staticmethod
    def device_of(arr):
        return device("cuda", 0)


@pytest.fixture
def fake_cuda():
    backends._BY_ARRAY_TYPE[_FakeCudaArray] = _FakeCudaBackend()
    yield lambda a: _make(np.asarray(a, dtype=np.float32).view(_FakeCudaArray))
    del backends._BY_ARRAY_TYPE[_FakeCudaArray]


def test_binary_op_across_devices_raises(fake_cuda):
    x, y = ember.ones(3), fake_cuda([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="same device.*cuda:0 and cpu!"):
        x + y
    with pytest.raises(RuntimeError, match="add"):
        ember.add(x, y)


def test_inplace_across_devices_leaves_tensor_unchanged(fake_cuda):
    x, y = ember.ones(3), fake_cuda([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="same device"):
        x.mul_(y)
    assert x.tolist() == [1.0, 1.0, 1.0] and x._version == 0


def test_matmul_and_cat_across_devices(fake_cuda):
    a, b = ember.ones(2, 2), fake_cuda(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="same device"):
        a @ b
    with pytest.raises(RuntimeError, match="same device"):
        ember.cat([a, b])
