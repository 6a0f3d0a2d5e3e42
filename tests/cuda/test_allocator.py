"""The caching allocator's bookkeeping over a fake raw layer (NOTE [ Caching allocator ]), and
``memory_summary``'s layout against PyTorch's own formatter."""

from __future__ import annotations

import itertools

import pytest
import torch

from ember.cuda import _allocator, memory
from ember.cuda._allocator import CachingAllocator, OutOfMemoryError, format_size

MiB = 1 << 20


class Raw:
    """A fake device with ``capacity`` bytes."""

    def __init__(self, capacity=64 * MiB):
        self.capacity, self.used, self.mallocs, self.frees = capacity, 0, 0, 0
        self.ptrs = itertools.count(1 << 32, 1 << 28)
        self.syncs = 0

    def malloc(self, size, device):
        if self.used + size > self.capacity:
            raise _allocator.RawOOM
        self.used += size
        self.mallocs += 1
        return next(self.ptrs), size

    def free(self, handle):
        self.used -= handle
        self.frees += 1

    def info(self, device):
        return self.capacity - self.used, self.capacity

    def sync(self, device):
        self.syncs += 1


class Event:
    def __init__(self):
        self.done = False

    def query(self):
        return self.done


@pytest.fixture
def raw():
    return Raw()


@pytest.fixture
def events():
    return []


@pytest.fixture
def alloc(raw, events):
    def new_event(stream):
        events.append(Event())
        return events[-1]
    return CachingAllocator(raw.malloc, raw.free, raw.info, new_event, raw.sync)


def stat(alloc, key, device=0):
    return alloc.stats(device).snapshot()[key]


def test_sizes_round_to_512_like_pytorch(alloc):
    b = alloc.malloc(1000, 0, 0)
    assert b.nbytes == 1024 and stat(alloc, "allocated_bytes.all.current") == 1024
    assert stat(alloc, "requested_bytes.all.current") == 1000
    alloc.malloc(1, 0, 0)
    assert stat(alloc, "allocated_bytes.all.current") == 1536
    assert stat(alloc, "allocation.small_pool.current") == 2


def test_freed_blocks_are_reused(alloc, raw):
    b = alloc.malloc(4096, 0, 0)
    alloc.free(b)
    assert stat(alloc, "allocated_bytes.all.current") == 0
    assert stat(alloc, "reserved_bytes.all.current") == 4096
    c = alloc.malloc(4000, 0, 0)
    assert c is b and raw.mallocs == 1
    # a much smaller request does not take a large cached block
    alloc.free(c)
    alloc.malloc(512, 0, 0)
    assert raw.mallocs == 2


def test_large_segments_round_to_2mib(alloc, raw):
    b = alloc.malloc(3 * MiB + 1, 0, 0)
    assert b.size == 4 * MiB and b.nbytes == 3 * MiB + 512
    assert stat(alloc, "reserved_bytes.large_pool.current") == 4 * MiB
    assert stat(alloc, "allocated_bytes.large_pool.current") == 3 * MiB + 512
    alloc.free(b)
    assert alloc.malloc(4 * MiB, 0, 0) is b


def test_peaks_and_reset(alloc):
    a, b = alloc.malloc(MiB, 0, 0), alloc.malloc(MiB, 0, 0)
    alloc.free(a)
    alloc.free(b)
    s = alloc.stats(0)
    assert s.snapshot()["allocated_bytes.all.peak"] == 2 * MiB
    assert s.snapshot()["allocated_bytes.all.allocated"] == 2 * MiB
    assert s.snapshot()["allocated_bytes.all.freed"] == 2 * MiB
    s.reset_peak()
    assert s.snapshot()["allocated_bytes.all.peak"] == 0
    assert s.snapshot()["reserved_bytes.all.peak"] == 2 * MiB  # still reserved
    s.reset_accumulated()
    assert s.snapshot()["allocated_bytes.all.allocated"] == 0


def test_streams_and_devices_have_separate_caches(alloc, raw):
    b = alloc.malloc(4096, 0, 7)
    alloc.free(b)
    assert alloc.malloc(4096, 0, 0) is not b      # another stream
    assert alloc.malloc(4096, 1, 7) is not b      # another device
    assert alloc.malloc(4096, 0, 7) is b
    assert stat(alloc, "allocated_bytes.all.current", 1) == 4096


def test_record_stream_defers_reuse(alloc, events):
    b = alloc.malloc(4096, 0, 0)
    assert alloc.record_stream(b.ptr, 5, "stream5")
    alloc.free(b)
    assert len(events) == 1
    assert alloc.malloc(4096, 0, 0) is not b       # stream 5's work may still read it
    events[0].done = True
    assert alloc.malloc(4096, 0, 0) is b
    assert not alloc.record_stream(12345, 5, "s")  # not an allocator pointer


