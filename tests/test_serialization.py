"""ember.save / ember.load against real PyTorch, in both directions, and their safety: hostile
pickles, corrupt files, interrupted saves (NOTE [ Checkpoint format ], NOTE [ Weights-only
loading ], NOTE [ Atomic saves ])."""

from __future__ import annotations

import collections
import dataclasses
import errno
import io
import os
import pickle
import signal
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
from ember import serialization as S
from ember._tensor import _root_array

ROOT = Path(__file__).resolve().parents[1]
DTYPES = [d.name for d in ember._dtype.ALL]


@dataclasses.dataclass
class Config:
    lr: float
    name: str


def _values(name: str) -> np.ndarray:
    base = np.array([[0, 1, -2, 3], [4, -5, 6, 7], [1, 0, 1, 0]])
    if name == "bool":
        return base > 0
    if name.startswith("complex"):
        return (base + 0.5j * base[::-1]).astype(name)
    if name == "bfloat16":
        return (base * 0.5).astype(ember.bfloat16.np)
    return base.astype("uint8" if name == "uint8" else name)


def _pair(name: str):
    a = _values(name)
    t = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16) if name == "bfloat16" \
        else torch.from_numpy(a.copy())
    return ember.from_numpy(a.copy()), t


def _bits(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return (x.view(torch.int16) if x.dtype == torch.bfloat16 else x).numpy()
    a = x.detach().numpy()
    return a.view(np.int16) if x.dtype == ember.bfloat16 else a


def assert_same(e, t):
    """An ember tensor equal to a torch tensor: dtype, shape, strides, offset and bits."""
    assert isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor)
    assert e.dtype.name == str(t.dtype).removeprefix("torch.")
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(_bits(e), _bits(t))


def _torch_bytes(obj, **kw) -> bytes:
    b = io.BytesIO()
    torch.save(obj, b, **kw)
    return b.getvalue()


def _ember_bytes(obj, **kw) -> bytes:
    b = io.BytesIO()
    ember.save(obj, b, **kw)
    return b.getvalue()


def _records(raw: bytes) -> tuple[str, list]:
    z = zipfile.ZipFile(io.BytesIO(raw))
    prefix = z.namelist()[0].split("/")[0]
    return prefix, [(i.filename[len(prefix) + 1:], z.read(i)) for i in z.infolist()]


def _rezip(raw: bytes, edit) -> bytes:
    """The archive with each record's bytes passed through ``edit(name, data)``."""
    prefix, records = _records(raw)
    out = io.BytesIO()
    w = S._ZipWriter(out, prefix)
    for name, data in records:
        w.write_record(name, edit(name, data))
    w.finish()
    return out.getvalue()


def _zip_of_pickle(pkl: bytes) -> bytes:
    out = io.BytesIO()
    w = S._ZipWriter(out, "archive")
    w.write_record("data.pkl", pkl)
    w.write_record("version", b"3\n")
    w.finish()
    return out.getvalue()


def _relocated(raw: bytes, location: str) -> bytes:
    """A checkpoint whose storages are tagged with ``location`` instead of 'cpu' (pickle
    protocol 2 has no absolute offsets, so a string may change length)."""
    new = b"X" + struct.pack("<I", len(location)) + location.encode()
    return _rezip(raw, lambda n, d: d.replace(b"X\x03\x00\x00\x00cpu", new) if n == "data.pkl"
                  else d)


# -- PyTorch -> ember and ember -> PyTorch ------------------------------------------------------
@pytest.mark.parametrize("weights_only", [True, False])
def test_every_dtype_from_torch(weights_only):
    pairs = {n: _pair(n) for n in DTYPES}
    raw = _torch_bytes({n: t for n, (_, t) in pairs.items()})
    loaded = ember.load(io.BytesIO(raw), weights_only=weights_only)
    for n, (_, t) in pairs.items():
        assert_same(loaded[n], t)


@pytest.mark.parametrize("weights_only", [True, False])
def test_every_dtype_to_torch(weights_only):
    pairs = {n: _pair(n) for n in DTYPES}
    raw = _ember_bytes({n: e for n, (e, _) in pairs.items()})
    loaded = torch.load(io.BytesIO(raw), weights_only=weights_only)
    for n, (e, _) in pairs.items():
        assert_same(e, loaded[n])
    back = ember.load(io.BytesIO(raw))
    for n, (_, t) in pairs.items():
        assert_same(back[n], t)


