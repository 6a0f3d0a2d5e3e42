"""Collects the wall times of the compat programs and prints the ember/torch ratios at the end
of the test session (in the terminal summary, so they show without ``-s``)."""

from __future__ import annotations

import pytest

_TIMINGS: dict[str, tuple[float, float]] = {}


@pytest.fixture(scope="session")
def timings() -> dict[str, tuple[float, float]]:
    """``timings[program] = (torch_seconds, ember_seconds)``: whole-process wall times."""
    return _TIMINGS


def pytest_terminal_summary(terminalreporter):
    if not _TIMINGS:
        return
    terminalreporter.section("PyTorch programs under ember.run: process wall time, one run")
    write = terminalreporter.write_line
    write(f"{'program':18s} {'torch s':>8s} {'ember s':>8s} {'ember/torch':>12s}")
    for name, (t, e) in _TIMINGS.items():
        write(f"{name:18s} {t:8.2f} {e:8.2f} {e / t:12.2f}")
    write("(startup) is `import torch` plus one op; it is most of each small program's time.")
