"""PyTorch 2.13's autocast op lists, and where each listed op lives in ember.

# NOTE [ Autocast op lists ]
PyTorch registers an autocast kernel per ATen op and device (aten/src/ATen/autocast_mode.cpp
and .h); the lists below are those registrations, by ATen name (overloads folded), each with its
cast policy. ember's ops are not ATen's one for one, so the second half of this file says which
ATen op each ember op or composite *is* at the point autocast should act:

- ``REGISTRY``: registry op name -> the ATen names it implements, as a tuple (outermost
  first: the first one listed for the device decides), or a function of the op's ``(args,
  params)`` returning that tuple where one registry op stands for several ATen ops
  (``avg_pool`` is ``avg_pool3d`` only with three spatial dims; ``einsum`` goes through
  ``bmm`` only when it contracts, as PyTorch's einsum does).
- ``COMPOSITES``: public functions ember writes as composites, by ``(module, name)`` -> ATen
  names (or a function of the call's ``(args, kwargs)`` giving them). PyTorch autocasts
  these at the top (``linear``, the losses, ``fft_*``) while ember reaches them through
  generic ops, so each is defined with the ``autocast_listed`` decorator. A None in the chain says
  that, where none of the names before it is listed, PyTorch runs the function as one kernel
  autocast does not touch, though ember's composite calls listed registry ops inside
  (``adaptive_avg_pool2d`` by matmul, ``mv`` and ``dot`` on CPU): it runs with autocast off
  inside. Without one an unlisted composite is transparent (its inner ops are cast as
  PyTorch's CompositeImplicit ops are: ``tensordot`` on CPU goes through ``mm``).

Within a cast op or wrapped composite autocast is off (PyTorch redispatches below the
autocast key), so inner ops are not cast again. ``tests/test_amp.py`` checks every entry
of the op test table under CPU autocast against PyTorch's output dtypes and values.
"""

from __future__ import annotations

LOWER, FP32, FP32_SET_OPT_DTYPE, FP32_APPEND_DTYPE, PROMOTE, BANNED = (
    "lower_precision_fp", "fp32", "fp32_set_opt_dtype", "fp32_append_dtype", "promote",
    "banned")
# in a composite's chain: PyTorch's version ends in a matmul autocast lists while ember's is
# one registry op; its floating outputs are cast to the autocast dtype instead (the same dtype,
# values within the rounding of the matmul's inputs)
LAST_MATMUL = "matmul output"

CPU_LOWER = (
    "conv1d", "conv2d", "conv3d", "bmm", "mm", "linalg_vecdot", "baddbmm", "addmm",
    "_addmm_activation", "addbmm", "linear", "_convolution.deprecated", "matmul", "conv_tbc",
    "mkldnn_rnn_layer", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu",
    "scaled_dot_product_attention", "_native_multi_head_attention")
CPU_FP32 = (
    "avg_pool3d", "binary_cross_entropy", "grid_sampler", "polar", "prod", "quantile",
    "nanquantile", "stft", "cdist", "grid_sampler_2d", "_grid_sampler_2d_cpu_fallback",
    "grid_sampler_3d", "trace", "view_as_complex", "cholesky", "cholesky_inverse",
    "cholesky_solve", "inverse", "lu_solve", "orgqr", "ormqr", "pinverse", "max_pool3d",
    "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d", "reflection_pad1d",
    "reflection_pad2d", "replication_pad1d", "replication_pad2d", "replication_pad3d",
    "mse_loss", "cosine_embedding_loss", "nll_loss", "nll_loss2d", "hinge_embedding_loss",
    "poisson_nll_loss", "smooth_l1_loss", "cross_entropy_loss", "l1_loss", "huber_loss",
    "margin_ranking_loss", "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
    "ctc_loss", "kl_div", "multilabel_margin_loss", "binary_cross_entropy_with_logits",
    "fft_fft", "fft_ifft", "fft_fft2", "fft_ifft2", "fft_fftn", "fft_ifftn", "fft_rfft",
    "fft_irfft", "fft_rfft2", "fft_irfft2", "fft_rfftn", "fft_irfftn", "fft_hfft", "fft_ihfft",
    "linalg_cond", "linalg_matrix_rank", "linalg_solve", "linalg_cholesky", "linalg_svdvals",
    "linalg_eigvals", "linalg_eigvalsh", "linalg_inv", "linalg_householder_product",
    "linalg_tensorinv", "linalg_tensorsolve", "fake_quantize_per_tensor_affine", "geqrf",
    "_lu_with_info", "qr", "svd", "triangular_solve", "fractional_max_pool2d",
    "fractional_max_pool3d", "adaptive_max_pool3d", "multilabel_margin_loss_forward",
    "linalg_qr", "linalg_cholesky_ex", "linalg_svd", "linalg_eig", "linalg_eigh",
    "linalg_lstsq", "linalg_inv_ex")
