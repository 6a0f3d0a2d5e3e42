"""Flatten parameters into one vector and back."""

from __future__ import annotations

from ... import _functional as F
from ..._tensor import Tensor
from ..modules.module import _typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_device(param: Tensor, old: int | None) -> int:
    """The device index (-1 for CPU) all parameters must share."""
    index = (param.device.index or 0) if param.device.type == "cuda" else -1
    if old is not None and index != old:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return index


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and concatenated into one 1-D tensor.

    >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    ember.Size([8])
    """
    device, vec = None, []
    for p in parameters:
        device = _check_device(p, device)
        vec.append(p.view(-1))
    return F.cat(vec)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' data (each parameter
    then views ``vec``'s storage)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {_typename(vec)}")
    device, pointer = None, 0
    for p in parameters:
        device = _check_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
