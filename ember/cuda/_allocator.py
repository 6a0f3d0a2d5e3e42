"""ember's CUDA caching allocator: the bookkeeping, independent of CuPy.

# NOTE [ Caching allocator ]
Device memory comes from ``cudaMalloc`` once and is then reused, as PyTorch's caching
allocator does: a freed block goes back to a free list keyed by (device, stream) and serves
a later request of that stream of about its size, so a training step after the first makes
no driver calls. The allocator is installed with ``cupy.cuda.set_allocator``: CuPy hands it
every device allocation (arrays, cuBLAS workspaces, CUB temporaries) and receives a pointer
whose owner returns the block here when the last array using it dies.

- Sizes are rounded up to 512 bytes (PyTorch's granularity), so ``memory_allocated`` counts
  what PyTorch counts for the same tensors. Blocks are never split: requests up to 1 MiB
  (the small pool) get a segment of their rounded size, larger ones a segment rounded up to
  2 MiB, and a cached block serves a request when it is at most twice (small) or 2 MiB +
  1/8 (large) the rounded size. ``memory_reserved`` is the sum of segments.
- A block freed after ``Tensor.record_stream(s)`` is reused only when an event recorded on
  each such stream at free time has completed (PyTorch's rule).
- Out of memory: the cache of that device is released (after a device synchronize) and the
  request retried once; then ``OutOfMemoryError`` says what was requested, allocated,
  reserved and free, in PyTorch's words.
- During CUDA graph capture, allocations on the capturing stream come from the graph's
  private pool and are never released to the driver while the pool exists (``cudaFree`` is
  illegal during capture; a replay rewrites those addresses).

The raw layer (``raw_malloc``, ``raw_free``, ``mem_info``, ``new_event``) is passed in, so
the bookkeeping is tested on CPU with a fake one (tests/cuda/test_allocator.py).
"""

from __future__ import annotations

import bisect
import threading

SMALL = 1 << 20          # requests up to 1 MiB are the small pool
ROUND = 512
ROUND_LARGE = 2 << 20

_STATS = ("allocated_bytes", "reserved_bytes", "active_bytes", "requested_bytes",
          "inactive_split_bytes", "allocation", "segment", "active", "inactive_split")
_POOLS = ("all", "small_pool", "large_pool")


class OutOfMemoryError(RuntimeError):
    """Device memory is exhausted (``torch.OutOfMemoryError``)."""


class RawOOM(Exception):
    """Raised by ``raw_malloc`` when the driver has no memory for a segment."""


def format_size(n: int) -> str:
    """PyTorch's size format in its OOM message ('20.00 MiB')."""
    if n <= 1024:
        return f"{n} bytes"
    for unit, k in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)):
        if n < k << 10 or unit == "GiB":
            return f"{n / k:.2f} {unit}"
    raise AssertionError  # unreachable


