"""CUDA streams and events (``torch.cuda.Stream``, ``Event``), over CuPy's.

Work is queued on the current stream of the current device, asynchronously; ``stream(s)``
makes ``s`` current (and its device), ``wait_stream``/``wait_event`` order streams, and events
time them. A tensor used on a stream other than the one it was made on should be passed to
``Tensor.record_stream`` so the allocator does not reuse its memory too early.
"""

from __future__ import annotations

__all__ = ["Event", "ExternalStream", "Stream", "StreamContext", "current_stream",
           "default_stream", "set_stream", "stream"]


def _cupy():
    from . import _lazy_init, _unavailable, is_available
    if not is_available():
        raise _unavailable()
    return _lazy_init()


class Stream:
    """A CUDA stream on ``device`` (the current one by default); lower ``priority`` numbers
    run first.

    >>> s = ember.cuda.Stream()
    >>> with ember.cuda.stream(s):
    ...     y = x * 2
    >>> ember.cuda.current_stream().wait_stream(s)
    """

    def __init__(self, device=None, priority: int = 0, **kwargs):
        cupy = _cupy()
        from . import _index
        idx = _index(device)
        with cupy.cuda.Device(idx):
            self._cp = kwargs.get("_cp") or cupy.cuda.Stream(non_blocking=True,
                                                             priority=priority or None)
        self.device_index = idx

    @classmethod
    def _wrap(cls, cp, idx: int) -> Stream:
        s = cls.__new__(cls)
        s._cp, s.device_index = cp, idx
        return s

    @property
    def device(self):
        from .._device import device
        return device("cuda", self.device_index)

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t``."""
        return self._cp.ptr

    @property
    def priority(self) -> int:
        return self._cp.priority

    def wait_event(self, event: Event) -> None:
        """Work queued on this stream from now on waits for ``event``."""
        if event._cp is not None:
            self._cp.wait_event(event._cp)

    def wait_stream(self, stream: Stream) -> None:
        """Work queued on this stream from now on waits for what ``stream`` has queued."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Record ``event`` (a new one by default) on this stream."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def query(self) -> bool:
        """Whether all work queued on this stream is done."""
        return self._cp.done

    def synchronize(self) -> None:
        """Wait for all work queued on this stream."""
        self._cp.synchronize()

    def __cuda_stream__(self):
        return (0, self._cp.ptr)

    def __eq__(self, other) -> bool:
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and \
            self.device_index == other.device_index

    def __hash__(self) -> int:
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self) -> str:
        return (f"<ember.cuda.Stream device=cuda:{self.device_index} "
                f"cuda_stream={hex(self.cuda_stream)}>")


class _External:
    """A raw stream pointer in the CUDA stream protocol (what CuPy's ``from_external`` reads)."""

    def __init__(self, ptr: int):
        self.ptr = ptr

    def __cuda_stream__(self):
        return (0, self.ptr)


class ExternalStream(Stream):
    """A stream made elsewhere (``stream_ptr``, a ``cudaStream_t``); ember never destroys it."""

    def __init__(self, stream_ptr: int, device=None, **kwargs):
        cupy = _cupy()
        from . import _index
        idx = _index(device)
        with cupy.cuda.Device(idx):
            super().__init__(idx, _cp=cupy.cuda.Stream.from_external(_External(stream_ptr)))


class Event:
    """A CUDA event: a marker in a stream to wait on, query, or time (``enable_timing``).

    >>> start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    >>> start.record(); y = x @ x; end.record(); end.synchronize()
    >>> ms = start.elapsed_time(end)
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False, external: bool = False):
        _cupy()
        self.enable_timing, self.blocking, self.interprocess = enable_timing, blocking, \
            interprocess
        self._cp = None  # made on first record, on the stream's device (as PyTorch)

    def record(self, stream: Stream | None = None) -> None:
        """Record on ``stream`` (the current stream by default)."""
        cupy = _cupy()
        stream = current_stream() if stream is None else stream
        if self._cp is None:
            with cupy.cuda.Device(stream.device_index):
                self._cp = cupy.cuda.Event(block=self.blocking,
                                           disable_timing=not self.enable_timing,
                                           interprocess=self.interprocess)
        self._cp.record(stream._cp)

    def wait(self, stream: Stream | None = None) -> None:
        """Make ``stream`` (the current stream by default) wait for this event."""
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        """Whether the work before the recorded point is done (True if never recorded)."""
        return True if self._cp is None else self._cp.done

    def synchronize(self) -> None:
        """Wait until the work before the recorded point is done."""
        if self._cp is not None:
            self._cp.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event to ``end_event`` (both recorded, with timing)."""
        if self._cp is None or end_event._cp is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        import cupy
        return cupy.cuda.get_elapsed_time(self._cp, end_event._cp)

    @property
    def cuda_event(self) -> int:
        return 0 if self._cp is None else self._cp.ptr

    def __repr__(self) -> str:
        state = hex(self.cuda_event) if self._cp is not None else "uninitialized"
        return f"<ember.cuda.Event {state}>"


def current_stream(device=None) -> Stream:
    """The stream work is queued on for ``device`` (the current device by default)."""
    cupy = _cupy()
    from . import _index
    idx = _index(device)
    return Stream._wrap(cupy.cuda.get_current_stream(idx), idx)


def default_stream(device=None) -> Stream:
    """The legacy default (null) stream of ``device``."""
    cupy = _cupy()
    from . import _index
    return Stream._wrap(cupy.cuda.Stream.null, _index(device))


def set_stream(stream: Stream | None) -> None:
    """Make ``stream`` current (on its device); None is a no-op."""
    if stream is None:
        return
    cupy = _cupy()
    with cupy.cuda.Device(stream.device_index):
        stream._cp.use()


class StreamContext:
    """Make ``stream`` (and its device) current for a block; None leaves things as they are."""

    def __init__(self, stream: Stream | None):
        self.stream = stream
        self._prev = None

    def __enter__(self):
        if self.stream is None:
            return self.stream
        from . import _exchange
        prev_dev = _exchange(self.stream.device_index)
        self._prev = (prev_dev, current_stream(self.stream.device_index))
        set_stream(self.stream)
        return self.stream

    def __exit__(self, *exc):
        if self.stream is None:
            return False
        prev_dev, prev_stream = self._prev
        set_stream(prev_stream)
        import cupy
        cupy.cuda.runtime.setDevice(prev_dev)
        return False


def stream(stream: Stream | None) -> StreamContext:
    """``with ember.cuda.stream(s):`` queues the block's work on ``s``."""
    return StreamContext(stream)