def test_zero_dim_empty_and_requires_grad_both_ways():
    e = {"s": ember.tensor(2.5), "z": ember.ones(0, 3), "g": ember.ones(2, requires_grad=True),
         "nl": ember.ones(2, requires_grad=True) * 2}
    t = torch.load(io.BytesIO(_ember_bytes(e)))
    assert t["s"].shape == () and t["z"].shape == (0, 3) and t["g"].requires_grad
    assert t["nl"].requires_grad and t["nl"].is_leaf
    back = ember.load(io.BytesIO(_torch_bytes(t)))
    for k in e:
        assert_same(back[k], t[k])


def test_state_dict_metadata_both_ways():
    tm = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    sd = tm.state_dict()
    loaded = ember.load(io.BytesIO(_torch_bytes(sd)))
    assert type(loaded) is collections.OrderedDict and list(loaded) == list(sd)
    assert loaded._metadata == sd._metadata
    for k in sd:
        assert_same(loaded[k], sd[k])
    back = torch.load(io.BytesIO(_ember_bytes(loaded)))
    tm.load_state_dict(back)
    assert back._metadata == sd._metadata and list(back) == list(sd)


def test_optimizer_state_and_plain_values_both_ways():
    t_state = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 3)},
                         1: {"step": torch.tensor(3.0), "momentum_buffer": None}},
               "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1],
                                 "foreach": None, "name": "head", "nesterov": False}],
               "numbers": [1, 2.5, -3, 2**70, 1 + 2j, True], "bytes": b"\x00\xff",
               "set": {1, 2}, "counter": collections.Counter("aab"), "tuple": (1, ("a", None)),
               "dtype": torch.bfloat16, "size": torch.Size([2, 3]), "device": torch.device("cpu"),
               "layout": torch.strided}
    e = ember.load(io.BytesIO(_torch_bytes(t_state)))
    assert e["param_groups"] == t_state["param_groups"]
    assert e["numbers"] == t_state["numbers"] and e["bytes"] == b"\x00\xff"
    assert e["set"] == {1, 2} and e["counter"] == collections.Counter("aab")
    assert e["tuple"] == (1, ("a", None)) and e["state"][1]["momentum_buffer"] is None
    assert e["dtype"] is ember.bfloat16 and e["size"] == ember.Size([2, 3])
    assert type(e["size"]) is ember.Size and e["device"] == ember.device("cpu")
    assert e["layout"] is ember.strided
    assert_same(e["state"][0]["exp_avg"], t_state["state"][0]["exp_avg"])
    t = torch.load(io.BytesIO(_ember_bytes(e)))
    for k in ("param_groups", "numbers", "bytes", "set", "counter", "tuple"):
        assert t[k] == t_state[k]
    assert t["dtype"] is torch.bfloat16 and type(t["size"]) is torch.Size
    assert t["device"] == torch.device("cpu") and t["layout"] is torch.strided
    assert torch.equal(t["state"][0]["exp_avg"], t_state["state"][0]["exp_avg"])


def test_views_keep_sharing_from_torch():
    x = torch.arange(24.0).reshape(4, 6)
    obj = {"x": x, "row": x[1], "cols": x[:, 2:5], "t": x.t(), "flat": x.view(-1)[7:],
           "other": torch.ones(3)}
    e = ember.load(io.BytesIO(_torch_bytes(obj)))
    for k in obj:
        assert_same(e[k], obj[k])
    e["x"][1, 3] = -1.0
    assert e["row"][3].item() == -1.0 and e["cols"][1, 1].item() == -1.0
    assert e["t"][3, 1].item() == -1.0 and e["flat"][2].item() == -1.0
    assert e["other"].tolist() == [1.0, 1.0, 1.0]


def test_views_keep_sharing_to_torch():
    x = ember.arange(24.0).reshape(4, 6)
    obj = {"cols": x[:, 2:5], "x": x, "t": x.t(), "diag": x.diagonal()}
    t = torch.load(io.BytesIO(_ember_bytes(obj)))
    ptr = t["x"].untyped_storage().data_ptr()
    assert all(v.untyped_storage().data_ptr() == ptr for v in t.values())
    for k in obj:
        assert_same(obj[k], t[k])
    assert len(_records(_ember_bytes(obj))[1]) == 7  # one storage record


