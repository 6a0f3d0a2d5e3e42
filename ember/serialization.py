"""Checkpoints: ``ember.save`` and ``ember.load`` in PyTorch's format (``torch.serialization``).

Files written by ``ember.save`` load in PyTorch with ``torch.load`` (``weights_only=True``
included) and files written by ``torch.save`` load in ember.

# NOTE [ Checkpoint format ]
A checkpoint is PyTorch's zip archive: stored (uncompressed) records under one folder
``<stem>/`` (the file name without its extension, ``archive`` for a buffer): ``data.pkl`` (the
pickled object), ``.format_version``, ``.storage_alignment``, ``byteorder``, ``data/<key>`` (one
per storage: its raw bytes, starting at a 64-byte aligned file offset), ``version`` and
``.data/serialization_id``. ``_ZipWriter`` lays the zip out as PyTorch's writer (miniz) does:
zeroed local headers with a data descriptor after each record, an ``FB`` extra field padding each
record to the alignment, ZIP64 fields past 4 GiB; torch's reader computes mmap offsets from
that layout. In ``data.pkl`` a tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, requires_grad, OrderedDict())`` where ``storage`` is the persistent id ``('storage',
torch.<Word>Storage, key, location, numel)``. A storage is a tensor's root NumPy (or CuPy) array
(NOTE [ Tensor layout ]): tensors viewing one root share one key, so views stay views of one
storage after a round trip. ember writes PyTorch's global names (``torch.float32``,
``torch.Size``, ``torch.device``, ``torch._utils._rebuild_*``), and reading maps PyTorch's names
to ember's counterparts (``_TORCH_GLOBALS``), so neither side needs the other installed.

# NOTE [ Weights-only loading ]
``ember.load`` defaults to ``weights_only=True``: ``_WeightsUnpickler`` resolves a global only from
an allowlist (tensor rebuild functions, dtypes, storages, ``Size``, ``device``, ``OrderedDict``,
``Counter``, ``set``, ``complex``, ``bytearray``, ``_codecs.encode``) plus what the user adds with
``add_safe_globals``; modules ``os``, ``sys``, ``posix`` and ``nt`` are refused even when
allowlisted. As in PyTorch's unpickler, BUILD sets state only on tensors, OrderedDicts and
allowlisted types, APPEND(S) works on lists only, SETITEM(S) on dicts only, and the extension
registry opcodes are refused, so loading an untrusted file never calls anything else.
``weights_only=False`` is ordinary unpickling (it runs whatever the file names).

# NOTE [ Atomic saves ]
Saving to a path writes a temporary file in the same directory, fsyncs it and ``os.replace``s it
onto the path (then fsyncs the directory): an interrupted save (an exception, a killed process, a
full disk) leaves the previous file as it was. A killed process may leave its ``.<name>.*.tmp``
file behind; nothing ever reads it.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import importlib
import io
import mmap as _mmap
import os
import pickle
import secrets
import stat
import struct
import sys
import warnings
import zipfile
import zlib
from typing import Any

import numpy as np

from . import _dtype
from ._device import device as _device
from ._ops.shape import strided
from ._tensor import Size, Tensor, _as_subclass, _make, layout
from ._tensor import sparse_coo as _sparse_coo_layout
from ._tensor import strided as _strided_layout
from .backends import for_device, of_array

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_ALIGNMENT = 64
_ZIP64_LIMIT = 0xFFFFFFFF  # a size or offset at least this large needs ZIP64 fields
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_UNSAFE_MESSAGE = (
    "Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but it can "
    "result in arbitrary code execution. Do it only if you got the file from a trusted source.")


# -- PyTorch's global names ---------------------------------------------------------------------
class _Global:
    """A PyTorch global (``torch._utils._rebuild_tensor_v2``) that ember pickles by name."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires a REDUCE callable to be callable
        raise TypeError(f"{self.module}.{self.name} is a name written into checkpoints")


