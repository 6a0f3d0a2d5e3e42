"""``ember.multiprocessing``: tensors in shared memory between processes (``share_memory_``,
queues, Hogwild-style updates) and ``spawn``/``start_processes``."""

from __future__ import annotations

import copy
import os
import pickle
import signal

import pytest
import torch

import ember
import ember.multiprocessing as mp

from ._datasets import record_pid

fork = mp.get_context("fork")


def test_module_reexports_multiprocessing():
    for name in ["Process", "Queue", "Pipe", "Event", "Lock", "get_context", "cpu_count",
                 "get_all_start_methods", "set_start_method", "current_process"]:
        assert name in mp.__all__ and hasattr(mp, name)
    assert mp.get_context("fork").Queue is not None
    assert mp.get_all_sharing_strategies() == {"file_descriptor"}
    assert mp.get_sharing_strategy() == "file_descriptor"
    mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(AssertionError, match="invalid sharing strategy 'bad'"):
        mp.set_sharing_strategy("bad")


def test_share_memory_keeps_values_view_and_autograd_state():
    base = ember.arange(12.).reshape(3, 4)
    t = base.t()  # a non-contiguous view
    assert not t.is_shared() and not base.is_shared()
    assert t.share_memory_() is t
    assert t.is_shared() and t.tolist() == torch.arange(12.).reshape(3, 4).t().tolist()
    assert t.stride() == (1, 4) and t.storage_offset() == 0
    root = t._base
    assert root.is_shared()  # a view's base moves with it
    root.view(-1)[5] = 100.0
    assert t[1, 1].item() == 100.0
    w = ember.ones(3, requires_grad=True).share_memory_()
    assert w.requires_grad and w.is_leaf and w.is_shared()
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    for x in [ember.zeros(0), ember.tensor(3.0), ember.ones(2, dtype=ember.bfloat16),
              ember.tensor([True, False]), ember.ones(2, 2, dtype=ember.complex64)]:
        y = x.clone().share_memory_()
        assert y.is_shared() and y.dtype == x.dtype and y.tolist() == x.tolist()
        assert y.share_memory_() is y  # already shared: a no-op
    shared = ember.arange(4.).share_memory_()
    assert not copy.deepcopy(shared).is_shared()
    assert pickle.loads(pickle.dumps(shared)).tolist() == [0.0, 1.0, 2.0, 3.0]


def _child_add(inbox, outbox, done):
    t = inbox.get()
    t.add_(1)
    outbox.put(t.is_shared())
    done.wait(5)


def test_shared_tensor_on_queue_shares_memory_with_sender():
    inbox, outbox, done = fork.Queue(), fork.Queue(), fork.Event()
    p = fork.Process(target=_child_add, args=(inbox, outbox, done))
    p.start()
    x = ember.zeros(4).share_memory_()
    inbox.put(x[1:])  # a view: its storage is sent, with its offset
    assert outbox.get(timeout=10) is True
    done.set()
    p.join(10)
    assert x.tolist() == [0.0, 1.0, 1.0, 1.0]


def test_unshared_tensor_arrives_as_a_shared_copy():
    q = fork.Queue()
    x = ember.arange(6.).reshape(2, 3).t()
    q.put(x)
    y = q.get(timeout=10)
    assert y.tolist() == x.tolist() and y.is_shared() and not x.is_shared()
    y.add_(1)
    assert x[0, 0].item() == 0.0  # the sender's tensor is untouched


def _hogwild_worker(w, steps, barrier):
    barrier.wait(5)
    for _ in range(steps):
        w.add_(1.0)  # unsynchronised, as in Hogwild!


def test_hogwild_two_processes_update_one_tensor():
    w = ember.zeros(1000).share_memory_()
    barrier = fork.Barrier(2)
    procs = [fork.Process(target=_hogwild_worker, args=(w, 50, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    # each process added 50 to every element; racing updates may lose a few but both wrote
    assert 50 < w.min().item() and w.max().item() <= 100


def _train(rank, w):
    g = ember.Generator().manual_seed(rank)
    for _ in range(20):
        x = ember.randn(4, generator=g)
        grad = 2 * (w * x - 1) * x
        w.sub_(0.01 * grad)


def test_hogwild_training_with_start_processes():
    w = ember.zeros(4).share_memory_()
    mp.start_processes(_train, args=(w,), nprocs=2, start_method="fork")
    assert w.abs().sum().item() > 0  # both processes trained the shared weights in place


def _fail(rank, code):
    if rank == 1:
        if code == "raise":
            raise ValueError("rank 1 failed")
        if code == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(7)


def test_start_processes_reports_failures():
    with pytest.raises(mp.ProcessRaisedException) as e:
        mp.start_processes(_fail, args=("raise",), nprocs=2, start_method="fork")
    assert "-- Process 1 terminated with the following error:" in str(e.value)
    assert "ValueError: rank 1 failed" in str(e.value) and e.value.error_index == 1
    with pytest.raises(mp.ProcessExitedException, match="process 1 terminated with signal "
                                                        "SIGKILL") as e:
        mp.start_processes(_fail, args=("kill",), nprocs=2, start_method="fork")
    assert e.value.exit_code == -9 and e.value.signal_name == "SIGKILL"
    ctx = mp.start_processes(_fail, args=("exit",), nprocs=2, join=False, start_method="fork")
    assert len(ctx.pids()) == 2
    with pytest.raises(mp.ProcessExitedException, match="process 1 terminated with exit code 7"):
        while not ctx.join(timeout=10):
            pass


def test_spawn_shares_tensors_with_children():
    pids = ember.zeros(2, dtype=ember.int64).share_memory_()
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        mp.spawn(record_pid, args=(pids,), nprocs=2, start_method="fork")  # spawns anyway
    got = set(pids.tolist())
    assert len(got) == 2 and 0 not in got and os.getpid() not in got


class Sub(ember.Tensor):
    pass


def test_tensor_subclasses_travel_through_shared_memory():
    from ember._tensor import _as_subclass
    mp.init_reductions()  # Sub was defined after ember registered its reducers
    s = _as_subclass(ember.ones(3), Sub)
    s.tag = "meta"
    from multiprocessing.reduction import ForkingPickler
    r = ForkingPickler.loads(ForkingPickler.dumps(s))
    assert type(r) is Sub and r.tag == "meta" and r.is_shared()


def test_received_tensor_can_be_sent_on():
    a, b = fork.Queue(), fork.Queue()
    x = ember.zeros(3).share_memory_()
    a.put(x)
    y = a.get(timeout=10)
    b.put(y)
    z = b.get(timeout=10)
    z.fill_(5.0)
    assert x.tolist() == [5.0, 5.0, 5.0]
