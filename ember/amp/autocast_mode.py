"""Autocast: regions where listed ops run in a lower-precision (or float32) dtype.

# NOTE [ Autocast ]
The state is PyTorch's, per thread: for each device type whether autocast is on and its
lower-precision dtype, whether the weight cache is on, the nesting depth of ``autocast``
regions, and the cache. ``grad_mode.STATE.autocast`` is ``cast_inputs`` while any device
has autocast on and None otherwise, and ``registry.AUTOCAST_THREADS`` counts the threads
where it is set: while no thread uses autocast, the eager hot path pays one global read for
it (a thread-local read costs several times more). A thread that ends inside an autocast
region leaves the count up: every op then also reads the thread-local, nothing worse.

When it is set, ``apply`` calls it to give an op the inputs its policy asks for
(NOTE [ Autocast op lists ] says which ember ops are which ATen ops):

- lower_precision_fp: floating inputs (float16/bfloat16/float32, on the device) to the
  autocast dtype;
- fp32: to float32; fp32_set_opt_dtype and fp32_append_dtype (norms, softmax, sums: the op
  takes an output dtype) come to the same when no dtype was given: float32 from an eligible
  first input;
- promote: all to the widest floating dtype among them (float32 over the autocast dtype);
- banned (CUDA ``binary_cross_entropy``): PyTorch's error.

float64 and non-floating inputs are never cast. Casts are ordinary ``_to_copy`` ops, so
gradients flow back to float32 leaves as float32. A lower-precision cast of a float32 leaf
that requires grad is cached for the rest of the outermost region (Apex's weight cache), as
PyTorch does when the cache is enabled and grad mode is on; the cache holds the leaf itself,
so an id cannot be reused while its entry lives. PyTorch keeps one cache for all threads;
ember keeps one per thread (a region's exit clears only its own thread's casts).

A listed op runs with autocast off (PyTorch redispatches below its autocast key), so the
ops inside a composite are not cast again: the composites of ``_lists.COMPOSITES`` are
defined with the ``autocast_listed`` decorator, which does that.
"""

from __future__ import annotations

import collections.abc
import functools
import threading
import warnings

import numpy as np

from .. import _dtype
from .._device import device as _device
from .._ops import registry as _registry
from .._tensor import Tensor
from ..autograd.grad_mode import STATE as _GRAD
from . import _lists

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available",
           "autocast_decorator"]

_SUPPORTED = ("cpu", "cuda")


class _State(threading.local):
    # class attributes: every thread starts with autocast off and PyTorch's default dtypes
    cpu_enabled = False
    cuda_enabled = False
    cpu_dtype = _dtype.bfloat16
    cuda_dtype = _dtype.float16
    cache_enabled = True
    nesting = 0
    cache = None  # {id(leaf): (leaf, cast)}, made per thread on first use
    counted = False  # whether registry.AUTOCAST_THREADS counts this thread


STATE = _State()


def _device_type(device_type: str) -> str:
    """The device type named by ``device_type`` ('cuda:0' names 'cuda'), checked."""
    t = _device(device_type).type
    if t not in _SUPPORTED:
        raise RuntimeError(f"unknown device type for autocast: {t}")
    return t


_COUNT_LOCK = threading.Lock()


def _sync() -> None:
    on = STATE.cpu_enabled or STATE.cuda_enabled
    if on != STATE.counted:
        with _COUNT_LOCK:
            _registry.AUTOCAST_THREADS += 1 if on else -1
        STATE.counted = on
    _GRAD.autocast = cast_inputs if on else None


# -- state functions (``torch.is_autocast_enabled`` and friends) ----------------------------------

def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can be used on ``device_type``: ``'cpu'`` and ``'cuda'`` in ember."""
    return _device(device_type).type in _SUPPORTED


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` in this thread (``'cuda'`` when omitted, as
    PyTorch's legacy no-argument form): ``ember.is_autocast_enabled('cpu')``."""
    t = "cuda" if device_type is None else _device_type(device_type)
    return getattr(STATE, t + "_enabled")


