"""``ember.cuda``: NVIDIA GPUs through CuPy, with ``torch.cuda``'s API (devices, streams and
events, memory, random generators, CUDA graphs).

Importing it never imports CuPy: that happens on first use of a GPU (``_lazy_init``). Without
CuPy or a GPU it behaves as PyTorch's CPU build does: ``is_available()`` is False,
``device_count()`` 0, the memory counters 0, seeding a no-op, and what needs a device raises
an error that is both an ``AssertionError`` (what PyTorch's CPU build raises, "Torch not
compiled with CUDA enabled") and a ``RuntimeError`` (what a CUDA build without a GPU raises).

>>> if ember.cuda.is_available():
...     x = ember.ones(3, device="cuda")
"""

from __future__ import annotations

from .. import _device
from ..backends import cuda as _backend
from ._allocator import OutOfMemoryError

_INITIALIZED = [False]


class _NotAvailable(AssertionError, RuntimeError):
    """CUDA was asked for without CuPy or a GPU."""


def _unavailable() -> _NotAvailable:
    return _NotAvailable("ember: CUDA is not available (CuPy is not installed or no GPU is "
                         "visible); install the 'cuda' extra on a machine with an NVIDIA GPU")


def _lazy_init():
    """Load the CUDA backend (CuPy, ember's allocator) on first use; the CuPy module."""
    if not _INITIALIZED[0]:
        from ..backends import for_device
        for_device(_device.device("cuda"))
        import cupy
        _INITIALIZED[0] = True
        return cupy
    import cupy
    return cupy


def is_available() -> bool:
    """Whether a GPU can be used (CuPy is installed and sees one)."""
    return _backend.available()


def device_count() -> int:
    """The number of visible GPUs (0 without CUDA)."""
    if not is_available():
        return 0
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


def is_initialized() -> bool:
    """Whether the CUDA backend has been loaded."""
    return _INITIALIZED[0]


def init() -> None:
    """Initialise CUDA now rather than on first use."""
    if not is_available():
        raise _unavailable()
    _lazy_init()


def _index(dev, optional: bool = True) -> int:
    """PyTorch's ``_get_device_index``: the CUDA device index ``dev`` names; the current
    device for None (or -1 without CUDA)."""
    if isinstance(dev, str):
        dev = _device.device(dev)
    if isinstance(dev, _device.device):
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        dev = dev.index
    if dev is None:
        if not optional:
            raise ValueError("Expected a torch.device with a specified index or an integer, "
                             "but got:None")
        return current_device() if is_available() else -1
    if not isinstance(dev, int):
        raise ValueError(f"Expected a cuda device, but got: {dev!r}")
    return dev


def current_device() -> int:
    """The index of the current GPU."""
    if not is_available():
        raise _unavailable()
    return _lazy_init().cuda.runtime.getDevice()


def set_device(device) -> None:
    """Make ``device`` the current GPU (a negative index is a no-op, as in PyTorch)."""
    idx = _index(device)
    if idx >= 0:
        if not is_available():
            raise _unavailable()
        _lazy_init().cuda.runtime.setDevice(idx)


def _exchange(idx: int) -> int:
    if idx < 0:
        return -1
    if not is_available():
        raise _unavailable()
    runtime = _lazy_init().cuda.runtime
    prev = runtime.getDevice()
    if prev != idx:
        runtime.setDevice(idx)
    return prev


