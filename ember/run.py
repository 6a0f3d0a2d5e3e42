"""Run an unmodified PyTorch program with ember standing in for ``torch``.

    python -m ember.run script.py [args...]
    ember run script.py [args...]

The script runs as ``python script.py [args...]`` would run it (``__name__ == "__main__"``,
``sys.argv``, its directory first on ``sys.path``, the exit code and uncaught exceptions; only
``sys.argv[0]`` is the absolute path, like ``__file__``, where python keeps it as typed), except
that ``import torch`` and every ``torch.X.Y`` import ember (NOTE [ The torch alias ] in
``ember/_compat.py``). A PyTorch API that ember lacks fails with an error naming it::

    AttributeError: ember does not provide torch.foo_bar yet (running a PyTorch program ...)
"""

from __future__ import annotations

import os
import runpy
import sys

from . import _compat

USAGE = "usage: {prog} script.py [args...]\n\nRun a PyTorch program with ember as torch."


def run(script: str, args: list[str]) -> None:
    """Run ``script`` with ``args`` as ``python script args...`` would, importing ember as torch.

    Example::

        >>> run("train.py", ["--epochs", "1"])  # doctest: +SKIP
    """
    path = os.path.abspath(script)  # __file__ is absolute, as under python >= 3.9
    _compat.install()
    sys.argv = [path, *args]  # run_path sets argv[0] to the path it runs
    sys.path[0] = os.path.dirname(path)
    runpy.run_path(path, run_name="__main__")


def main(argv: list[str] | None = None, prog: str = "python -m ember.run") -> None:
    """The command line: ``main(["script.py", "--lr", "0.1"])``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.format(prog=prog))
        sys.exit(0 if argv else 2)
    script = argv[0]
    if not os.path.exists(script):
        print(f"{prog}: can't open file {os.path.abspath(script)!r}: no such file",
              file=sys.stderr)
        sys.exit(2)
    try:
        run(script, argv[1:])
    except Exception:  # reported as the interpreter reports it: the script's frames only
        kind, error, tb = sys.exc_info()
        tb = _script_frames(tb) or tb
        sys.excepthook(kind, error.with_traceback(tb), tb)
        sys.exit(1)


def _script_frames(tb):
    """``tb`` without the frames of ember.run and runpy above the script and of the torch alias
    (``ember._compat``) below it; None when the error did not come from the script."""
    def ours(tb) -> bool:
        frame = tb.tb_frame
        return (frame.f_code.co_filename in (__file__, _compat.__file__)
                or frame.f_globals.get("__name__") == "runpy")

    while tb is not None and ours(tb):
        tb = tb.tb_next
    last = tb
    while last is not None and last.tb_next is not None:
        rest = last.tb_next
        while rest is not None and ours(rest):
            rest = rest.tb_next
        if rest is None:
            last.tb_next = None
        last = last.tb_next
    return tb

if __name__ == "__main__":
    main()
