"""``torch`` as an alias of ember, for running PyTorch programs unchanged (``ember.run``).

# NOTE [ The torch alias ]
``install()`` puts a finder first on ``sys.meta_path`` that answers every import of ``torch`` or
``torch.X.Y`` with a proxy module for ``ember`` or ``ember.X.Y``; real torch is never imported.
A proxy is not the ember module itself, for two reasons: ``torch.__version__`` must name a
PyTorch version (ember's own is ``ember.__version__``), and a name ember lacks must fail with an
error saying which PyTorch API is missing, where ember's modules would say "module 'ember' has
no attribute ...". ember's modules are left untouched.

A proxy keeps nothing but its module identity (``__name__``, ``__spec__``, ``__file__``, ...)
and the child proxies the import system sets on it. Every other attribute is read from the
ember module on first use, by the proxy's module-level ``__getattr__`` (PEP 562, called only for
names the proxy does not hold), and then kept in the proxy's ``__dict__``, so later reads are
module-dict lookups. They cost about 80 ns against 25 ns for ``ember.add`` (CPython specialises
attribute reads only on exact ``ModuleType`` objects; a proxy must be a subclass to forward
writes), about 2% of a small op; a class-level ``__getattr__`` would cost 200 ns a read. Plain
data (bools, numbers, strings, None) is never kept: such values may be flags that ember rebinds
(``backends.cudnn.benchmark``), so they are read through each time. Writes
(``torch.backends.cudnn.benchmark = True``, a monkeypatched ``torch.load``) go to the ember
module, where ember's own code sees them. An ember submodule reached as an attribute is answered
with its proxy, and a name missing from an ember package is tried as a submodule, as PyTorch
imports its submodules eagerly: after ``import torch``, ``torch.utils.data.DataLoader`` works.

``from torch.nn import Foo`` fails inside the interpreter's IMPORT_FROM, which drops the
AttributeError and raises its own "cannot import name" ImportError. ``__getattr__`` therefore
looks at the caller's instruction and raises the ImportError itself, with the same text as the
AttributeError, when it is an IMPORT_FROM.
"""

from __future__ import annotations

import dis
import functools
import importlib
import importlib.abc
import importlib.util
import re
import sys
import types

MISSING = "ember does not provide {} yet (running a PyTorch program through ember.run)"

# NOTE [ torch.__version__ under ember.run ]
# The PyTorch release whose behaviour ember reproduces (the reference its tests compare
# against), with ember as the PEP 440 local label, the way CPU wheels say "2.13.0+cpu".
# Programs gate features with packaging.version, tuples or plain strings; all of them see
# 2.13.0: Version("2.13.0+ember") >= Version("2.13"), SpecifierSet(">=2.0,<2.14") contains it,
# and, as for PyTorch's own "2.13.0+cpu", it does not equal "2.13.0".
TORCH_VERSION = "2.13.0+ember"

_PEP440 = re.compile(r"v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|rc)[-_.]?(\d*))?(?:[-_.]?post[-_.]?(\d*))?"
                     r"(?:[-_.]?dev[-_.]?(\d*))?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?")
_INF = float("inf")


def _version_key(text: str) -> tuple | None:
    """PEP 440's ordering of ``text`` (as packaging's ``Version``), or None if it is no version."""
    m = _PEP440.fullmatch(text.strip().lower())
    if m is None:
        return None
    release, pre, pre_n, post, dev, local = m.groups()
    parts = [int(p) for p in release.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    if pre:
        pre_key = (("a", "b", "rc").index(pre), int(pre_n or 0))
    else:  # a dev release of a final sorts before its pre-releases
        pre_key = (-_INF,) if dev is not None and post is None else (_INF,)
    local_key = () if local is None else tuple(
        (int(s), "") if s.isdigit() else (-_INF, s) for s in re.split(r"[-_.]", local))
    return (tuple(parts), pre_key, -_INF if post is None else int(post or 0),
            _INF if dev is None else int(dev or 0), local_key)


class TorchVersion(str):
    """A version string that compares as a version, like PyTorch's ``torch.__version__``.

    It compares with strings, tuples and ``packaging.version.Version`` objects by PEP 440's
    ordering, and falls back to string comparison for what is no version::

        >>> TorchVersion("2.13.0+ember") > "2.2", TorchVersion("2.13.0+ember") >= (2, 13)
        (True, True)
    """

    __slots__ = ()
    __hash__ = str.__hash__

    def _compare(self, other, op: str) -> bool:
        if isinstance(other, tuple | list):
            other = ".".join(str(item) for item in other)
        elif hasattr(other, "release") and not isinstance(other, str):  # packaging's Version
            other = str(other)
        mine, theirs = _version_key(self), _version_key(other) if isinstance(other, str) else None
        if mine is None or theirs is None:
            return getattr(super(), op)(other)
        return getattr(mine, op)(theirs)

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")


_ABSENT = object()
_PLAIN_DATA = (bool, int, float, complex, str, bytes, type(None))
_IMPORT_FROM = dis.opmap["IMPORT_FROM"]


def _ember_name(torch_name: str) -> str:
    return "ember" + torch_name[len("torch"):]


def _torch_name(ember_name: str) -> str:
    return "torch" + ember_name[len("ember"):]


def _is_ember_module(value) -> bool:
    if not isinstance(value, types.ModuleType) or isinstance(value, TorchModule):
        return False
    name = getattr(value, "__name__", "")
    return name == "ember" or name.startswith("ember.")


def _in_import_from(frame) -> bool:
    """Whether ``frame`` is executing ``from module import name``."""
    return frame is not None and frame.f_code.co_code[frame.f_lasti] == _IMPORT_FROM


class TorchModule(types.ModuleType):
    """The proxy that stands for ember module ``__ember__`` under its torch name."""

    def __init__(self, name: str, target: types.ModuleType):
        super().__init__(name, target.__doc__)
        own = self.__dict__
        own["__ember__"] = target
        own["__file__"] = getattr(target, "__file__", None)
        own["__getattr__"] = functools.partial(_read, self)  # PEP 562: only for missing names
        if name == "torch":
            own["__version__"] = TorchVersion(TORCH_VERSION)

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, TorchModule) or (name.startswith("__") and name.endswith("__")):
            self.__dict__[name] = value  # module identity and child proxies
            return
        setattr(self.__dict__["__ember__"], name, value)
        self.__dict__.pop(name, None)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__ and isinstance(self.__dict__[name], TorchModule):
            del self.__dict__[name]
            return
        delattr(self.__dict__["__ember__"], name)
        self.__dict__.pop(name, None)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (ember's {self.__dict__['__ember__'].__name__})>"

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["__ember__"])) | set(self.__dict__))


