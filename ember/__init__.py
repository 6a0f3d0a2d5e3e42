"""ember: a deep-learning framework with PyTorch's programming model.

``import ember as torch`` runs PyTorch programs that use what ember implements; see README.md.
"""

from __future__ import annotations

import warnings as _warnings

from . import (  # noqa: F401 - _methods binds Tensor methods
    _dtype,
    _methods,
    amp,
    autograd,
    backends,
    cpu,
    cuda,
    distributions,
    fft,
    linalg,
    multiprocessing,
    nn,
    optim,
    return_types,
    serialization,
    sparse,
    special,
    utils,
    version,
)
from ._creation import (  # noqa: F401
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    get_default_device,
    linspace,
    logspace,
    ones,
    ones_like,
    set_default_device,
    tensor,
    zeros,
    zeros_like,
)
from ._device import device  # noqa: F401
from ._dtype import (  # noqa: F401
    bfloat16,
    bool,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from ._functional import *  # noqa: F401, F403
from ._functional import __all__ as _functional_all
from ._sparse import sparse_coo_tensor  # noqa: F401
from ._tensor import (  # noqa: F401
    Size,
    Tensor,
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    preserve_format,
    sparse_coo,
    strided,
)
from ._tensor_str import set_printoptions  # noqa: F401
from ._threads import (  # noqa: F401
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,
)
from .amp.autocast_mode import (  # noqa: F401
    autocast,
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)
from .autograd.anomaly_mode import (  # noqa: F401
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backends.cuda import (  # noqa: F401
    get_float32_matmul_precision,
    set_float32_matmul_precision,
)
from .cuda import OutOfMemoryError  # noqa: F401
from .random import *  # noqa: F401, F403 - Generator, manual_seed, rand, ...
from .serialization import load, save  # noqa: F401

__version__ = "0.1.0"

# NumPy warns on float overflow/division by zero; PyTorch returns inf/nan silently. The filter
# is scoped to warnings raised from ember's own modules, leaving user code's NumPy alone.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def is_nonzero(input: Tensor) -> bool:
    if input.numel() != 1:
        raise RuntimeError(
            "Boolean value of Tensor with more than one value is ambiguous" if input.numel()
            else "Boolean value of Tensor with no values is ambiguous")
    return input.item() != 0


del _functional_all
multiprocessing.init_reductions()  # now that nn.Parameter and the other subclasses exist
