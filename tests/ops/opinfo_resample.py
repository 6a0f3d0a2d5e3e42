"""Op table entries: resampling (``interpolate`` per mode, ``grid_sample``, ``affine_grid``;
see ``opinfo.py``).

Each registry op has an entry named after it whose function is the public one with the op's
mode. The first sample of each entry is tiny (gradgradcheck runs on it); every mode/option
combination has a sample of at most 30 elements (gradcheck). Torch's functions are
``torch.nn.functional``'s; ember's are ``ember._api.resample``'s (re-exported by
``ember.nn.functional``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .opinfo import FLOATS, HALF, A, ErrorCase, Sample, add, arr


def _functional(m):
    if m.__name__ == "torch":
        return m.nn.functional
    from ember._api import resample
    return resample


def _interpolate(default_mode, **fixed):
    def fn(m, x, *args, mode=default_mode, **kwargs):
        return _functional(m).interpolate(x, *args, mode=mode, **dict(fixed, **kwargs))
    return fn


def _s(rng, dtype, shape, noncontig=False, tag="", **kw):
    if noncontig:  # the framework reverses the dims of a non-contiguous sample
        return Sample((A(arr(rng, shape[::-1], dtype), noncontig=True),), kw,
                      name=tag or f"{shape}-noncontig")
    return Sample((A(arr(rng, shape, dtype)),), kw, name=tag or f"{shape}-{kw}")


# PyTorch's backward kernels disagree with their forward kernels here (nearest: the backward
# copies a kept size and halves a doubled one whatever the scale factor, the 1-D/3-D forward
# does not; bicubic and antialiased: one copies a kept size, the other does not), so the
# gradients (which are PyTorch's) are not those of the forward: no gradcheck on these
_INCONSISTENT = "torch-backward-differs"


def _nearest_samples(dtype, rng):
    out = []
    for mode in ("nearest", "nearest-exact"):
        out += [
            _s(rng, dtype, (1, 1, 2, 3), scale_factor=2, mode=mode),
            _s(rng, dtype, (1, 2, 3), size=5, mode=mode),
            _s(rng, dtype, (1, 2, 4), scale_factor=2.24, recompute_scale_factor=False,
               mode=mode, tag=_INCONSISTENT),
            _s(rng, dtype, (1, 2, 4), scale_factor=1.1, recompute_scale_factor=False,
               mode=mode, tag=_INCONSISTENT),
            _s(rng, dtype, (1, 1, 3, 4), size=(2, 7), mode=mode),
            _s(rng, dtype, (1, 2, 2, 3), scale_factor=(2.24, 1.1),
               recompute_scale_factor=False, mode=mode),
            _s(rng, dtype, (1, 1, 3, 4), scale_factor=0.6, mode=mode),
            _s(rng, dtype, (1, 1, 2, 2, 3), size=(3, 1, 4), mode=mode),
            _s(rng, dtype, (1, 1, 2, 3, 2), scale_factor=(2.0, 1.5, 2.24),
               recompute_scale_factor=False, mode=mode, tag=_INCONSISTENT),
            _s(rng, dtype, (1, 2, 2, 3), True, size=(3, 5), mode=mode),
            _s(rng, dtype, (0, 2, 2, 3), size=(3, 5), mode=mode),
        ]
    return out


def _linear_samples(dtype, rng):
    out = []
    for ac in (False, True):
        out += [
            _s(rng, dtype, (1, 1, 2, 2), scale_factor=1.5, align_corners=ac, mode="bilinear"),
            _s(rng, dtype, (1, 2, 3), size=5, align_corners=ac, mode="linear"),
            _s(rng, dtype, (1, 2, 5), size=2, align_corners=ac, mode="linear"),
            _s(rng, dtype, (1, 2, 4), scale_factor=1.1, recompute_scale_factor=False,
               align_corners=ac, mode="linear"),
            _s(rng, dtype, (1, 1, 3, 4), size=(5, 2), align_corners=ac, mode="bilinear"),
            _s(rng, dtype, (1, 1, 3, 3), scale_factor=(1.7, 0.6), recompute_scale_factor=False,
               align_corners=ac, mode="bilinear"),
            _s(rng, dtype, (1, 1, 3, 3), scale_factor=(1.7, 0.6), recompute_scale_factor=True,
               align_corners=ac, mode="bilinear"),
            _s(rng, dtype, (1, 1, 2, 3, 2), size=(3, 2, 4), align_corners=ac, mode="trilinear"),
            _s(rng, dtype, (1, 1, 2, 2, 3), scale_factor=1.6, recompute_scale_factor=False,
               align_corners=ac, mode="trilinear"),
            _s(rng, dtype, (1, 2, 2, 3), True, size=(3, 1), align_corners=ac, mode="bilinear"),
        ]
    return out + [_s(rng, dtype, (0, 2, 2, 3), size=(3, 5), mode="bilinear")]


def _cubic_samples(dtype, rng):
    out = []
    for ac in (False, True):
        out += [
            _s(rng, dtype, (1, 1, 2, 2), scale_factor=1.5, align_corners=ac),
            _s(rng, dtype, (1, 1, 3, 4), size=(5, 2), align_corners=ac),
            _s(rng, dtype, (1, 1, 4, 4), scale_factor=(1.7, 0.6), recompute_scale_factor=False,
               align_corners=ac),
            _s(rng, dtype, (1, 1, 4, 4), scale_factor=1.1, recompute_scale_factor=False,
               align_corners=ac, tag=_INCONSISTENT),
            _s(rng, dtype, (1, 2, 2, 3), True, size=(4, 3), align_corners=ac),
            _s(rng, dtype, (1, 1, 5, 1), size=(2, 3), align_corners=ac),
        ]
    return out


def _aa_samples(dtype, rng, corners=(False, True)):
    # (an output of width 1 is left out: PyTorch's contiguous-format CPU kernel gets it wrong)
    out = []
    for ac in corners:
        out += [
            _s(rng, dtype, (1, 1, 3, 4), size=(2, 2), align_corners=ac),
            _s(rng, dtype, (1, 1, 5, 6), size=(2, 3), align_corners=ac),
            _s(rng, dtype, (1, 1, 3, 4), size=(5, 6), align_corners=ac),
            _s(rng, dtype, (1, 1, 4, 7), scale_factor=(1.1, 0.4), recompute_scale_factor=False,
               align_corners=ac, tag=_INCONSISTENT),
            _s(rng, dtype, (1, 1, 5, 5), scale_factor=(0.7, 1.4), recompute_scale_factor=True,
               align_corners=ac),
            _s(rng, dtype, (1, 2, 4, 3), True, size=(2, 2), align_corners=ac),
        ]
    return out


def _area_samples(dtype, rng):
    return [
        _s(rng, dtype, (1, 1, 3, 2), size=(2, 1)),
        _s(rng, dtype, (1, 2, 5), size=3),
        _s(rng, dtype, (1, 2, 3), size=7),
        _s(rng, dtype, (1, 1, 4, 5), scale_factor=0.5),
        _s(rng, dtype, (1, 1, 3, 3), scale_factor=(1.5, 0.7)),
        _s(rng, dtype, (1, 1, 2, 3, 4), size=(1, 2, 3)),
        _s(rng, dtype, (1, 2, 3, 4), True, size=(2, 3)),
        _s(rng, dtype, (1, 1, 3, 3), size=(0, 2)),
    ]


_X = A(np.ones((1, 1, 2, 2), np.float32))


def _common_errors(antialias=False):
    return (
        ErrorCase((_X,), {"size": 3, "scale_factor": 2}, match="only one of size"),
        ErrorCase((_X,), {}, match="either size or scale_factor"),
        ErrorCase((_X,), {"size": (3, 3, 3)}, match="same number of spatial dimensions"),
        ErrorCase((_X,), {"scale_factor": (2,)}, match="same number of spatial dimensions"),
        ErrorCase((_X,), {"size": (2.0, 3.0)}, match="expected size to be one of int"),
        ErrorCase((_X,), {"size": 3, "recompute_scale_factor": True},
                  match="recompute_scale_factor is not meaningful"),
        ErrorCase((A(np.ones((2, 2), np.float32)),), {"size": 3},
                  match="Anti-alias option" if antialias else "Input Error"),
        ErrorCase((A(np.ones((1, 1, 2, 2), np.int64)),), {"size": 3},
                  match="not implemented for 'Long'"),
    )


_SIZE_ERRORS = (
    ErrorCase((_X,), {"size": (0, 2)}, match="Input and output sizes should be greater than 0"),
    ErrorCase((A(np.ones((1, 1, 0, 2), np.float32)),), {"size": 2},
              match="Input and output sizes should be greater than 0"),
    ErrorCase((A(np.ones((1, 0, 2, 2), np.float32)),), {"size": 2},
              match="Non-empty 4D data tensor expected"),
)
_NOT_WITH_ALIGN = ErrorCase((_X,), {"size": 3, "align_corners": True},
                            match="align_corners option can only be set")
_NO_AA = ErrorCase((_X,), {"size": 3, "antialias": True}, match="Anti-alias option")


add("upsample_nearest", fn=_interpolate("nearest"), samples=_nearest_samples,
    dtypes=("uint8",) + HALF + FLOATS, skip_gradcheck_samples=(_INCONSISTENT,),
    errors=_common_errors() + _SIZE_ERRORS + (_NOT_WITH_ALIGN, _NO_AA))
add("upsample_linear", fn=_interpolate("bilinear"), samples=_linear_samples,
    dtypes=HALF + FLOATS, atol=1e-4,
    errors=_common_errors() + _SIZE_ERRORS + (
        ErrorCase((A(np.ones((1, 1, 2), np.float32)),), {"size": 3, "mode": "bilinear"},
                  match="Got 3D input, but bilinear mode needs 4D input"),
        ErrorCase((_X,), {"size": 3, "mode": "trilinear"},
                  match="Got 4D input, but trilinear mode needs 5D input"),
        ErrorCase((_X,), {"size": 3, "mode": "linear"},
                  match="Got 4D input, but linear mode needs 3D input"),
        ErrorCase((_X,), {"size": 3, "mode": "bogus"}, match="(got bogus)"),
        ErrorCase((A(np.ones((1, 1, 2, 2, 2), np.float32)),),
                  {"size": 3, "mode": "trilinear", "antialias": True},
                  match="Anti-alias option")))
add("upsample_bicubic", fn=_interpolate("bicubic"), samples=_cubic_samples,
    dtypes=HALF + FLOATS, atol=1e-4, skip_gradcheck_samples=(_INCONSISTENT,),
    errors=_common_errors() + _SIZE_ERRORS)
add("upsample_bilinear_aa", fn=_interpolate("bilinear", antialias=True), samples=_aa_samples,
    dtypes=FLOATS, atol=1e-4, skip_gradcheck_samples=(_INCONSISTENT,),
    errors=_common_errors(True) + _SIZE_ERRORS[:2] + (
        ErrorCase((A(np.ones((1, 1, 2, 2), np.float16)),), {"size": 3},
                  match="not implemented for 'Half'"),))
add("upsample_bicubic_aa", fn=_interpolate("bicubic", antialias=True), samples=_aa_samples,
    dtypes=FLOATS, atol=1e-4, skip_gradcheck_samples=(_INCONSISTENT,),
    errors=_common_errors(True) + _SIZE_ERRORS[:2])
add("upsample_lanczos_aa", fn=_interpolate("lanczos", antialias=True),
    samples=lambda d, r: _aa_samples(d, r, (False,)), dtypes=FLOATS, atol=1e-4,
    skip_gradcheck_samples=(_INCONSISTENT,), errors=_common_errors(True) + _SIZE_ERRORS[:2] + (
        ErrorCase((_X,), {"size": 3, "align_corners": True},
                  match="Lanczos mode does not support align_corners=True"),
        ErrorCase((_X,), {"size": 3, "mode": "lanczos", "antialias": False},
                  match="Lanczos mode requires antialias=True"),
        ErrorCase((A(np.ones((1, 1, 2, 2), np.float16)),), {"size": 3},
                  match="not implemented for 'Half'")))
add("upsample_area", fn=_interpolate("area"), samples=_area_samples, dtypes=HALF + FLOATS,
    atol=1e-4, errors=_common_errors() + (
        _NOT_WITH_ALIGN,
        ErrorCase((_X,), {"size": (-1, 2)}, match="must be greater than or equal to 0"),
        ErrorCase((A(np.ones((1, 1, 0, 2), np.float32)),), {"size": 2},
                  match="Expected input to have non-zero size for non-batch dimensions")))


# -- grid_sample ----------------------------------------------------------------------------------

def _grid_sample(m, x, grid, **kwargs):
    return _functional(m).grid_sample(x, grid, **kwargs)


def _grid_samples(dtype, rng):
    """Every mode x padding x align_corners, on grids that reach past the borders."""
    def g(shape):
        return A(arr(rng, shape, dtype, -1.4, 1.4))
    out = [Sample((A(arr(rng, (1, 1, 2, 2), dtype)), g((1, 1, 2, 2))),
                  {"align_corners": False}, name="tiny")]
    for mode in ("bilinear", "nearest", "bicubic"):
        for padding in ("zeros", "border", "reflection"):
            for ac in (False, True):
                kw = {"mode": mode, "padding_mode": padding, "align_corners": ac}
                out.append(Sample((A(arr(rng, (1, 2, 3, 3), dtype)), g((1, 2, 2, 2))), kw,
                                  name=f"2d-{kw}"))
                if mode != "bicubic":
                    out.append(Sample((A(arr(rng, (1, 1, 2, 2, 3), dtype)),
                                       g((1, 2, 1, 2, 3))), kw, name=f"3d-{kw}"))
    out += [
        Sample((A(arr(rng, (2, 1, 3, 2), dtype)), g((2, 2, 3, 2))), {"align_corners": True},
               name="batch"),
        Sample((A(arr(rng, (3, 3, 2, 1), dtype), noncontig=True),
                A(arr(rng, (2, 3, 2, 1), dtype, -1.4, 1.4), noncontig=True)),
               {"align_corners": False, "mode": "bicubic", "padding_mode": "reflection"},
               name="noncontig"),
        Sample((A(arr(rng, (0, 1, 2, 2), dtype)), g((0, 2, 2, 2))), {"align_corners": False},
               name="empty-batch"),
        Sample((A(arr(rng, (1, 1, 2, 2), dtype)), g((1, 0, 2, 2))), {"align_corners": False},
               name="empty-grid"),
        # pixel-exact grids (identity affine grids): floor/round at integer coordinates
        Sample((A(arr(rng, (1, 1, 3, 4), dtype)),
                A(np.stack(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3)),
                           -1)[None].astype(dtype))),
               {"align_corners": True, "mode": "nearest"}, name="exact"),
        Sample((A(arr(rng, (1, 1, 3, 4), dtype)),
                A(np.stack(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3)),
                           -1)[None].astype(dtype))),
               {"align_corners": True, "mode": "bilinear", "padding_mode": "border"},
               name="exact-bilinear"),
    ]
    return out


_IMG = A(np.ones((1, 1, 2, 2), np.float32))
_GRID = A(np.zeros((1, 2, 2, 2), np.float32))
add("grid_sampler", fn=_grid_sample, samples=_grid_samples, dtypes=HALF + FLOATS, atol=1e-4,
    errors=(
        ErrorCase((_IMG, _GRID), {"mode": "bogus"}, match="expected mode to be"),
        ErrorCase((_IMG, _GRID), {"padding_mode": "bogus"}, match="expected padding_mode"),
        ErrorCase((A(np.ones((1, 1, 2, 2, 2), np.float32)),
                   A(np.zeros((1, 2, 2, 2, 3), np.float32))),
                  {"mode": "bicubic", "align_corners": False},
                  match="bicubic interpolation only supports 4D input"),
        ErrorCase((A(np.ones((1, 1, 2), np.float32)), A(np.zeros((1, 2, 1), np.float32))),
                  {"align_corners": False}, match="expected 5D input and grid"),
        ErrorCase((A(np.ones((2, 1, 2, 2), np.float32)), _GRID), {"align_corners": False},
                  match="same batch size"),
        ErrorCase((_IMG, A(np.zeros((1, 2, 2, 3), np.float32))), {"align_corners": False},
                  match="expected grid to have size 2 in last dimension"),
        ErrorCase((A(np.ones((1, 1, 0, 2), np.float32)), _GRID), {"align_corners": False},
                  match="non-empty spatial dimensions"),
        ErrorCase((A(np.ones((1, 1, 2, 2), np.float64)), _GRID), {"align_corners": False},
                  match="expected scalar type Double but found Float"),
        ErrorCase((A(np.ones((1, 1, 2, 2), np.int64)), A(np.zeros((1, 2, 2, 2), np.int64))),
                  {"align_corners": False}, match="not implemented for 'Long'"),
    ))


# -- affine_grid ----------------------------------------------------------------------------------

def _affine_grid(m, theta, size, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners warn
        return _functional(m).affine_grid(theta, size, **kwargs)


def _affine_samples(dtype, rng):
    out = []
    for ac in (False, True):
        out += [
            Sample((A(arr(rng, (1, 2, 3), dtype)), (1, 1, 2, 2)), {"align_corners": ac},
                   name=f"2d-{ac}"),
            Sample((A(arr(rng, (2, 2, 3), dtype)), (2, 3, 3, 4)), {"align_corners": ac},
                   name=f"2d-batch-{ac}"),
            Sample((A(arr(rng, (1, 3, 4), dtype)), (1, 1, 2, 2, 3)), {"align_corners": ac},
                   name=f"3d-{ac}"),
            Sample((A(arr(rng, (1, 2, 3), dtype)), (1, 1, 1, 3)), {"align_corners": ac},
                   name=f"unit-{ac}"),
            Sample((A(arr(rng, (3, 2, 1), dtype), noncontig=True), (1, 2, 3, 2)),
                   {"align_corners": ac}, name=f"noncontig-{ac}"),
        ]
    return out


_THETA = A(np.zeros((1, 2, 3), np.float32))
add("affine_grid_generator", fn=_affine_grid, samples=_affine_samples, dtypes=HALF + FLOATS,
    atol=1e-5, errors=(
        ErrorCase((A(np.zeros((1, 2, 3), np.int64)), (1, 1, 2, 2)), {"align_corners": False},
                  match="Expected theta to have floating point type"),
        ErrorCase((A(np.zeros((1, 3, 3), np.float32)), (1, 1, 2, 2)), {"align_corners": False},
                  match="Expected a batch of 2D affine matrices of shape Nx2x3"),
        ErrorCase((_THETA, (1, 1, 2, 2, 2)), {"align_corners": False},
                  match="Expected a batch of 3D affine matrices of shape Nx3x4"),
        ErrorCase((_THETA, (1, 1, 2)), {"align_corners": False},
                  match="affine_grid only supports 4D and 5D sizes"),
        ErrorCase((_THETA, (1, 1, 0, 2)), {"align_corners": False},
                  match="Expected non-zero, positive output size"),
        ErrorCase((_THETA, (2, 1, 2, 2)), {"align_corners": False},
                  match="Expected size for first two dimensions of batch2 tensor"),
    ))


# -- one entry per mode/option combination: gradcheck and gradgradcheck on tiny inputs ------------

def _tiny(shapes_kwargs):
    def gen(dtype, rng):
        return [Sample(tuple(A(arr(rng, sh, dtype, -1.4, 1.4)) for sh in shapes), kw,
                       name=f"{shapes}-{kw}") for shapes, kw in shapes_kwargs]
    return gen


def _combo(name, fn, cases):
    add(name, fn=fn, samples=_tiny(cases), dtypes=("float64",))


for _mode in ("nearest", "nearest-exact"):
    for _nd in (1, 2, 3):
        _combo(f"upsample_nearest.{_mode}.{_nd}d", _interpolate(_mode), [
            ([(1, 1) + (2,) * _nd], {"size": (3,) * _nd}),
            ([(1, 2) + (2,) * _nd], {"scale_factor": 1.7, "recompute_scale_factor": False}),
            ([(1, 1) + (3,) * _nd], {"scale_factor": 0.7})])
for _mode, _nd in (("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2)):
    for _ac in (False, True):
        _combo(f"upsample_{_mode}.align_corners={_ac}", _interpolate(_mode), [
            ([(1, 1) + (2,) * _nd], {"size": (3,) * _nd, "align_corners": _ac}),
            ([(1, 1) + (3,) * _nd], {"scale_factor": 0.7, "align_corners": _ac,
                                     "recompute_scale_factor": False}),
            ([(1, 1) + (2,) * _nd], {"scale_factor": 1.6, "align_corners": _ac,
                                     "recompute_scale_factor": True})])
for _mode in ("bilinear", "bicubic"):
    for _ac in (False, True):
        _combo(f"upsample_{_mode}_aa.align_corners={_ac}", _interpolate(_mode, antialias=True), [
            ([(1, 1, 2, 3)], {"size": (1, 2), "align_corners": _ac}),
            ([(1, 1, 5, 4)], {"size": (2, 3), "align_corners": _ac}),
            ([(1, 1, 3, 4)], {"scale_factor": (1.6, 0.6), "align_corners": _ac,
                              "recompute_scale_factor": False})])
_combo("upsample_lanczos_aa.align_corners=False", _interpolate("lanczos", antialias=True), [
    ([(1, 1, 2, 3)], {"size": (1, 2)}), ([(1, 1, 5, 4)], {"size": (2, 3)}),
    ([(1, 1, 3, 4)], {"scale_factor": (1.6, 0.6), "recompute_scale_factor": False})])
for _nd in (1, 2, 3):
    _combo(f"upsample_area.{_nd}d", _interpolate("area"), [
        ([(1, 1) + (3,) * _nd], {"size": (2,) * _nd}),
        ([(1, 1) + (2,) * _nd], {"size": (3,) * _nd}),
        ([(1, 1) + (3,) * _nd], {"scale_factor": 0.6})])
for _mode in ("bilinear", "nearest", "bicubic"):
    for _pad in ("zeros", "border", "reflection"):
        for _ac in (False, True):
            _kw = {"mode": _mode, "padding_mode": _pad, "align_corners": _ac}
            _cases = [([(1, 1, 2, 2), (1, 2, 1, 2)], _kw), ([(1, 2, 3, 2), (1, 1, 3, 2)], _kw)]
            if _mode != "bicubic":
                _cases.append(([(1, 1, 2, 1, 2), (1, 1, 2, 1, 3)], _kw))
            _combo(f"grid_sampler.{_mode}.{_pad}.align_corners={_ac}", _grid_sample, _cases)
for _ac in (False, True):
    _combo(f"affine_grid_generator.align_corners={_ac}",
           lambda m, theta, size=None, **kw: _affine_grid(m, theta, size, **kw), [
               ([(1, 2, 3)], {"size": (1, 1, 2, 3), "align_corners": _ac}),
               ([(1, 3, 4)], {"size": (1, 1, 2, 1, 2), "align_corners": _ac})])
