"""``import ember`` (and every ember module) must not import torch, nor any optional backend."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import ember

MODULES = sorted(m.name for m in pkgutil.walk_packages(ember.__path__, "ember."))


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_import_ember_does_not_import_torch():
    r = _run("import ember, sys; assert 'torch' not in sys.modules, 'torch imported'; "
             "assert 'cupy' not in sys.modules, 'cupy imported'")
    assert r.returncode == 0, r.stderr


def test_no_module_imports_torch():
    assert "ember.autograd" in MODULES and "ember.random" in MODULES
    code = ("import importlib, sys\n"
            f"for name in {MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'torch' not in sys.modules, f'{name} imported torch'\n"
            "    assert 'cupy' not in sys.modules, f'{name} imported cupy'\n")
    r = _run(code)
    assert r.returncode == 0, r.stderr


def test_using_ember_does_not_import_torch():
    code = ("import ember, sys\n"
            "x = ember.randn(3, 4, requires_grad=True)\n"
            "(x @ x.T).sum().backward()\n"
            "ember.tensor([1, 2]).tolist(); repr(ember.arange(3.)); ember.linspace(0, 1, 5)\n"
            "import pickle, copy; pickle.loads(pickle.dumps(x)); copy.deepcopy(x)\n"
            "assert 'torch' not in sys.modules\n")
    r = _run(code)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", ["dtype", "device", "Size", "Tensor", "Generator", "finfo",
                                  "iinfo", "no_grad", "autograd", "strided", "contiguous_format",
                                  "channels_last", "preserve_format", "float32", "cdouble",
                                  "default_generator", "is_tensor", "numel", "from_dlpack"])
def test_public_names(name):
    assert hasattr(ember, name)
