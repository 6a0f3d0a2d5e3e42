"""The layers of ``ember.nn``."""

from __future__ import annotations

from .activation import *  # noqa: F403
from .activation import __all__ as _activation_all
from .batchnorm import *  # noqa: F403
from .batchnorm import __all__ as _batchnorm_all
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from .flatten import Flatten, Unflatten
from .instancenorm import *  # noqa: F403
from .instancenorm import __all__ as _instancenorm_all
from .lazy import LazyModuleMixin
from .linear import Bilinear, Identity, LazyLinear, Linear
from .loss import *  # noqa: F403
from .loss import __all__ as _loss_all
from .module import Module
from .normalization import CrossMapLRN2d, GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
from .sparse import Embedding, EmbeddingBag
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "Identity", "Linear", "Bilinear", "LazyLinear", "LazyModuleMixin", "Flatten",
           "Unflatten",
           *_activation_all, *_batchnorm_all, *_instancenorm_all, *_loss_all,
           "LayerNorm", "GroupNorm", "LocalResponseNorm", "CrossMapLRN2d", "RMSNorm",
           "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout", "Embedding", "EmbeddingBag", "CosineSimilarity",
           "PairwiseDistance", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
