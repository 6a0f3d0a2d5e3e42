"""``python -m ember.run`` / ``ember run``: the torch alias (ember._compat) and the runner.

Scripts run in subprocesses: the test process has imported real torch, and the alias refuses to
install over it (tested here too).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch  # noqa: F401 - real torch is loaded in this process; install() must refuse
from packaging.version import Version

import ember
from ember import _compat
from ember.__main__ import COMMANDS
from ember.__main__ import main as ember_main
from ember.run import main as run_main

ROOT = Path(__file__).parents[1]
MISSING = "ember does not provide {} yet (running a PyTorch program through ember.run)"

# Modules a PyTorch program imports; each must be ember's module or say ember lacks it.
TORCH_MODULES = [
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils",
    "torch.nn.utils.rnn", "torch.nn.parameter", "torch.nn.modules.linear", "torch.optim",
    "torch.optim.lr_scheduler", "torch.autograd", "torch.autograd.functional", "torch.linalg",
    "torch.fft", "torch.special", "torch.distributions", "torch.utils",
    "torch.utils.checkpoint", "torch.utils.data", "torch.amp", "torch.cuda", "torch.quantization",
]

PROBE = r'''
import json, os, sys, importlib
import torch
import torch.nn as nn
import torch.nn.functional as F
import ember

out = {"argv": sys.argv, "name": __name__, "file": __file__, "path0": sys.path[0]}
modules = {}
for name in json.loads(sys.argv[1]):
    try:
        m = importlib.import_module(name)
        modules[name] = ["ok", m.__ember__.__name__, sys.modules[name] is m]
    except ImportError as e:
        modules[name] = [type(e).__name__, str(e), e.name]
out["modules"] = modules
site_torch = [n for n, m in list(sys.modules.items())
              if os.sep + "site-packages" + os.sep + "torch" in (getattr(m, "__file__", "") or "")]
out["real_torch"] = site_torch
out["proxies"] = sorted(n for n in sys.modules if n.split(".")[0] == "torch")

def error(fn):
    try:
        fn()
    except BaseException as e:
        return [type(e).__name__, str(e), isinstance(e, AttributeError)]
    return None

def from_import():
    from torch.nn import FooLayer  # noqa: F401

def from_import_module():
    from torch import quantization  # noqa: F401

x = torch.randn(3)
out["checks"] = {
    "tensor": [isinstance(x, torch.Tensor), torch.Tensor is ember.Tensor,
               isinstance(torch.nn.Linear(2, 2), nn.Module), F.relu is ember.nn.functional.relu],
    "same_proxy": [torch.nn is nn, nn.functional is F, sys.modules["torch.nn"] is nn,
                   torch.optim.lr_scheduler is sys.modules["torch.optim.lr_scheduler"]],
    "version": [torch.__version__, type(torch.__version__).__name__, ember.__version__],
    "file": [torch.__file__ == ember.__file__, torch.__name__, torch.nn.__name__],
    "missing_attr": error(lambda: torch.foo_bar),
    "missing_nested_attr": error(lambda: torch.nn.functional.foo_bar),
    "missing_from_import": error(from_import),
    "missing_from_import_module": error(from_import_module),
    "missing_import": error(lambda: importlib.import_module("torch.quantization")),
    "hasattr": [hasattr(torch, "foo_bar"), hasattr(torch, "add"), hasattr(nn, "Linear")],
    "dunder": error(lambda: torch.__foo__),
}
torch.my_flag = True
flag_in_ember = ember.my_flag
ember.my_flag = False
relu = F.relu
F.relu = lambda t: "patched"
out["writes"] = [flag_in_ember, torch.my_flag, ember.nn.functional.relu(x), F.relu(x)]
F.relu = relu
del torch.my_flag
out["writes"].append(hasattr(ember, "my_flag"))
torch.add
out["cached"] = ["add" in vars(torch), "my_flag" in vars(torch), "__version__" in vars(torch)]
star = {}
exec("from torch import *", star)
out["star"] = ["randn" in star, "Tensor" in star, "nn" in star]
out["dir"] = "randn" in dir(torch) and "Linear" in dir(torch.nn)
print(json.dumps(out))
'''


def _ember_run(script: Path, *args: str, module: str = "ember.run"):
    return subprocess.run([sys.executable, "-m", module, str(script), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _script(tmp_path: Path, source: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    script = _script(tmp_path_factory.mktemp("probe"), PROBE)
    r = _ember_run(script, json.dumps(TORCH_MODULES), "--flag")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), script


def test_script_sees_its_argv_name_file_and_directory(probe):
    out, script = probe
    assert out["argv"] == [str(script), json.dumps(TORCH_MODULES), "--flag"]
    assert out["name"] == "__main__" and out["file"] == str(script)
    assert out["path0"] == str(script.parent)


def test_real_torch_is_never_imported(probe):
    out, _ = probe
    assert out["real_torch"] == []
    assert set(out["proxies"]) >= {"torch", "torch.nn", "torch.nn.functional"}


@pytest.mark.parametrize("name", TORCH_MODULES)
def test_torch_module_is_ember_module(probe, name):
    out, _ = probe
    result = out["modules"][name]
    ember_name = "ember" + name[len("torch"):]
    if importlib.util.find_spec(ember_name) is not None:
        assert result == ["ok", ember_name, True]
    else:
        assert result == ["ModuleNotFoundError", MISSING.format(name), name]


def test_proxies_are_ember(probe):
    checks = probe[0]["checks"]
    assert checks["tensor"] == [True, True, True, True]
    assert checks["same_proxy"] == [True, True, True, True]
    assert checks["file"] == [True, "torch", "torch.nn"]


def test_version(probe):
    version, kind, ember_version = probe[0]["checks"]["version"]
    assert version == _compat.TORCH_VERSION and kind == "TorchVersion"
    assert ember_version == ember.__version__
    assert Version(version) >= Version("2.13") and Version(version).public == "2.13.0"


def test_missing_api_errors_name_it(probe):
    checks = probe[0]["checks"]
    assert checks["missing_attr"] == ["AttributeError", MISSING.format("torch.foo_bar"), True]
    assert checks["missing_nested_attr"] == [
        "AttributeError", MISSING.format("torch.nn.functional.foo_bar"), True]
    assert checks["missing_from_import"] == [
        "ImportError", MISSING.format("torch.nn.FooLayer"), False]
    assert checks["missing_from_import_module"] == [
        "ImportError", MISSING.format("torch.quantization"), False]
    assert checks["missing_import"] == [
        "ModuleNotFoundError", MISSING.format("torch.quantization"), False]
    assert checks["hasattr"] == [False, True, True]
    assert checks["dunder"] == [
        "AttributeError", "module 'torch' has no attribute '__foo__'", True]


def test_writes_reach_ember_and_reads_are_cached(probe):
    out = probe[0]
    assert out["writes"] == [True, False, "patched", "patched", False]
    assert out["cached"] == [True, False, True]
    assert out["star"] == [True, True, True] and out["dir"]


def test_exit_code_propagates(tmp_path):
    r = _ember_run(_script(tmp_path, "import sys, torch\nprint(torch.ones(1).item())\n"
                                     "print('bad', file=sys.stderr)\nsys.exit(7)\n"))
    assert r.returncode == 7 and r.stdout == "1.0\n" and r.stderr == "bad\n"


def test_exception_traceback_starts_at_the_script(tmp_path):
    script = _script(tmp_path, """\
        import torch

        def f():
            return torch.foo_bar(1)

        f()
        """)
    r = _ember_run(script)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{script}", line 6, in <module>'
    assert lines[-1] == "AttributeError: " + MISSING.format("torch.foo_bar")
    assert "runpy" not in r.stderr and "_compat.py" not in r.stderr


def test_ember_command_runs_a_script(tmp_path):
    script = _script(tmp_path, "import sys, torch\nprint(sys.argv[1:], torch.__name__)\n")
    r = _ember_run("run", script, "-x", module="ember")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['-x'] torch\n"


def test_child_processes_import_ember_too(tmp_path):
    script = _script(tmp_path, """\
        import multiprocessing as mp
        import os, sys
        import torch

        def work(x):
            real = [n for n, m in list(sys.modules.items())
                    if "site-packages" + os.sep + "torch" in (getattr(m, "__file__", "") or "")]
            return (torch.tensor([x]) * 2).tolist(), torch.Tensor.__module__, real

        if __name__ == "__main__":
            for method in ("fork", "spawn", "forkserver"):
                with mp.get_context(method).Pool(1) as pool:
                    print(method, pool.map(work, [3]))
        """)
    r = _ember_run(script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{m} [([6], 'ember._tensor', [])]"
                                     for m in ("fork", "spawn", "forkserver")]


def test_missing_script(capsys):
    with pytest.raises(SystemExit) as e:
        run_main(["no_such_script.py"])
    assert e.value.code == 2
    assert "can't open file" in capsys.readouterr().err


def test_run_usage(capsys):
    with pytest.raises(SystemExit) as e:
        run_main(["--help"], prog="ember run")
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("usage: ember run script.py [args...]")
    with pytest.raises(SystemExit) as e:
        run_main([])
    assert e.value.code == 2


def test_ember_command_help_version_and_unknown(capsys):
    ember_main(["--version"])
    assert capsys.readouterr().out == f"ember {ember.__version__} (PyTorch API 2.13.0)\n"
    with pytest.raises(SystemExit) as e:
        ember_main(["--help"])
    assert e.value.code == 0
    help_text = capsys.readouterr().out
    assert all(f"  {name}" in help_text for name in COMMANDS)
    with pytest.raises(SystemExit) as e:
        ember_main(["frobnicate"])
    assert e.value.code == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_every_command_module_has_main():
    for module, _ in COMMANDS.values():
        assert callable(importlib.import_module(module).main)


def test_install_refuses_when_torch_is_loaded():
    assert "torch" in sys.modules
    with pytest.raises(RuntimeError, match="already imported"):
        _compat.install()
    assert not any(isinstance(f, _compat.TorchFinder) for f in sys.meta_path)


@pytest.mark.parametrize("other", [
    "2.13.0", "2.13", "2.13.0+cpu", "2.2", "2.2.1", "2.13.1", "2.14.0a0", "2.14.0.dev20250101",
    "2.13.0rc1", "2.13.0.post1", "3", "1.13.1", "2.13.0+ember", "2.13.0+ember.1",
])
def test_version_compares_as_packaging_does(other):
    mine = _compat.TorchVersion(_compat.TORCH_VERSION)
    want, theirs = Version(_compat.TORCH_VERSION), Version(other)
    for op in ("__eq__", "__lt__", "__le__", "__gt__", "__ge__"):
        assert getattr(mine, op)(other) == getattr(want, op)(theirs), (op, other)
    assert (mine >= theirs) == (want >= theirs) and (mine < theirs) == (want < theirs)


def test_version_with_tuples_and_non_versions():
    v = _compat.TorchVersion(_compat.TORCH_VERSION)
    assert v >= (2, 13) and v < (2, 14) and v > [1, 9, 0] and not v == (2, 13)
    assert v == "2.13.0+ember" and hash(v) == hash("2.13.0+ember") and v != "parrot"
    assert (v < "parrot") == ("2.13.0+ember" < "parrot")
    assert v.split("+")[0] == "2.13.0" and isinstance(v, str)


def test_ember_modules_are_left_alone():
    assert not isinstance(ember, _compat.TorchModule) and "__ember__" not in vars(ember)
    assert os.path.basename(_compat.__file__) == "_compat.py"
