"""CUDA graphs (``torch.cuda.CUDAGraph``, ``graph``, ``make_graphed_callables``) on CuPy's
stream capture.

# NOTE [ CUDA graphs ]
Capturing records the kernels an ember program queues on the capturing stream; a replay
relaunches them on the same memory, so inputs are copied into the captured (static) input
tensors and results read from the captured outputs. Memory allocated during capture comes
from the graph's private pool of the caching allocator (NOTE [ Caching allocator ]) and stays
reserved until the graph is reset, so a replay never writes into memory the program has since
reused. What cannot be captured: host-device copies from pageable memory and anything that
reads a device value on the host (``.item()``, ``bool(t)``, data-dependent shapes such as
``nonzero``), and ember's CUDA random generators, which draw on the host (docs/cuda.md).
"""

from __future__ import annotations

import gc
import itertools

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing",
           "make_graphed_callables"]

_POOL_IDS = itertools.count(1)
_MODES = ("global", "thread_local", "relaxed")


def _cupy():
    from .streams import _cupy
    return _cupy()


def graph_pool_handle():
    """A new private memory pool id, to share one pool between several captures."""
    _cupy()
    return (0, next(_POOL_IDS))


def is_current_stream_capturing() -> bool:
    """Whether the current stream is being captured into a graph."""
    from . import is_available, is_initialized
    if not (is_available() and is_initialized()):
        return False
    return _cupy().cuda.get_current_stream().is_capturing()


class CUDAGraph:
    """A captured sequence of kernels, replayed with ``replay()``.

    >>> g = ember.cuda.CUDAGraph()
    >>> with ember.cuda.graph(g):
    ...     static_out = model(static_in)
    >>> static_in.copy_(batch); g.replay()   # static_out now holds model(batch)
    """

    def __init__(self, keep_graph: bool = False):
        _cupy()
        self._graph = None
        self._pool = None
        self._device = None
        self._stream = None

    def capture_begin(self, pool=None, capture_error_mode: str = "global") -> None:
        """Start capturing the current stream's work (not the default stream's)."""
        cupy = _cupy()
        if capture_error_mode not in _MODES:
            raise RuntimeError(f"Unknown capture error mode. Expected `global`, "
                               f"`thread_local`, or `relaxed`, got `{capture_error_mode}`")
        stream = cupy.cuda.get_current_stream()
        if stream.ptr == 0:
            raise RuntimeError("CUDA graphs must be captured on a non-default stream. (However, "
                               "after capture, it's ok to replay them on the default stream.)")
        from . import memory
        self._pool = pool if pool is not None else graph_pool_handle()
        self._device = cupy.cuda.runtime.getDevice()
        self._stream = stream
        memory.ALLOCATOR.begin_capture(self._device, stream.ptr, self._pool)
        runtime = cupy.cuda.runtime
        mode = {"global": runtime.streamCaptureModeGlobal,
                "thread_local": runtime.streamCaptureModeThreadLocal,
                "relaxed": runtime.streamCaptureModeRelaxed}[capture_error_mode]
        try:
            stream.begin_capture(mode)
        except BaseException:
            memory.ALLOCATOR.end_capture(self._device, stream.ptr)
            raise

    def capture_end(self) -> None:
        """Finish capturing; the graph is ready to replay."""
        from . import memory
        try:
            self._graph = self._stream.end_capture()
        finally:
            memory.ALLOCATOR.end_capture(self._device, self._stream.ptr)
        self._graph.upload(self._stream)

    def replay(self) -> None:
        """Launch the captured work on the current stream."""
        if self._graph is None:
            raise RuntimeError("Called CUDAGraph::replay without a preceding successful "
                               "capture.")
        self._graph.launch(_cupy().cuda.get_current_stream())

    def reset(self) -> None:
        """Drop the graph; its private pool returns to the allocator's cache."""
        from . import memory
        self._graph = None
        if self._pool is not None and memory.ALLOCATOR is not None:
            memory.ALLOCATOR.release_pool(self._pool)
        self._pool = None

    def pool(self):
        """This graph's memory pool id (to share with another capture)."""
        return self._pool

    def debug_dump(self, debug_path: str) -> None:
        """Write the graph in Graphviz dot format."""
        with open(debug_path, "w") as f:
            f.write(self._graph.debug_dot_str())

    def __del__(self):
        if getattr(self, "_graph", None) is not None:
            self.reset()