CPU_PROMOTE = ("stack", "cat", "index_copy")

CUDA_LOWER = (
    "_convolution", "_convolution.deprecated", "conv1d", "conv2d", "conv3d", "conv_tbc",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "convolution", "prelu", "addmm",
    "addmv", "addr", "matmul", "einsum", "mm", "mv", "linalg_vecdot", "linear", "addbmm",
    "baddbmm", "bmm", "chain_matmul", "linalg_multi_dot", "_thnn_fused_lstm_cell",
    "_thnn_fused_gru_cell", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
    "_scaled_dot_product_flash_attention", "scaled_dot_product_attention",
    "cudnn_convolution", "cudnn_convolution_transpose")
CUDA_FP32 = (
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
    "reciprocal", "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm", "native_layer_norm",
    "group_norm", "frobenius_norm", "nuclear_norm", "cosine_similarity", "poisson_nll_loss",
    "cosine_embedding_loss", "nll_loss", "nll_loss2d", "hinge_embedding_loss", "kl_div",
    "l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss",
    "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
    "binary_cross_entropy_with_logits", "dist", "pdist", "cdist", "renorm", "logsumexp",
    "upsample_nearest1d", "_upsample_nearest_exact1d", "upsample_nearest2d",
    "_upsample_nearest_exact2d", "upsample_nearest3d", "_upsample_nearest_exact3d",
    "upsample_linear1d", "upsample_bilinear2d", "_upsample_bilinear2d_aa",
    "upsample_trilinear3d", "upsample_bicubic2d", "_upsample_bicubic2d_aa", "rms_norm")
CUDA_FP32_SET_OPT_DTYPE = (
    "prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm",
    "linalg_matrix_norm", "sum")
CUDA_FP32_APPEND_DTYPE = ("norm",)
CUDA_PROMOTE = (
    "addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sampler",
    "index_put", "tensordot", "scatter_add")
CUDA_BANNED = ("binary_cross_entropy",)


def _table(*groups) -> dict:
    return {name: policy for policy, names in groups for name in names}


POLICIES = {
    "cpu": _table((LOWER, CPU_LOWER), (FP32, CPU_FP32), (PROMOTE, CPU_PROMOTE)),
    "cuda": _table((LOWER, CUDA_LOWER), (FP32, CUDA_FP32),
                   (FP32_SET_OPT_DTYPE, CUDA_FP32_SET_OPT_DTYPE),
                   (FP32_APPEND_DTYPE, CUDA_FP32_APPEND_DTYPE), (PROMOTE, CUDA_PROMOTE),
                   (BANNED, CUDA_BANNED)),
}


# -- ember's registry ops -------------------------------------------------------------------------

def _spatial(args, n_batch=2) -> int:
    return args[0].ndim - n_batch


