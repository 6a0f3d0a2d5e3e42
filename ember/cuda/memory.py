"""``ember.cuda.memory``: the caching allocator's counters, as ``torch.cuda.memory`` reports
them (NOTE [ Caching allocator ]). Before CUDA is initialised (and without CUDA) every
counter reads 0 and ``memory_stats()`` is empty, as in PyTorch."""

from __future__ import annotations

import collections
import warnings

from . import _allocator

ALLOCATOR: _allocator.CachingAllocator | None = None  # set when the CUDA backend loads

__all__ = [
    "caching_allocator_alloc", "caching_allocator_delete", "empty_cache",
    "get_per_process_memory_fraction", "max_memory_allocated", "max_memory_cached",
    "max_memory_reserved", "mem_get_info", "memory_allocated", "memory_cached",
    "memory_reserved", "memory_stats", "memory_stats_as_nested_dict", "memory_summary",
    "reset_accumulated_memory_stats", "reset_max_memory_allocated", "reset_max_memory_cached",
    "reset_peak_memory_stats", "set_per_process_memory_fraction",
]


# -- CuPy glue -------------------------------------------------------------------------------------

class _Lease:
    """Owner of a block handed to CuPy: when the last array using it dies, so does the lease,
    and the block returns to the cache."""

    __slots__ = ("block", "__weakref__")

    def __init__(self, block):
        self.block = block

    def __del__(self):
        if ALLOCATOR is not None:
            ALLOCATOR.free(self.block)


def _install() -> None:
    """Make ember's caching allocator CuPy's device allocator."""
    global ALLOCATOR
    import cupy

    cuda = cupy.cuda
    runtime = cuda.runtime

    def raw_malloc(size, device):
        try:
            with cuda.Device(device):
                mem = cuda.Memory(size)
        except cuda.memory.OutOfMemoryError:
            raise _allocator.RawOOM from None
        except runtime.CUDARuntimeError as e:
            # cudaErrorMemoryAllocation (2)
            if getattr(e, "status", None) != 2 and "cudaErrorMemoryAllocation" not in str(e):
                raise
            raise _allocator.RawOOM from None
        return mem.ptr, mem

    def mem_info(device):
        with cuda.Device(device):
            return runtime.memGetInfo()

    def new_event(stream):
        event = cuda.Event(disable_timing=True)
        event.record(stream)
        return event

    def synchronize(device):
        with cuda.Device(device):
            runtime.deviceSynchronize()

    ALLOCATOR = _allocator.CachingAllocator(raw_malloc, lambda handle: None, mem_info,
                                            new_event, synchronize)
    empty = cuda.Memory(0)

    def allocate(size):
        device = runtime.getDevice()
        if size == 0:
            return cuda.MemoryPointer(empty, 0)
        block = ALLOCATOR.malloc(size, device, cuda.get_current_stream().ptr)
        mem = cuda.UnownedMemory(block.ptr, block.size, _Lease(block), device)
        return cuda.MemoryPointer(mem, 0)

    cuda.set_allocator(allocate)


def _record_stream(tensor, stream) -> None:
    if tensor.device.type != "cuda":
        raise RuntimeError("record_stream: expected a CUDA tensor, got one on "
                           f"{tensor.device}")
    arr = tensor._data
    ALLOCATOR.record_stream(arr.data.mem.ptr, stream.cuda_stream, stream._cp)


# -- counters --------------------------------------------------------------------------------------

def _device_index(device) -> int:
    from . import _index
    return _index(device)


def memory_stats(device=None) -> dict:
    """The allocator's counters for a device, under PyTorch's key names
    (``'allocated_bytes.all.current'``, ...); empty before CUDA is initialised."""
    if ALLOCATOR is None:
        return collections.OrderedDict()
    return collections.OrderedDict(ALLOCATOR.stats(_device_index(device)).snapshot())


def memory_stats_as_nested_dict(device=None) -> dict:
    """``memory_stats`` nested at its dots (``stats['allocated_bytes']['all']['current']``)."""
    out: dict = {}
    for key, value in memory_stats(device).items():
        d = out
        *path, last = key.split(".")
        for p in path:
            d = d.setdefault(p, {})
        d[last] = value
    return out


