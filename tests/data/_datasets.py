"""Datasets for the DataLoader tests, at module level (and importing neither torch nor pytest) so
that worker processes started with "spawn" can unpickle them quickly."""

from __future__ import annotations

import ctypes
import importlib
import math
import os
import random
import signal
import time

import numpy as np

import ember
from ember.utils.data import Dataset, IterableDataset


class Range(Dataset):
    """``i`` as a 0-d int64 tensor and a float row, for ``i`` in ``range(n)``."""

    def __init__(self, n: int, width: int = 3):
        self.n, self.width = n, width

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"i": i, "row": np.full(self.width, float(i), dtype=np.float32)}


class Seeds(Dataset):
    """What a worker's random state looks like, using ``lib`` ("ember" or "torch")."""

    def __init__(self, lib: str, n: int = 8):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        lib = importlib.import_module(self.lib)
        info = lib.utils.data.get_worker_info()
        return (i, info.id, info.seed, random.random(), float(np.random.rand()),
                float(lib.rand(()).item()))


class Sharded(IterableDataset):
    """``range(start, end)`` split between workers with ``lib``'s ``get_worker_info``."""

    def __init__(self, start: int, end: int, shard: bool = True, lib: str = "ember"):
        self.start, self.end, self.shard, self.lib = start, end, shard, lib

    def __len__(self):
        return self.end - self.start

    def __iter__(self):
        info = importlib.import_module(self.lib).utils.data.get_worker_info()
        start, end = self.start, self.end
        if self.shard and info is not None:
            per = int(math.ceil((end - start) / info.num_workers))
            start = start + info.id * per
            end = min(start + per, self.end)
        return iter(range(start, end))


class Pids(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return os.getpid()


class Failing(Dataset):
    """Item ``bad`` fails in the way ``how`` says."""

    def __init__(self, how: str, bad: int = 3, n: int = 8):
        self.how, self.bad, self.n = how, bad, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            if self.how == "raise":
                raise ValueError(f"bad item {i}")
            if self.how == "keyerror":
                raise KeyError("missing\nkey")
            if self.how == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "segfault":
                ctypes.string_at(0)
            if self.how == "exit":
                os._exit(3)
            if self.how == "sleep":
                time.sleep(1.0)
        return i


class Sleepy(Dataset):
    """Slow items, so that a test can act while the loader waits."""

    def __init__(self, n: int = 1000, delay: float = 0.05):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay)
        return i


class Big(Dataset):
    """Large samples (each batch of 4 is 4 MiB)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return ember.full((256, 1024), float(i))


def unpicklable_batch(batch):
    return lambda: batch


def fail_init(worker_id):
    raise RuntimeError(f"init of worker {worker_id} failed")


def record_pid(rank, pids):
    """For ``ember.multiprocessing.spawn``: write this process's pid into a shared tensor."""
    pids[rank] = os.getpid()
