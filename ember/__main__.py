"""The ``ember`` command (also ``python -m ember``).

    ember run script.py [args...]    run a PyTorch program with ember as torch
    ember train [--epochs N ...]     the main job: train a CNN on the digits dataset
    ember --version

# NOTE [ ember subcommands ]
``COMMANDS`` maps a subcommand to the module that implements it and a one-line summary; adding a
subcommand is one entry. The module is imported only when its subcommand runs, and its
``main(argv, prog)`` receives the arguments after the subcommand and the name to print in its
usage (``"ember run"``); it returns normally or raises ``SystemExit`` with the exit code.
"""

from __future__ import annotations

import importlib
import sys

from . import __version__
from ._compat import TORCH_VERSION

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("ember.run", "run a PyTorch program with ember standing in for torch"),
    "train": ("ember.examples.digits", "train a CNN on scikit-learn's handwritten digits (the "
              "main job)"),
}


def _help() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(["usage: ember <command> [args...]", "       ember --version", "",
                      "commands:", *lines, "", "ember <command> --help describes a command."])


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to its subcommand: ``main(["run", "a.py"])``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_help())
        sys.exit(0 if argv else 2)
    if argv[0] == "--version":
        print(f"ember {__version__} (PyTorch API {TORCH_VERSION.split('+')[0]})")
        return
    if argv[0] not in COMMANDS:
        print(f"ember: unknown command {argv[0]!r}\n\n{_help()}", file=sys.stderr)
        sys.exit(2)
    module, _ = COMMANDS[argv[0]]
    importlib.import_module(module).main(argv[1:], prog=f"ember {argv[0]}")


if __name__ == "__main__":
    main()