class _StorageType:
    """What ``torch.FloatStorage`` and the other storage classes load as: their dtype."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: _dtype.dtype):
        self.dtype = dtype


class _Storage:
    """A loaded storage: a flat backend array of ``dtype`` that rebuilt tensors view."""

    __slots__ = ("array", "dtype")

    def __init__(self, array, dtype: _dtype.dtype):
        self.array, self.dtype = array, dtype

    def __repr__(self) -> str:
        return f"<storage of {self.array.size} {self.dtype.name} on {of_array(self.array).name}>"


_GLOBALS: dict[tuple[str, str], _Global] = {}


def _g(module: str, name: str) -> _Global:
    g = _GLOBALS.get((module, name))
    if g is None:
        g = _GLOBALS[(module, name)] = _Global(module, name)
    return g


_REBUILD_V2 = _g("torch._utils", "_rebuild_tensor_v2")
_STORAGE_GLOBAL = {d: _g("torch", d.word + "Storage") for d in _dtype.ALL}


def _parameter_class(import_nn: bool = False):
    """``ember.nn.Parameter``, or None where ember has no (importable) ``nn``: then parameters
    load as tensors that require grad. Looked up by name, so that serialization does not
    depend on ``ember.nn``."""
    if import_nn:
        try:
            importlib.import_module("ember.nn")
        except ImportError:
            return None
    return getattr(sys.modules.get("ember.nn"), "Parameter", None)


# -- saving -------------------------------------------------------------------------------------
class _PicklerMixin:
    """Pickles ember tensors, dtypes, sizes and devices as PyTorch does, collecting storages.

    Needs a pure-Python pickler underneath (``pickle._Pickler``): only there can a global be
    written by name without importing its module."""

    def __init__(self, *args, legacy: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.legacy = legacy
        self.storages: dict[int, tuple] = {}  # id(root) -> (_StorageRef, dtype, root)

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        t = type(obj)
        if t is _Global or t is _dtype.dtype:
            return obj.name  # written by save_global
        if t is Size:
            return (_g("torch", "Size"), (tuple(obj),))
        if t is _device:
            return (_g("torch", "device"), (obj.type,) if obj.index is None
                    else (obj.type, obj.index))
        if t is layout:
            return (_g("torch.serialization", "_get_layout"), ("torch." + obj.name,))
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        return NotImplemented

    def save_global(self, obj, name=None):
        if type(obj) is _Global:
            module, name = obj.module, obj.name
        elif type(obj) is _dtype.dtype:
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self.memoize(obj)

    def _reduce_tensor(self, t: Tensor):
        if t.is_sparse:  # PyTorch's form: the layout and (indices, values, size, coalesced)
            return (_g("torch._utils", "_rebuild_sparse_tensor"),
                    (t.layout, (t._indices(), t._values(), t.size(), t.is_coalesced())))
        hooks = collections.OrderedDict()
        state = t.__dict__ or None
        param = _parameter_class()
        if param is not None and isinstance(t, param):
            args = (_make(t._data), t.requires_grad, hooks)
            if state:
                return (_g("torch._utils", "_rebuild_parameter_with_state"), args + (state,))
            return (_g("torch._utils", "_rebuild_parameter"), args)
        ref, offset, strides = self._storage_ref(t)
        args = (ref, offset, tuple(t.shape), tuple(strides), t.requires_grad, hooks)
        if type(t) is Tensor and not state:
            return (_REBUILD_V2, args)
        cls = _g("torch", "Tensor") if type(t) is Tensor else type(t)
        return (_g("torch._tensor", "_rebuild_from_type_v2"), (_REBUILD_V2, cls, args, state))

    def _storage_ref(self, t: Tensor):
        root, offset, strides, _ = t._storage()
        dt = t.dtype
        entry = self.storages.get(id(root))
        if entry is None:
            key = str(len(self.storages))
            numel = root.nbytes // dt.itemsize
            pid = ("storage", _STORAGE_GLOBAL[dt], key, str(t.device), numel)
            if self.legacy:
                pid += (None,)
            entry = self.storages[id(root)] = (_StorageRef(pid, numel * dt.itemsize), dt, root)
        elif entry[1] is not dt:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data "
                               "as different types")
        return entry[0], offset, strides


class _StorageRef:
    __slots__ = ("pid", "nbytes")

    def __init__(self, pid: tuple, nbytes: int):
        self.pid, self.nbytes = pid, nbytes


def _pickler(pickle_module, out, protocol: int, legacy: bool = False):
    base = pickle_module.Pickler
    if base is pickle.Pickler:  # the C pickler: its pure-Python twin can write names
        base = pickle._Pickler
    cls = type("EmberPickler", (_PicklerMixin, base), {})
    return cls(out, protocol, legacy=legacy)


def _host_bytes(ref: _StorageRef, root) -> memoryview:
    """The bytes of the storage ``ref`` names: its root array's, on the host."""
    host = np.ascontiguousarray(of_array(root).to_numpy(root)).reshape(-1).view(np.uint8)
    return memoryview(host[:ref.nbytes])