def _by_dims(*names):
    """The ATen name for the op's number of spatial dims (input (N, C, *spatial) or
    (C, *spatial)); ``names[d - 1]`` for d dims, None for none."""
    def pick(args, params):
        d = len(params["kernel_size"]) if "kernel_size" in params else \
            len(params["output_size"])
        name = names[d - 1] if d <= len(names) else None
        return (name,) if name else ()
    return pick


def _pad(args, params):
    k = len(params["pad"]) // 2
    if params["mode"] == "reflect":
        return (f"reflection_pad{k}d",)
    if params["mode"] == "replicate":
        return (f"replication_pad{k}d",)
    return ()


def _einsum(args, params):
    # PyTorch's einsum contracts operand pairs with bmm when an index is summed away (and
    # multiplies elementwise otherwise); CUDA autocast lists einsum itself
    lhs, _, rhs = params["equation"].replace(" ", "").partition("->")
    terms = lhs.split(",")
    summed = set("".join(terms)) - set(rhs) - {"."} if "->" in params["equation"] else {
        c for c in set(lhs) if lhs.count(c) > 1}
    return ("einsum", "bmm") if len(terms) > 1 and summed else ("einsum",)


def _upsample(kind):
    def pick(args, params):
        d = args[0].ndim - 2
        if kind == "nearest":
            exact = params.get("exact", len(args) > 3 and args[3])
            return (f"_upsample_nearest_exact{d}d" if exact else f"upsample_nearest{d}d",)
        if kind == "linear":
            return ({1: "upsample_linear1d", 2: "upsample_bilinear2d",
                     3: "upsample_trilinear3d"}[d],)
        return ({"bicubic": "upsample_bicubic2d", "bicubic_aa": "_upsample_bicubic2d_aa",
                 "bilinear_aa": "_upsample_bilinear2d_aa"}[kind],)
    return pick


def _arg(args, kwargs, i, name, default=None):
    """Argument ``name`` (position ``i``) of a composite's call."""
    return kwargs.get(name, args[i] if len(args) > i else default)


def _max_pool3d(args, kwargs):
    # with indices PyTorch calls max_pool3d_with_indices, which autocast does not list
    return (None,) if _arg(args, kwargs, 6, "return_indices", False) else ("max_pool3d", None)


def _unweighted(name, i):
    # with a weight (argument i) PyTorch 2.13 computes these losses in Python, from unlisted
    # ops
    def pick(args, kwargs):
        return () if _arg(args, kwargs, i, "weight") is not None else (name,)
    return pick


def _tensordot(args, kwargs):
    # a full contraction goes through dot (a kernel on CPU, promote on CUDA)
    a, b = args[0], args[1]
    dims = _arg(args, kwargs, 2, "dims", 2)
    n = dims if isinstance(dims, int) else len(dims[0])
    return ("tensordot", "dot", None) if n == a.ndim == b.ndim else ("tensordot",)


def _inner(args, kwargs):
    return ("tensordot", "dot", None) if args[0].ndim == args[1].ndim == 1 else ("tensordot",)


def _lrn(args, kwargs):
    # PyTorch pools the squares with avg_pool3d for inputs of more than three dims
    return ("avg_pool3d",) if args[0].ndim > 3 else ()


def _area(args, params):
    return ("adaptive_avg_pool3d",) if args[0].ndim == 5 else ()


