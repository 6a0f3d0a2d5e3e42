"""``ember.sparse``: functions on sparse COO tensors, PyTorch's ``torch.sparse`` (the COO part
ember has; see NOTE [ Sparse COO tensors ] in ``ember/_sparse.py``)."""

from __future__ import annotations

from ._tensor import Tensor

__all__ = ["sum"]


def sum(input: Tensor, dim=None, dtype=None) -> Tensor:  # noqa: A001
    """The sum of a sparse tensor's elements, or over ``dim``: dense when every sparse dim is
    summed, else sparse: ``ember.sparse.sum(s, 0)``."""
    return input.sum(dtype=dtype) if dim is None else input.sum(dim, dtype=dtype)