class _ZipWriter:
    """Writes a zip archive laid out as PyTorch's writer (miniz) lays it out; see
    NOTE [ Checkpoint format ]."""

    def __init__(self, out, archive: str):
        self.out, self.prefix = out, archive + "/"
        self.pos, self.entries, self.crcs = 0, [], 0

    def _put(self, data) -> None:
        self.out.write(data)
        self.pos += len(data)

    def write_record(self, name: str, data) -> None:
        data = memoryview(data).cast("B")
        fname = (self.prefix + name).encode("utf-8")
        size, offset = len(data), self.pos
        big_size, big_offset = size >= _ZIP64_LIMIT, offset >= _ZIP64_LIMIT
        z64 = (struct.pack("<QQ", size, size) if big_size else b"") + \
              (struct.pack("<Q", offset) if big_offset else b"")
        extra = struct.pack("<HH", 1, len(z64)) + z64 if z64 else b""
        pad = -(offset + 30 + len(fname) + len(extra) + 4) % _ALIGNMENT
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        flags = 0x0808 if size else 0x0800  # UTF-8 names; a data descriptor follows the data
        self._put(struct.pack("<4s5H3I2H", b"PK\x03\x04", 0, flags, 0, 0, 0, 0, 0, 0,
                              len(fname), len(extra)))
        self._put(fname)
        self._put(extra)
        crc = zlib.crc32(data)
        self._put(data)
        if size:
            if big_size or big_offset:
                self._put(struct.pack("<4sIQQ", b"PK\x07\x08", crc, size, size))
            else:
                self._put(struct.pack("<4s3I", b"PK\x07\x08", crc, size, size))
        self.crcs = zlib.crc32(struct.pack("<I", crc), self.crcs)
        self.entries.append((fname, flags, crc, size, offset, big_size, big_offset))

    def finish(self) -> None:
        start = self.pos
        for fname, flags, crc, size, offset, big_size, big_offset in self.entries:
            z64 = (struct.pack("<QQ", size, size) if big_size else b"") + \
                  (struct.pack("<Q", offset) if big_offset else b"")
            extra = struct.pack("<HH", 1, len(z64)) + z64 if z64 else b""
            s32 = 0xFFFFFFFF if big_size else size
            self._put(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 0, 0, flags, 0, 0, 0, crc, s32,
                                  s32, len(fname), len(extra), 0, 0, 0, 0,
                                  0xFFFFFFFF if big_offset else offset))
            self._put(fname)
            self._put(extra)
        n, cd_size, eocd64 = len(self.entries), self.pos - start, self.pos
        # like PyTorch's writer, always a ZIP64 end record (then the classic one)
        self._put(struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 0x031E, 45, 0, 0, n, n, cd_size,
                              start))
        self._put(struct.pack("<4sIQI", b"PK\x06\x07", 0, eocd64, 1))
        self._put(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                              min(cd_size, 0xFFFFFFFF), min(start, 0xFFFFFFFF), 0))


def _save_zip(obj, out, archive: str, pickle_module, protocol: int) -> None:
    buf = io.BytesIO()
    pickler = _pickler(pickle_module, buf, protocol)
    pickler.dump(obj)
    w = _ZipWriter(out, archive)
    w.write_record("data.pkl", buf.getbuffer())
    w.write_record(".format_version", b"1")
    w.write_record(".storage_alignment", str(_ALIGNMENT).encode())
    w.write_record("byteorder", sys.byteorder.encode())
    for ref, _, root in pickler.storages.values():
        w.write_record(f"data/{ref.pid[2]}", _host_bytes(ref, root))
    w.write_record("version", b"3\n")
    w.write_record(".data/serialization_id", f"{secrets.randbits(64):020d}{w.crcs:020d}".encode())
    w.finish()


def _save_legacy(obj, out, pickle_module, protocol: int) -> None:
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": struct.calcsize("l")}}
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        pickle_module.dump(header, out, protocol=protocol)
    pickler = _pickler(pickle_module, out, protocol, legacy=True)
    pickler.dump(obj)
    refs = sorted(((ref, root) for ref, _, root in pickler.storages.values()),
                  key=lambda e: e[0].pid[2])
    pickle_module.dump([ref.pid[2] for ref, _ in refs], out, protocol=protocol)
    for ref, root in refs:
        out.write(struct.pack("<q", ref.pid[4]))
        out.write(_host_bytes(ref, root))


