"""MultiheadAttention (PyTorch keeps it in ``torch/nn/modules/activation.py``).

# NOTE [ MHA inference path ]
In eval mode with no gradient needed, PyTorch runs batch-first self-attention (one tensor as
query, key and value; bool or no masks; an even number of heads; packed projections with bias;
no ``bias_k``/``bias_v``/zero attention) through a fused kernel, also inside the
``TransformerEncoderLayer``. It computes the same function, except that fully masked query rows
give NaN there, where the ``scaled_dot_product_attention`` of the general path gives 0. Ember
has one path and reproduces that by the softmax it asks for (``_inference_path``; the encoder
layer's own fused path is detected by the layer, which passes ``_nan_rows``).
"""

from __future__ import annotations

from ... import _creation
from ..._api import attention as FA
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ..init import constant_, xavier_normal_, xavier_uniform_
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear (``MultiheadAttention.out_proj``), named as PyTorch names it."""


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim / num_heads`` features each, with
    PyTorch's parameters (``in_proj_weight`` or ``q/k/v_proj_weight`` when ``kdim``/``vdim``
    differ, ``in_proj_bias``, ``bias_k``/``bias_v``, ``out_proj``) and initialization (the same
    values for the same seed). Returns ``(output, weights)``.

    >>> mha = ember.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = ember.ones(3, 5, 8)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    (ember.Size([3, 5, 8]), ember.Size([3, 5, 5]))
    """

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_creation.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(_creation.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(_creation.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(_creation.empty((3 * embed_dim, embed_dim),
                                                            **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_creation.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        **factory)
        if add_bias_kv:
            self.bias_k = Parameter(_creation.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(_creation.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            xavier_uniform_(self.in_proj_weight)
        else:
            xavier_uniform_(self.q_proj_weight)
            xavier_uniform_(self.k_proj_weight)
            xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            constant_(self.in_proj_bias, 0.0)
            constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            xavier_normal_(self.bias_v)

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_qkv_same_embed_dim", True)
        super().__setstate__(state)

    def _error_summary(self) -> str:
        return f"{self._get_name()} {self.embed_dim}, {self.num_heads} heads"

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False, *, _nan_rows: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        """``(output, weights)``; inputs ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or
        unbatched ``(L, E)``. Masks: True (or ``-inf``) where attention is not allowed.
        (``_nan_rows``: the caller takes PyTorch's inference path, NOTE [ MHA inference
        path ].)"""
        is_batched = query.dim() == 3
        nan_rows = _nan_rows or self._inference_path(query, key, value, attn_mask,
                                                     key_padding_mask)
        key_padding_mask = FA._canonical_mask(key_padding_mask, "key_padding_mask",
                                              FA._none_or_dtype(attn_mask), "attn_mask",
                                              query.dtype)
        attn_mask = FA._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                       check_other=False)
        if self.batch_first and is_batched:
            # keep ``query is key`` (self-attention) visible to the packed projection
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = {} if self._qkv_same_embed_dim else {
            "use_separate_proj_weight": True, "q_proj_weight": self.q_proj_weight,
            "k_proj_weight": self.k_proj_weight, "v_proj_weight": self.v_proj_weight}
        out, weights = FA.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            average_attn_weights=average_attn_weights, is_causal=is_causal,
            _nan_rows=nan_rows, **separate)
        if self.batch_first and is_batched:
            out = out.transpose(1, 0)
        return out, weights

    def _inference_path(self, query, key, value, attn_mask, key_padding_mask) -> bool:
        """Whether PyTorch would run its fused inference kernel here (NOTE [ MHA inference
        path ])."""
        if any(m is not None and m.is_floating_point() for m in (attn_mask, key_padding_mask)):
            return False
        w, b = self.in_proj_weight, self.in_proj_bias
        if (query.dim() != 3 or query is not key or key is not value or w is None or b is None
                or query.dtype is not w.dtype or query.dtype is not b.dtype or self.training
                or self.num_heads % 2 or not self.batch_first or self.bias_k is not None
                or self.bias_v is not None or self.add_zero_attn):
            return False
        args = (query, w, b, self.out_proj.weight, self.out_proj.bias)
        return not (is_grad_enabled() and any(t is not None and t.requires_grad for t in args))

    def merge_masks(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    query: Tensor) -> tuple[Tensor | None, int | None]:
        """One ``(N, H, L, L)`` mask from a 2-D/3-D ``attn_mask`` and a ``(N, L)``
        ``key_padding_mask`` (float masks), and its type: 1 padding only, 2 otherwise."""
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                merged = attn_mask.view(batch_size, -1, seq_len, seq_len)
            else:
                merged = attn_mask.view(1, 1, seq_len, seq_len).expand(
                    batch_size, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.view(batch_size, 1, 1, seq_len).expand(
                    -1, self.num_heads, -1, -1)
        return merged, mask_type