class graph:
    """Capture the block's CUDA work into ``cuda_graph`` on a side stream (``stream``, by
    default a new one), after a device synchronize, as PyTorch's ``torch.cuda.graph``."""

    default_capture_stream = None

    def __init__(self, cuda_graph: CUDAGraph, pool=None, stream=None,
                 capture_error_mode: str = "global"):
        from .streams import Stream
        from .streams import stream as stream_ctx
        if stream is None:
            if graph.default_capture_stream is None:
                graph.default_capture_stream = Stream()
            stream = graph.default_capture_stream
        self.capture_stream = stream
        self.stream_ctx = stream_ctx(stream)
        self.cuda_graph, self.pool, self.mode = cuda_graph, pool, capture_error_mode

    def __enter__(self):
        from . import empty_cache, synchronize
        synchronize()
        gc.collect()
        empty_cache()
        self.stream_ctx.__enter__()
        self.cuda_graph.capture_begin(self.pool, capture_error_mode=self.mode)

    def __exit__(self, *exc):
        try:
            self.cuda_graph.capture_end()
        finally:
            self.stream_ctx.__exit__(*exc)
        return False


def make_graphed_callables(callables, sample_args, num_warmup_iters: int = 3,
                           allow_unused_input: bool = False, pool=None):
    """Graphed versions of ``callables`` (modules or functions): forward and backward are each
    captured once from ``sample_args`` and replayed on every call. Arguments must keep the
    samples' shapes, dtypes and requires_grad; modules keep their parameters."""
    from .. import autograd
    from .._tensor import Tensor
    from ..autograd.grad_mode import no_grad
    from ..nn import Module
    from . import current_stream, synchronize
    from .streams import Stream, stream

    single = not isinstance(callables, tuple)
    if single:
        callables, sample_args = (callables,), (sample_args,)
    for c, args in zip(callables, sample_args):
        if isinstance(c, Module) and (c._backward_hooks or c._forward_hooks or
                                      c._forward_pre_hooks):
            raise RuntimeError("Modules must not have hooks registered at the time they are "
                               "passed. However, registering hooks on modules after passing "
                               "them through make_graphed_callables is allowed.")
        if not all(isinstance(a, Tensor) for a in args):
            raise TypeError("In the beta API, sample_args for each callable must contain only "
                            "Tensors. Other types are not allowed.")
    pool = graph_pool_handle() if pool is None else pool
    side = Stream()
    side.wait_stream(current_stream())
    out = []
    synchronize()
    for fn, args in zip(callables, sample_args):
        params = tuple(p for p in fn.parameters() if p.requires_grad) \
            if isinstance(fn, Module) else ()
        diff_in = tuple(a for a in args if a.requires_grad) + params
        with stream(side):
            for _ in range(num_warmup_iters):   # warm up (allocator, cuBLAS handles) uncaptured
                outs = _flat(fn(*args))
                _grads(outs, diff_in, allow_unused_input, autograd)
        synchronize()
        fwd, bwd = CUDAGraph(), CUDAGraph()
        with graph(fwd, pool=pool, stream=side):
            static_out = fn(*args)
        flat_out = _flat(static_out)
        static_grad_out = tuple(o.detach().new_zeros(o.shape) if o.requires_grad else None
                                for o in flat_out)
        with graph(bwd, pool=pool, stream=side):
            static_grads = _grads(flat_out, diff_in, allow_unused_input, autograd,
                                  static_grad_out)
        out.append(_graphed(fn, args, params, static_out, flat_out, static_grad_out,
                            static_grads, fwd, bwd, no_grad))
    return out[0] if single else tuple(out)


def _flat(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _grads(outs, inputs, allow_unused, autograd, grad_outputs=None):
    outs_rg = [o for o in outs if o.requires_grad]
    if grad_outputs is None:
        gos = [o.detach().new_ones(o.shape) for o in outs_rg]
    else:
        gos = [g for o, g in zip(outs, grad_outputs) if o.requires_grad]
    if not inputs or not outs_rg:
        return ()
    return autograd.grad(outs_rg, inputs, gos, allow_unused=allow_unused)


def _graphed(fn, static_in, params, static_out, flat_out, static_grad_out, static_grads,
             fwd, bwd, no_grad):
    from ..autograd import Function
    from ..nn import Module

    diff_mask = [a.requires_grad for a in static_in]

    class Graphed(Function):
        @staticmethod
        def forward(ctx, *inputs):
            with no_grad():
                for dst, src in zip(static_in, inputs[:len(static_in)]):
                    if dst.data_ptr() != src.data_ptr():
                        dst.copy_(src)
            fwd.replay()
            return tuple(o.detach() for o in flat_out)

        @staticmethod
        def backward(ctx, *grads):
            with no_grad():
                for dst, g in zip(static_grad_out, grads):
                    if dst is not None and g is not None:
                        dst.copy_(g)
            bwd.replay()
            it = iter(g.detach() if g is not None else None for g in static_grads)
            grads_in = [next(it) if rg else None for rg in diff_mask]
            return (*grads_in, *(next(it) for _ in params))

    def run(*args):
        outs = Graphed.apply(*args, *params)
        return outs if isinstance(static_out, (tuple, list)) else outs[0]

    if isinstance(fn, Module):
        eager_forward = fn.forward

        def forward(*args):
            return run(*args) if fn.training else eager_forward(*args)
        fn.forward = forward
        return fn
    return run
