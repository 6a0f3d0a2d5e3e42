"""The optimizer base class, PyTorch's ``torch.optim.Optimizer``.

# NOTE [ Optimizer implementations ]
Each algorithm has two implementations, chosen per param group as PyTorch chooses:

- ``_single_tensor_<alg>``: a loop over the parameters written in ember ops, line for line
  as PyTorch's for-loop implementation. It is the only one that supports
  ``differentiable=True`` (the step runs with grad mode on and autograd records it).
- ``_multi_tensor_<alg>``: one vectorised update over all parameters of a group, for
  ``foreach=True`` (and ``fused=True`` where PyTorch has a fused kernel): an elementwise
  kernel over backend arrays run by ``_multi_tensor.run`` (NOTE [ Multi-tensor updates ]).

``foreach=None`` picks the multi-tensor path where PyTorch would (all parameters on CUDA),
the for-loop path otherwise. Both give the same numbers (tests check both against PyTorch).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

from .. import _dtype
from .._tensor import RemovableHandle, Tensor
from ..autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

_global_optimizer_pre_hooks: list = []
_global_optimizer_post_hooks: list = []


class _RequiredParameter:
    """Marks a hyper-parameter without a default (``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` to run before
    every optimizer's ``step``."""
    _global_optimizer_pre_hooks.append(hook)
    return RemovableHandle(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    _global_optimizer_post_hooks.append(hook)
    return RemovableHandle(_global_optimizer_post_hooks, hook)


def _add_hook(hooks: list, hook, prepend: bool) -> RemovableHandle:
    hooks.insert(0, hook) if prepend else hooks.append(hook)
    return RemovableHandle(hooks, hook)


# -- helpers shared by the algorithms ---------------------------------------------------------

def _use_grad_for_differentiable(func):
    """Run ``step`` with grad mode set to the optimizer's ``differentiable`` flag."""
    @functools.wraps(func)
    def _use_grad(self, *args, **kwargs):
        prev = is_grad_enabled()
        try:
            set_grad_enabled(self.defaults["differentiable"])
            return func(self, *args, **kwargs)
        finally:
            set_grad_enabled(prev)
    return _use_grad


def _get_value(x):
    """A Python number from a hyper-parameter or a 0-d step tensor."""
    return x.item() if isinstance(x, Tensor) else x


def _to_scalar(x):
    """A 1-element tensor hyper-parameter as a 0-d tensor; anything else as it is."""
    return x.squeeze() if isinstance(x, Tensor) and x.dim() != 0 else x


def _get_scalar_dtype(is_fused=None):
    """The dtype of ``state["step"]``: float32, or float64 when that is the default dtype."""
    if is_fused:
        return _dtype.float32
    return _dtype.float64 if _dtype.get_default_dtype() is _dtype.float64 else _dtype.float32


def _default_to_fused_or_foreach(params, differentiable: bool, use_fused: bool = False):
    """PyTorch's default implementation: never for differentiable; fused only when asked;
    foreach when every parameter is on CUDA."""
    if differentiable:
        return False, False
    fused = use_fused and all(p is None or p.is_floating_point() for p in params)
    foreach = not fused and all(p is None or p.device.type == "cuda" for p in params)
    return fused, foreach


def _device_dtype_check_for_fused(p: Tensor) -> None:
    if not p.is_floating_point():
        raise RuntimeError(
            "`fused=True` requires all the params to be floating point Tensors of supported "
            f"devices: ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone'] but "
            f"{p.dtype} and {p.device.type}")


def _check_capturable(tensors, what: str = "params and state_steps",
                      xla: bool = True) -> None:
    """``capturable=True`` needs every tensor on an accelerator, as in PyTorch."""
    if all(t.device.type == "cuda" for t in tensors):
        return
    devices = ["cuda", "xpu", "hpu", "privateuseone"] + (["xla"] if xla else [])
    raise AssertionError(
        f"If capturable=True, {what} must be on supported devices: {devices}.")


def _fused_checks(fused, foreach, differentiable) -> None:
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _use_foreach(group, params) -> bool:
    """Whether a group runs the multi-tensor implementation (fused runs it too)."""
    if group.get("fused"):
        return True
    foreach = group.get("foreach")
    if foreach is None:
        _, foreach = _default_to_fused_or_foreach(params, group.get("differentiable", False))
    if foreach and group.get("differentiable"):
        raise AssertionError("_foreach ops don't support autograd")
    return bool(foreach)


def _view_as_real(*tensors) -> tuple:
    """Complex tensors as real (..., 2) views (updates act on real and imaginary parts)."""
    from .._api.pointwise import view_as_real
    return tuple(view_as_real(t) if t.is_complex() else t for t in tensors)


def _new_step(p, group):
    """A parameter's ``state["step"]``: a 0-d float tensor as PyTorch keeps it."""
    from .. import _creation
    if group.get("capturable") or group.get("fused"):
        return _creation.zeros((), dtype=_get_scalar_dtype(group.get("fused")),
                               device=p.device)
    return _creation.tensor(0.0, dtype=_get_scalar_dtype())


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_nonneg(**values) -> None:
    """``Invalid <name> value: <v>`` for a negative hyper-parameter, in the given order."""
    for name, v in values.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid {name} value: {v}")


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return f"ember.{obj.dtype}Tensor"
    t = obj if isinstance(obj, type) else type(obj)
    module = t.__module__ or ""
    return t.__qualname__ if module in ("", "builtins") else f"{module}.{t.__qualname__}"


# -- the base class ----------------------------------------------------------------------------

class Optimizer:
    """Base class of the optimizers: ``param_groups`` (dicts of parameters and their options,
    defaults filled from ``defaults``) and per-parameter ``state``.

    Example::

        >>> opt = ember.optim.SGD([w], lr=0.1)
        >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _hook_step(cls.__dict__["step"])

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: list = []
        self._optimizer_step_post_hooks: list = []
        self._optimizer_state_dict_pre_hooks: list = []
        self._optimizer_state_dict_post_hooks: list = []
        self._optimizer_load_state_dict_pre_hooks: list = []
        self._optimizer_load_state_dict_post_hooks: list = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("step_pre", "step_post", "state_dict_pre", "state_dict_post",
                     "load_state_dict_pre", "load_state_dict_post"):
            self.__dict__.setdefault(f"_optimizer_{name}_hooks", [])
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- hooks ---------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` to run before
        ``step``; a returned pair replaces step's arguments."""
        return _add_hook(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run before ``state_dict``."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> None | state_dict`` to run after
        ``state_dict``."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> None | state_dict`` to run before
        ``load_state_dict`` (it gets a shallow copy it may change or replace)."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False
                                           ) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run after ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dict ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as PyTorch lays it out: ``{"state": {param_id: {...}},
        "param_groups": [{..., "params": [param_id, ...]}]}`` with integer ids in the order
        of the parameters in the groups."""
        for hook in list(self._optimizer_state_dict_pre_hooks):
            hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack_group(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in list(self._optimizer_state_dict_post_hooks):
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups,
                                                 key=None):
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            return (value.to(dtype=_dtype.float32, device=param.device)
                    if capturable or fused else value)
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state made by ``state_dict`` (of ember or, with its tensors converted, of
        PyTorch): parameters are matched by position in the groups."""
        state_dict = state_dict.copy()
        for hook in list(self._optimizer_load_state_dict_pre_hooks):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, param_id=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, state_dict["param_groups"], key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v, k)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.__setstate__({"state": state, "param_groups": [
            update_group(g, ng) for g, ng in zip(groups, saved_groups)]})
        for hook in list(self._optimizer_load_state_dict_post_hooks):
            hook(self)

    # -- gradients and steps -------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        if p.grad.grad_fn is not None:
                            p.grad.detach_()
                        else:
                            p.grad.requires_grad_(False)
                        p.grad.zero_()

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the
        loss (required by some optimizers, e.g. LBFGS)."""
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead.")
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            import warnings
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information", stacklevel=3)
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _collect(self, group, names: tuple, sparse: bool = False):
        """The group's parameters that have a gradient, their gradients, and one list per
        state entry in ``names`` (state made by ``self._init_state(p, group)`` on first
        use). A sparse gradient raises PyTorch's error unless the algorithm takes ``sparse``
        ones."""
        params, grads = [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse and not sparse:
                name = next(c.__name__ for c in type(self).__mro__
                            if c.__module__.startswith(__package__))
                raise RuntimeError(f"{name} does not support sparse gradients")
            params.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                self._init_state(p, group, state)
        return params, grads, [[self.state[p][n] for p in params] for n in names]

    def _setdefaults(self, **defaults) -> None:
        """Options added after a state dict was saved get their defaults (``__setstate__``),
        and a numeric ``step`` becomes a tensor."""
        for group in self.param_groups:
            for k, v in defaults.items():
                group.setdefault(k, v)
            for p in group["params"]:
                s = self.state.get(p, [])
                if len(s) != 0 and "step" in s and not isinstance(s["step"], Tensor):
                    s["step"] = _new_step(p, group).fill_(float(s["step"]))

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()


def _hook_step(step):
    """Wrap a subclass's ``step`` with the global and per-optimizer step hooks; as in
    PyTorch the hooks see ``args`` with the optimizer first."""
    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        for hook in chain(list(_global_optimizer_pre_hooks),
                          list(self._optimizer_step_pre_hooks)):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in chain(list(self._optimizer_step_post_hooks),
                          list(_global_optimizer_post_hooks)):
            hook(self, args, kwargs)
        return out
    wrapper.hooked = True
    return wrapper