def test_views_of_one_storage_as_two_dtypes_are_refused_like_torch():
    x, tx = ember.arange(4.0), torch.arange(4.0)
    with pytest.raises(RuntimeError) as t:
        torch.save([tx, tx.view(torch.int32)], io.BytesIO())
    with pytest.raises(RuntimeError) as e:
        ember.save([x, x.view(ember.int32)], io.BytesIO())
    assert str(e.value) == str(t.value)


def test_parameters_from_torch():
    p = torch.nn.Parameter(torch.randn(2, 3))
    frozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    stateful = torch.nn.Parameter(torch.ones(2))
    stateful.tag = "w"
    e = ember.load(io.BytesIO(_torch_bytes({"p": p, "f": frozen, "s": stateful})))
    assert e["p"].requires_grad and not e["f"].requires_grad and e["s"].tag == "w"
    np.testing.assert_array_equal(e["p"].detach().numpy(), p.detach().numpy())
    param = S._parameter_class(import_nn=True)
    if param is not None:  # with ember.nn, a Parameter
        assert all(type(v) is param for v in e.values())


def test_parameters_to_torch():
    param = S._parameter_class(import_nn=True)
    if param is None:
        pytest.skip("ember.nn.Parameter does not exist in this build")
    p = param(ember.randn(2, 3))
    p.tag = 7
    obj = {"p": p, "f": param(ember.ones(2), requires_grad=False)}
    t = torch.load(io.BytesIO(_ember_bytes(obj)), weights_only=False)
    assert type(t["p"]) is torch.nn.Parameter and t["p"].requires_grad and t["p"].tag == 7
    assert type(t["f"]) is torch.nn.Parameter and not t["f"].requires_grad
    np.testing.assert_array_equal(t["p"].detach().numpy(), p.detach().numpy())


def test_tensor_attributes_both_ways():
    x = ember.ones(2)
    x.note = "hi"
    t = torch.load(io.BytesIO(_ember_bytes(x)))
    assert t.note == "hi"
    t.extra = 3
    e = ember.load(io.BytesIO(_torch_bytes(t)))
    assert e.note == "hi" and e.extra == 3 and type(e) is ember.Tensor


def test_conj_and_neg_views_from_torch_are_materialised():
    c = torch.tensor([1 + 2j, 3 - 1j])
    e = ember.load(io.BytesIO(_torch_bytes({"c": c.conj(), "n": torch._neg_view(c.clone())})))
    np.testing.assert_array_equal(e["c"].numpy(), c.conj().resolve_conj().numpy())
    np.testing.assert_array_equal(e["n"].numpy(), (-c).numpy())


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_protocols(protocol):
    obj = {"w": ember.arange(3.0), "dt": ember.float16, "sz": ember.Size([1])}
    raw = _ember_bytes(obj, pickle_protocol=protocol)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Detected pickle protocol")
        # torch's own weights-only unpickler cannot read protocol 4 frames; ember's can
        t = torch.load(io.BytesIO(raw), weights_only=protocol < 4)
    assert t["w"].tolist() == [0.0, 1.0, 2.0] and t["dt"] is torch.float16
    assert ember.load(io.BytesIO(raw))["sz"] == ember.Size([1])
    raw = _torch_bytes(t, pickle_protocol=protocol)
    assert ember.load(io.BytesIO(raw))["dt"] is ember.float16


def test_zip_layout_matches_torch(tmp_path):
    e_obj = {"a": ember.arange(6.0).reshape(2, 3), "e": ember.ones(0),
             "b": ember.ones(5, dtype=ember.int64)}
    (tmp_path / "e").mkdir()
    (tmp_path / "t").mkdir()
    ember.save(e_obj, tmp_path / "e" / "model.pt")
    torch.save({k: torch.from_numpy(v.numpy()).contiguous() if v.numel() else torch.ones(0)
                for k, v in e_obj.items()}, tmp_path / "t" / "model.pt")
    ez, tz = (zipfile.ZipFile(tmp_path / d / "model.pt") for d in "et")
    layout = [[(i.filename, i.header_offset, i.file_size, i.flag_bits, i.compress_type)
               for i in z.infolist()] for z in (ez, tz)]
    assert layout[0] == layout[1]
    assert ez.read("model/data.pkl") == tz.read("model/data.pkl")
    eb, tb = ((tmp_path / d / "model.pt").read_bytes() for d in "et")
    assert len(eb) == len(tb)
    assert _records(_ember_bytes(1))[0] == "archive"


