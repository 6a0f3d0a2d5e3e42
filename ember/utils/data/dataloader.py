"""``DataLoader``: batches from a dataset, loaded in the main process or in worker processes,
as ``torch.utils.data.dataloader``.

# NOTE [ DataLoader worker processes ]
The design is PyTorch's. The main process sends ``(task idx, indices)`` to each worker's index
queue, round-robin, keeping ``prefetch_factor * num_workers`` tasks outstanding; workers send
``(task idx, batch)`` back through one result channel and the main process hands batches out in
task order (or as they come, with ``in_order=False``), buffering early ones. Batches travel as
shared memory (collate stacks straight into a shared segment in a worker; NOTE [ Shared tensor
memory ]), and each message is pickled by the worker itself so that an unpicklable batch is
reported as that worker's error. A worker's exception comes back as an ``ExceptionWrapper``
and is re-raised as "Caught X in DataLoader worker process N" with the original traceback; a
worker that dies wakes the waiting main process through its sentinel (NOTE [ Signal handling
in multiprocessing data loading ]). Shutting down sets a shared event, sends each worker None,
waits for it to exit (terminating it if it does not) and closes the queues; workers are
daemonic and watch their parent, so they never outlive the main process.
"""

from __future__ import annotations

import errno
import itertools
import os
import time
import warnings
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from pickle import PicklingError
from typing import Any, Generic, TypeVar

from . import _utils
from ._utils import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper
from ._utils.collate import default_collate, default_convert
from ._utils.fetch import _DatasetKind
from ._utils.signal_handling import worker_exit_message
from ._utils.worker import (
    _IterableDatasetStopIteration,
    _ResultChannel,
    _ResumeIteration,
    _worker_loop,
    get_worker_info,
)
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)


