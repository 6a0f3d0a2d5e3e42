"""``ember.cuda`` without a GPU behaves as ``torch.cuda`` in PyTorch's CPU build; the TF32 and
matmul-precision switches (which exist without CUDA too) match PyTorch's."""

from __future__ import annotations

import sys
import warnings

import pytest
import torch

import ember

pytestmark = pytest.mark.skipif(ember.cuda.is_available() or torch.cuda.is_available(),
                                reason="compares CPU-only builds")


def _outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn()
    except Exception as e:  # noqa: BLE001 - comparing whatever each library raises
        return type(e)
    return r


@pytest.mark.parametrize("name,args", [
    ("is_available", ()), ("device_count", ()), ("is_initialized", ()),
    ("memory_allocated", ()), ("max_memory_allocated", ()), ("memory_reserved", ()),
    ("max_memory_reserved", ()), ("memory_cached", ()), ("empty_cache", ()),
    ("manual_seed", (1,)), ("manual_seed_all", (1,)), ("seed", ()), ("seed_all", ()),
    ("get_rng_state_all", ()), ("set_rng_state_all", ([],)), ("is_bf16_supported", ()),
    ("get_arch_list", ()), ("set_device", (-1,)),
])
def test_same_result(name, args):
    assert _outcome(lambda: getattr(ember.cuda, name)(*args)) == \
        _outcome(lambda: getattr(torch.cuda, name)(*args))


def test_memory_stats_is_empty():
    assert ember.cuda.memory_stats() == torch.cuda.memory_stats() == {}
    assert ember.cuda.memory_stats_as_nested_dict() == {}


@pytest.mark.parametrize("name,args", [
    ("current_device", ()), ("get_device_name", ()), ("get_device_properties", (0,)),
    ("get_device_capability", ()), ("synchronize", ()), ("initial_seed", ()),
    ("get_rng_state", ()), ("current_stream", ()), ("default_stream", ()),
    ("mem_get_info", ()), ("init", ()), ("set_per_process_memory_fraction", (0.5,)),
    ("caching_allocator_alloc", (10,)),
])
def test_assertion_error(name, args):
    """PyTorch's CPU build raises AssertionError('Torch not compiled with CUDA enabled');
    ember's error is an AssertionError and a RuntimeError (a CUDA build's error)."""
    with pytest.raises(AssertionError):
        getattr(torch.cuda, name)(*args)
    with pytest.raises(AssertionError, match="CUDA is not available") as e:
        getattr(ember.cuda, name)(*args)
    assert isinstance(e.value, RuntimeError)


@pytest.mark.parametrize("make", [
    lambda m: m.cuda.Stream(), lambda m: m.cuda.Event(), lambda m: m.cuda.Event(True),
    lambda m: m.cuda.CUDAGraph(), lambda m: m.cuda.device(0).__enter__(),
    lambda m: m.ones(1).pin_memory(),
])
def test_runtime_error(make):
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises(RuntimeError):
        make(ember)


def test_no_ops_without_cuda():
    """Negative indices, CPU tensors and a None stream are accepted and do nothing."""
    for m in (torch, ember):
        with m.cuda.device(-1):
            pass
        with m.cuda.device_of(m.ones(1)):
            pass
        with m.cuda.stream(None):
            pass
        m.cuda.set_rng_state(m.zeros(16, dtype=m.uint8))
        assert m.ones(1).is_pinned() is False


def test_set_device_rejects_cpu():
    for m in (torch, ember):
        with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
            m.cuda.set_device("cpu")


def test_out_of_memory_error_class():
    assert issubclass(ember.cuda.OutOfMemoryError, RuntimeError)
    assert ember.OutOfMemoryError is ember.cuda.OutOfMemoryError
    assert issubclass(torch.cuda.OutOfMemoryError, RuntimeError)


def test_amp_aliases_warn():
    with pytest.warns(FutureWarning, match=r"ember.amp.autocast\('cuda'"), \
            pytest.warns(UserWarning, match="CUDA is not available"):
        ac = ember.cuda.amp.autocast()
    assert ac.device == "cuda" and ac.fast_dtype is ember.float16
    with pytest.warns(UserWarning, match="CUDA is not available"), \
            pytest.warns(FutureWarning, match="GradScaler"):
        scaler = ember.cuda.amp.GradScaler()
    assert not scaler.is_enabled()
    with pytest.warns(FutureWarning, match="custom_fwd"):
        ember.cuda.amp.custom_fwd(lambda ctx, x: x)


def test_import_ember_does_not_import_cupy():
    code = "import ember, sys; ember.manual_seed(0); assert 'cupy' not in sys.modules"
    import subprocess
    subprocess.run([sys.executable, "-c", code], check=True)


# -- TF32 and matmul precision ---------------------------------------------------------------------

@pytest.fixture
def restore_precision():
    yield
    torch.set_float32_matmul_precision("highest")
    ember.set_float32_matmul_precision("highest")


@pytest.mark.parametrize("steps", [
    [("set", "high")], [("set", "medium")], [("set", "high"), ("set", "highest")],
    [("tf32", True)], [("tf32", True), ("tf32", False)],
])
def test_matmul_precision(steps, restore_precision):
    for m in (torch, ember):
        for kind, v in steps:
            if kind == "set":
                m.set_float32_matmul_precision(v)
            else:
                m.backends.cuda.matmul.allow_tf32 = v
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32


def test_matmul_precision_errors(restore_precision):
    for m in (torch, ember):
        with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
            m.set_float32_matmul_precision("low")
        assert m.get_float32_matmul_precision() == "highest"
        with pytest.raises(RuntimeError, match="expects a str, but got int"):
            m.set_float32_matmul_precision(3)
        with pytest.raises(RuntimeError, match="expects a bool, but got int"):
            m.backends.cuda.matmul.allow_tf32 = 1
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            m.backends.cuda.matmul.foo  # noqa: B018


def test_backend_flags_defaults():
    for name in ("allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction"):
        assert getattr(ember.backends.cuda.matmul, name) == \
            getattr(torch.backends.cuda.matmul, name)
    assert ember.backends.cudnn.allow_tf32 is torch.backends.cudnn.allow_tf32 is True
    assert isinstance(ember.backends.cuda.is_built(), bool)