def _read(proxy: TorchModule, name: str):
    """``proxy.name`` when the proxy does not hold it: read from ember, kept unless plain data."""
    target = proxy.__dict__["__ember__"]
    if name.startswith("__") and name.endswith("__"):
        if name == "__all__":  # ``from torch import *``
            return getattr(target, "__all__", [n for n in vars(target) if n[0] != "_"])
        raise AttributeError(f"module {proxy.__name__!r} has no attribute {name!r}")
    value = getattr(target, name, _ABSENT)
    if value is _ABSENT:
        value = _submodule_or_missing(proxy, name)
    if _is_ember_module(value):
        value = importlib.import_module(_torch_name(value.__name__))
    if not isinstance(value, _PLAIN_DATA):
        proxy.__dict__[name] = value
    return value


def _submodule_or_missing(proxy: TorchModule, name: str):
    """``proxy.name`` when ember has no such attribute: a submodule, or the error for the caller."""
    full = f"{proxy.__name__}.{name}"
    if hasattr(proxy.__dict__["__ember__"], "__path__"):
        try:
            return importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name != full:
                raise
    message = MISSING.format(full)
    if _in_import_from(sys._getframe(2)):
        raise ImportError(message, name=proxy.__name__)
    raise AttributeError(message, name=name, obj=proxy)


class _Loader(importlib.abc.Loader):
    def __init__(self, target: types.ModuleType):
        self.target = target

    def create_module(self, spec) -> TorchModule:
        return TorchModule(spec.name, self.target)

    def exec_module(self, module) -> None:
        """Nothing to run: the proxy reads its ember module."""


class TorchFinder(importlib.abc.MetaPathFinder):
    """Answers ``import torch[.X.Y]`` with the proxy for ``ember[.X.Y]``."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        name = _ember_name(fullname)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            raise ModuleNotFoundError(MISSING.format(fullname), name=fullname) from None
        return importlib.util.spec_from_loader(fullname, _Loader(module),
                                               origin=getattr(module, "__file__", None),
                                               is_package=hasattr(module, "__path__"))


# NOTE [ The alias in child processes ]
# A forked child inherits the finder. A spawned child starts a fresh interpreter and imports the
# script again as ``__mp_main__``, which would import real torch. So the preparation data that
# multiprocessing pickles for every spawned child carries an object whose unpickling installs
# the alias; the child unpickles it before it imports the script. The forkserver process would
# import the script before any child's data arrives, so it no longer preloads ``__main__``: each
# forkserver child imports the script itself, after its data has installed the alias.


class _AliasInChild:
    """Unpickled in a spawned child, installs the torch alias there."""

    def __reduce__(self):
        return install, ()


def _install_in_children() -> None:
    import multiprocessing.forkserver as forkserver
    import multiprocessing.spawn as spawn

    get_preparation_data = spawn.get_preparation_data

    def with_alias(name):
        return {"ember_torch_alias": _AliasInChild(), **get_preparation_data(name)}

    spawn.get_preparation_data = with_alias
    forkserver.set_forkserver_preload([])


def install() -> None:
    """Make ``import torch`` (and every ``torch.X.Y``) import ember from now on.

    Example::

        >>> install(); import torch.nn.functional as F
        >>> F.relu is ember.nn.functional.relu
        True
    """
    if any(isinstance(f, TorchFinder) for f in sys.meta_path):
        return
    loaded = [n for n in sys.modules if n == "torch" or n.startswith("torch.")]
    if any(not isinstance(sys.modules[n], TorchModule) for n in loaded):
        raise RuntimeError("ember: PyTorch is already imported in this process; the torch alias "
                           "must be installed before anything imports torch")
    sys.meta_path.insert(0, TorchFinder())
    _install_in_children()
