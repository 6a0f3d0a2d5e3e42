"""The CuPy names ember's CUDA code calls exist in the installed CuPy (checked wherever CuPy
imports, with or without a GPU: a renamed API fails here rather than on the device)."""

from __future__ import annotations

import inspect

import pytest

cupy = pytest.importorskip("cupy")


@pytest.mark.parametrize("path", [
    "cuda.Device", "cuda.Memory", "cuda.MemoryPointer", "cuda.UnownedMemory", "cuda.Event",
    "cuda.Stream", "cuda.Stream.null", "cuda.Stream.from_external", "cuda.Stream.begin_capture",
    "cuda.Stream.end_capture", "cuda.Stream.is_capturing", "cuda.Stream.wait_event",
    "cuda.Stream.synchronize", "cuda.Stream.use", "cuda.Stream.done",
    "cuda.Event.record", "cuda.Event.synchronize", "cuda.Event.done", "cuda.PinnedMemoryPointer",
    "cuda.get_current_stream", "cuda.get_elapsed_time", "cuda.set_allocator",
    "cuda.memory.OutOfMemoryError", "cuda.graph.Graph.launch", "cuda.graph.Graph.upload",
    "cuda.graph.Graph.debug_dot_str", "cuda.runtime.CUDARuntimeError",
    "cuda.runtime.getDevice", "cuda.runtime.setDevice", "cuda.runtime.getDeviceCount",
    "cuda.runtime.getDeviceProperties", "cuda.runtime.deviceSynchronize",
    "cuda.runtime.memGetInfo", "cuda.runtime.runtimeGetVersion",
    "cuda.runtime.streamCaptureModeGlobal", "cuda.runtime.streamCaptureModeThreadLocal",
    "cuda.runtime.streamCaptureModeRelaxed", "asnumpy", "asarray", "ascontiguousarray",
    "ndarray.get", "ndarray.set", "ndarray.copy", "lib.stride_tricks.as_strided",
    "_core._routines_linalg.set_compute_type", "_core._routines_linalg.COMPUTE_TYPE_TF32",
    "_core._routines_linalg.COMPUTE_TYPE_FP32",
])
def test_cupy_has(path):
    obj = cupy
    for part in path.split("."):
        obj = getattr(obj, part)


def test_cupyx_pinned():
    import cupyx
    assert callable(cupyx.empty_pinned)


def test_signatures():
    assert "blocking" in (cupy.ndarray.get.__doc__ or "")
    assert "disable_timing" in (cupy.cuda.Event.__init__.__doc__ or inspect.signature(
        cupy.cuda.Event).parameters)
    assert "non_blocking" in (cupy.cuda.Stream.__init__.__doc__ or "")
    assert "device_id" in (cupy.cuda.UnownedMemory.__doc__ or "")