def test_zip64_records_are_read_by_torch(monkeypatch):
    monkeypatch.setattr(S, "_ZIP64_LIMIT", 200)  # every record past 200 bytes takes ZIP64 fields
    obj = {"a": ember.arange(100.0), "b": ember.ones(3, dtype=ember.int8)}
    raw = _ember_bytes(obj)
    t = torch.load(io.BytesIO(raw))
    assert t["a"].tolist() == list(range(100)) and t["b"].tolist() == [1, 1, 1]
    assert ember.load(io.BytesIO(raw))["a"].tolist() == list(range(100))


# -- legacy format -------------------------------------------------------------------------------
@pytest.mark.parametrize("weights_only", [True, False])
def test_legacy_format_from_torch(weights_only):
    x = torch.arange(12.0).reshape(3, 4)
    obj = {"x": x, "v": x[1:, ::2], "h": torch.ones(2, dtype=torch.float16),
           "p": torch.nn.Parameter(torch.ones(2)), "n": [1, "a"]}
    raw = _torch_bytes(obj, _use_new_zipfile_serialization=False)
    assert raw[:4] != b"PK\x03\x04"
    e = ember.load(io.BytesIO(raw), weights_only=weights_only)
    for k in ("x", "v", "h"):
        assert_same(e[k], obj[k])
    assert e["p"].requires_grad and e["n"] == [1, "a"]
    e["x"][1, 2] = -7.0
    assert e["v"][0, 1].item() == -7.0


def test_legacy_format_from_a_file(tmp_path):
    x = torch.arange(12.0).reshape(3, 4)
    torch.save({"x": x, "v": x[1:], "i": torch.arange(5)}, tmp_path / "l.pt",
               _use_new_zipfile_serialization=False)
    for weights_only in (True, False):
        e = ember.load(tmp_path / "l.pt", weights_only=weights_only)
        assert_same(e["v"], x[1:])
        assert e["i"].tolist() == [0, 1, 2, 3, 4]


def test_big_endian_checkpoint():
    obj = {n: _pair(n)[1] for n in ("float32", "bfloat16", "complex64", "int64", "uint8")}

    def to_big(name, data):
        if name == "byteorder":
            return b"big"
        if name.startswith("data/"):
            t = list(obj.values())[int(name[5:])]
            width = t.element_size() // (2 if t.is_complex() else 1)
            return np.frombuffer(data, f"<u{width}").astype(f">u{width}").tobytes()
        return data

    raw = _rezip(_torch_bytes(obj), to_big)
    theirs = torch.load(io.BytesIO(raw))
    ours = ember.load(io.BytesIO(raw))
    for k in obj:
        assert_same(ours[k], theirs[k])
        assert_same(ours[k], obj[k])


def test_legacy_format_to_torch():
    x = ember.arange(12.0).reshape(3, 4)
    obj = {"x": x, "v": x[1:, ::2], "i": ember.arange(3)}
    raw = _ember_bytes(obj, _use_new_zipfile_serialization=False)
    for weights_only in (True, False):
        t = torch.load(io.BytesIO(raw), weights_only=weights_only)
        for k in obj:
            assert_same(obj[k], t[k])
    assert_same(ember.load(io.BytesIO(raw))["v"], t["v"])


def test_legacy_format_truncated():
    raw = _torch_bytes({"x": torch.arange(100.0)}, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="truncated"):
        ember.load(io.BytesIO(raw[:-40]))
    with pytest.raises(RuntimeError, match="Invalid magic number"):
        ember.load(io.BytesIO(pickle.dumps(12345)))


# -- map_location and mmap -------------------------------------------------------------------------
@pytest.mark.parametrize("map_location", ["cpu", b"cpu", ember.device("cpu"), {"cpu": "cpu"},
                                          lambda s, loc: s, lambda s, loc: None])
def test_map_location_forms(map_location):
    x = torch.arange(6.0).reshape(2, 3)
    e = ember.load(io.BytesIO(_torch_bytes({"x": x, "v": x[1]})), map_location=map_location)
    assert_same(e["x"], x)
    assert_same(e["v"], x[1])