def _stat(device, key: str) -> int:
    return memory_stats(device).get(key, 0)


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on a device (rounded up to 512 each, as PyTorch counts)."""
    return _stat(device, "allocated_bytes.all.current")


def max_memory_allocated(device=None) -> int:
    """The peak of ``memory_allocated`` since start or ``reset_peak_memory_stats``."""
    return _stat(device, "allocated_bytes.all.peak")


def memory_reserved(device=None) -> int:
    """Bytes the allocator holds from the driver (in use or cached)."""
    return _stat(device, "reserved_bytes.all.current")


def max_memory_reserved(device=None) -> int:
    return _stat(device, "reserved_bytes.all.peak")


def memory_cached(device=None) -> int:
    warnings.warn("`ember.cuda.memory_cached` has been renamed to `ember.cuda.memory_reserved`",
                  FutureWarning, stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    warnings.warn("`ember.cuda.max_memory_cached` has been renamed to "
                  "`ember.cuda.max_memory_reserved`", FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def _initialized_allocator():
    if ALLOCATOR is None:
        from . import _lazy_init, _unavailable, is_available
        if not is_available():
            raise _unavailable()
        _lazy_init()
    return ALLOCATOR


def reset_peak_memory_stats(device=None) -> None:
    """Peaks restart from the current values."""
    _initialized_allocator().stats(_device_index(device)).reset_peak()


def reset_accumulated_memory_stats(device=None) -> None:
    """The allocated/freed totals and the event counters restart from 0."""
    _initialized_allocator().stats(_device_index(device)).reset_accumulated()


def reset_max_memory_allocated(device=None) -> None:
    warnings.warn("ember.cuda.reset_max_memory_allocated now calls "
                  "ember.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None) -> None:
    warnings.warn("ember.cuda.reset_max_memory_cached now calls "
                  "ember.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def empty_cache() -> None:
    """Give cached, unused device memory back to the driver (a no-op before CUDA is used)."""
    if ALLOCATOR is not None:
        ALLOCATOR.empty_cache()


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    """Cap what the allocator may reserve on a device at ``fraction`` of its memory."""
    alloc = _initialized_allocator()
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    alloc.set_fraction(_device_index(device), fraction)


def get_per_process_memory_fraction(device=None) -> float:
    return _initialized_allocator().get_fraction(_device_index(device))


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of a device, as the driver reports them."""
    from . import _lazy_init, _unavailable, is_available
    if not is_available():
        raise _unavailable()
    cupy = _lazy_init()
    with cupy.cuda.Device(_device_index(device)):
        return cupy.cuda.runtime.memGetInfo()


_RAW: dict = {}


def caching_allocator_alloc(size: int, device=None, stream=None) -> int:
    """A device pointer of ``size`` bytes from the caching allocator."""
    alloc = _initialized_allocator()
    from .streams import current_stream
    idx = _device_index(device)
    s = stream if stream is not None else current_stream(idx)
    block = alloc.malloc(size, idx, s.cuda_stream)
    _RAW[block.ptr] = block
    return block.ptr


def caching_allocator_delete(mem_ptr: int) -> None:
    """Return a pointer from ``caching_allocator_alloc``."""
    _initialized_allocator().free(_RAW.pop(mem_ptr))


# -- the summary -----------------------------------------------------------------------------------

def memory_summary(device=None, abbreviated: bool = False) -> str:
    """A table of the allocator's counters for a device, in PyTorch's layout."""
    _initialized_allocator()
    idx = _device_index(device)
    return format_summary(memory_stats(idx), idx, abbreviated)


def _format_size(sz: int, pref: float) -> str:
    prefix = "B  "
    for p in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if pref < 768 * 1024:
            break
        prefix, sz, pref = p, sz // 1024, pref / 1024
    return f"{sz:6d} {prefix}"


def _format_count(cnt: int, pref: float) -> str:
    prefix = " "
    for p in ("K", "M"):
        if pref < 750 * 1000:
            break
        prefix, cnt, pref = p, cnt // 1000, pref / 1000
    return f"{cnt:7d} {prefix} "


_METRICS = [("allocated_bytes", "Allocated memory", _format_size),
            ("active_bytes", "Active memory", _format_size),
            ("requested_bytes", "Requested memory", _format_size),
            ("reserved_bytes", "GPU reserved memory", _format_size),
            ("inactive_split_bytes", "Non-releasable memory", _format_size),
            ("allocation", "Allocations", _format_count),
            ("active", "Active allocs", _format_count),
            ("segment", "GPU reserved segments", _format_count),
            ("inactive_split", "Non-releasable allocs", _format_count)]


def format_summary(stats: dict, device: int, abbreviated: bool = False) -> str:
    """``memory_summary``'s table of ``stats`` (a ``memory_stats`` dict)."""
    rule = "-" * 75
    lines = ["=" * 75, f" {'':16} ember CUDA memory summary, device ID {device:<19d} ", rule,
             f"  {'':9} CUDA OOMs: {stats['num_ooms']:<12d} | {'':6} cudaMalloc retries: "
             f"{stats['num_alloc_retries']:<8d}  ", "=" * 75,
             "        Metric         | Cur Usage  | Peak Usage | Tot Alloc  | Tot Freed  "]

    def row(name, fmt, prefix, pref):
        vals = [stats[prefix + k] for k in ("current", "peak", "allocated", "freed")]
        pref = pref or vals
        return (f" {name:<21} | " + " | ".join(fmt(v, p) for v, p in zip(vals, pref)) + " ",
                pref)

    for key, name, fmt in _METRICS:
        lines.append(rule)
        pools = [("all", name)] if abbreviated else [
            ("all", name), ("large_pool", "      from large pool"),
            ("small_pool", "      from small pool")]
        pref = None
        for pool, label in pools:
            line, pref = row(label, fmt, f"{key}.{pool}.", pref)
            lines.append(line)
    for key, name in (("oversize_allocations", "Oversize allocations"),
                      ("oversize_segments", "Oversize GPU segments")):
        lines.append(rule)
        vals = [stats[f"{key}.{k}"] for k in ("current", "peak", "allocated", "freed")]
        lines.append(f" {name:<21} | " + " | ".join(_format_count(v, v) for v in vals) + " ")
    lines.append("=" * 75)
    return "|" + "|\n|".join(lines) + "|\n"