def set_autocast_enabled(device_type, enabled=None) -> None:
    """Turn autocast on or off for ``device_type`` in this thread;
    ``set_autocast_enabled(enabled)`` sets CUDA's, as in PyTorch."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    setattr(STATE, _device_type(device_type) + "_enabled", bool(enabled))
    _sync()


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The lower-precision dtype autocast uses on ``device_type`` (bfloat16 on CPU and
    float16 on CUDA unless set): ``ember.get_autocast_dtype('cpu')``."""
    return getattr(STATE, _device_type(device_type) + "_dtype")


def set_autocast_dtype(device_type: str, dtype: _dtype.dtype) -> None:
    """Set the lower-precision dtype of ``device_type``'s autocast in this thread."""
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be "
                        f"ember.dtype, not {type(dtype).__name__}")
    setattr(STATE, _device_type(device_type) + "_dtype", dtype)


def autocast_increment_nesting() -> int:
    """One level deeper in autocast regions; returns the new depth."""
    STATE.nesting += 1
    return STATE.nesting


def autocast_decrement_nesting() -> int:
    """One level out of autocast regions; returns the new depth."""
    STATE.nesting -= 1
    return STATE.nesting


def clear_autocast_cache() -> None:
    """Drop this thread's cached lower-precision casts of weights."""
    STATE.cache = None


def is_autocast_cache_enabled() -> bool:
    return STATE.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    STATE.cache_enabled = bool(enabled)


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"ember.{old} is deprecated. Please use ember.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return STATE.cpu_enabled


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> _dtype.dtype:
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return STATE.cpu_dtype


def set_autocast_cpu_dtype(dtype: _dtype.dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> _dtype.dtype:
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return STATE.cuda_dtype


def set_autocast_gpu_dtype(dtype: _dtype.dtype) -> None:
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


# -- the context manager --------------------------------------------------------------------------

def _cuda_available() -> bool:
    from ..backends import cuda
    return cuda.available()


def _cuda_bf16_supported() -> bool:
    from .. import cuda
    return cuda.is_bf16_supported()


def autocast_decorator(autocast_instance, func):
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)
    return decorate_autocast


class autocast:
    """A region (or decorated function) where listed ops run in mixed precision.

    ``device_type`` is ``'cpu'`` (default dtype bfloat16) or ``'cuda'`` (float16); ops on
    the lower-precision list (matmul, convolutions, linear, ...) cast their floating inputs
    to ``dtype``, ops on the float32 list (losses, reductions prone to overflow, linear
    algebra, ...) to float32, and a few (cat, stack, ...) to the widest input dtype. Regions
    nest; ``enabled=False`` turns autocast off inside one. The state is per thread.

    >>> with ember.autocast("cpu"):
    ...     y = ember.mm(ember.ones(2, 3), ember.ones(3, 2))
    >>> y.dtype
    ember.bfloat16
    """

    def __init__(self, device_type: str, dtype: _dtype.dtype | None = None,
                 enabled: bool = True, cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None and \
            is_autocast_available(device_type) else dtype
        self.device = device_type
        if not is_autocast_available(self.device):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{self.device}'")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        kind = _device_type(self.device)
        if enabled:
            if kind == "cuda":
                if not _cuda_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                                  "autocast.", stacklevel=2)
                    enabled = False
                elif self.fast_dtype == _dtype.bfloat16 and not _cuda_bf16_supported():
                    raise RuntimeError("Current CUDA Device does not support bfloat16. Please "
                                       "switch dtype to float16.")
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                warnings.warn(
                    f"In {self.device.upper()} autocast, but the target dtype is not supported. "
                    f"Disabling autocast.\n{self.device.upper()} Autocast only supports dtypes "
                    f"of {_dtype.bfloat16}, {_dtype.float16} currently.", stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        # drop the cache on leaving the outermost region
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with ember.autocast(device_type=...):\n"
                f"        output = model(input)")
        return autocast_decorator(self, func)


# -- casting --------------------------------------------------------------------------------------

