"""CPU kernels written in C, compiled at first use and loaded with ctypes.

# NOTE [ Native CPU kernels ]
Some CPU work is bound by memory passes that NumPy cannot fuse or vectorise well: a float sum
reads its input once in PyTorch, while NumPy's pairwise loop is several times slower; a layer
norm is one pass per row in PyTorch and six or more NumPy passes. Such kernels are written in
C, in ``backends/kernels/*.c`` (with shared ``*.h``), and built the first time one is needed
with the machine's C compiler (``$CC``, else ``cc``) at ``-O3 -march=native``, into a cache
directory (``$EMBER_CACHE_DIR``, else ``$XDG_CACHE_HOME/ember``, else ``~/.cache/ember``). A
library's file name hashes its sources, the compiler's version, the flags and the CPU's
feature flags, so a shared home directory never hands one machine another machine's build.
The build goes to a temporary name and is renamed into place, so concurrent processes are
safe. The first use costs a compile (about 0.3 s per library).

Nothing depends on them: ``library(name)`` is None where there is no compiler, the build
fails, or ``EMBER_NATIVE=0`` is set, and every caller then takes its NumPy path, which stays
the reference the kernels are tested against (``tests/test_native.py``). ``unavailable()``
says why a library is missing. The compiler is the DESIGN.md compiler's C backend in
miniature; kernels here are plain C with no intrinsics, vectorised by the compiler, and take
no locks: ctypes releases the GIL during a call, so callers may split work over threads.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

_SOURCES = Path(__file__).with_name("kernels")
_FLAGS = ("-O3", "-march=native", "-std=gnu11", "-shared", "-fPIC")
_LOCK = threading.Lock()
_LIBS: dict = {}
_WHY: dict = {}


def cache_dir() -> Path:
    """Where built kernels are kept (NOTE [ Native CPU kernels ])."""
    if os.environ.get("EMBER_CACHE_DIR"):
        return Path(os.environ["EMBER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ember"


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor()


def _compiler_id(cc: str) -> str:
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=60)
    return out.stdout


def _build(name: str) -> ctypes.CDLL:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        raise OSError("no C compiler (set CC, or install cc)")
    src = _SOURCES / f"{name}.c"
    # the source and every header beside it (a header change must rebuild)
    text = b"\0".join(p.read_bytes() for p in [src, *sorted(_SOURCES.glob("*.h"))])
    key = hashlib.sha256(b"\0".join([text, _compiler_id(cc).encode(), " ".join(_FLAGS).encode(),
                                     platform.machine().encode(), _cpu_flags().encode()]))
    folder = cache_dir()
    target = folder / f"{name}-{key.hexdigest()[:20]}.so"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=folder)
        os.close(fd)
        try:
            res = subprocess.run([cc, *_FLAGS, "-o", tmp, str(src)], capture_output=True,
                                 text=True, timeout=300)
            if res.returncode:
                raise OSError(f"{cc} failed on {src.name}: {res.stderr.strip()[-2000:]}")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return ctypes.CDLL(str(target))


def library(name: str):
    """The loaded kernels of ``kernels/<name>.c``, built on first use; None where native
    kernels are off or cannot be built (``unavailable(name)`` says why)."""
    lib = _LIBS.get(name)
    if lib is not None or name in _WHY:
        return lib
    with _LOCK:
        if name in _LIBS or name in _WHY:
            return _LIBS.get(name)
        if os.environ.get("EMBER_NATIVE", "1") == "0":
            _WHY[name] = "EMBER_NATIVE=0"
            return None
        try:
            _LIBS[name] = _build(name)
        except (OSError, subprocess.SubprocessError) as e:
            _WHY[name] = str(e)
            return None
    return _LIBS[name]


def unavailable(name: str):
    """Why ``library(name)`` is None, or None when it is loaded (or not yet asked for)."""
    return _WHY.get(name)


def function(name: str, symbol: str, argtypes: list, restype=None):
    """``symbol`` of library ``name`` with its ctypes signature, or None (``library``)."""
    lib = library(name)
    if lib is None:
        return None
    fn = getattr(lib, symbol)
    fn.argtypes, fn.restype = argtypes, restype
    return fn
