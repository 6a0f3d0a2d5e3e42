"""The main job, ``ember.examples.digits``: the command end to end, and the same file run under
PyTorch (``import torch`` for ``import ember as torch``) giving the same losses."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import ember
from ember.examples import digits

ROOT = Path(__file__).resolve().parents[1]
needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="scikit-learn is not installed")
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib is not installed")


def _as_torch_program() -> types.ModuleType:
    """``ember/examples/digits.py`` with ``torch`` in place of ``ember`` in its imports."""
    source = Path(digits.__file__).read_text()
    source = source.replace("import ember as torch", "import torch")
    source = source.replace("from ember", "from torch")
    assert "import ember" not in source and "from ember" not in source
    module = types.ModuleType("digits_under_torch")
    exec(compile(source, "digits_under_torch.py", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """``python -m ember.examples.digits`` for two epochs with two DataLoader workers."""
    out = tmp_path_factory.mktemp("digits")
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run(
        [sys.executable, "-m", "ember.examples.digits", "--epochs", "2", "--workers", "2",
         "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@needs_sklearn
@needs_matplotlib
def test_digits_command_end_to_end(digits_run):
    out, stdout = digits_run
    lines = stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["1/2", "2/2"]
    assert "(matches)" in stdout
    best = float(re.search(r"best val accuracy ([\d.]+)%", stdout).group(1))
    assert best >= 80.0  # two epochs reach about 98%, twenty 99%

    state = ember.load(out / "best.pt")
    assert set(state) == {"model", "optimizer", "epoch"} and state["epoch"] in (1, 2)
    model = digits.DigitsNet()
    assert list(state["model"]) == list(model.state_dict())
    model.load_state_dict(state["model"])
    assert (out / "losses.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = json.loads((out / "history.json").read_text())
    assert history["best_val_accuracy"] == history["reloaded_accuracy"]
    assert history["best_val_accuracy"] == pytest.approx(best / 100, abs=1e-4)


@needs_sklearn
@needs_matplotlib
def test_digits_trains_as_under_pytorch(digits_run, tmp_path):
    import torch

    out, _ = digits_run
    mine = json.loads((out / "history.json").read_text())
    program = _as_torch_program()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine has 2 cores; keep PyTorch from contending for them
    try:
        theirs = program.train(epochs=2, seed=0, out=str(tmp_path), log=lambda line: None)
    finally:
        torch.set_num_threads(threads)
    # same seed, same random streams (initialisation, split, shuffling, dropout; the workers
    # draw nothing from them): the numbers differ only by float32 rounding
    for key in ("train_loss", "val_loss"):
        assert mine[key] == pytest.approx(theirs[key], rel=1e-3), key
    assert mine["val_accuracy"] == pytest.approx(theirs["val_accuracy"], abs=1.5 / 360)
    # the checkpoint ember wrote loads in PyTorch, into the model of the PyTorch run
    state = torch.load(out / "best.pt")
    model = program.DigitsNet()
    model.load_state_dict(state["model"])
    program.torch.optim.AdamW(model.parameters()).load_state_dict(state["optimizer"])