class device:
    """A context that makes ``device`` the current GPU: ``with ember.cuda.device(1): ...``."""

    def __init__(self, device):
        self.idx = _index(device)
        self.prev_idx = -1

    def __enter__(self):
        self.prev_idx = _exchange(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0:
            _lazy_init().cuda.runtime.setDevice(self.prev_idx)
        return False


class device_of(device):
    """``device`` of a tensor's GPU (a no-op for a CPU tensor)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


class _CudaDeviceProperties:
    """What ``get_device_properties`` reports."""

    __slots__ = ("name", "major", "minor", "total_memory", "multi_processor_count",
                 "L2_cache_size", "uuid")

    def __init__(self, props: dict):
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major, self.minor = props["major"], props["minor"]
        self.total_memory = props["totalGlobalMem"]
        self.multi_processor_count = props["multiProcessorCount"]
        self.L2_cache_size = props.get("l2CacheSize", 0)
        uuid = props.get("uuid", b"")
        self.uuid = uuid.hex() if isinstance(uuid, bytes) else str(uuid)

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory >> 20}MB, "
                f"multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size >> 20}MB)")


def get_device_properties(device=None) -> _CudaDeviceProperties:
    """Name, capability, memory and multiprocessor count of a GPU."""
    if not is_available():
        raise _unavailable()
    cupy = _lazy_init()
    idx = _index(device)
    if not 0 <= idx < device_count():
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(cupy.cuda.runtime.getDeviceProperties(idx))


def get_device_name(device=None) -> str:
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple[int, int]:
    p = get_device_properties(device)
    return p.major, p.minor


def synchronize(device=None) -> None:
    """Wait for all work queued on a GPU (every stream) to finish."""
    if not is_available():
        raise _unavailable()
    cupy = _lazy_init()
    with cupy.cuda.Device(_index(device)):
        cupy.cuda.runtime.deviceSynchronize()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: CuPy has no bfloat16 dtype, so ember keeps no bfloat16 tensors on CUDA (see
    docs/cuda.md); autocast on CUDA uses float16."""
    return False


def is_tf32_supported() -> bool:
    """Whether the GPU has TF32 tensor cores (compute capability 8.0 or later)."""
    return is_available() and get_device_capability()[0] >= 8


def get_arch_list() -> list[str]:
    """The architectures kernels are built for: CuPy compiles for the present GPU at run
    time, so this is that GPU's ``sm_XY`` (empty without CUDA)."""
    if not is_available():
        return []
    major, minor = get_device_capability()
    return [f"sm_{major}{minor}"]


from . import amp, graphs, memory, random, streams  # noqa: E402 - use the functions above
from .graphs import (  # noqa: E402
    CUDAGraph,
    graph,
    graph_pool_handle,
    is_current_stream_capturing,
    make_graphed_callables,
)
from .memory import (  # noqa: E402
    caching_allocator_alloc,
    caching_allocator_delete,
    empty_cache,
    get_per_process_memory_fraction,
    max_memory_allocated,
    max_memory_cached,
    max_memory_reserved,
    mem_get_info,
    memory_allocated,
    memory_cached,
    memory_reserved,
    memory_stats,
    memory_stats_as_nested_dict,
    memory_summary,
    reset_accumulated_memory_stats,
    reset_max_memory_allocated,
    reset_max_memory_cached,
    reset_peak_memory_stats,
    set_per_process_memory_fraction,
)
from .random import (  # noqa: E402
    default_generators,
    get_rng_state,
    get_rng_state_all,
    initial_seed,
    manual_seed,
    manual_seed_all,
    seed,
    seed_all,
    set_rng_state,
    set_rng_state_all,
)
from .streams import (  # noqa: E402
    Event,
    ExternalStream,
    Stream,
    StreamContext,
    current_stream,
    default_stream,
    set_stream,
    stream,
)

__all__ = [
    "CUDAGraph", "Event", "ExternalStream", "OutOfMemoryError", "Stream", "StreamContext",
    "amp", "caching_allocator_alloc", "caching_allocator_delete", "current_device",
    "current_stream", "default_generators", "default_stream", "device", "device_count",
    "device_of", "empty_cache", "get_arch_list", "get_device_capability", "get_device_name",
    "get_device_properties", "get_per_process_memory_fraction", "get_rng_state",
    "get_rng_state_all", "graph", "graph_pool_handle", "graphs", "init", "initial_seed",
    "is_available", "is_bf16_supported", "is_current_stream_capturing", "is_initialized",
    "is_tf32_supported", "make_graphed_callables", "manual_seed", "manual_seed_all",
    "max_memory_allocated", "max_memory_cached", "max_memory_reserved", "mem_get_info",
    "memory", "memory_allocated", "memory_cached", "memory_reserved", "memory_stats",
    "memory_stats_as_nested_dict", "memory_summary", "random", "reset_accumulated_memory_stats",
    "reset_max_memory_allocated", "reset_max_memory_cached", "reset_peak_memory_stats", "seed",
    "seed_all", "set_device", "set_per_process_memory_fraction", "set_rng_state",
    "set_rng_state_all", "set_stream", "stream", "streams", "synchronize",
]