_F16, _F32, _BF16 = (np.dtype(np.float16), np.dtype(np.float32), _dtype.bfloat16.np)
_ELIGIBLE = (_F16, _F32, _BF16)


def _on(t, kind: str) -> bool:
    """``t`` is a floating tensor autocast on ``kind`` may cast (float64 never is)."""
    d = t._data
    return d.dtype in _ELIGIBLE and (type(d) is np.ndarray) == (kind == "cpu")


def _to(t: Tensor, dtype: _dtype.dtype, lower: _dtype.dtype) -> Tensor:
    op = _registry.REGISTRY["_to_copy"]
    apply = _registry.apply
    if not (dtype is lower and t._data.dtype == _F32 and t._requires_grad and
            t._grad_fn is None and t._base is None and STATE.cache_enabled and
            _GRAD.grad_enabled):
        return apply(op, (t,), {"dtype": dtype})
    cache = STATE.cache
    if cache is None:
        cache = STATE.cache = {}
    hit = cache.get(id(t))
    if hit is None or hit[0] is not t:
        hit = cache[id(t)] = (t, apply(op, (t,), {"dtype": dtype}))
    return hit[1]


def _widest(tensors, kind: str, lower: _dtype.dtype) -> _dtype.dtype:
    """PyTorch's ``promote_type``: float32 over the autocast dtype; others are an error."""
    out = lower
    for t in tensors:
        if _on(t, kind):
            d = t.dtype
            if out is _dtype.float32 or d is _dtype.float32:
                out = _dtype.float32
            elif d is not lower:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return out