REGISTRY = {
    "mm": ("mm",), "bmm": ("bmm",), "addmm": ("addmm",), "matmul": ("matmul",),
    "einsum": _einsum,
    # ``torch.convolution`` (CUDA lists it; CPU lists only conv1d/2d/3d..., see COMPOSITES)
    "convolution": ("convolution",), "convolution_transpose": ("convolution",),
    "polar": ("polar",), "prod": ("prod",), "sum": ("sum",), "cumsum": ("cumsum",),
    "cumprod": ("cumprod",), "view_as_complex": ("view_as_complex",),
    "grid_sampler": ("grid_sampler",),
    "binary_cross_entropy": ("binary_cross_entropy",), "ctc_loss": ("ctc_loss",),
    "cross_entropy_loss": ("cross_entropy_loss",),
    "cat": ("cat",), "stack": ("stack",), "index_copy": ("index_copy",),
    "index_put": ("index_put",), "scatter_add": ("scatter_add",), "addcdiv": ("addcdiv",),
    "addcmul": ("addcmul",), "atan2": ("atan2",),
    "linalg_cholesky_ex": ("linalg_cholesky_ex",), "linalg_eig": ("linalg_eig",),
    "linalg_eigh": ("linalg_eigh",), "linalg_inv_ex": ("linalg_inv_ex",),
    "linalg_lstsq": ("linalg_lstsq",), "linalg_qr": ("linalg_qr",),
    "linalg_svd": ("linalg_svd",),
    "avg_pool": _by_dims(None, None, "avg_pool3d"),
    "adaptive_max_pool": _by_dims(None, None, "adaptive_max_pool3d"),
    "fractional_max_pool": _by_dims(None, "fractional_max_pool2d", "fractional_max_pool3d"),
    "pad": _pad,
    "upsample_area": _area,
    "upsample_nearest": _upsample("nearest"), "upsample_linear": _upsample("linear"),
    "upsample_bicubic": _upsample("bicubic"), "upsample_bicubic_aa": _upsample("bicubic_aa"),
    "upsample_bilinear_aa": _upsample("bilinear_aa"),
    "scaled_dot_product_attention": ("scaled_dot_product_attention",),
    "softmax": ("softmax",), "log_softmax": ("log_softmax",), "logsumexp": ("logsumexp",),
    "norm": ("norm",), "native_layer_norm": ("native_layer_norm",),
    "native_group_norm": ("group_norm",), "rms_norm": ("rms_norm",),
    "softplus": ("softplus",),
    **{n: (n,) for n in ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10",
                         "log2", "log1p", "reciprocal", "rsqrt", "sinh", "tan", "pow")},
}


# -- ember's composites ---------------------------------------------------------------------------

# (Tensor methods PyTorch runs in place, so never autocasts, that ember writes as composites of
# listed out-of-place ops, ``addmm_`` and kin, run with autocast off: ``_api.linalg``'s
# ``_inplace_composite``.)

_LOSSES = ("smooth_l1_loss", "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss",
           "poisson_nll_loss", "margin_ranking_loss", "soft_margin_loss", "triplet_margin_loss",
           "multi_margin_loss", "multilabel_margin_loss", "kl_div",
           "binary_cross_entropy_with_logits", "binary_cross_entropy", "ctc_loss")
_FFT = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
        "rfftn", "irfftn", "hfft", "ihfft")

