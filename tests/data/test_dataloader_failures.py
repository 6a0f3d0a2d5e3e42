"""DataLoader failure behaviour: worker exceptions, dying workers, timeouts, unpicklable
arguments under "spawn", Ctrl-C, and no leaked descriptors over many epochs. Every test ends in
seconds (a loader ``timeout`` is the backstop against a hang)."""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import ember
from ember.utils.data import DataLoader

from ._datasets import Failing, Range, Sleepy, fail_init, unpicklable_batch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _drain(loader):
    return [b for b in loader]


def test_worker_exception_is_reraised_with_worker_id_and_traceback():
    loader = DataLoader(Failing("raise"), batch_size=2, num_workers=2, timeout=10)
    with pytest.raises(ValueError) as e:
        _drain(loader)
    msg = str(e.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\n"
                          "Original Traceback (most recent call last):\n")
    assert 'raise ValueError(f"bad item {i}")' in msg and msg.endswith("ValueError: bad item 3\n")
    with pytest.raises(KeyError) as e:  # a KeyError's message is shown as is, not repr'd
        _drain(DataLoader(Failing("keyerror"), num_workers=1, timeout=10))
    assert "Caught KeyError in DataLoader worker process 0.\nOriginal" in str(e.value)
    # the same dataset in the main process raises the original exception
    with pytest.raises(ValueError, match="^bad item 3$"):
        _drain(DataLoader(Failing("raise"), batch_size=2))


def test_worker_init_fn_exception_and_iterator_goes_on():
    loader = DataLoader(Range(4), batch_size=2, num_workers=1, worker_init_fn=fail_init,
                        timeout=10)
    with pytest.raises(RuntimeError, match="(?s)Caught RuntimeError in DataLoader worker process "
                                           "0.*init of worker 0 failed"):
        _drain(loader)
    it = iter(DataLoader(Failing("raise", bad=0, n=3), num_workers=1, timeout=10))
    with pytest.raises(ValueError):
        next(it)
    assert [int(x) for x in it] == [1, 2]  # later batches still arrive, as in PyTorch


def test_unpicklable_batch_is_reported_not_dropped():
    loader = DataLoader(Range(4), batch_size=2, num_workers=1, collate_fn=unpicklable_batch,
                        timeout=10)
    with pytest.raises(Exception, match="in DataLoader worker process 0") as e:
        _drain(loader)
    assert "pickle" in str(e.value)


@pytest.mark.parametrize("how,cause", [
    ("sigkill", r"DataLoader worker \(pid {pid}\) is killed by signal: Killed\. "),
    ("segfault", r"DataLoader worker \(pid {pid}\) is killed by signal: Segmentation fault\. "),
    ("exit", r"DataLoader worker \(pid {pid}\) exited unexpectedly with exit code 3\. Details "
             "are lost due to multiprocessing"),
])
def test_dying_worker_raises_instead_of_hanging(how, cause):
    """As in PyTorch: "DataLoader worker (pid(s) N) exited unexpectedly", caused by the SIGCHLD
    handler's error saying how it died."""
    it = iter(DataLoader(Failing(how), batch_size=2, num_workers=2, timeout=20))
    pid = it._workers[1].pid  # worker 1 gets the batch [2, 3]
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"^DataLoader worker \(pid\(s\) {pid}\) exited "
                                           "unexpectedly$") as e:
        _drain(it)
    assert time.monotonic() - start < 5
    assert re.match(cause.format(pid=pid), str(e.value.__cause__))


def test_worker_killed_from_outside_while_waiting():
    it = iter(DataLoader(Sleepy(delay=0.2), num_workers=2, timeout=20))
    next(it)
    pid = it._workers[1].pid
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) {pid}\) exited "
                                           "unexpectedly") as e:
        os.kill(pid, signal.SIGKILL)
        _drain(it)
    assert time.monotonic() - start < 5
    assert "is killed by signal: Killed" in str(e.value.__cause__)


def test_timeout():
    it = iter(DataLoader(Failing("sleep", bad=0), num_workers=1, timeout=0.2))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0\.2 seconds$"):
        next(it)
    assert time.monotonic() - start < 0.9


def test_spawn_context_and_unpicklable_arguments():
    loader = DataLoader(Range(6), batch_size=3, num_workers=2, multiprocessing_context="spawn",
                        timeout=30)
    assert [b["i"].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]

    class Local(Range):
        pass

    with pytest.raises(AttributeError, match=r"'spawn' start method because the dataset "
                                             r"\(<.*Local object.*\) cannot be pickled"):
        iter(DataLoader(Local(4), num_workers=2, multiprocessing_context="spawn"))
    with pytest.raises(Exception, match=r"because the collate_fn \(<function .*<lambda>.*\) "
                                        "cannot be pickled"):
        iter(DataLoader(Range(4), num_workers=1, collate_fn=lambda b: b,
                        multiprocessing_context="spawn"))
    # under fork nothing needs pickling
    assert len(list(DataLoader(Local(4), num_workers=1, collate_fn=lambda b: b))) == 4


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _shm() -> set:
    return set(os.listdir("/dev/shm"))


def test_no_descriptor_or_shared_memory_leak_over_many_epochs():
    loader = DataLoader(Range(16, width=4096), batch_size=4, num_workers=2)
    persistent = DataLoader(Range(16, width=4096), batch_size=4, num_workers=2,
                            persistent_workers=True)

    def epochs(n):
        for _ in range(n):
            for batch in loader:
                assert batch["row"].is_shared()
            for batch in persistent:
                assert batch["row"].is_shared()
        gc.collect()

    epochs(1)  # warm up: lazily created process-wide resources
    fds, shm = _fds(), _shm()
    epochs(15)
    deadline = time.monotonic() + 2  # queue feeder threads close their pipes asynchronously
    while _fds() > fds and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _fds() <= fds
    assert _shm() <= shm
    del persistent._iterator
    gc.collect()


SIGINT_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from ember.utils.data import DataLoader
    from tests.data._datasets import Sleepy

    it = iter(DataLoader(Sleepy(delay=0.05), num_workers=2))
    print(" ".join(str(w.pid) for w in it._workers), flush=True)
    for _ in it:
        pass
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_ctrl_c_stops_workers():
    p = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT.format(root=ROOT)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pids = [int(x) for x in p.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert "KeyboardInterrupt" in err and err.count("Traceback") == 1, err
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def test_non_leaf_requiring_grad_cannot_cross_processes():
    from multiprocessing.reduction import ForkingPickler
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(x * 2)
