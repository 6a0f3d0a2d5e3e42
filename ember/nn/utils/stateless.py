"""Call a module with some parameters and buffers replaced: ``functional_call``.

# NOTE [ Reparametrizing a module ]
``_reparametrize_module`` swaps the given tensors into the module's ``_parameters`` /
``_buffers`` dicts (or plain attributes) for the duration of a ``with`` block and swaps the
originals back afterwards (in reverse order), even when the call raises. Tied tensors (one
tensor under several names) are all replaced when one of their names is given
(``tie_weights``).
"""

from __future__ import annotations

import contextlib
import warnings

from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["functional_call"]

_MISSING = object()


def _swap_tensor(module: Module, name: str, tensor):
    """Put ``tensor`` (``_MISSING``: nothing) under ``name`` in ``module``; returns what was
    there (``_MISSING`` when nothing was)."""
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of ember.Tensor")
    for members in (module._parameters, module._buffers):
        if name in members:
            orig = members[name]
            if tensor is _MISSING:
                del members[name]
            else:
                members[name] = tensor
            return orig
    orig = getattr(module, name) if hasattr(module, name) else _MISSING
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of ember.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return orig


def _owner(module: Module, path: str) -> tuple[Module, str]:
    prefix, _, attr = path.rpartition(".")
    mod = module
    for item in prefix.split(".") if prefix else ():
        try:
            mod = getattr(mod, item)
        except AttributeError as ex:
            raise AttributeError(f"{mod._get_name()} has no attribute `{item}`") from ex
        if not isinstance(mod, Module):
            raise TypeError(f"submodule `{prefix}`: {mod} is not an instance of ember.nn.Module")
    return mod, attr


def _swap_all(module: Module, named: dict) -> dict:
    done = {}
    try:
        for name, t in named.items():
            done[name] = _swap_tensor(*_owner(module, name), t)
    except Exception:
        for name, t in done.items():
            _swap_tensor(*_owner(module, name), t)
        raise
    return done


def _untie(module: Module, given: dict) -> dict:
    """``given`` extended to every name of a tied tensor one of whose names it holds."""
    names_of: dict = {}
    for name, t in (*module.named_parameters(remove_duplicate=False),
                    *module.named_buffers(remove_duplicate=False)):
        names_of.setdefault(t, set()).add(name)
    out = dict(given)
    for tied in names_of.values():
        if len(tied) < 2:
            continue
        present = tied & given.keys()
        if len(present) > 1 and len({id(given[n]) for n in present}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied)}, "
                             "which are tied. Consider using tie_weights=False")
        if present:
            value = given[next(iter(present))]
            for n in tied:
                out[n] = value
    return out


@contextlib.contextmanager
def _reparametrize_module(module: Module, parameters_and_buffers: dict,
                          tie_weights: bool = False, strict: bool = False):
    named = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        valid = {n for n, _ in (*module.named_parameters(remove_duplicate=False),
                                *module.named_buffers(remove_duplicate=False))}
        missing, unexpected = sorted(valid - named.keys()), sorted(named.keys() - valid)
        errors = []
        if unexpected:
            errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errors:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(errors)))
    orig = {}
    try:
        orig = _swap_all(module, named)
        yield
    finally:
        # in reverse, so that a tensor reachable under two names (a shared submodule) gets
        # its original back (PyTorch restores in order and leaves the replacement there)
        _swap_all(module, dict(reversed(orig.items())))


def functional_call(module: Module, parameters_and_buffers: dict, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Call ``module(*args, **kwargs)`` with the tensors of ``parameters_and_buffers`` (by
    dotted name) in place of its own, restoring them afterwards.

    >>> m = nn.Linear(2, 1)
    >>> nn.utils.stateless.functional_call(m, {"weight": ember.ones(1, 2),
    ...                                        "bias": ember.zeros(1)}, ember.ones(1, 2))
    tensor([[2.]])
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights,
                               strict=strict):
        return module(*args, **kwargs)