@contextlib.contextmanager
def _atomic_path(path):
    """Yield a temporary path next to ``path``; when the block succeeds, fsync it and move it
    onto ``path`` (NOTE [ Atomic saves ]); when it fails, remove it."""
    path = os.path.realpath(os.fspath(path))  # through a symlink, as open() writes
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    while True:
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):  # an overwritten file keeps its mode
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save(obj: object, f, pickle_module: Any = pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Save ``obj`` (tensors, state dicts, nested containers, ...) to a path or a writable
    file-like object, in PyTorch's checkpoint format (``torch.save``). Saving to a path is atomic.

    >>> ember.save({"w": ember.ones(2, 3)}, "model.pt")
    """
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")

    def write(out, archive: str) -> None:
        if _use_new_zipfile_serialization:
            _save_zip(obj, out, archive, pickle_module, pickle_protocol)
        else:
            _save_legacy(obj, out, pickle_module, pickle_protocol)

    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        archive = stem if stem and stem.isascii() else "archive"
        with _atomic_path(f) as tmp, open(tmp, "wb") as out:
            write(out, archive)
    else:
        write(f, "archive")
        f.flush()


# -- loading: rebuilding PyTorch's objects ------------------------------------------------------
def _rebuild_tensor(storage, storage_offset, size, stride) -> Tensor:
    if type(storage) is not _Storage:
        raise RuntimeError(f"expected a storage to rebuild a tensor from, got "
                           f"{type(storage).__name__}")
    if type(size) not in (tuple, list) or type(stride) not in (tuple, list):
        raise RuntimeError(f"invalid tensor geometry in checkpoint: size {size!r}, stride "
                           f"{stride!r}")
    for v in (storage_offset, *size, *stride):
        if type(v) is not int or v < 0:
            raise RuntimeError(f"invalid tensor geometry in checkpoint: size {size}, stride "
                               f"{stride}, storage offset {storage_offset}")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {size}, stride "
                           f"{stride}")
    arr, size, stride = storage.array, tuple(size), tuple(stride)
    need = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if need > arr.size:
        isz = arr.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
            f"{storage_offset}, and itemsize {isz} requiring a storage size of {need * isz} are "
            f"out of bounds for storage of size {arr.size * isz}")
    return _make(strided(arr, size, stride, storage_offset))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None) -> Tensor:
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if metadata:  # PyTorch's lazy conj/neg bits: ember materialises them
        if not isinstance(metadata, dict):
            raise RuntimeError(f"invalid tensor metadata in checkpoint: {metadata!r}")
        if metadata.get("neg"):
            t = t.neg()
        if metadata.get("conj"):
            t = t.conj()
    if requires_grad:
        t.requires_grad_(True)
    return t


def _set_obj_state(obj, state):
    parts = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    for part in parts:
        if part is None:
            continue
        if not isinstance(part, dict):
            raise RuntimeError(f"Invalid serialized state: {state!r}")
        for k, v in part.items():
            if type(k) is not str or k.startswith("__") or k in Tensor.__slots__:
                raise RuntimeError(f"Invalid serialized state: attribute {k!r}")
            setattr(obj, k, v)
    return obj


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor):
        raise RuntimeError(f"a Parameter's data must be a tensor, got {type(data).__name__}")
    param = _parameter_class(import_nn=True)
    if param is None:
        return data.requires_grad_(requires_grad)
    return param(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    if type(ret) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise RuntimeError(f"cannot rebuild a tensor as {new_type!r}")
        ret = _as_subclass(ret, new_type)
    return _set_obj_state(ret, state) if state else ret


_LAYOUTS = {"torch.strided": _strided_layout, "torch.sparse_coo": _sparse_coo_layout}


def _get_layout(name: str):
    if name not in _LAYOUTS:
        raise RuntimeError(f"ember has no layout {name}; only torch.strided and "
                           "torch.sparse_coo tensors load")
    return _LAYOUTS[name]


def _rebuild_sparse_tensor(layout, data):
    """A sparse COO tensor from PyTorch's pickled form (NOTE [ Sparse COO tensors ])."""
    if layout is not _sparse_coo_layout:
        raise RuntimeError(f"ember has no layout {layout}")
    from ._sparse import sparse_coo_tensor
    indices, values, size = data[:3]
    return sparse_coo_tensor(indices, values, size,
                             is_coalesced=data[3] if len(data) > 3 else None)


def _torch_globals() -> dict:
    """PyTorch's global names that may occur in a weights-only checkpoint, mapped to ember's."""
    table = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch.device": _device,
        "_codecs.encode": codecs.encode,  # bytes
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch.UntypedStorage": _StorageType(_dtype.uint8),
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_sparse_tensor": _rebuild_sparse_tensor,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    }
    for d in _dtype.ALL:
        table["torch." + d.name] = d
        table[f"torch.{d.word}Storage"] = _StorageType(d)
    return table


_TORCH_GLOBALS: dict = {}


def _allowed_global(full: str):
    if full == "torch.nn.parameter.Parameter":  # imported only when a checkpoint names it
        return _parameter_class(import_nn=True)
    if not _TORCH_GLOBALS:
        _TORCH_GLOBALS.update(_torch_globals())
    return _TORCH_GLOBALS.get(full)


def _ember_counterpart(module: str, name: str):
    """``torch.a.b.Name`` as ember's ``ember.a.b.Name`` (or the nearest enclosing ember module
    that has ``Name``), for ``weights_only=False`` loads of arbitrary PyTorch objects."""
    parts = ("ember" + module[len("torch"):]).split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            for attr in name.split("."):
                obj = getattr(obj, attr)
            return obj
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"ember has no counterpart of {module}.{name}")