def test_map_location_callable_sees_storage_and_location():
    seen = []

    def where(storage, location):
        seen.append((storage.dtype, tuple(storage.shape), location))
        return storage

    raw = _relocated(_torch_bytes({"a": torch.ones(3), "b": torch.ones(2, dtype=torch.int64)}),
                     "cuda:1")
    e = ember.load(io.BytesIO(raw), map_location=where)
    assert seen == [(ember.uint8, (12,), "cuda:1"), (ember.uint8, (16,), "cuda:1")]
    assert e["b"].tolist() == [1, 1] and e["a"].device == ember.device("cpu")
    with pytest.raises(RuntimeError, match="map_location must return"):
        ember.load(io.BytesIO(raw), map_location=lambda s, loc: 3)


def test_cuda_tagged_checkpoint():
    raw = _relocated(_torch_bytes({"w": torch.arange(4.0)}), "cuda:0")
    # the crafted file is one torch reads the same way
    assert torch.load(io.BytesIO(raw), map_location="cpu")["w"].tolist() == [0, 1, 2, 3]
    for where in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        assert ember.load(io.BytesIO(raw), map_location=where)["w"].tolist() == [0, 1, 2, 3]
    from ember.backends import cuda
    if not cuda.available():
        with pytest.raises(RuntimeError, match="on a CUDA device but"):
            ember.load(io.BytesIO(raw))
    xla = _relocated(_torch_bytes({"w": torch.arange(4.0)}), "xla:0")
    with pytest.raises(RuntimeError, match=r"don't know how to restore .*tagged with xla:0"):
        ember.load(io.BytesIO(xla))


