"""Public functions: resampling, the ``ember.nn.functional`` functions ``interpolate`` (and
its deprecated ``upsample*`` forms), ``grid_sample`` and ``affine_grid``, and the ATen-level
``ember.grid_sampler`` and ``ember.affine_grid_generator`` they call.

The argument handling follows ``torch/nn/functional.py`` step for step (so errors and
warnings come in PyTorch's order); the ops are in ``_ops/resample.py`` (NOTE [ Separable
resampling ], NOTE [ Grid sampling ]).
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from .._functional import _export
from .._ops.registry import apply
from .._ops.resample import (
    AFFINE_GRID,
    GRID_SAMPLER,
    UPSAMPLE_AREA,
    UPSAMPLE_BICUBIC,
    UPSAMPLE_BICUBIC_AA,
    UPSAMPLE_BILINEAR_AA,
    UPSAMPLE_LANCZOS_AA,
    UPSAMPLE_LINEAR,
    UPSAMPLE_NEAREST,
)
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample",
           "affine_grid"]

_LINEAR_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _is_integer(x) -> bool:
    if isinstance(x, (int, np.integer)):
        return True
    return isinstance(x, Tensor) and not x.is_floating_point()


def _output_size(kernel: str, input: Tensor, size, scales) -> tuple:
    """ATen's ``compute_output_size``: the given size, or each input size times its scale,
    truncated."""
    if size is not None:
        for i, s in enumerate(size):
            if not _is_integer(s):
                raise TypeError(
                    f"{kernel}(): argument 'output_size' (position 2) must be tuple of ints, "
                    f"but found element of type {type(s).__name__} at pos {i}")
        return tuple(operator.index(s) for s in size)
    return tuple(int(float(n) * s) for n, s in zip(input.shape[2:], scales))


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of an (N, C, ...) tensor to ``size`` or by ``scale_factor``:
    ``interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)``."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | "
                "bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = list(size)
        else:
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = list(scale_factor)
        else:
            scale_factors = [scale_factor for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [int(input.size(i + 2) * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input")
    nd = input.dim()
    if nd in (3, 4, 5) and mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        kernel = f"{'_' if exact else ''}upsample_nearest{'_exact' if exact else ''}{nd - 2}d"
        return _upsample(UPSAMPLE_NEAREST, kernel, input, output_size, scale_factors,
                         {"exact": True} if exact else {})
    if nd in (3, 4, 5) and mode == "area":
        return _adaptive_avg_pool(input, output_size)
    if mode in _LINEAR_MODES and nd == _LINEAR_MODES[mode]:
        if antialias:
            return _upsample(UPSAMPLE_BILINEAR_AA, "_upsample_bilinear2d_aa", input, output_size,
                             scale_factors, {"align_corners": align_corners})
        return _upsample(UPSAMPLE_LINEAR, f"upsample_{mode}{nd - 2}d", input, output_size,
                         scale_factors, {"align_corners": align_corners})
    if nd == 4 and mode == "bicubic":
        op, kernel = ((UPSAMPLE_BICUBIC_AA, "_upsample_bicubic2d_aa") if antialias else
                      (UPSAMPLE_BICUBIC, "upsample_bicubic2d"))
        return _upsample(op, kernel, input, output_size, scale_factors,
                         {"align_corners": align_corners})
    if nd == 4 and mode == "lanczos":
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        return _upsample(UPSAMPLE_LANCZOS_AA, "_upsample_lanczos2d_aa", input, output_size,
                         scale_factors, {"align_corners": align_corners})
    if nd in (3, 4, 5):
        for name, want in _LINEAR_MODES.items():
            if mode == name and nd != want:
                kind = {3: "3D", 4: "4D", 5: "5D"}
                raise NotImplementedError(
                    f"Got {kind[nd]} input, but {name} mode needs {kind[want]} input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: "
        f"{_MODES} (got {mode})")


def _upsample(op, kernel, input, output_size, scale_factors, params):
    out = _output_size(kernel, input, output_size, scale_factors)
    scales = tuple(None if s is None else float(s) for s in (
        scale_factors or [None] * len(out)))
    return apply(op, (input,), dict(params, output_size=out, scales=scales))


def _adaptive_avg_pool(input: Tensor, output_size) -> Tensor:
    """'area' mode: adaptive average pooling (1-D as PyTorch does it: a 2-D pool of height 1
    between an unsqueeze and a squeeze)."""
    nd = input.dim() - 2
    out = tuple(operator.index(s) for s in output_size)
    if min(out) < 0:
        raise RuntimeError(
            f"adaptive_avg_pool{nd}d: elements of output_size must be greater than or equal to "
            f"0 but received {{{', '.join(map(str, out))}}}")
    if nd == 1:
        return _adaptive_avg_pool(input.unsqueeze(-2), (1,) + out).squeeze(-2)
    return apply(UPSAMPLE_AREA, (input,), {"output_size": out, "scales": (None,) * nd})


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated form of :func:`interpolate` (warns)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')`` (warns)."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (warns)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- grid sampling ---------------------------------------------------------------------------------

_GRID_MODES = ("bilinear", "nearest", "bicubic")
_PADDING_MODES = ("zeros", "border", "reflection")
_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details.")


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """ATen's ``grid_sampler`` (modes as integers: 0 bilinear, 1 nearest, 2 bicubic; padding
    0 zeros, 1 border, 2 reflection); see :func:`grid_sample`."""
    return apply(GRID_SAMPLER, (input, grid), {
        "mode": _GRID_MODES[interpolation_mode], "padding_mode": _PADDING_MODES[padding_mode],
        "align_corners": bool(align_corners)})


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at the normalised (x, y) points of ``grid`` (N, Ho, Wo, 2)
    (or 5-D with (x, y, z) points): ``grid_sample(img, affine_grid(theta, img.shape, False),
    align_corners=False)``."""
    if mode not in _GRID_MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return grid_sampler(input, grid, _GRID_MODES.index(mode), _PADDING_MODES.index(padding_mode),
                        align_corners)


@autocast_listed
def affine_grid_generator(theta: Tensor, size, align_corners: bool) -> Tensor:
    """ATen's ``affine_grid_generator``; see :func:`affine_grid`."""
    size = tuple(operator.index(s) for s in size)
    if len(size) not in (4, 5):
        raise RuntimeError(
            "AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.")
    return apply(AFFINE_GRID, (theta,), {"size": size, "align_corners": bool(align_corners)})


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W) (or (N, 3, 4) and (N, C, D, H, W)), for :func:`grid_sample`:
    ``affine_grid(ember.eye(2, 3)[None], (1, 1, 4, 4), align_corners=False)``."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                f"{theta.shape}.")
        spatial_size = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                f"{theta.shape}.")
        spatial_size = size[-3:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}.")
    if align_corners and min(spatial_size) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return affine_grid_generator(theta, size, align_corners)


_export(grid_sampler, method=False)
_export(affine_grid_generator, method=False)
