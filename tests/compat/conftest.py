"""Collects the wall times of the compat programs and prints the ember/torch ratios at the end
of the test session (in the terminal summary, so they show without ``-s``)."""

from __future__ import annotations

import pytest

_TIMINGS: dict[str, tuple[float, float]] = {}


@pytest.fixture(scope="session")
def timings() -> dict[str, tuple[float, float]]:
    """``timings[program] = (torch_seconds, ember_seconds)``."""
    return _TIMINGS


def pytest_terminal_summary(terminalreporter):
    if not _TIMINGS:
        return
    startup = _TIMINGS.get("(startup)")
    write = terminalreporter.write_line
    terminalreporter.section("PyTorch programs under ember.run: wall time (one run, noisy)")
    write(f"{'program':18s} {'torch s':>8s} {'ember s':>8s} {'ember/torch':>12s} "
          f"{'without startup':>16s}")
    for name, (t, e) in _TIMINGS.items():
        net = "-"
        if startup is not None and name != "(startup)" and t - startup[0] > 0.05:
            net = f"{(e - startup[1]) / (t - startup[0]):.2f}"
        write(f"{name:18s} {t:8.2f} {e:8.2f} {e / t:12.2f} {net:>16s}")
