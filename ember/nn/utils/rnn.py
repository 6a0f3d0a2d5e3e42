"""Packed variable-length sequences (``torch.nn.utils.rnn``).

A ``PackedSequence`` stores the time steps of a batch of sequences sorted by length
(longest first) one after another: ``data`` has the ``batch_sizes[t]`` still-running sequences
of step t, in batch order. Packing and padding are one ``index_select`` each (with a row of
the padding value appended for padding), so both are differentiable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ... import _creation, _dtype
from ... import _functional as F
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """The data and batch sizes of a packed batch of sequences (made by
    ``pack_padded_sequence``/``pack_sequence``; recurrent modules accept it as input).

    >>> p = pack_sequence([ember.ones(3), ember.ones(1)])
    >>> p.batch_sizes
    tensor([2, 1, 1])
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None, unsorted_indices: Tensor | None = None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes), sorted_indices)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never "
                "be created manually. They should be instantiated by functions like "
                "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data`` converted as by ``Tensor.to``; the indices follow it to its device
        (``batch_sizes`` stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (
            None if t is None else t.to(data.device)
            for t in (self.sorted_indices, self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to(*args, **{"device": "cuda", **kwargs}) if not args else \
            self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        return self.to("cpu", *args, **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=_dtype.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=_dtype.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=_dtype.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=_dtype.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=_dtype.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on a CUDA device."""
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (None for None).

    >>> invert_permutation(ember.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    output = _creation.empty_like(permutation)
    return output.scatter_(0, permutation, _creation.arange(permutation.numel(),
                                                     device=permutation.device))


def _lengths_array(lengths: Tensor) -> np.ndarray:
    if lengths.ndim != 1 or lengths.dtype is not _dtype.int64 or lengths.device.type != "cpu":
        kind = {"int64": "Long", "int32": "Int", "float32": "Float", "float64": "Double"}.get(
            str(lengths.dtype).split(".")[-1], str(lengths.dtype))
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D {lengths.device.type} {kind} tensor")
    return lengths.numpy()


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of the
    given ``lengths``; they must be sorted longest first unless ``enforce_sorted=False``.

    >>> pack_padded_sequence(ember.ones(3, 2, 4), [3, 1]).data.shape
    ember.Size([4, 4])
    """
    lengths = (_creation.as_tensor(lengths, dtype=_dtype.int64, device="cpu")
               if not isinstance(lengths, Tensor) else lengths.to(dtype=_dtype.int64))
    sorted_indices = None
    if not enforce_sorted:
        lengths, sorted_indices = F.sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, _lengths_array(lengths), batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack(input: Tensor, lengths: np.ndarray, batch_first: bool):
    """PyTorch's ``_pack_padded_sequence``: the packed data and the batch sizes."""
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else tuple(input.shape[:2])
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.shape[0]} (batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    if lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a length ({lengths[0]}) exceeds the "
                           f"sequence length of the input ({steps})")
    t, b = np.nonzero(np.arange(lengths[0])[:, None] < lengths[None, :])  # time-major order
    rows = b * steps + t if batch_first else t * batch + b
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = flat.index_select(0, _creation.as_tensor(rows, device=input.device))
    batch_sizes = (np.arange(lengths[0])[:, None] < lengths[None, :]).sum(1)
    return data, _creation.as_tensor(batch_sizes.astype(np.int64))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """The inverse of ``pack_padded_sequence``: the padded batch and the lengths.

    >>> x, lengths = pad_packed_sequence(pack_sequence([ember.ones(3), ember.ones(1)]))
    >>> x.shape, lengths
    (ember.Size([3, 2]), tensor([3, 1]))
    """
    sizes = sequence.batch_sizes.numpy()
    steps = sizes.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}")
        steps = total_length
    data, batch = sequence.data, int(sizes[0])
    lengths = (np.arange(batch)[None, :] < sizes[:, None]).sum(0)
    # row of each (t, b) in data, or the appended padding row
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    t, b = (np.arange(steps)[:, None], np.arange(batch)[None, :])
    rows = np.where(t < lengths[None, :], starts[np.minimum(t, sizes.shape[0] - 1)] + b,
                    data.shape[0])
    if batch_first:
        rows = rows.T
    pad = data.new_full((1, *data.shape[1:]), padding_value)
    padded = F.cat([data, pad]).index_select(
        0, _creation.as_tensor(rows.reshape(-1), device=data.device)).view(
        *rows.shape, *data.shape[1:])
    lengths = _creation.as_tensor(lengths.astype(np.int64))
    if sequence.unsorted_indices is not None:
        return (padded.index_select(0 if batch_first else 1, sequence.unsorted_indices),
                lengths[sequence.unsorted_indices.cpu()])
    return padded, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths (L_i, *) into (T, B, *) (or (B, T, *)), padding
    with ``padding_value`` on the ``padding_side``.

    >>> pad_sequence([ember.ones(3), ember.ones(1)], batch_first=True)
    tensor([[1., 1., 1.],
            [1., 0., 0.]])
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    steps = max(s.size(0) for s in sequences)
    rows = []
    for s in sequences:
        s = s.to(first.dtype)
        if s.shape[0] < steps:
            pad = s.new_full((steps - s.shape[0], *first.shape[1:]), padding_value)
            s = F.cat([s, pad] if padding_side == "right" else [pad, s])
        rows.append(s)
    return F.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, as a list (``padded_sequences`` is transposed in
    place when not ``batch_first``, as PyTorch does).

    >>> [s.shape for s in unpad_sequence(ember.ones(2, 3), ember.tensor([3, 1]), True)]
    [ember.Size([3]), ember.Size([1])]
    """
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    idx = _creation.arange(padded_sequences.shape[1], device=lengths.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths, strict=True)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (longest first unless ``enforce_sorted=False``).

    >>> pack_sequence([ember.ones(1), ember.ones(2)], enforce_sorted=False).batch_sizes
    tensor([2, 1])
    """
    lengths = _creation.as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences in a ``PackedSequence`` (in their original order).

    >>> [s.shape for s in unpack_sequence(pack_sequence([ember.ones(2), ember.ones(1)]))]
    [ember.Size([2]), ember.Size([1])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