def test_mmap(tmp_path):
    x = torch.arange(12.0).reshape(3, 4)
    torch.save({"x": x, "v": x[1:], "b": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "t.pt")
    ember.save({"x": ember.arange(12.0).reshape(3, 4), "i": ember.arange(3)}, tmp_path / "e.pt")
    for name in ("t.pt", "e.pt"):
        before = (tmp_path / name).read_bytes()
        m = ember.load(tmp_path / name, mmap=True)
        plain = ember.load(tmp_path / name)
        for k in m:
            np.testing.assert_array_equal(_bits(m[k]), _bits(plain[k]))
        root = _root_array(m["x"]._data)
        assert root.dtype == np.float32 and not isinstance(root.base, np.ndarray)  # the mapping
        m["x"][0, 0] = 99.0  # copy-on-write: the file stays as it was
        assert (tmp_path / name).read_bytes() == before
    assert m["x"][0, 0].item() == 99.0
    mv = ember.load(tmp_path / "t.pt", mmap=True)
    mv["x"][1, 0] = -1.0
    assert mv["v"][0, 0].item() == -1.0
    with pytest.raises(ValueError, match="must be a file path"):
        ember.load(io.BytesIO((tmp_path / "t.pt").read_bytes()), mmap=True)
    torch.save(x, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        ember.load(tmp_path / "legacy.pt", mmap=True)


def test_torch_reads_ember_files_with_mmap(tmp_path, monkeypatch):
    from torch.utils.serialization import config
    monkeypatch.setattr(config.load, "calculate_storage_offsets", True)
    monkeypatch.setenv("TORCH_SERIALIZATION_DEBUG", "1")  # torch checks its offset arithmetic
    obj = {"a": ember.arange(7.0), "e": ember.ones(0), "b": ember.ones(3, dtype=ember.int16)}
    ember.save(obj, tmp_path / "m.pt")
    t = torch.load(tmp_path / "m.pt", mmap=True)
    for k in obj:
        assert_same(obj[k], t[k])


# -- weights_only ----------------------------------------------------------------------------------
class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Subprocess(_System):
    def __reduce__(self):
        return (subprocess.call, (["touch", str(self.marker)],))


def _hostile_payloads(marker):
    return {
        "torch.save(os.system)": _torch_bytes({"x": _System(marker)}),
        "ember.save(subprocess.call)": _ember_bytes([_Subprocess(marker)]),
        "raw pickle": pickle.dumps(_System(marker), protocol=2),
        "raw pickle protocol 4": pickle.dumps(_System(marker), protocol=4),
        "zip, protocol 5": _zip_of_pickle(pickle.dumps({"a": _Subprocess(marker)}, protocol=5)),
        "eval": _zip_of_pickle(b"\x80\x02cbuiltins\neval\nX\x1b\x00\x00\x00__import__('os').system"
                               b"('x')\x85R."),
        "getattr": b"\x80\x02cbuiltins\ngetattr\ncbuiltins\nobject\nX\x03\x00\x00\x00abc\x86R.",
    }


@pytest.mark.parametrize("kind", list(_hostile_payloads("m")))
def test_hostile_pickles_never_run(tmp_path, kind):
    marker = tmp_path / "pwned"
    raw = _hostile_payloads(marker)[kind]
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed") as e:
        ember.load(io.BytesIO(raw))
    assert not marker.exists()
    msg = str(e.value)
    assert ("is blocked" in msg or "Unsupported global: GLOBAL" in msg), msg
    assert any(g in msg for g in ("posix.system", "os.system", "subprocess.call", "GLOBAL eval",
                                  "GLOBAL getattr"))


def test_hostile_opcodes_are_refused():
    cases = {
        b"\x80\x02cbuiltins\nset\n)R}X\x01\x00\x00\x00aK\x01sb.": "Can only build",
        b"\x80\x02cbuiltins\nbytearray\n)RK\x01a.": "Can only append to lists",
        b"\x80\x02cbuiltins\nbytearray\n)R(K\x01e.": "Can only extend lists",
        b"\x80\x02cbuiltins\nset\n)RK\x01K\x02s.": "Can only SETITEM",
        b"\x80\x02\x82\x01.": "Unsupported operand",
        b"\x80\x02X\x03\x00\x00\x00abcQ.": "Only persistent_load of storage",
    }
    for pkl, message in cases.items():
        with pytest.raises(pickle.UnpicklingError, match=message):
            ember.load(io.BytesIO(_zip_of_pickle(pkl)))


def test_state_cannot_overwrite_tensor_internals():
    t = torch.ones(2)
    t._data = "not an array"  # would replace ember's backend array
    with pytest.raises(RuntimeError, match="Invalid serialized state: attribute '_data'"):
        ember.load(io.BytesIO(_torch_bytes(t)))


def test_unsupported_global_message_matches_torch():
    raw = _torch_bytes(Config(0.1, "a"))
    with pytest.raises(pickle.UnpicklingError) as e:
        ember.load(io.BytesIO(raw))
    with pytest.raises(pickle.UnpicklingError) as t:
        torch.load(io.BytesIO(raw))
    name = f"{__name__}.Config"
    for err in (e, t):
        assert f"Unsupported global: GLOBAL {name} was not an allowed global by default" in \
            str(err.value)


def test_safe_globals():
    raw = _ember_bytes({"cfg": Config(0.1, "a"), "w": ember.ones(2)})
    assert S.get_safe_globals() == []
    with S.safe_globals([Config]):
        assert S.get_safe_globals() == [Config]
        assert ember.load(io.BytesIO(raw))["cfg"] == Config(0.1, "a")
    assert S.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(raw))
    try:
        S.add_safe_globals([(Config, f"{__name__}.Config")])
        assert ember.load(io.BytesIO(raw))["cfg"].name == "a"
        with torch.serialization.safe_globals([Config]):
            assert torch.load(io.BytesIO(raw))["cfg"] == Config(0.1, "a")
    finally:
        S.clear_safe_globals()
    assert S.get_safe_globals() == []
    S.add_safe_globals([os.system])
    try:  # blocked modules stay blocked
        with pytest.raises(pickle.UnpicklingError, match="is blocked"):
            ember.load(io.BytesIO(_torch_bytes(_System("x"))))
    finally:
        S.clear_safe_globals()


def test_weights_only_false_loads_arbitrary_objects():
    raw = _ember_bytes({"cfg": Config(0.5, "b"), "w": ember.ones(2)})
    loaded = ember.load(io.BytesIO(raw), weights_only=False)
    assert loaded["cfg"] == Config(0.5, "b")
    assert torch.load(io.BytesIO(raw), weights_only=False)["cfg"] == Config(0.5, "b")
    t = ember.load(io.BytesIO(_torch_bytes({"cfg": Config(1.0, "c"), "f": torch.finfo})),
                   weights_only=False)
    assert t["cfg"] == Config(1.0, "c") and t["f"] is ember.finfo  # torch.* -> ember.*
    assert ember.load(io.BytesIO(raw), pickle_module=pickle)["cfg"].lr == 0.5
    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        ember.load(io.BytesIO(raw), pickle_module=pickle, weights_only=True)


# -- corrupt files ---------------------------------------------------------------------------------
def test_corrupt_and_truncated_files():
    raw = _torch_bytes({"w": torch.arange(100.0)})
    for cut in (len(raw) // 2, len(raw) - 10, 10):
        with pytest.raises(RuntimeError, match="failed finding central directory"):
            ember.load(io.BytesIO(raw[:cut]))
    data_at = raw.index(struct.pack("<f", 50.0))
    flipped = raw[:data_at] + bytes([raw[data_at] ^ 0xFF]) + raw[data_at + 1:]
    with pytest.raises(RuntimeError, match="Bad CRC-32"):  # torch itself does not notice
        ember.load(io.BytesIO(flipped))
    with pytest.raises(EOFError):
        ember.load(io.BytesIO(b""))
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(b"not a checkpoint"))
    short = _rezip(raw, lambda n, d: d[:8] if n == "data/0" else d)
    with pytest.raises(RuntimeError, match="holds 8 bytes but its storage needs 400"):
        ember.load(io.BytesIO(short))
    missing = _rezip(raw, lambda n, d: d)
    missing = missing.replace(b"data/0", b"data/9")
    with pytest.raises(RuntimeError, match="failed locating file data/0"):
        ember.load(io.BytesIO(missing))
    with pytest.raises(RuntimeError, match="failed locating file data.pkl"):
        ember.load(io.BytesIO(_rezip(raw, lambda n, d: d).replace(b"data.pkl", b"data.xyz")))


def test_recompressed_archive(tmp_path):
    raw = _torch_bytes({"w": torch.arange(50.0)})
    z = zipfile.ZipFile(io.BytesIO(raw))
    with zipfile.ZipFile(tmp_path / "deflated.pt", "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info))
    assert ember.load(tmp_path / "deflated.pt")["w"].tolist() == list(range(50))
    with pytest.raises(RuntimeError, match="mmap=True needs stored records"):
        ember.load(tmp_path / "deflated.pt", mmap=True)


def test_out_of_bounds_tensor_geometry():
    raw = _torch_bytes(torch.arange(6.0).reshape(2, 3))
    big = _rezip(raw, lambda n, d: d.replace(b"K\x02K\x03\x86", b"K\x04K\x03\x86")
                 if n == "data.pkl" else d)
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        ember.load(io.BytesIO(big))


# -- files, buffers and atomic saves ---------------------------------------------------------------
def test_paths_buffers_and_file_objects(tmp_path):
    obj = {"w": ember.arange(4.0)}
    ember.save(obj, str(tmp_path / "a.pt"))
    ember.save(obj, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as f:
        ember.save(obj, f)
    for name in "abc":
        with open(tmp_path / f"{name}.pt", "rb") as f:
            assert ember.load(f)["w"].tolist() == [0, 1, 2, 3]
        assert torch.load(tmp_path / f"{name}.pt")["w"].tolist() == [0, 1, 2, 3]
    assert sorted(os.listdir(tmp_path)) == ["a.pt", "b.pt", "c.pt"]  # no temporaries left
    with pytest.raises(AttributeError, match="'write' attribute"):
        ember.save(obj, 3)
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        ember.save(obj, tmp_path / "missing" / "x.pt")

    class Unseekable(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

        def tell(self):
            raise io.UnsupportedOperation("tell")

    with pytest.raises(io.UnsupportedOperation, match="seekable"):
        ember.load(Unseekable())


def test_overwrite_keeps_mode_and_follows_symlinks(tmp_path):
    target = tmp_path / "real.pt"
    ember.save(1, target)
    os.chmod(target, 0o640)
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    ember.save({"w": ember.ones(2)}, link)
    assert link.is_symlink() and (os.stat(target).st_mode & 0o777) == 0o640
    assert ember.load(target)["w"].tolist() == [1.0, 1.0]


def _previous_intact(path, n=2):
    assert ember.load(path)["w"].tolist() == [1.0] * n


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(2)}, path)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({"w": ember.zeros(2), "f": lambda: 0}, path)  # fails while pickling
    _previous_intact(path)
    put = S._ZipWriter._put

    def disk_full(self, data):
        if self.pos > 200:
            raise OSError(errno.ENOSPC, "No space left on device")
        put(self, data)

    monkeypatch.setattr(S._ZipWriter, "_put", disk_full)
    with pytest.raises(OSError, match="No space left"):
        ember.save({"w": ember.zeros(1000)}, path)
    _previous_intact(path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]


_SLOW_SAVE = """
import sys, time
import ember
from ember import serialization as S
from ember._tensor import _root_array
put = S._ZipWriter._put
def slow(self, data):
    put(self, data)
    if self.pos > 4096:
        print("writing", flush=True)
        time.sleep(120)
S._ZipWriter._put = slow
ember.save({"w": ember.zeros(100000)}, sys.argv[1])
"""


def test_killed_save_keeps_previous_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(3)}, path)
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read()
        tmp = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        assert len(tmp) == 1 and (tmp_path / tmp[0]).stat().st_size > 4096
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    _previous_intact(path, 3)
    assert torch.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    ember.save({"w": ember.ones(2)}, path)  # a later save is unaffected by the leftover
    _previous_intact(path)