COMPOSITES = {
    ("ember.nn.functional", "linear"): ("linear",),
    ("ember.nn.functional", "bilinear"): ("bilinear", None),
    **{("ember._api.conv", f"conv{d}d"): (f"conv{d}d",) for d in (1, 2, 3)},
    **{("ember._api.conv", f"conv_transpose{d}d"): (f"conv_transpose{d}d",) for d in (1, 2, 3)},
    ("ember._api.conv", "adaptive_avg_pool1d"): (None,),
    ("ember._api.conv", "adaptive_avg_pool2d"): (None,),
    ("ember._api.conv", "adaptive_avg_pool3d"): ("adaptive_avg_pool3d", None),
    ("ember._api.conv", "max_unpool1d"): ("max_unpool2d", None),
    # (the registry op's bfloat16 check comes after ember's own, in the composite)
    ("ember._api.conv", "avg_pool3d"): ("avg_pool3d", None),
    ("ember._api.conv", "max_pool3d"): _max_pool3d,
    ("ember._api.conv", "max_unpool2d"): ("max_unpool2d", None),
    ("ember._api.conv", "max_unpool3d"): ("max_unpool3d", None),
    ("ember._api.activation", "prelu"): ("prelu",),
    # recurrent layers and cells: torch's CPU cells are linear layers, its layers mkldnn's
    **{("ember._api.rnn", n): ("linear",) for n in ("lstm_cell", "gru_cell", "rnn_tanh_cell",
                                                    "rnn_relu_cell")},
    **{("ember._api.rnn", n): ("mkldnn_rnn_layer",) for n in ("lstm", "gru", "rnn_tanh",
                                                              "rnn_relu")},
    ("ember._api.activation", "cdist"): ("cdist", None),
    ("ember._api.activation", "pdist"): ("pdist", None),
    ("ember._api.activation", "cosine_similarity"): ("cosine_similarity", None),
    **{("ember._api.loss", n): (n,) for n in _LOSSES},
    **{("ember._api.loss", n): _unweighted(n, 5) for n in ("mse_loss", "l1_loss")},
    ("ember._api.loss", "huber_loss"): _unweighted("huber_loss", 4),
    ("ember._api.loss", "cross_entropy"): ("cross_entropy_loss",),
    **{("ember._api.fft", n): ("fft_" + n,) for n in _FFT},
    ("ember._api.reduction", "quantile"): ("quantile",),
    ("ember._api.reduction", "nanquantile"): ("nanquantile",),
    ("ember._api.linalg", "baddbmm"): ("baddbmm",),
    ("ember._api.linalg", "addbmm"): ("addbmm",),
    ("ember._api.linalg", "vecdot"): ("linalg_vecdot",),
    ("ember._api.linalg", "trace"): ("trace", None),
    ("ember._api.linalg", "inverse"): ("inverse",),
    ("ember._api.linalg", "inv"): ("linalg_inv",),
    ("ember._api.linalg", "pinverse"): ("pinverse",),
    ("ember._api.linalg", "cholesky_solve"): ("cholesky_solve",),
    ("ember._api.linalg", "cholesky_inverse"): ("cholesky_inverse",),
    ("ember._api.linalg", "triangular_solve"): ("triangular_solve",),
    ("ember._api.linalg", "householder_product"): ("linalg_householder_product",),
    ("ember._api.linalg", "cond"): ("linalg_cond",),
    ("ember._api.linalg", "matrix_rank"): ("linalg_matrix_rank",),
    ("ember._api.linalg", "solve"): ("linalg_solve",),
    ("ember._api.linalg", "svdvals"): ("linalg_svdvals",),
    ("ember._api.linalg", "eigvals"): ("linalg_eigvals",),
    ("ember._api.linalg", "eigvalsh"): ("linalg_eigvalsh",),
    ("ember._api.linalg", "tensorinv"): ("linalg_tensorinv",),
    ("ember._api.linalg", "tensorsolve"): ("linalg_tensorsolve",),
    ("ember._api.linalg", "chain_matmul"): ("chain_matmul",),
    ("ember._api.linalg", "multi_dot"): ("linalg_multi_dot",),
    ("ember._api.linalg", "tensordot"): _tensordot,
    ("ember._api.linalg", "inner"): _inner,
    ("ember._api.linalg", "_torch_lu"): ("_lu_with_info", None),
    ("ember._api.linalg", "_torch_lu_solve"): ("lu_solve", None),
    ("ember._api.linalg", "lu_solve"): (None,),
    ("ember._api.linalg", "pinv"): (LAST_MATMUL,),
    ("ember._api.resample", "affine_grid_generator"): (LAST_MATMUL,),
    ("ember._api.normalization", "local_response_norm"): _lrn,
    ("ember._api.linalg", "mv"): ("mv", None),
    ("ember._api.linalg", "addmv"): ("addmv", None),
    ("ember._api.linalg", "addr"): ("addr", None),
    ("ember._api.linalg", "outer"): (None,),
    ("ember._api.linalg", "vdot"): ("vdot", None),
    ("ember._api.linalg", "cross"): ("cross", None),
    ("ember._functional", "dot"): ("dot", None),
}
