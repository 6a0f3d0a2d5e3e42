"""PyTorch programs in this directory run unchanged under ``python -m ember.run`` and print what
they print under real PyTorch: the same text (with "torch." read as "ember.") and the same
numbers within float tolerance. The wall times go to the terminal summary (conftest.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
PROGRAMS = {  # program: its command-line arguments
    "polynomial_fit.py": [],
    "custom_function.py": [],
    "optim_tour.py": [],
    "cli_script.py": ["--steps", "60", "--lr", "0.05", "alpha", "beta"],
}
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def _run(command: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return r, time.perf_counter() - start


def _both(script: Path, args: list[str]):
    """The run under torch and the run under ember.run, each with its wall time."""
    torch_run = _run([sys.executable, str(script), *args])
    ember_run = _run([sys.executable, "-m", "ember.run", str(script), *args])
    return torch_run, ember_run


def _same_output(want: str, got: str, rtol: float = 2e-4, atol: float = 1e-5) -> None:
    want, got = want.replace("torch.", "ember."), got.replace("torch.", "ember.")
    assert _NUMBER.sub("#", got) == _NUMBER.sub("#", want), f"\ntorch:\n{want}\nember:\n{got}"
    for w, g in zip(_NUMBER.findall(want), _NUMBER.findall(got)):
        assert abs(float(g) - float(w)) <= atol + rtol * abs(float(w)), \
            f"{g} != {w}\ntorch:\n{want}\nember:\n{got}"


def test_startup(tmp_path, timings):
    script = tmp_path / "startup.py"
    script.write_text("import torch\nprint(torch.ones(2).sum().item())\n")
    (t, t_s), (e, e_s) = _both(script, [])
    assert t.returncode == e.returncode == 0, e.stderr
    _same_output(t.stdout, e.stdout)
    timings["(startup)"] = (t_s, e_s)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_runs_unchanged(name, timings):
    (t, t_s), (e, e_s) = _both(HERE / name, PROGRAMS[name])
    assert t.returncode == 0, t.stderr
    assert e.returncode == 0, e.stderr
    _same_output(t.stdout, e.stdout)
    timings[name.removesuffix(".py")] = (t_s, e_s)