class _InfiniteConstantSampler(Sampler):
    """None forever: the sampler of an iterable-style dataset."""

    def __iter__(self):
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches of ``batch_size`` (``None``: single samples),
    ``shuffle``d or in ``sampler``/``batch_sampler`` order, collated by ``collate_fn``, loaded
    by ``num_workers`` worker processes (0: in this process). Arguments and behaviour are
    PyTorch's (``pin_memory`` is accepted but ember has no accelerator to pin for).

    >>> loader = DataLoader(TensorDataset(ember.arange(10)), batch_size=4, shuffle=True)
    >>> [len(b[0]) for b in loader]
    [4, 4, 2]
    """

    __initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to "
                "None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            # samplers make no sense for a stream (every worker iterates its own copy)
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None  # see __len__
        self._iterator = None
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context) -> None:
        import multiprocessing.context

        from ... import multiprocessing as mp
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers="
                                 f"{self.num_workers}")
            if isinstance(context, str):
                methods = mp.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        "multiprocessing_context option should specify a valid start method in "
                        f"{methods!r}, but got multiprocessing_context={context!r}")
                context = mp.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a "
                    f"string specifying the start method, but got multiprocessing_context="
                    f"{context}")
        self.__multiprocessing_context = context

    def __setattr__(self, attr, val) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                           "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> _BaseDataLoaderIter:
        # persistent workers: one iterator (and one set of workers) for the loader's lifetime
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind != _DatasetKind.Iterable:
            return len(self._index_sampler)
        # An iterable dataset's own length is trusted; iterators warn when they yield more
        # than this (a dataset not sharded across workers yields duplicates).
        length = self._IterableDataset_len_called = len(self.dataset)
        if self.batch_size is not None:
            length = (length // self.batch_size if self.drop_last
                      else -(-length // self.batch_size))
        return length

    def check_worker_number_rationality(self) -> None:
        """Warn when ``num_workers`` exceeds the CPUs this process may use."""
        if not self.num_workers:
            return
        checked = hasattr(os, "sched_getaffinity")
        suggested = len(os.sched_getaffinity(0)) if checked else os.cpu_count()
        if suggested is not None and self.num_workers <= suggested:
            return
        if suggested is None:
            why = ("DataLoader is not able to compute a suggested max number of worker in "
                   "current system.")
        else:
            why = (f"Our suggested max number of worker in current system is {suggested}"
                   f"{'' if checked else ' (`cpuset` is not taken into account)'}, which is "
                   "smaller than what this DataLoader is going to create.")
        warnings.warn(
            f"This DataLoader will create {self.num_workers} worker processes in total. {why} "
            "Please be aware that excessive worker creation might get DataLoader running slow "
            "or even freeze, lower the worker number to avoid potential slowness/freeze if "
            "necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader):
        from ... import empty, int64
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the "
                f"device,ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=2)
        if loader.pin_memory:  # ember has no accelerator, so nothing is ever pinned
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # drawn after iter(sampler) (a generator: it draws nothing yet), as PyTorch does
        self._base_seed = empty((), dtype=int64).random_(generator=loader.generator).item()
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data."
                        "IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader):
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


def _unpicklable_argument(args: dict) -> str | None:
    """The name and repr of the first of ``args`` that cannot be pickled, if any."""
    for name, obj in args.items():
        try:
            ForkingPickler.dumps(obj)
        except Exception:
            text = repr(obj)
            return f"the {name} ({text if len(text) <= 200 else text[:197] + '...'})"
    return None


# NOTE [ Keeping worker resources alive until shutdown ]
# An iterator dropped while an exception's traceback refers to it is freed by the cyclic garbage
# collector, which runs weakref callbacks before ``__del__``: the queues' own finalisers (which
# stop their feeder threads) would run first, and the None sent to each worker in ``__del__``
# would never be written. So the queues and processes are also held here until shutdown.
_live_resources: dict[int, tuple] = {}


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """See NOTE [ DataLoader worker processes ]."""

    def __init__(self, loader: DataLoader):
        from ... import multiprocessing as mp
        from ...multiprocessing.reductions import init_reductions
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or mp
        init_reductions()  # cover Tensor subclasses defined since import
        self._channel = _ResultChannel(ctx)
        self._shutdown = False
        self._workers_done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        self._workers_status = []
        for i in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(target=_worker_loop, daemon=True, args=(
                self._dataset_kind, self._dataset, index_queue, self._channel,
                self._workers_done_event, self._auto_collation, self._collate_fn,
                self._drop_last, self._base_seed, loader.worker_init_fn, i, self._num_workers))
            try:
                w.start()
            except (TypeError, AttributeError, PicklingError) as e:
                self._shutdown_workers()
                culprit = _unpicklable_argument({
                    "dataset": self._dataset, "collate_fn": self._collate_fn,
                    "worker_init_fn": loader.worker_init_fn})
                if culprit is None:
                    raise
                method = ctx.get_start_method()
                raise type(e)(
                    f"DataLoader worker processes cannot be started with the {method!r} start "
                    f"method because {culprit} cannot be pickled: {e}") from e
            self._index_queues.append(index_queue)
            self._workers.append(w)
            self._workers_status.append(True)
        _live_resources[id(self)] = (self._channel, self._index_queues, self._workers)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0  # idx of the next task to send
        self._rcvd_idx = 0  # idx of the next task to return
        self._task_info = {}  # idx -> (worker_id,) while outstanding, (worker_id, data) after
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: restart their fetchers, wait for each to ack
            for q in self._index_queues:
                q.put(_ResumeIteration())
            remaining = self._num_workers
            while remaining > 0:
                idx, _ = self._get_data()
                if isinstance(idx, _ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout: float = MP_STATUS_CHECK_INTERVAL):
        """(True, message) or, after ``timeout`` seconds without one, (False, None); raises
        when an active worker has died (NOTE [ Signal handling in multiprocessing data
        loading ])."""
        active = {w.sentinel: w for i, w in enumerate(self._workers) if self._workers_status[i]}
        cause = None
        try:
            ready = wait([self._channel.reader, *active], timeout)
            if self._channel.reader in ready:  # what a worker sent before it died comes first
                return True, ForkingPickler.loads(self._channel.get())
            for sentinel in ready:  # closed as the worker exits, maybe just before it can be
                active[sentinel].join()  # reaped: wait for that, so is_alive() is False
        except Exception as e:
            if isinstance(e, OSError) and e.errno == errno.EMFILE:
                raise RuntimeError(
                    "Too many open files. Communication with the workers is no longer possible. "
                    "Please increase the limit using `ulimit -n` in the shell.") from None
            cause = e
            # a worker killed before the fds of its last batch were fetched resets the
            # connection: give a dying worker a moment to become reapable
            for sentinel in wait(list(active), 0.5):
                active[sentinel].join()
        failed = [i for i, w in enumerate(self._workers)
                  if self._workers_status[i] and not w.is_alive()]
        if failed:
            for i in failed:
                self._mark_worker_as_unavailable(i)
            pids = ", ".join(str(self._workers[i].pid) for i in failed)
            w = self._workers[failed[0]]
            how = RuntimeError(worker_exit_message(w.pid, w.exitcode))
            how.__cause__ = cause
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from how
        if cause is not None:
            raise cause
        return False, None

    def _get_data(self):
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if not success:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return data
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def _next_data(self):
        while True:
            # skip tasks of workers that have ended (an exhausted iterable dataset)
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of order
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(idx)[0])
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker (with room, out of order)
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id] and (
                    self._in_order
                    or self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status)):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_id: int):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        # The worker is told to stop (it drains its index queue until the None) but its queue
        # stays open: it may still be reading from it.
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        if _utils.python_exit_status is not False or self._shutdown:
            return  # at interpreter exit multiprocessing terminates the daemonic workers
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for i in range(len(self._workers)):
                if self._persistent_workers or self._workers_status[i]:
                    self._mark_worker_as_unavailable(i)
            # wait for the workers to exit, discarding what they still send (a worker blocked
            # writing to a full channel could not see its None otherwise)
            pending = {w.sentinel: w for w in self._workers}
            deadline = time.monotonic() + MP_STATUS_CHECK_INTERVAL
            while pending and time.monotonic() < deadline:
                for r in wait([self._channel.reader, *pending], deadline - time.monotonic()):
                    if r is self._channel.reader:
                        self._channel.get()
                    else:
                        pending.pop(r).join()
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=MP_STATUS_CHECK_INTERVAL)
            self._channel.close()
            _live_resources.pop(id(self), None)

    def __del__(self):
        if hasattr(self, "_shutdown"):  # __init__ got that far
            self._shutdown_workers()