def test_empty_cache_releases_unused_segments(alloc, raw):
    a, b = alloc.malloc(MiB, 0, 0), alloc.malloc(MiB, 0, 0)
    alloc.free(a)
    alloc.empty_cache()
    assert raw.frees == 1 and raw.used == MiB
    assert stat(alloc, "reserved_bytes.all.current") == MiB
    assert stat(alloc, "num_device_free") == 1
    alloc.free(b)


def test_oom_retries_after_releasing_the_cache(alloc, raw):
    raw.capacity = 8 * MiB
    b = alloc.malloc(6 * MiB, 0, 0)
    alloc.free(b)
    c = alloc.malloc(7 * MiB + 1, 0, 0)   # does not fit beside the cached 6 MiB segment
    assert c.size == 8 * MiB and raw.frees == 1
    assert stat(alloc, "num_alloc_retries") == 1 and stat(alloc, "num_ooms") == 0


def test_oom_message(alloc, raw):
    raw.capacity = 8 * MiB
    keep = alloc.malloc(3 * MiB, 0, 0)
    with pytest.raises(OutOfMemoryError) as e:
        alloc.malloc(20 * MiB, 0, 0)
    assert isinstance(e.value, RuntimeError)
    msg = str(e.value)
    assert msg.startswith("CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total "
                          "capacity of 8.00 MiB of which 4.00 MiB is free.")
    assert "Of the allocated memory 3.00 MiB is allocated by ember, and 1.00 MiB is reserved " \
           "by ember but unallocated." in msg
    assert stat(alloc, "num_ooms") == 1
    alloc.free(keep)


def test_memory_fraction_caps_reserved(alloc, raw):
    alloc.set_fraction(0, 0.125)        # 8 MiB of 64
    assert alloc.get_fraction(0) == 0.125
    alloc.malloc(6 * MiB, 0, 0)
    with pytest.raises(OutOfMemoryError, match="memory fraction limit is 8.00 MiB"):
        alloc.malloc(4 * MiB, 0, 0)


def test_graph_private_pool(alloc, raw):
    alloc.begin_capture(0, 9, "pool")
    b = alloc.malloc(4096, 0, 9)
    alloc.end_capture(0, 9)
    alloc.free(b)
    assert alloc.malloc(4096, 0, 9) is not b    # kept for the graph's replays
    alloc.empty_cache()
    assert b.handle is not None                 # never released while the pool exists
    alloc.release_pool("pool")
    assert alloc.malloc(4096, 0, 0) is b


def test_empty_cache_is_a_no_op_during_capture(alloc, raw):
    alloc.free(alloc.malloc(4096, 0, 0))
    alloc.begin_capture(0, 9, "pool")
    alloc.empty_cache()
    assert raw.frees == 0
    alloc.end_capture(0, 9)


@pytest.mark.parametrize("n,text", [(0, "0 bytes"), (1024, "1024 bytes"), (1536, "1.50 KiB"),
                                    (20 << 20, "20.00 MiB"), (3 << 30, "3.00 GiB")])
def test_format_size(n, text):
    assert format_size(n) == text


@pytest.mark.parametrize("abbreviated", [False, True])
def test_memory_summary_layout_matches_pytorch(alloc, monkeypatch, abbreviated):
    keep = [alloc.malloc(n, 0, 0) for n in (100, 3 * MiB, 5000)]
    alloc.free(keep.pop())
    stats = alloc.stats(0).snapshot()
    ours = memory.format_summary(stats, 0, abbreviated)
    monkeypatch.setattr(torch.cuda.memory, "memory_stats", lambda device=None: stats)
    monkeypatch.setattr(torch.cuda.memory, "_get_device_index", lambda d, optional=False: 0)
    theirs = torch.cuda.memory.memory_summary(0, abbreviated)
    assert ours == theirs.replace("PyTorch CUDA memory summary, device ID 0  ",
                                  "ember CUDA memory summary, device ID 0    ")


def test_stat_keys_are_pytorch_names(alloc):
    keys = set(alloc.stats(0).snapshot())
    for k in ("allocated_bytes.all.current", "allocated_bytes.small_pool.peak",
              "reserved_bytes.large_pool.freed", "active_bytes.all.allocated",
              "requested_bytes.all.current", "segment.all.current", "allocation.all.peak",
              "num_alloc_retries", "num_ooms", "num_device_alloc", "num_device_free",
              "max_split_size", "inactive_split_bytes.all.current"):
        assert k in keys