def round_size(n: int) -> int:
    return max(ROUND, (n + ROUND - 1) // ROUND * ROUND)


class Block:
    __slots__ = ("ptr", "size", "device", "key", "handle", "nbytes", "requested", "streams")

    def __init__(self, ptr, size, device, key, handle):
        self.ptr, self.size, self.device, self.key, self.handle = ptr, size, device, key, handle
        self.nbytes = self.requested = 0
        self.streams = None   # {key: stream} other than the allocating one (record_stream)


class DeviceStats:
    """PyTorch's per-device counters: each stat has current/peak/allocated/freed per pool."""

    def __init__(self):
        self.stats = {f"{s}.{p}.{k}": 0 for s in _STATS for p in _POOLS
                      for k in ("current", "peak", "allocated", "freed")}
        # no block is ever "oversize" (PyTorch's: larger than max_split_size, unlimited by
        # default); the counters are there for memory_summary
        self.stats.update({f"oversize_{s}.{k}": 0 for s in ("allocations", "segments")
                           for k in ("current", "peak", "allocated", "freed")})
        self.counters = {"num_alloc_retries": 0, "num_ooms": 0, "num_device_alloc": 0,
                         "num_device_free": 0, "num_sync_all_streams": 0}

    def add(self, stat: str, small: bool, n: int) -> None:
        s = self.stats
        for pool in ("all", "small_pool" if small else "large_pool"):
            k = f"{stat}.{pool}."
            cur = s[k + "current"] = s[k + "current"] + n
            if n > 0:
                s[k + "allocated"] += n
                if cur > s[k + "peak"]:
                    s[k + "peak"] = cur
            else:
                s[k + "freed"] -= n

    def reset_peak(self) -> None:
        for k in self.stats:
            if k.endswith(".peak"):
                self.stats[k] = self.stats[k[:-4] + "current"]

    def reset_accumulated(self) -> None:
        for k in self.stats:
            if k.endswith((".allocated", ".freed")):
                self.stats[k] = 0
        for k in self.counters:
            self.counters[k] = 0

    def snapshot(self) -> dict:
        out = dict(self.counters)
        out.update(self.stats)
        out["max_split_size"] = -1
        return dict(sorted(out.items()))


class CachingAllocator:
    """Per-device caches of device memory over a raw layer (see NOTE [ Caching allocator ])."""

    def __init__(self, raw_malloc, raw_free, mem_info, new_event, synchronize):
        # raw_malloc(size, device) -> (ptr, handle), raising RawOOM; raw_free(handle);
        # mem_info(device) -> (free, total); new_event(stream) -> an event recorded on
        # ``stream`` with .query(); synchronize(device)
        self._raw_malloc, self._raw_free = raw_malloc, raw_free
        self._mem_info, self._new_event, self._sync = mem_info, new_event, synchronize
        self._lock = threading.RLock()
        self._free: dict = {}        # key -> sorted list of (size, id, block)
        self._pending: list = []     # (block, [events]) freed but still used by other streams
        self._active: dict = {}      # ptr -> block
        self._segments: dict = {}    # device -> {ptr: block} of every segment
        self._stats: dict = {}
        self._capture: dict = {}     # (device, stream) -> private pool id while capturing
        self._fraction: dict = {}    # device -> memory fraction limit

    # -- stats ----------------------------------------------------------------------------------

    def stats(self, device: int) -> DeviceStats:
        s = self._stats.get(device)
        if s is None:
            s = self._stats[device] = DeviceStats()
        return s

    def has_stats(self, device: int) -> bool:
        return device in self._stats

    # -- allocation -----------------------------------------------------------------------------

    def malloc(self, nbytes: int, device: int, stream) -> Block:
        """A block of at least ``nbytes`` on ``device`` for use on ``stream``."""
        size = round_size(nbytes)
        small = size <= SMALL
        with self._lock:
            key = self._pool_key(device, stream)
            self._process_pending()
            block = self._take(key, size, small)
            st = self.stats(device)
            if block is None:
                block = self._new_segment(key, size, small, device, nbytes, st)
            block.nbytes, block.requested = size, nbytes
            self._active[block.ptr] = block
            st.add("allocated_bytes", small, size)
            st.add("active_bytes", small, size)
            st.add("requested_bytes", small, nbytes)
            st.add("allocation", small, 1)
            st.add("active", small, 1)
            return block

    def _pool_key(self, device, stream):
        pool = self._capture.get((device, stream))
        return ("graph", pool) if pool is not None else (device, stream)

    def _take(self, key, size, small):
        lst = self._free.get(key)
        if not lst:
            return None
        i = bisect.bisect_left(lst, (size, -1))
        if i == len(lst):
            return None
        limit = 2 * size if small else size + ROUND_LARGE + size // 8
        if lst[i][0] > limit:
            return None
        return lst.pop(i)[2]

    def _new_segment(self, key, size, small, device, nbytes, st):
        seg = size if small else (size + ROUND_LARGE - 1) // ROUND_LARGE * ROUND_LARGE
        limit = self._fraction.get(device)
        try:
            if limit is not None and st.stats["reserved_bytes.all.current"] + seg > limit:
                raise RawOOM
            ptr, handle = self._raw_malloc(seg, device)
        except RawOOM:
            if key[0] == "graph":
                raise self._oom(device, nbytes, st) from None
            st.counters["num_alloc_retries"] += 1
            self._release(device)
            try:
                if limit is not None and st.stats["reserved_bytes.all.current"] + seg > limit:
                    raise RawOOM from None
                ptr, handle = self._raw_malloc(seg, device)
            except RawOOM:
                st.counters["num_ooms"] += 1
                raise self._oom(device, nbytes, st) from None
        st.counters["num_device_alloc"] += 1
        block = Block(ptr, seg, device, key, handle)
        self._segments.setdefault(device, {})[ptr] = block
        st.add("reserved_bytes", seg <= SMALL, seg)
        st.add("segment", seg <= SMALL, 1)
        return block

    def _oom(self, device, nbytes, st) -> OutOfMemoryError:
        free, total = self._mem_info(device)
        allocated = st.stats["allocated_bytes.all.current"]
        reserved = st.stats["reserved_bytes.all.current"]
        limit = self._fraction.get(device)
        cap = "" if limit is None else (
            f" Including non-PyTorch memory, this process has {format_size(reserved)} memory "
            f"in use. The memory fraction limit is {format_size(limit)}.")
        return OutOfMemoryError(
            f"CUDA out of memory. Tried to allocate {format_size(round_size(nbytes))}. GPU "
            f"{device} has a total capacity of {format_size(total)} of which "
            f"{format_size(free)} is free.{cap} Of the allocated memory "
            f"{format_size(allocated)} is allocated by ember, and "
            f"{format_size(reserved - allocated)} is reserved by ember but unallocated. If "
            "reserved but unallocated memory is large, call ember.cuda.empty_cache() or "
            "reduce the batch size.")

    # -- freeing --------------------------------------------------------------------------------

    def free(self, block: Block) -> None:
        """The last user of ``block`` is gone: cache it (after its other streams are done)."""
        with self._lock:
            del self._active[block.ptr]
            small = block.nbytes <= SMALL
            st = self.stats(block.device)
            st.add("allocated_bytes", small, -block.nbytes)
            st.add("active_bytes", small, -block.nbytes)
            st.add("requested_bytes", small, -block.requested)
            st.add("allocation", small, -1)
            st.add("active", small, -1)
            if block.streams:
                events = [self._new_event(s) for s in block.streams.values()]
                block.streams = None
                self._pending.append((block, events))
            else:
                self._cache(block)

    def _cache(self, block: Block) -> None:
        bisect.insort(self._free.setdefault(block.key, []), (block.size, id(block), block))

    def _process_pending(self) -> None:
        if not self._pending:
            return
        # swapped out first: a block freed meanwhile (a finaliser run by the GC) is kept
        pending, self._pending = self._pending, []
        for block, events in pending:
            if all(e.query() for e in events):
                self._cache(block)
            else:
                self._pending.append((block, events))

    def record_stream(self, ptr: int, key, stream) -> bool:
        """Mark the block at ``ptr`` as used on ``stream`` (whose pool key is ``key``) too;
        False if no block is there."""
        with self._lock:
            block = self._active.get(ptr)
            if block is None:
                return False
            if key != block.key[1]:
                if block.streams is None:
                    block.streams = {}
                block.streams[key] = stream
            return True

    def _release(self, device, keys=None) -> None:
        """Give the cached blocks of ``device`` (of ``keys`` when given) back to the driver."""
        self._sync(device)
        for block, _ in self._pending:
            if block.device == device:
                self._cache(block)
        self._pending = [(b, e) for b, e in self._pending if b.device != device]
        st = self.stats(device)
        for key in list(self._free):
            if key[0] == "graph" or (keys is not None and key not in keys):
                continue
            lst = self._free[key]
            keep = []
            for entry in lst:
                block = entry[2]
                if block.device != device:
                    keep.append(entry)
                    continue
                self._raw_free(block.handle)
                block.handle = None
                del self._segments[device][block.ptr]
                st.add("reserved_bytes", block.size <= SMALL, -block.size)
                st.add("segment", block.size <= SMALL, -1)
                st.counters["num_device_free"] += 1
            self._free[key] = keep

    def empty_cache(self) -> None:
        """Release every cached block of every device (PyTorch's ``empty_cache``)."""
        with self._lock:
            if self._capture:
                return  # cudaFree is illegal while a graph is being captured
            for device in list(self._segments):
                self._release(device)

    # -- graphs and limits ----------------------------------------------------------------------

    def begin_capture(self, device, stream, pool) -> None:
        with self._lock:
            self._capture[(device, stream)] = pool

    def end_capture(self, device, stream) -> None:
        with self._lock:
            self._capture.pop((device, stream), None)

    def release_pool(self, pool) -> None:
        """A graph's private pool is no longer used: its cached blocks join the device's
        default-stream cache."""
        with self._lock:
            lst = self._free.pop(("graph", pool), [])
            for _, _, block in lst:
                block.key = (block.device, 0)
                self._cache(block)

    def set_fraction(self, device, fraction: float) -> None:
        _, total = self._mem_info(device)
        self._fraction[device] = int(fraction * total)

    def get_fraction(self, device) -> float:
        limit = self._fraction.get(device)
        return 1.0 if limit is None else limit / self._mem_info(device)[1]

    def segments(self, device) -> list:
        """(ptr, size, allocated) of each segment of ``device``."""
        with self._lock:
            return [(b.ptr, b.size, b.ptr in self._active)
                    for b in self._segments.get(device, {}).values()]