# -- loading: the safe-globals registry and the unpicklers --------------------------------------
_safe_globals: set = set()


def add_safe_globals(safe_globals: list) -> None:
    """Allow these functions/classes (or ``(obj, "module.name")`` pairs) in weights-only loads.

    >>> ember.serialization.add_safe_globals([MyConfig])
    """
    _safe_globals.update(safe_globals)


def get_safe_globals() -> list:
    """The user-added globals that weights-only loads allow."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget every user-added safe global."""
    _safe_globals.clear()


class safe_globals:
    """Context manager allowing ``safe_globals`` in weights-only loads inside its block.

    >>> with ember.serialization.safe_globals([MyConfig]):
    ...     ember.load("ckpt.pt")
    """

    def __init__(self, safe_globals: list):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _safe_globals.difference_update(self.safe_globals)


def _user_globals() -> dict:
    out = {}
    for f in _safe_globals:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full path), "
                                 f"but got tuple of length: {len(f)}")
            if type(f[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, "
                                f"but got: {type(f[1])}")
            out[f[1]] = f[0]
        else:
            out[f"{f.__module__}.{f.__qualname__}"] = f
    return out


def _fix_name(unpickler, module: str, name: str) -> tuple[str, str]:
    """Python 2 names (``__builtin__.set``) as Python 3's, as pickle's own find_class does."""
    import _compat_pickle
    if unpickler.proto < 3 and unpickler.fix_imports:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            return _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return module, name


class _Dispatch(dict):
    def __missing__(self, opcode: int):
        raise pickle.UnpicklingError(f"invalid load key, {chr(opcode)!r}.")


class _WeightsUnpickler(pickle._Unpickler):
    """The restricted unpickler of NOTE [ Weights-only loading ]."""

    dispatch = _Dispatch(pickle._Unpickler.dispatch)

    def find_class(self, module, name):
        module, name = _fix_name(self, module, name)
        full = f"{module}.{name}"
        if module.split(".")[0] in _BLOCKED_MODULES:
            raise pickle.UnpicklingError(
                f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked.")
        obj = _allowed_global(full)
        if obj is not None:
            return obj
        user = _user_globals()
        for key in (full, "ember" + full[5:] if full.startswith("torch.") else None):
            if key in user:
                return user[key]
        shown = full[len("builtins."):] if full.startswith("builtins.") else full
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
            f"`ember.serialization.add_safe_globals([{shown}])` or the "
            f"`ember.serialization.safe_globals([{shown}])` context manager to allowlist this "
            "global if you trust this class/function.")

    def _allowed_type(self, inst) -> bool:
        t = type(inst)
        return (isinstance(inst, (Tensor, collections.OrderedDict))
                or t in _user_globals().values())

    def load_build(self):
        inst = self.stack[-2]
        if not self._allowed_type(inst):
            raise pickle.UnpicklingError(
                "Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                f"`add_safe_globals`, but got {type(inst)}")
        state = self.stack.pop()
        if isinstance(inst, Tensor):
            _set_obj_state(inst, state)
        else:
            self.stack.append(state)
            pickle._Unpickler.load_build(self)

    def _check_list(self, target, what: str) -> None:
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only {what} lists, but got {type(target)}")

    def _check_dict(self, target, op: str) -> None:
        if type(target) not in (dict, collections.OrderedDict, collections.Counter):
            raise pickle.UnpicklingError(
                f"Can only {op} for dict, collections.OrderedDict, collections.Counter, but got "
                f"{type(target)}")

    def load_append(self):
        self._check_list(self.stack[-2], "append to")
        pickle._Unpickler.load_append(self)

    def load_appends(self):
        self._check_list(self.metastack[-1][-1], "extend")
        pickle._Unpickler.load_appends(self)

    def load_setitem(self):
        self._check_dict(self.stack[-3], "SETITEM")
        pickle._Unpickler.load_setitem(self)

    def load_setitems(self):
        self._check_dict(self.metastack[-1][-1], "SETITEMS")
        pickle._Unpickler.load_setitems(self)

    def load_additems(self):
        if type(self.metastack[-1][-1]) is not set:
            raise pickle.UnpicklingError(
                f"Can only add items to sets, but got {type(self.metastack[-1][-1])}")
        pickle._Unpickler.load_additems(self)

    def load_ext(self):
        raise pickle.UnpicklingError("Unsupported operand: the extension registry (EXT opcodes)")

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.ADDITEMS[0]] = load_additems
    for _op in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_op[0]] = load_ext
    del _op