def _tensors(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from _tensors(v)


def _cast_all(v, kind, dtype, lower):
    if isinstance(v, Tensor):
        return _to(v, dtype, lower) if _on(v, kind) and v.dtype is not dtype else v
    if isinstance(v, (list, tuple)) and any(isinstance(u, (Tensor, list, tuple)) for u in v):
        return type(v)(_cast_all(u, kind, dtype, lower) for u in v)
    return v


_OFF = object()  # an unlisted kernel: no casts, autocast off inside
_LAST_MATMUL = object()  # outputs cast to the autocast dtype (_lists.LAST_MATMUL)


def _plan(names, args, kwargs, first):
    """(device kind, what to do) for a call of the ATen op chain ``names`` on ``args``/
    ``kwargs`` (``first`` is the call's first tensor): a dtype to cast eligible inputs to,
    ``_OFF``, ``_LAST_MATMUL``, or None (nothing: autocast off there, or the op unlisted)."""
    kind = "cpu" if type(first._data) is np.ndarray else "cuda"
    if not getattr(STATE, kind + "_enabled"):
        return kind, None
    table = _lists.POLICIES[kind]
    policy = None
    for n in names:
        if n is None:
            return kind, _OFF
        if n == _lists.LAST_MATMUL:
            return kind, _LAST_MATMUL
        policy = table.get(n)
        if policy is not None:
            break
    if policy is None:
        return kind, None
    lower = getattr(STATE, kind + "_dtype")
    if policy == _lists.LOWER:
        return kind, lower
    if policy == _lists.FP32:
        return kind, _dtype.float32
    if policy == _lists.PROMOTE:
        return kind, _widest(_tensors((*args, *kwargs.values())), kind, lower)
    if policy == _lists.BANNED:
        raise RuntimeError(
            "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to "
            "autocast.\nMany models use a sigmoid layer right before the binary cross entropy "
            "layer.\nIn this case, combine the two layers using "
            "torch.nn.functional.binary_cross_entropy_with_logits\nor torch.nn.BCEWithLogitsLoss."
            "  binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast.")
    # fp32_set_opt_dtype / fp32_append_dtype: float32 from an eligible first input, unless the
    # call names its output dtype
    if kwargs.get("dtype") is not None or not _on(first, kind):
        return kind, None
    return kind, _dtype.float32


def cast_inputs(op, args: tuple, params: dict) -> tuple:
    """``args`` of registry op ``op`` as autocast's policy for it wants them (called by
    ``registry.apply`` while autocast is on in this thread)."""
    names = _lists.REGISTRY.get(op.name)
    if names is None:
        return args
    first = next(_tensors(args), None)
    if first is None:
        return args
    if not isinstance(names, tuple):
        names = names(args, params)
    kind, dtype = _plan(names, args, params, first)
    if dtype is None or dtype is _OFF or dtype is _LAST_MATMUL:
        return args
    lower = getattr(STATE, kind + "_dtype")
    return tuple(_cast_all(a, kind, dtype, lower) for a in args)


class _Off:
    """Autocast off for what runs inside (an op's own body, as below PyTorch's autocast
    dispatch key); the user-visible state is unchanged."""

    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = _GRAD.autocast
        _GRAD.autocast = None

    def __exit__(self, *exc):
        _GRAD.autocast = self.prev


def autocast_composite(fn, names):
    """``fn`` (an ember composite implementing the ATen ops ``names``, or a function of the
    call's ``(args, kwargs)`` giving them) under autocast: its inputs cast by the policy of
    the first of ``names`` listed for the device, its body run with autocast off. With
    autocast off it costs a call and one attribute test."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _registry.AUTOCAST_THREADS or _GRAD.autocast is None:
            return fn(*args, **kwargs)
        first = next(_tensors((*args, *kwargs.values())), None)
        if first is None:
            return fn(*args, **kwargs)
        kind, dtype = _plan(names if type(names) is tuple else names(args, kwargs), args,
                            kwargs, first)
        if dtype is None:
            return fn(*args, **kwargs)
        lower = getattr(STATE, kind + "_dtype")
        if dtype is not _OFF and dtype is not _LAST_MATMUL:
            args = tuple(_cast_all(a, kind, dtype, lower) for a in args)
            kwargs = {k: _cast_all(v, kind, dtype, lower) for k, v in kwargs.items()}
        with _Off():
            out = fn(*args, **kwargs)
        return _cast_all(out, kind, lower, lower) if dtype is _LAST_MATMUL else out
    wrapper.__wrapped_autocast__ = fn
    return wrapper


def autocast_listed(fn):
    """``fn`` under the autocast policy ``_lists.COMPOSITES`` gives it (keyed by its module and
    name): the decorator of every composite PyTorch autocasts at the top (NOTE [ Autocast op
    lists ]), applied where the composite is defined so every binding of it is the wrapped
    one."""
    return autocast_composite(fn, _lists.COMPOSITES[(fn.__module__, fn.__name__)])


# -- custom autograd Functions --------------------------------------------------------------------

def _cast(value, device_type: str, dtype: _dtype.dtype):
    """Tensors in ``value`` (nested in lists, tuples, dicts) that autocast on ``device_type``
    may cast, cast to ``dtype``."""
    if isinstance(value, Tensor):
        eligible = (value.is_floating_point() and value.device.type == device_type and
                    value.dtype is not _dtype.float64)
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype)
                for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        iterable = (_cast(v, device_type, dtype) for v in value)
        return type(value)(iterable) if isinstance(value, (list, tuple)) else iterable
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs: _dtype.dtype | None = None):
    """Decorator for a custom ``Function.forward``: with ``cast_inputs``, inside an autocast
    region its floating inputs are cast to that dtype and it runs with autocast off;
    without, it runs under the surrounding autocast state (which ``custom_bwd`` restores
    for backward).

    >>> class Square(ember.autograd.Function):
    ...     @staticmethod
    ...     @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
    ...     def forward(ctx, x): ...
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs),
                           **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom ``Function.backward``: it runs with the autocast state (on or
    off, and dtype) that ``forward`` ran with."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast,
                      dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd


# ``torch.amp._enter_autocast``/``_exit_autocast``: a region entered and left by calls
def _enter_autocast(*vals) -> autocast:
    mode = autocast(*vals)
    mode.__enter__()
    return mode


def _exit_autocast(mode: autocast) -> None:
    mode.__exit__(None, None, None)
