"""Batch normalisation layers (``torch.nn.modules.batchnorm``), over ``F.batch_norm``.

# NOTE [ Running statistics ]
A norm layer with ``track_running_stats`` owns ``running_mean``, ``running_var`` and
``num_batches_tracked`` buffers (names, dtypes and state_dict order as PyTorch's). Each training
forward adds 1 to ``num_batches_tracked`` and lets ``F.batch_norm`` update the running stats in
place with factor ``momentum``, or with ``1 / num_batches_tracked`` when ``momentum`` is None
(a cumulative average). Eval uses the running stats; without them, batch statistics always.
``_version = 2`` marks checkpoints that carry ``num_batches_tracked``; loading an older one
(version missing or 1) without the key keeps the module's own counter, as PyTorch does.
"""

from __future__ import annotations

from ... import _creation
from ... import _dtype as dtypes
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module

__all__ = ["BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d",
           "LazyBatchNorm3d", "SyncBatchNorm"]


def _counter(device) -> Tensor:
    return _creation.tensor(0, dtype=dtypes.long, device=device)


class _NormBase(Module):
    """Parameters (``weight``, ``bias`` when ``affine``) and running-stat buffers shared by
    batch and instance norm (NOTE [ Running statistics ])."""

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = {"device": device, "dtype": dtype}
        if affine:
            self.weight = Parameter(_creation.empty(num_features, **kw))
            if bias:
                self.bias = Parameter(_creation.empty(num_features, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _creation.zeros(num_features, **kw))
            self.register_buffer("running_var", _creation.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked", _counter(device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running stats; ``weight`` to 1 and ``bias`` to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _error_summary(self) -> str:
        return f"{self._get_name()} {self.num_features}"

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked
                                   if self.num_batches_tracked is not None else _counter(None))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    """Batch norm over dim 1; subclasses check the input's rank."""

    def _factor(self) -> float:
        """Count this training batch; the running-stat update factor (``momentum``, or the
        cumulative ``1 / num_batches_tracked`` when it is None)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        return factor

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = self._factor()
        # batch stats when training, or in eval without buffers; the buffers are passed when
        # they are read (eval) or updated (training with tracking)
        use_buffers = not self.training or self.track_running_stats
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        return F.batch_norm(input, self.running_mean if use_buffers else None,
                            self.running_var if use_buffers else None, self.weight, self.bias,
                            bn_training, factor, self.eps)


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """A norm layer whose ``num_features`` is the first input's ``shape[1]``."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True) -> None:
        kw = {"device": device, "dtype": dtype}
        super().__init__(0, eps, momentum, False, False, **kw, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(**kw)
            if bias:
                self.bias = UninitializedParameter(**kw)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**kw)
            self.running_var = UninitializedBuffer(**kw)
            self.num_batches_tracked = _counter(device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                for t in (self.weight, self.bias, self.running_mean, self.running_var):
                    if t is not None:
                        t.materialize((self.num_features,))
                self.reset_parameters()


def _check_dims(input: Tensor, dims: tuple, words: str) -> None:
    if input.dim() not in dims:
        raise ValueError(f"expected {words} input (got {input.dim()}D input)")


class BatchNorm1d(_BatchNorm):
    """Batch norm of ``(N, C)`` or ``(N, C, L)`` inputs over all but the channel dim.

    >>> bn = ember.nn.BatchNorm1d(3)
    >>> bn(ember.randn(8, 3)).shape, int(bn.num_batches_tracked)
    (ember.Size([8, 3]), 1)
    """

    def _check_input_dim(self, input: Tensor) -> None:
        _check_dims(input, (2, 3), "2D or 3D")


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """BatchNorm1d with ``num_features`` from the first input: ``ember.nn.LazyBatchNorm1d()``."""

    cls_to_become = BatchNorm1d

    def _check_input_dim(self, input: Tensor) -> None:
        _check_dims(input, (2, 3), "2D or 3D")


class BatchNorm2d(_BatchNorm):
    """Batch norm of ``(N, C, H, W)`` inputs per channel: ``ember.nn.BatchNorm2d(64)``."""

    def _check_input_dim(self, input: Tensor) -> None:
        _check_dims(input, (4,), "4D")


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """BatchNorm2d with ``num_features`` from the first input: ``ember.nn.LazyBatchNorm2d()``."""

    cls_to_become = BatchNorm2d

    def _check_input_dim(self, input: Tensor) -> None:
        _check_dims(input, (4,), "4D")


class BatchNorm3d(_BatchNorm):
    """Batch norm of ``(N, C, D, H, W)`` inputs per channel: ``ember.nn.BatchNorm3d(8)``."""

    def _check_input_dim(self, input: Tensor) -> None:
        _check_dims(input, (5,), "5D")


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """BatchNorm3d with ``num_features`` from the first input: ``ember.nn.LazyBatchNorm3d()``."""

    cls_to_become = BatchNorm3d

    def _check_input_dim(self, input: Tensor) -> None:
        _check_dims(input, (5,), "5D")


class SyncBatchNorm(_BatchNorm):
    """Batch norm of inputs of any rank >= 2 whose statistics are meant to be reduced across
    the processes of ``process_group``.

    # NOTE [ SyncBatchNorm in one process ]
    ember has no process groups yet, so every SyncBatchNorm runs in a world of one process,
    where PyTorch's synchronised statistics are the local batch statistics: it computes exactly
    what ``BatchNorm`` does. The cross-process reduction belongs with ``ember.distributed``.

    >>> net = ember.nn.SyncBatchNorm.convert_sync_batchnorm(ember.nn.Sequential(
    ...     ember.nn.BatchNorm2d(4)))
    >>> type(net[0]).__name__
    'SyncBatchNorm'
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every ``BatchNorm*d`` in it replaced by a SyncBatchNorm sharing its
        parameters and buffers (the module itself when it is one)."""
        out = module
        if isinstance(module, _BatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group,
                                bias=module.bias is not None)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