def _unpickler_class(pickle_module):
    """The unpickler of a ``weights_only=False`` load: PyTorch's names map to ember's."""
    class Unpickler(pickle_module.Unpickler):
        def find_class(self, module, name):
            obj = _allowed_global(f"{module}.{name}")
            if obj is not None:
                return obj
            if module == "torch" or module.startswith("torch."):
                return _ember_counterpart(module, name)
            return super().find_class(module, name)
    return Unpickler


def _weights_only_message(message: str) -> str:
    if "was not an allowed global by default" in message:
        text = ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, do those steps only if you trust the source of the checkpoint. "
                f"\n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` "
                "please check the recommended steps in the following error message.\n\t"
                "WeightsUnpickler error: " + message)
    else:
        text = f"Weights only load failed. {_UNSAFE_MESSAGE}\n"
        if "is blocked" not in message:
            text += "WeightsUnpickler error: "
        text += "\n\n" + message
    return text + ("\n\nCheck the documentation of ember.load to learn more about types accepted "
                   "by default with weights_only.")


# -- loading: storages and locations ------------------------------------------------------------
def _restore_default(arr, location: str):
    """Move the host bytes ``arr`` to the device named by ``location`` (PyTorch's
    default_restore_location)."""
    try:
        dev = _device(location)
    except (RuntimeError, TypeError):
        raise RuntimeError(f"don't know how to restore data location of a storage (tagged with "
                           f"{location})") from None
    if dev.type == "cpu":
        return arr
    if dev.type == "cuda":
        from .backends import cuda
        if not cuda.available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use ember.load with "
                "map_location=ember.device('cpu') to map your storages to the CPU.")
    try:
        backend = for_device(dev)
    except RuntimeError:
        raise RuntimeError(f"don't know how to restore data location of a storage (tagged with "
                           f"{location})") from None
    return backend.from_numpy(arr, dev)


def _restore_location(map_location):
    """``restore(host_bytes, location) -> backend array``, from ``map_location`` in any of its
    forms. A callable receives the storage as a 1-D uint8 tensor on the CPU (ember has no storage
    type) and returns a tensor (``storage``, ``storage.cuda(1)``) or None (the default place)."""
    if map_location is None:
        return _restore_default
    if isinstance(map_location, dict):
        return lambda arr, loc: _restore_default(arr, str(map_location.get(loc, loc)))
    if isinstance(map_location, (str, bytes, _device)):
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        _device(target)  # validate it up front
        return lambda arr, loc: _restore_default(arr, target)

    def restore(arr, loc):
        result = map_location(_make(arr), loc)
        if result is None:
            return _restore_default(arr, loc)
        data = getattr(result, "_data", None) if isinstance(result, Tensor) else None
        if data is None or data.dtype != np.uint8 or data.shape != arr.shape:
            raise RuntimeError(f"map_location must return the storage (a 1-D uint8 tensor of "
                               f"{arr.size} bytes) or None, got {result!r}")
        return data
    return restore


def _byteswap(host: np.ndarray) -> np.ndarray:
    """Swap the byte order of each element (each part of a complex) of ``host`` in place."""
    size = host.itemsize // 2 if host.dtype.kind == "c" else host.itemsize
    if size > 1:
        host.view(f"u{size}").byteswap(inplace=True)
    return host


def _place(restore, host: np.ndarray, location: str):
    """The storage array ``host`` moved where ``restore`` puts it, still typed; on the CPU it
    is ``host`` itself, the root of the tensors that view it."""
    return restore(host.view(np.uint8), location).view(host.dtype)


def _check_pid(pid, fields: int) -> tuple:
    if type(pid) is not tuple or len(pid) != fields or pid[0] not in ("storage", b"storage"):
        raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, got {pid!r}")
    _, storage_type, key, location, numel = pid[:5]
    if type(storage_type) is not _StorageType or type(numel) is not int or numel < 0 \
            or not isinstance(key, (str, bytes)) or not isinstance(location, (str, bytes)):
        raise pickle.UnpicklingError(f"invalid storage id in checkpoint: {pid!r}")
    try:
        return storage_type.dtype, _ascii(key), _ascii(location), numel
    except UnicodeDecodeError:
        raise pickle.UnpicklingError(f"invalid storage id in checkpoint: {pid!r}") from None


def _ascii(s) -> str:
    return s.decode("ascii") if isinstance(s, bytes) else s