def test_load_does_not_import_torch():
    code = ("import io, sys, ember\n"
            "b = io.BytesIO(); ember.save({'w': ember.ones(2)}, b); b.seek(0)\n"
            "assert ember.load(b)['w'].tolist() == [1.0, 1.0]\n"
            "assert 'torch' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr


# -- safetensors -----------------------------------------------------------------------------------
def _safetensors_or_skip():
    return pytest.importorskip("safetensors.torch")


def test_safetensors_round_trips_with_torch(tmp_path):
    st = _safetensors_or_skip()
    from ember.utils import safetensors as es
    names = [n for n in DTYPES if n != "complex128"]
    pairs = {n: _pair(n) for n in names}
    extra = {"scalar": ember.tensor(3.0), "empty": ember.ones(0, 2)}
    es.save_file({**{n: e for n, (e, _) in pairs.items()}, **extra}, tmp_path / "e.safetensors",
                 metadata={"format": "pt"})
    t = st.load_file(tmp_path / "e.safetensors")
    for n, (e, _) in pairs.items():
        assert_same(e, t[n])
    assert t["scalar"].shape == () and t["empty"].shape == (0, 2)
    st.save_file({n: tt for n, (_, tt) in pairs.items()}, tmp_path / "t.safetensors",
                 metadata={"k": "v"})
    for loaded in (es.load_file(tmp_path / "t.safetensors"),
                   es.load((tmp_path / "t.safetensors").read_bytes()),
                   ember.load(tmp_path / "t.safetensors")):
        for n, (_, tt) in pairs.items():
            assert_same(loaded[n], tt)
    back = st.load(es.save({"x": pairs["float32"][0]}))
    assert_same(pairs["float32"][0], back["x"])
    with es.safe_open(tmp_path / "t.safetensors", framework="pt", device="cpu") as f:
        assert sorted(f.keys()) == sorted(names) and f.metadata() == {"k": "v"}
        assert_same(f.get_tensor("int64"), pairs["int64"][1])
        sl = f.get_slice("float32")
        assert sl.get_shape() == [3, 4] and sl.get_dtype() == "F32"
        np.testing.assert_array_equal(sl[1:, :2].numpy(), pairs["float32"][1][1:, :2].numpy())


def test_safetensors_refusals(tmp_path):
    _safetensors_or_skip()
    from ember.utils import safetensors as es
    x = ember.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="Some tensors share memory"):
        es.save_file({"x": x, "row": x[1]}, tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="non contiguous tensor: `t`"):
        es.save_file({"t": x.t()}, tmp_path / "a.safetensors")
    es.save_file({"a": x[0], "b": x[1]}, tmp_path / "a.safetensors")  # disjoint parts are fine
    with pytest.raises(ValueError, match="Expected a dict"):
        es.save([x])
    with pytest.raises(ValueError, match="cannot store ember.complex128"):
        es.save({"c": ember.ones(2, dtype=ember.complex128)})
    with pytest.raises(RuntimeError, match="dict map_location"):
        ember.load(tmp_path / "a.safetensors", map_location={"cpu": "cpu"})
    assert sorted(os.listdir(tmp_path)) == ["a.safetensors"]
