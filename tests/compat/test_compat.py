"""PyTorch programs in this directory run unchanged under ``python -m ember.run`` and print what
they print under real PyTorch: the same text (with "torch." read as "ember.") and the same
numbers within float tolerance. The wall times go to the terminal summary (conftest.py).

NOTE [ Comparing a program's output ]
Every program is seeded, and ember reproduces torch's CPU random streams bit for bit, so a
program's numbers are compared exactly up to float rounding (``rtol``/``atol``, per program).
Where rounding differences are amplified until runs drift apart (float32 LBFGS: line searches
branch differently; bfloat16 training, where whether a fused kernel rounds once and a composite
rounds twice matters), the lines matching a ``bands`` pattern are compared within a relative band
of torch's numbers instead, e.g. "final loss within 15% of torch's". The text around the
numbers must always be identical. A program that fails because of a known ember bug is marked
``xfail`` (strict, so fixing the bug flags the mark for removal) with the bug's one-line repro.
A program that uses layers still being built on other branches names them in ``needs`` and is
skipped until ember has them (once they are merged the skip never fires).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class Program:
    """How one program is run and compared (NOTE [ Comparing a program's output ])."""

    args: tuple[str, ...] = ()
    rtol: float = 2e-4
    atol: float = 1e-5
    bands: dict[str, float] = field(default_factory=dict)  # line regex: relative band
    xfail: str | None = None  # the ember bug that makes it fail
    needs: tuple[str, ...] = ()  # ember APIs it uses that a branch may lack: "nn.ReLU"


_ACTIVATIONS = ("nn.ReLU", "nn.Tanh", "nn.LeakyReLU", "nn.Sigmoid", "nn.Softplus")


PROGRAMS = {
    "polynomial_fit.py": Program(),
    "custom_function.py": Program(),
    "optim_tour.py": Program(),
    "cli_script.py": Program(args=("--steps", "60", "--lr", "0.05", "alpha", "beta")),
    "cnn_checkpoint.py": Program(needs=("nn.BatchNorm2d", "nn.Dropout", "nn.ReLU")),
    "gpt_lm.py": Program(needs=("nn.Embedding", "nn.TransformerEncoder", "nn.LayerNorm")),
    "lstm_packed.py": Program(needs=("nn.Embedding", "nn.CrossEntropyLoss")),
    "gan.py": Program(needs=(*_ACTIVATIONS, "nn.Dropout", "nn.BCEWithLogitsLoss")),
    "vae.py": Program(needs=_ACTIVATIONS),
    "lbfgs_fit.py": Program(bands={r"^float32 ": 0.15}, needs=_ACTIVATIONS),
    "schedulers_mlp.py": Program(needs=(*_ACTIVATIONS, "nn.LayerNorm")),
    "data_pipeline.py": Program(),
    "amp_bf16.py": Program(bands={r"^step ": 0.05}, needs=("autocast", "amp.GradScaler")),
    "seq2seq.py": Program(bands={r"^final eval": 1e-3},
                          needs=("nn.Transformer", "nn.Embedding")),
    "resnet_tricks.py": Program(needs=("nn.BatchNorm2d", "nn.ReLU", "nn.AdaptiveAvgPool2d")),
}
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def _run(command: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return r, time.perf_counter() - start


def _both(script: Path, args):
    """The run under torch and the run under ember.run, each with its wall time."""
    torch_run = _run([sys.executable, str(script), *args])
    ember_run = _run([sys.executable, "-m", "ember.run", str(script), *args])
    return torch_run, ember_run


def _same_output(want: str, got: str, program: Program = Program()) -> None:
    """``got`` prints what ``want`` prints: the same text, numbers within the program's
    tolerance (or band, on the lines a band names)."""
    want, got = want.replace("torch.", "ember."), got.replace("torch.", "ember.")
    shown = f"\ntorch:\n{want}\nember:\n{got}"
    assert _NUMBER.sub("#", got) == _NUMBER.sub("#", want), shown
    for line, (w_line, g_line) in enumerate(zip(want.splitlines(), got.splitlines()), 1):
        bands = [b for pattern, b in program.bands.items() if re.search(pattern, w_line)]
        rtol = max(bands) if bands else program.rtol
        for w, g in zip(_NUMBER.findall(w_line), _NUMBER.findall(g_line)):
            assert abs(float(g) - float(w)) <= program.atol + rtol * abs(float(w)), \
                f"line {line}: {g} != {w} (rtol {rtol}){shown}"


def test_same_output_bands():
    band = Program(bands={"^loss": 0.1})
    _same_output("loss 1.0\nx 2.0\n", "loss 1.05\nx 2.0\n", band)
    with pytest.raises(AssertionError, match="line 2"):
        _same_output("loss 1.0\nx 2.0\n", "loss 1.05\nx 2.1\n", band)
    with pytest.raises(AssertionError, match="line 1"):
        _same_output("loss 1.0\n", "loss 1.05\n")
    with pytest.raises(AssertionError):
        _same_output("loss 1.0\n", "lost 1.0\n", band)


def test_startup(tmp_path, timings):
    script = tmp_path / "startup.py"
    script.write_text("import torch\nprint(torch.ones(2).sum().item())\n")
    (t, t_s), (e, e_s) = _both(script, [])
    assert t.returncode == e.returncode == 0, e.stderr
    _same_output(t.stdout, e.stdout)
    timings["(startup)"] = (t_s, e_s)


def _missing(needs: tuple[str, ...]) -> list[str]:
    """The names in ``needs`` that ember does not have yet."""
    import ember

    def has(path: str) -> bool:
        obj = ember
        for part in path.split("."):
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True

    return [n for n in needs if not has(n)]


def _params():
    for name, program in PROGRAMS.items():
        marks = [pytest.mark.xfail(strict=True, reason=program.xfail)] if program.xfail else []
        missing = _missing(program.needs)
        if missing:
            marks.append(pytest.mark.skip(reason=f"ember has no {', '.join(missing)} yet"))
        yield pytest.param(name, marks=marks, id=name.removesuffix(".py"))


@pytest.mark.parametrize("name", _params())
def test_program_runs_unchanged(name, timings):
    program = PROGRAMS[name]
    (t, t_s), (e, e_s) = _both(HERE / name, program.args)
    assert t.returncode == 0, t.stderr
    assert e.returncode == 0, e.stderr
    timings[name.removesuffix(".py")] = (t_s, e_s)  # whole runs only
    _same_output(t.stdout, e.stdout, program)
