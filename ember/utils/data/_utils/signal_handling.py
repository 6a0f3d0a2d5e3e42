"""Signal handling for multi-process data loading.

# NOTE [ Signal handling in multiprocessing data loading ]
A worker that dies (SIGKILL from the OOM killer, a segfault in native code, ``os._exit``)
sends no message, so the main process would wait for its batch forever. Each iterator
registers its workers' pids here, and a SIGCHLD handler in the main process checks them with
``waitid(..., WNOWAIT)`` (leaving the exit status for ``multiprocessing`` to reap) and raises
PyTorch's "DataLoader worker (pid N) is killed by signal: ..." error in the main thread, which
interrupts the blocking ``get`` (PEP 475 retries a system call only after handlers return).
An iterator unregisters its workers before it shuts them down, so a normal exit says nothing.
The handler chains to any previous Python handler. Workers dump a Python traceback on fatal
signals (``faulthandler``) and exit quietly on the SIGTERM the main process sends at exit.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading

_worker_pids: dict[int, tuple[int, ...]] = {}
_SIGCHLD_handler_set = False


def _set_worker_pids(key: int, pids: tuple[int, ...]) -> None:
    if key in _worker_pids:
        raise RuntimeError("_set_worker_pids should be called only once for each "
                           "_BaseDataLoaderIter.")
    _worker_pids[key] = pids


def _remove_worker_pids(key: int) -> None:
    if _worker_pids.pop(key, None) is None:
        raise RuntimeError("Cannot find worker information for _BaseDataLoaderIter with id "
                           f"{key}")


def _error_if_any_worker_fails() -> None:
    """Raise if a registered worker has exited with an error or been killed (once: that
    iterator's pids are then forgotten, so the others' exits do not raise again)."""
    for key, pids in list(_worker_pids.items()):
        for pid in pids:
            try:
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:  # already reaped
                continue
            if info is None:
                continue
            if info.si_code == os.CLD_EXITED and info.si_status != 0:
                msg = (f"DataLoader worker (pid {pid}) exited unexpectedly with exit code "
                       f"{info.si_status}. Details are lost due to multiprocessing. Rerunning "
                       "with num_workers=0 may give better error trace.")
            elif info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
                msg = (f"DataLoader worker (pid {pid}) is killed by signal: "
                       f"{signal.strsignal(info.si_status)}. ")
                if info.si_status == signal.SIGBUS:
                    msg += ("It is possible that dataloader's workers are out of shared memory. "
                            "Please try to raise your shared memory limit.")
            else:
                continue
            _worker_pids[key] = ()
            raise RuntimeError(msg)


def _set_SIGCHLD_handler() -> None:
    """Install the main process's SIGCHLD handler (once; only the main thread can)."""
    global _SIGCHLD_handler_set
    if _SIGCHLD_handler_set or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGCHLD)
    previous = previous if callable(previous) else None

    def handler(signum, frame):
        _error_if_any_worker_fails()
        if previous is not None:
            previous(signum, frame)

    signal.signal(signal.SIGCHLD, handler)
    _SIGCHLD_handler_set = True


def _exit_quietly(signum, frame):
    os._exit(0)


def _set_worker_signal_handlers() -> None:
    faulthandler.enable()
    signal.signal(signal.SIGTERM, _exit_quietly)
