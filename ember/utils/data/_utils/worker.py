"""The DataLoader's worker process: seeding, ``get_worker_info`` and the fetch loop."""

from __future__ import annotations

import os
import queue
import random
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler

from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper, signal_handling

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """About the current DataLoader worker: ``id`` (0 to ``num_workers - 1``), ``num_workers``,
    ``seed`` (``base_seed + id``) and ``dataset`` (this process's copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of this DataLoader worker process, or None in the main process.

    >>> get_worker_info() is None
    True
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """A persistent worker starts a new epoch."""


class ManagerWatchdog:
    """Whether the process that started this worker is still alive."""

    def __init__(self):
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self) -> bool:
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The 4-word NumPy seed of worker ``worker_id``: PyTorch's hash of (worker_id, base_seed),
    NumPy's SeedSequence mixing without its pool growth, so workers' NumPy streams differ."""
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    mult_a = 0x43B0D7E5

    def hash_(value: int) -> int:
        nonlocal mult_a
        value = (value ^ mult_a) & mask
        mult_a = (mult_a * 0x931E8875) & mask
        value = (value * mult_a) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x: int, y: int) -> int:
        r = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return (r ^ (r >> 16)) & mask

    pool = [hash_(e) for e in entropy]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_(pool[src]))
    mult_b, state = 0x8B51F9DD, []
    for v in pool:
        v = (v ^ mult_b) & mask
        mult_b = (mult_b * 0x58F38DED) & mask
        v = (v * mult_b) & mask
        state.append((v ^ (v >> 16)) & mask)
    return state


class _ResultChannel:
    """Workers to main process: one pipe that workers write whole pickled messages to under
    a shared lock, from their main thread (no feeder thread to drop or delay a message). Its
    ``reader`` can be waited on together with the workers' sentinels."""

    def __init__(self, ctx):
        self.reader, self._writer = ctx.Pipe(duplex=False)
        self._lock = ctx.Lock()

    def put(self, payload: bytes) -> None:
        with self._lock:
            self._writer.send_bytes(payload)

    def get(self) -> bytes:
        return self.reader.recv_bytes()

    def close(self) -> None:
        self.reader.close()
        self._writer.close()


def _send(channel: _ResultChannel, idx, data, worker_id: int) -> None:
    """Pickle ``(idx, data)`` here, so that a batch that cannot be sent is reported as this
    worker's error."""
    try:
        payload = ForkingPickler.dumps((idx, data))
    except Exception:
        payload = ForkingPickler.dumps(
            (idx, ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")))
    channel.put(payload)


def _worker_loop(dataset_kind, dataset, index_queue, channel, done_event, auto_collation,
                 collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers) -> None:
    """Fetch ``(idx, index)`` tasks from ``index_queue`` and send ``(idx, batch)`` (or an
    ``ExceptionWrapper``) through ``channel`` until told to stop (None) or orphaned."""
    from .... import manual_seed
    from .fetch import _DatasetKind
    global _worker_info
    watchdog = ManagerWatchdog()
    try:
        signal_handling._set_worker_signal_handlers()
        seed = base_seed + worker_id
        random.seed(seed)
        manual_seed(seed)
        import numpy as np
        np.random.seed(_generate_state(base_seed, worker_id))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                _send(channel, r, None, worker_id)
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                      collate_fn, drop_last)
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue  # drain the index queue until the final None
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
            _send(channel, idx, data, worker_id)
            del data, idx, index, r  # free the batch before waiting for the next task
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group; the main process handles it