class _Archive:
    """Reading records of a PyTorch zip archive (``zipfile`` underneath)."""

    def __init__(self, fh, mapped: bool):
        try:
            self.zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise RuntimeError(
                f"PytorchStreamReader failed reading zip archive: failed finding central "
                f"directory ({e}). The checkpoint file is corrupted: it was not saved properly, "
                "was truncated in transfer, or was modified after saving.") from None
        names = self.zf.namelist()
        self.prefix = names[0].split("/")[0] + "/" if names and "/" in names[0] else ""
        self.fh, self.file_size = fh, fh.seek(0, os.SEEK_END)
        self.map = _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_COPY) if mapped else None

    def info(self, name: str) -> zipfile.ZipInfo:
        try:
            return self.zf.getinfo(self.prefix + name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                               "found") from None

    def has(self, name: str) -> bool:
        return self.prefix + name in self.zf.NameToInfo

    def read(self, name: str) -> bytes:
        return self._read(self.info(name))

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
            raise RuntimeError(f"PytorchStreamReader failed reading file "
                               f"{info.filename[len(self.prefix):]}: {e}; the checkpoint file is "
                               "corrupted") from None

    def _data_start(self, info: zipfile.ZipInfo, name: str) -> int:
        """Where a stored record's bytes begin in the file (past its local header)."""
        self.fh.seek(info.header_offset)
        head = self.fh.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise RuntimeError(f"PytorchStreamReader: bad local header for {name}; the "
                               "checkpoint file is corrupted")
        n, m = struct.unpack("<2H", head[26:30])
        start = info.header_offset + 30 + n + m
        if start + info.file_size > self.file_size:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: it runs past the "
                               "end of the file; the checkpoint file is truncated")
        return start

    def storage(self, name: str, dtype: _dtype.dtype, numel: int) -> np.ndarray:
        """The record as a flat host array of ``numel`` ``dtype`` elements: a copy-on-write view
        of the mapped file when mapping, else read into memory and CRC-checked (which PyTorch
        does not do)."""
        info, nbytes = self.info(name), numel * dtype.itemsize
        if info.file_size != nbytes:
            raise RuntimeError(f"PytorchStreamReader: record {name} holds {info.file_size} bytes "
                               f"but its storage needs {nbytes}; the checkpoint file is corrupted")
        if info.compress_type != zipfile.ZIP_STORED:  # not written by PyTorch: zipfile inflates
            if self.map is not None:
                raise RuntimeError(f"mmap=True needs stored records, but {name} is compressed")
            return np.frombuffer(bytearray(self._read(info)), dtype.np)
        start = self._data_start(info, name)
        if self.map is not None:
            return np.frombuffer(self.map, dtype.np, numel, start)
        out = np.empty(numel, dtype.np)
        self.fh.seek(start)
        _read_exact(self.fh, out.view(np.uint8), f"PytorchStreamReader failed reading file {name}")
        if zlib.crc32(out.view(np.uint8)) != info.CRC:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: Bad CRC-32; the "
                               "checkpoint file is corrupted")
        return out


def _load_zip(archive: _Archive, restore, make_unpickler) -> Any:
    if archive.has("constants.pkl"):
        raise RuntimeError("ember.load received a TorchScript archive; ember cannot load "
                           "TorchScript programs")
    swap = False
    if archive.has("byteorder"):
        order = archive.read("byteorder").decode(errors="replace")
        if order not in ("little", "big"):
            raise ValueError("Unknown endianness type: " + order)
        swap = order != sys.byteorder
    loaded: dict = {}

    def persistent_load(pid):
        dtype, key, location, numel = _check_pid(pid, 5)
        if key not in loaded:
            host = archive.storage(f"data/{key}", dtype, numel)
            loaded[key] = _Storage(_place(restore, _byteswap(host) if swap else host, location),
                                   dtype)
        elif loaded[key].dtype is not dtype:
            raise RuntimeError(f"storage data/{key} is loaded as two different dtypes")
        return loaded[key]

    unpickler = make_unpickler(io.BytesIO(archive.read("data.pkl")))
    unpickler.persistent_load = persistent_load
    return unpickler.load()


