"""Dying workers: how the main process notices them, and what workers do on signals.

# NOTE [ Signal handling in multiprocessing data loading ]
A worker that dies (SIGKILL from the OOM killer, a segfault in native code, ``os._exit``)
sends no message, so a main process waiting only for results would wait forever. The main
process therefore waits on the result channel *and* on every active worker's process sentinel
(``multiprocessing.connection.wait``), so a death wakes it at once, and raises PyTorch's error,
"DataLoader worker (pid(s) N) exited unexpectedly", caused by one that says how it died
("... is killed by signal: Killed." / "... exited unexpectedly with exit code 3. ...").
PyTorch learns the same from a SIGCHLD handler that raises wherever the main thread happens to
be; ember does not install one: an exception raised from a signal handler inside an unrelated
``__del__`` is swallowed, and the wait would then hang until the timeout. A death matters only
while the main process waits for data, which is exactly when the sentinels are watched.
Workers dump a Python traceback on fatal signals (``faulthandler``) and exit quietly on the
SIGTERM that the main process sends to daemonic children at exit.
"""

from __future__ import annotations

import faulthandler
import os
import signal


def worker_exit_message(pid: int, exitcode: int) -> str:
    """PyTorch's description of a worker that ended with ``exitcode`` (negative: a signal)."""
    if exitcode >= 0:
        return (f"DataLoader worker (pid {pid}) exited unexpectedly with exit code {exitcode}. "
                "Details are lost due to multiprocessing. Rerunning with num_workers=0 may give "
                "better error trace.")
    msg = f"DataLoader worker (pid {pid}) is killed by signal: {signal.strsignal(-exitcode)}. "
    if -exitcode == signal.SIGBUS:
        msg += ("It is possible that dataloader's workers are out of shared memory. Please try "
                "to raise your shared memory limit.")
    return msg


def _exit_quietly(signum, frame):
    os._exit(0)


def _set_worker_signal_handlers() -> None:
    faulthandler.enable()
    signal.signal(signal.SIGTERM, _exit_quietly)