def _load_legacy(fh, restore, make_unpickler) -> Any:
    """PyTorch's format before 1.6 (``_use_new_zipfile_serialization=False``): three header
    pickles, the object's pickle, the storage keys, then each storage as its element count and
    bytes. As in PyTorch, storages are placed (``restore``) when first named and filled after."""
    if make_unpickler(fh).load() != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = make_unpickler(fh).load()
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = make_unpickler(fh).load()
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    here = fh.tell()
    file_size = fh.seek(0, os.SEEK_END)
    fh.seek(here)
    roots: dict = {}
    views: dict = {}

    def persistent_load(pid):
        if type(pid) is tuple and pid and pid[0] in ("module", b"module"):
            return pid[1]  # an nn.Module class recorded with its source (weights_only=False)
        dtype, key, location, numel = _check_pid(pid, 6)
        view = pid[5]
        if numel * dtype.itemsize > file_size:
            raise RuntimeError(f"corrupt legacy checkpoint: storage {key} is larger than the file")
        if key not in roots:
            roots[key] = _Storage(_place(restore, np.empty(numel, dtype.np), location), dtype)
        root = roots[key]
        if view is None:
            return root
        if type(view) is not tuple or len(view) != 3 or type(view[1]) is not int \
                or type(view[2]) is not int or view[1] < 0 or view[2] < 0:
            raise pickle.UnpicklingError(f"invalid storage view in checkpoint: {view!r}")
        view_key, offset, size = view
        if view_key not in views:
            views[view_key] = _Storage(root.array[offset:offset + size], dtype)
        return views[view_key]

    unpickler = make_unpickler(fh)
    unpickler.persistent_load = persistent_load
    result = unpickler.load()
    keys = make_unpickler(fh).load()
    for key in keys:
        if key not in roots:
            raise RuntimeError(f"corrupt legacy checkpoint: storage key {key!r} is not used")
        arr = roots[key].array
        head = np.empty(1, "<i8")
        _read_exact(fh, head.view(np.uint8), f"corrupt legacy checkpoint: storage {key}")
        if head[0] != arr.size:
            raise RuntimeError(f"corrupt legacy checkpoint: storage {key} holds {head[0]} "
                               f"elements where {arr.size} were expected")
        host = arr if isinstance(arr, np.ndarray) else np.empty(arr.size, arr.dtype)
        _read_exact(fh, host.view(np.uint8), f"corrupt legacy checkpoint: storage {key}")
        if little != (sys.byteorder == "little"):
            _byteswap(host)
        if host is not arr:
            backend = of_array(arr)
            arr[...] = backend.from_numpy(host, backend.device_of(arr))
    return result


def _read_exact(fh, out: np.ndarray, what: str) -> None:
    """Fill the uint8 array ``out`` from ``fh`` (``what`` names it in the error)."""
    view, pos = memoryview(out), 0
    while pos < len(view):
        n = fh.readinto(view[pos:])
        if not n:
            raise RuntimeError(f"{what}: the file is truncated")
        pos += n


@contextlib.contextmanager
def _open_for_read(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh
        return
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as e:
        raise type(e)(f"{e}. You can only ember.load from a file that is seekable. Please "
                      "pre-load the data into a buffer like io.BytesIO and try to load from it "
                      "instead.") from None
    yield f


def _is_zip(fh) -> bool:
    start = fh.tell()
    magic = fh.read(4)
    fh.seek(start)
    return magic == b"PK\x03\x04"


def load(f, map_location=None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Load an object saved by ``ember.save`` or ``torch.save`` from a path or a seekable
    file-like object (``torch.load``).

    ``map_location`` places storages: a device or device string, a dict from saved location to
    location, or a callable ``(storage, location) -> storage or None``. ``weights_only`` (True
    unless a ``pickle_module`` is given) refuses everything but tensors, containers and primitive
    values (NOTE [ Weights-only loading ]); ``mmap=True`` maps the file instead of reading it.

    >>> state = ember.load("model.pt", map_location="cpu")
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
        if pickle_load_args:
            warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    elif pickle_module is None:
        pickle_module = pickle
    pickle_load_args.setdefault("encoding", "utf-8")
    if isinstance(f, (str, os.PathLike)) and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors(f, map_location)
    restore = _restore_location(map_location)
    if weights_only:
        encoding = pickle_load_args["encoding"]

        def make_unpickler(fh):
            return _WeightsUnpickler(fh, encoding=encoding)
    else:
        cls = _unpickler_class(pickle_module)

        def make_unpickler(fh):
            return cls(fh, **pickle_load_args)

    with _open_for_read(f) as fh:
        zipped = _is_zip(fh)
        if mmap:
            if not isinstance(f, (str, os.PathLike)):
                raise ValueError("f must be a file path in order to use the mmap argument")
            if not zipped:
                raise RuntimeError(
                    "mmap can only be used with files saved with `ember.save(" + f"{f}, " +
                    "_use_new_zipfile_serialization=True), please ember.save your checkpoint "
                    "with this option in order to use mmap.")
        try:
            if zipped:
                return _load_zip(_Archive(fh, bool(mmap)), restore, make_unpickler)
            return _load_legacy(fh, restore, make_unpickler)
        except pickle.UnpicklingError as e:
            if weights_only:
                raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
            raise


def _load_safetensors(f, map_location):
    if isinstance(map_location, (dict,)) or callable(map_location):
        kind = "dict" if isinstance(map_location, dict) else "callable"
        raise RuntimeError(f"Loading safetensors file with {kind} map_location is not supported. "
                           "Use a device string or ember.device instead.")
    from .utils.safetensors import load_file
    return load_file(f, device="cpu" if map_location is None else str(map_location))
