"""Op table entries: convolution, pooling, fold/unfold, padding and shuffle ops (see
``opinfo.py``). The first small sample of each entry is what gradgradcheck runs on."""

from __future__ import annotations

import numpy as np

import ember._api.conv as _conv_api

from .opinfo import ALL_REAL, FLOATS, HALF, A, ErrorCase, Sample, add, arr

_F = np.float32
_CONV_DTYPES = FLOATS + HALF + ("complex128",)
_POOL_DTYPES = FLOATS + HALF + ("int16", "int64")


def _nnf(name):
    """``torch.nn.functional.<name>`` for torch, ember's functional for ember."""
    def fn(m, *args, **kwargs):
        mod = _conv_api if m.__name__ == "ember" else m.nn.functional
        return getattr(mod, name)(*args, **kwargs)
    return fn


def _ones(*shape, dtype=_F):
    return A(np.ones(shape, dtype))


def _samples(cases, low=-2.0, high=2.0):
    """Samples from ``[(shapes, kwargs), ...]``: one tensor per shape (None: no tensor); a shape
    given as ``("nc", shape)`` is made non-contiguous."""
    def gen(dtype, rng):
        out = []
        for shapes, kw in cases:
            args = []
            for s in shapes:
                if s is None:
                    args.append(None)
                elif s and s[0] == "nc":
                    args.append(A(arr(rng, s[1][::-1], dtype, low, high), noncontig=True))
                else:
                    args.append(A(arr(rng, s, dtype, low, high)))
            out.append(Sample(tuple(args), kw, name=f"{shapes} {kw}"))
        return out
    return gen


# -- convolution ----------------------------------------------------------------------------------

_CONV_CASES = {
    1: [([(1, 2, 4), (2, 1, 3), (2,)], {"groups": 2, "padding": 1}),
        ([(1, 2, 5), (3, 2, 2), (3,)], {"stride": 2, "padding": 1, "dilation": 2}),
        ([(2, 5), (3, 2, 3)], {"padding": "same"}),
        ([(2, 4, 9), (6, 2, 3), (6,)], {"groups": 2, "stride": 2}),
        ([("nc", (2, 3, 6)), (4, 3, 2)], {"padding": "valid"}),
        ([(0, 2, 5), (3, 2, 2)], {}),
        ([(1, 2, 6), (3, 2, 4)], {"padding": "same", "dilation": 2})],
    2: [([(1, 1, 3, 3), (1, 1, 2, 2), (1,)], {}),
        ([(1, 2, 3, 4), (2, 1, 2, 2), (2,)], {"groups": 2, "stride": (1, 2), "padding": (1, 0)}),
        ([(1, 1, 4, 5), (2, 1, 2, 3)], {"padding": "same", "dilation": (2, 1)}),
        ([(2, 3, 5, 5), (6, 1, 3, 3), (6,)], {"groups": 3, "padding": 1}),
        ([(2, 4, 7, 6), (4, 2, 3, 2)], {"stride": 2, "padding": 1, "dilation": 2,
                                        "groups": 2}),
        ([(3, 5, 5), (2, 3, 3, 3), (2,)], {"stride": 2}),
        ([("nc", (2, 3, 4, 5)), (2, 3, 2, 2)], {}),
        ([(2, 3, 4, 4), (4, 3, 1, 1)], {})],
    3: [([(1, 1, 2, 2, 3), (1, 1, 2, 1, 2)], {}),
        ([(1, 2, 3, 3, 3), (2, 2, 2, 2, 2), (2,)], {"stride": 2, "padding": 1}),
        ([(2, 4, 3, 4, 3), (4, 2, 2, 2, 1)], {"groups": 2, "dilation": (1, 2, 1)}),
        ([(2, 3, 3, 4), (2, 2, 2, 2, 2)], {"padding": "same"})],
}
_CONV_T_CASES = {
    1: [([(1, 2, 3), (2, 1, 2), (2,)], {"groups": 2, "stride": 2}),
        ([(1, 2, 4), (2, 2, 3), (2,)], {"stride": 2, "padding": 1, "output_padding": 1}),
        ([(2, 4), (2, 3, 2)], {"dilation": 2, "stride": 3, "output_padding": 2}),
        ([(2, 4, 5), (4, 3, 3), (6,)], {"groups": 2, "stride": 2, "padding": 2})],
    2: [([(1, 1, 2, 2), (1, 1, 2, 2), (1,)], {"stride": 2}),
        ([(1, 2, 3, 2), (2, 1, 2, 3)], {"stride": (2, 1), "padding": (1, 0),
                                        "output_padding": (1, 0)}),
        ([(2, 4, 3, 3), (4, 2, 3, 3), (4,)], {"groups": 2, "stride": 2, "padding": 1,
                                              "output_padding": 1, "dilation": 1}),
        ([(3, 4, 3), (3, 2, 2, 2)], {"dilation": 2}),
        ([("nc", (2, 3, 3, 4)), (3, 2, 3, 1)], {"stride": 3, "dilation": (1, 2)}),
        # stride and dilation with a common factor; padding past the kernel's reach
        ([(1, 2, 3, 4), (2, 3, 4, 3)], {"stride": 2, "padding": (1, 2), "dilation": 2}),
        ([(1, 2, 4, 3), (2, 1, 2, 2)], {"stride": (2, 3), "padding": (3, 1),
                                        "output_padding": (1, 2)})],
    3: [([(1, 1, 2, 1, 2), (1, 1, 2, 2, 1)], {"stride": 2}),
        ([(1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,)], {"stride": 2, "padding": 1,
                                                    "output_padding": 1})],
}

_W = A(np.ones((4, 3, 3, 3), _F))
for _d in (1, 2, 3):
    add(f"conv{_d}d", samples=_samples(_CONV_CASES[_d]), dtypes=_CONV_DTYPES, atol=1e-4,
        rtol=1e-4, errors=(
            ErrorCase((_ones(*(2,) * (_d + 3)), A(np.ones((4, 2) + (1,) * _d, _F))),
                      match=f"input to conv{_d}d"),
            ErrorCase((_ones(2, 2, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d, _F))),
                      match="to have 3 channels, but got 2 channels"),
            ErrorCase((_ones(2, 3, *(2,) * _d), A(np.ones((4, 3) + (3,) * _d, _F))),
                      match="Kernel size can't be greater than actual input size"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d, _F))),
                      {"stride": 0}, match="non-positive stride"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d, _F))),
                      {"padding": -1}, match="negative padding"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d, _F)),
                       _ones(3)), match="expected bias to be 1-dimensional with 4 elements"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d, _F))),
                      {"padding": "same", "stride": 2}, match="strided convolutions"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d, _F))),
                      {"padding": "full"}, match="Invalid padding string"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 1) + (3,) * _d, _F))),
                      {"groups": 3}, match="divisible by 3 at dimension 0"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 3) + (3,) * _d)))
                      , match="should be the same"),
            ErrorCase((A(np.ones((2, 3) + (5,) * _d, bool)),
                       A(np.ones((4, 3) + (3,) * _d, bool))), match="Bool"),
        ))
    # PyTorch's float16 transposed convolution rounds differently (beyond 1e-3)
    add(f"conv_transpose{_d}d", samples=_samples(_CONV_T_CASES[_d]),
        dtypes=FLOATS + ("bfloat16", "complex128"),
        atol=1e-4, rtol=1e-4, errors=(
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((4, 4) + (3,) * _d, _F))),
                      match="to have 4 channels, but got 3 channels"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((3, 4) + (3,) * _d, _F))),
                      {"stride": 2, "output_padding": 2},
                      match="output padding must be smaller than either stride or dilation"),
            ErrorCase((_ones(2, 3, *(5,) * _d), A(np.ones((3, 4) + (3,) * _d, _F))),
                      {"padding": -1}, match="negative padding"),
        ))

add("convolution", samples=lambda d, r: [
    Sample((A(arr(r, (1, 2, 4), d)), A(arr(r, (2, 1, 2), d)), None, (1,), (1,), (1,), False,
            (0,), 2), name="conv"),
    Sample((A(arr(r, (2, 3, 4, 4), d)), A(arr(r, (3, 2, 3, 3), d)), A(arr(r, (2,), d)), (2, 2),
            (1, 1), (1, 1), True, (1, 1), 1), name="transposed")],
    dtypes=FLOATS, atol=1e-4, rtol=1e-4)


def _conv_input_grad(m, g, w, size, **kw):
    """The gradient of conv{d}d w.r.t. its input: ``convolution_transpose`` in ember."""
    d = w.ndim - 2
    if m.__name__ == "ember":
        st, pd, dl = (_conv_api._ntuple(kw.get(k, v), d, "") for k, v in
                      (("stride", 1), ("padding", 0), ("dilation", 1)))
        return m._functional.apply(m._ops.REGISTRY["convolution_transpose"], (g, w, None), {
            "stride": st, "padding": pd, "dilation": dl, "groups": kw.get("groups", 1),
            "output_size": size[2:]})
    return getattr(m.nn.grad, f"conv{d}d_input")(size, w, g, **kw)


def _conv_weight_grad(m, x, g, size, **kw):
    """The gradient of conv{d}d w.r.t. its weight: ``convolution_weight`` in ember."""
    d = x.ndim - 2
    if m.__name__ == "ember":
        st, pd, dl = (_conv_api._ntuple(kw.get(k, v), d, "") for k, v in
                      (("stride", 1), ("padding", 0), ("dilation", 1)))
        return m._functional.apply(m._ops.REGISTRY["convolution_weight"], (x, g), {
            "stride": st, "padding": pd, "dilation": dl, "groups": kw.get("groups", 1),
            "kernel_size": size[2:]})
    return getattr(m.nn.grad, f"conv{d}d_weight")(x, size, g, **kw)


add("convolution_transpose", fn=_conv_input_grad, samples=lambda d, r: [
    Sample((A(arr(r, (1, 2, 2), d)), A(arr(r, (2, 1, 2), d)), (1, 1, 3)), name="1d"),
    Sample((A(arr(r, (1, 2, 3, 2), d)), A(arr(r, (2, 1, 2, 2), d)), (1, 2, 5, 4)),
           {"stride": 2, "padding": (1, 0), "groups": 2}, name="2d rows past the last window"),
    Sample((A(arr(r, (2, 4, 3, 3), d)), A(arr(r, (4, 3, 3, 2), d)), (2, 3, 6, 6)),
           {"stride": 2, "padding": 1, "dilation": (1, 2)}, name="2d dilated")],
    dtypes=FLOATS, atol=1e-4, rtol=1e-4)
add("convolution_weight", fn=_conv_weight_grad, samples=lambda d, r: [
    Sample((A(arr(r, (1, 1, 4), d)), A(arr(r, (1, 2, 2), d)), (2, 1, 2)),
           {"stride": 2}, name="1d"),
    Sample((A(arr(r, (1, 2, 5, 4), d)), A(arr(r, (1, 2, 3, 2), d)), (2, 1, 3, 2)),
           {"stride": 2, "padding": (1, 0), "groups": 2}, name="2d"),
    Sample((A(arr(r, (2, 3, 5, 5), d)), A(arr(r, (2, 4, 3, 3), d)), (4, 3, 3, 2)),
           {"stride": 2, "padding": 1, "dilation": (1, 2)}, name="2d dilated")],
    dtypes=FLOATS, atol=1e-4, rtol=1e-4)

# -- unfold / fold --------------------------------------------------------------------------------

add("im2col", fn=_nnf("unfold"), samples=_samples([
    ([(1, 1, 3, 3)], {"kernel_size": 2}),
    ([(2, 3, 5, 4)], {"kernel_size": (2, 3), "padding": 1, "stride": (2, 1),
                      "dilation": (1, 2)}),
    ([(3, 4, 4)], {"kernel_size": 3, "padding": 1}),
    ([("nc", (1, 2, 4, 5))], {"kernel_size": 2, "stride": 2})]),
    dtypes=FLOATS + ("float16",),
    errors=(ErrorCase((_ones(2, 3, 4, 4, 4), 2), match="3D or 4D"),
            ErrorCase((A(np.ones((2, 3, 4, 4), np.int64)), 2), match="Long"),
            ErrorCase((_ones(2, 3, 4, 4), 5), match="must be at least one")))
add("col2im", fn=_nnf("fold"), samples=_samples([
    ([(1, 4, 1)], {"output_size": (2, 2), "kernel_size": 2}),
    ([(1, 4, 4)], {"output_size": (3, 3), "kernel_size": 2}),
    ([(2, 18, 12)], {"output_size": (5, 4), "kernel_size": (2, 3), "padding": 1,
                     "stride": (2, 1), "dilation": (1, 2)}),
    ([(12, 4)], {"output_size": 4, "kernel_size": 2, "stride": 2})]),
    dtypes=FLOATS + ("float16",),
    errors=(ErrorCase((_ones(2, 13, 16), (5, 5), 2), match="divisible by the product"),
            ErrorCase((_ones(2, 12, 15), (5, 5), 2), match="calculated number of sliding")))

# -- pooling --------------------------------------------------------------------------------------

_MAX_CASES = {
    1: [([(1, 1, 4)], {"kernel_size": 2, "stride": 1}),
        ([(2, 3, 9)], {"kernel_size": 3, "stride": 2, "padding": 1, "return_indices": True}),
        ([(3, 8)], {"kernel_size": 2, "dilation": 2, "ceil_mode": True,
                    "return_indices": True}),
        ([(2, 2, 6)], {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True,
                       "return_indices": True})],
    2: [([(1, 1, 3, 3)], {"kernel_size": 2, "stride": 1}),
        ([(2, 3, 6, 6)], {"kernel_size": 2, "return_indices": True}),
        ([(2, 2, 7, 5)], {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1),
                          "dilation": (1, 2), "return_indices": True}),
        ([(3, 5, 5)], {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1,
                       "return_indices": True}),
        ([("nc", (2, 2, 4, 5))], {"kernel_size": 2, "return_indices": True})],
    3: [([(1, 1, 2, 2, 3)], {"kernel_size": 2, "stride": 1}),
        ([(1, 2, 4, 5, 4)], {"kernel_size": (2, 3, 2), "stride": 2, "padding": 1,
                             "return_indices": True}),
        ([(2, 3, 4, 5)], {"kernel_size": 2, "ceil_mode": True, "dilation": (1, 1, 2),
                          "return_indices": True})],
}
for _d in (1, 2, 3):
    add(f"max_pool{_d}d", fn=_nnf(f"max_pool{_d}d"), samples=_samples(_MAX_CASES[_d]),
        dtypes=_POOL_DTYPES, errors=(
            ErrorCase((_ones(2, 3, *(5,) * _d), 3), {"padding": 2},
                      match="pad should be at most half of effective kernel size"),
            ErrorCase((_ones(2, 3, *(5,) * _d), 7), match="Output size is too small"),
            ErrorCase((_ones(2, 3, *(5,) * _d), 2), {"stride": 0},
                      match="stride should not be zero"),
            ErrorCase((_ones(*(5,) * _d), 2), match="tensor"),
            ErrorCase((A(np.ones((2, 3) + (4,) * _d, bool)), 2), match="Bool"),
        ))
add("max_pool", fn=lambda m, *a, **k: m.max_pool1d_with_indices(*a, **k),
    samples=_samples([([(1, 2, 5)], {"kernel_size": 2, "stride": 1}),
                      ([(2, 3, 7)], {"kernel_size": 3, "padding": 1, "ceil_mode": True})]),
    dtypes=FLOATS)
add("max_pool_top_level", fn=lambda m, *a, **k: m.max_pool2d(*a, **k),
    samples=_samples([([(1, 1, 3, 2)], {"kernel_size": 2})]), dtypes=FLOATS)


def _tie_samples(dtype, rng):
    """Equal values (first one wins), -inf everywhere (index inside the input) and NaN."""
    x = np.zeros((1, 1, 4, 4), dtype)
    y = np.full((1, 1, 3, 3), -np.inf, dtype) if dtype in FLOATS else x
    return [Sample((A(x, grad=False), 3), {"stride": 1, "padding": 1, "return_indices": True}),
            Sample((A(y, grad=False), 2), {"stride": 1, "padding": 1, "return_indices": True})]


add("max_pool2d_ties", fn=_nnf("max_pool2d"), samples=_tie_samples, dtypes=FLOATS + ("int64",),
    grad=False)


def _winner_samples(dtype, rng):
    """Inputs whose winners the gradient must find as PyTorch does: ties after a ReLU (the
    first wins), NaN (the last wins), -inf windows (the first element inside the input),
    overlapping, dilated and padded windows. Over 30 elements, so that gradcheck (invalid at
    ties) skips them."""
    relu = np.maximum(rng.standard_normal((2, 2, 6, 6)), 0).astype(dtype)
    odd = rng.standard_normal((1, 2, 6, 6)).astype(dtype)
    odd[0, 0, 1, 1] = odd[0, 0, 2, 3] = np.nan
    odd[0, 1, :3, :3] = -np.inf
    return [Sample((A(relu), 2)),
            Sample((A(relu, noncontig=True), 3), {"stride": 2, "padding": 1}),
            Sample((A(relu), (2, 3)), {"stride": 1, "dilation": (2, 1)}),
            Sample((A(odd), 2)),
            Sample((A(odd), 3), {"stride": 1, "padding": 1})]


add("max_pool_values", fn=_nnf("max_pool2d"), samples=_winner_samples, gradgrad=False)


def _pool_double_backward(m, x, g, **kw):
    """The gradient of ``max_pool2d``'s input gradient, a function of ``x`` and ``g``."""
    y = (_conv_api if m.__name__ == "ember" else m.nn.functional).max_pool2d(x, **kw)
    return m.autograd.grad(y, x, g, create_graph=True)[0]


add("max_pool_backward", fn=_pool_double_backward, samples=_samples([
    ([(1, 2, 4, 4), (1, 2, 2, 2)], {"kernel_size": 2}),
    ([(2, 1, 5, 5), (2, 1, 3, 3)], {"kernel_size": 3, "stride": 2, "padding": 1}),
    ([(1, 1, 5, 4), (1, 1, 4, 3)], {"kernel_size": 2, "stride": 1})]))

_AVG_CASES = {
    1: [([(1, 1, 4)], {"kernel_size": 2, "stride": 1}),
        ([(2, 3, 9)], {"kernel_size": 3, "stride": 2, "padding": 1}),
        ([(3, 8)], {"kernel_size": 3, "padding": 1, "ceil_mode": True,
                    "count_include_pad": False}),
        ([(2, 2, 6)], {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True})],
    2: [([(1, 1, 3, 3)], {"kernel_size": 2, "stride": 1}),
        ([(2, 3, 6, 6)], {"kernel_size": 2}),
        ([(2, 2, 7, 5)], {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1),
                          "count_include_pad": False}),
        ([(3, 5, 5)], {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1}),
        ([(2, 2, 5, 5)], {"kernel_size": 2, "ceil_mode": True, "divisor_override": 3}),
        ([(2, 2, 5, 5)], {"kernel_size": 3, "padding": 1, "stride": 2, "ceil_mode": True,
                          "count_include_pad": False}),
        ([("nc", (2, 2, 4, 5))], {"kernel_size": 2})],
    3: [([(1, 1, 2, 2, 3)], {"kernel_size": 2, "stride": 1}),
        ([(1, 2, 4, 5, 4)], {"kernel_size": (2, 3, 2), "stride": 2, "padding": 1,
                             "count_include_pad": False}),
        ([(2, 3, 4, 5)], {"kernel_size": 2, "ceil_mode": True, "divisor_override": 5})],
}
for _d in (1, 2, 3):
    add(f"avg_pool{_d}d", fn=_nnf(f"avg_pool{_d}d"), samples=_samples(_AVG_CASES[_d]),
        dtypes=FLOATS + HALF + ("int64",), atol=1e-4, rtol=1e-4, errors=(
            ErrorCase((_ones(2, 3, *(5,) * _d), 3), {"padding": 2},
                      match="pad should be at most half of effective kernel size"),
            ErrorCase((_ones(2, 3, *(5,) * _d), 7), match="Output size is too small"),
            ErrorCase((A(np.ones((2, 3) + (4,) * _d, np.int32)), 2), match="Int"),
        ) + ((ErrorCase((_ones(2, 3, *(5,) * _d), 2), {"divisor_override": 0},
                        match="divisor must be not zero"),) if _d > 1 else ()))

_ADAPTIVE = {
    1: [([(1, 2, 5)], {"output_size": 3}), ([(2, 3, 7)], {"output_size": 4}),
        ([(3, 6)], {"output_size": 6}), ([(2, 2, 5)], {"output_size": 1})],
    2: [([(1, 1, 3, 3)], {"output_size": 2}), ([(2, 3, 7, 5)], {"output_size": (3, 2)}),
        ([(3, 5, 6)], {"output_size": (None, 4)}), ([(2, 2, 4, 4)], {"output_size": 1}),
        ([("nc", (2, 2, 5, 7))], {"output_size": (2, 3)})],
    3: [([(1, 1, 2, 2, 3)], {"output_size": (1, 2, 2)}),
        ([(2, 3, 5, 4, 6)], {"output_size": (2, 3, 4)}), ([(2, 3, 3, 4)], {"output_size": 2})],
}
for _d in (1, 2, 3):
    add(f"adaptive_avg_pool{_d}d", fn=_nnf(f"adaptive_avg_pool{_d}d"),
        samples=_samples(_ADAPTIVE[_d]), dtypes=FLOATS + HALF, atol=1e-4, rtol=1e-4, errors=(
            ErrorCase((_ones(*(3,) * _d), 2), match="Expected"),
            ErrorCase((A(np.ones((2, 3) + (4,) * _d, np.int64)), 2), match="Long"),
            ErrorCase((_ones(2, 3, *(0,) * _d), 2), match="non-zero size"),
        ))
    add(f"adaptive_max_pool{_d}d", fn=_nnf(f"adaptive_max_pool{_d}d"), samples=_samples(
        [(s, dict(kw, return_indices=i % 2 == 1)) for i, (s, kw) in enumerate(_ADAPTIVE[_d])]),
        dtypes=FLOATS + HALF, errors=(
            ErrorCase((_ones(*(3,) * _d), 2), match="Expected"),
            ErrorCase((A(np.ones((2, 3) + (4,) * _d, np.int64)), 2), match="Long"),
            ErrorCase((_ones(2, 3, *(0,) * _d), 2), match="non-zero size"),
        ))
add("adaptive_max_pool", fn=lambda m, *a, **k: m.adaptive_max_pool1d(*a, **k),
    samples=_samples([([(1, 2, 5)], {"output_size": 3}), ([(2, 3, 7)], {"output_size": 2})]),
    dtypes=FLOATS)

_LP = {1: [([(1, 1, 4)], {"norm_type": 2, "kernel_size": 2}),
           ([(2, 3, 9)], {"norm_type": 1.5, "kernel_size": 3, "stride": 2, "ceil_mode": True}),
           ([(2, 5)], {"norm_type": float("inf"), "kernel_size": 2})],
       2: [([(1, 1, 3, 3)], {"norm_type": 2, "kernel_size": 2, "stride": 1}),
           ([(2, 2, 5, 6)], {"norm_type": 3, "kernel_size": (2, 3), "stride": 2,
                             "ceil_mode": True}),
           ([(2, 4, 4)], {"norm_type": float("inf"), "kernel_size": 2})],
       3: [([(1, 1, 2, 2, 3)], {"norm_type": 2, "kernel_size": 2, "stride": 1}),
           ([(1, 2, 4, 4, 4)], {"norm_type": 1.5, "kernel_size": 2})]}
for _d in (1, 2, 3):
    add(f"lp_pool{_d}d", fn=_nnf(f"lp_pool{_d}d"), samples=_samples(_LP[_d], 0.5, 2.0),
        dtypes=FLOATS, atol=1e-4, rtol=1e-4)


def _fractional(d):
    def gen(dtype, rng):
        out = []
        for shape, kw in {2: [((1, 1, 3, 4), {"kernel_size": 2, "output_size": 2}),
                              ((2, 3, 7, 6), {"kernel_size": (2, 3), "output_size": (4, 3),
                                              "return_indices": True}),
                              ((2, 5, 6), {"kernel_size": 2, "output_ratio": (0.5, 0.5)}),
                              ((1, 2, 9, 8), {"kernel_size": 3, "output_size": 1})],
                          3: [((1, 1, 3, 2, 2), {"kernel_size": (2, 1, 1), "output_size": 1}),
                              ((1, 1, 3, 3, 2), {"kernel_size": (1, 2, 1),
                                                 "output_size": (2, 2, 1)}),
                              ((2, 2, 5, 6, 5), {"kernel_size": 2, "output_size": (3, 4, 2),
                                                 "return_indices": True})]}[d]:
            n, c = (shape[0], shape[1]) if len(shape) == d + 2 else (1, shape[0])
            smp = rng.random((n, c, d)).astype(dtype)
            out.append(Sample((A(arr(rng, shape, dtype)),),
                              dict(kw, _random_samples=A(smp, grad=False)), name=str(kw)))
        return out
    return gen


for _d in (2, 3):
    add(f"fractional_max_pool{_d}d", fn=_nnf(f"fractional_max_pool{_d}d"),
        samples=_fractional(_d), dtypes=FLOATS, errors=(
            ErrorCase((_ones(2, 3, *(5,) * _d), 2), match="output_size or an output_ratio"),
            ErrorCase((_ones(2, 3, *(5,) * _d), 4), {"output_size": 3}, match="too large"),
        ))
add("fractional_max_pool", fn=lambda m, x, **k: m.nn.functional.fractional_max_pool2d(
    x, **k) if m.__name__ == "torch" else _conv_api.fractional_max_pool2d(x, **k),
    samples=lambda d, r: [Sample((A(arr(r, (1, 1, 3, 3), d)),), {
        "kernel_size": 2, "output_size": 2, "return_indices": True,
        "_random_samples": A(np.array([[[0.3, 0.8]]], d), grad=False)})], dtypes=FLOATS)


def _unpool(d):
    def fn(m, x, **kw):
        f = _nnf(f"max_pool{d}d")
        y, idx = f(m, x, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                   return_indices=True)
        return _nnf(f"max_unpool{d}d")(m, y, idx, **kw)
    return fn


_UNPOOL = {1: [([(1, 1, 4)], {"kernel_size": 2}),
               ([(2, 3, 9)], {"kernel_size": 3, "stride": 2, "padding": 1}),
               ([(2, 7)], {"kernel_size": 2, "output_size": (7,)})],
           2: [([(1, 1, 2, 4)], {"kernel_size": 2}),
               ([(2, 2, 6, 5)], {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 1)}),
               ([(3, 5, 5)], {"kernel_size": 2, "output_size": (5, 5)})],
           3: [([(1, 1, 2, 2, 2)], {"kernel_size": 2}),
               ([(1, 2, 4, 5, 4)], {"kernel_size": 2, "output_size": (1, 2, 5, 5, 4)})]}
for _d in (1, 2, 3):
    add(f"max_unpool{_d}d", fn=_unpool(_d), samples=_samples(_UNPOOL[_d]), dtypes=FLOATS,
        errors=(ErrorCase((_ones(2, 3, *(4,) * _d),), {"kernel_size": 2,
                                                       "output_size": (7,) * _d},
                          match="invalid output_size"),))
add("max_unpool2d_indices", fn=_nnf("max_unpool2d"), samples=lambda d, r: [
    Sample((A(arr(r, (1, 2, 2, 2), d)), A(np.array([[[[0, 3], [9, 14]], [[5, 6], [8, 15]]]])),
            2), name="explicit indices")], dtypes=FLOATS,
    errors=(ErrorCase((_ones(1, 1, 2, 2), A(np.array([[[[0, 3], [9, 16]]]])), 2),
                      match="invalid max index"),))

# -- padding and shuffles -------------------------------------------------------------------------

_PAD = [([(1, 2, 3)], {"pad": (1, 2)}),
        ([(2, 3, 4)], {"pad": (1, 0, 2, 1), "value": 1.5}),
        ([(2, 3)], {"pad": (-1, 1, 1, -1)}),
        ([(3,)], {"pad": (0, 0)}),
        ([(2, 2, 3, 2)], {"pad": (1, 1, 0, 2, 1, 0)}),
        ([("nc", (2, 3, 4))], {"pad": (2, 1)}),
        ([()], {"pad": ()})]
add("constant_pad_nd", fn=lambda m, x, pad, value=0: m.constant_pad_nd(x, pad, value),
    samples=_samples(_PAD), dtypes=ALL_REAL, errors=(
        ErrorCase((_ones(2, 3), (1, 2, 3)), match="even"),
        ErrorCase((_ones(2, 3), (-2, -2)), match="negative output size")))

_PAD_MODES = [([(1, 1, 3)], {"pad": (2, 1)}),
              ([(2, 3, 4)], {"pad": (1, 2)}),
              ([(2, 3, 4, 4)], {"pad": (1, 0, 2, 3)}),
              ([(2, 3, 4)], {"pad": (3, 1, 0, 2)}),
              ([(1, 2, 3, 4, 3)], {"pad": (1, 2, 0, 1, 2, 1)}),
              ([(2, 3, 4, 3)], {"pad": (2, 1, 0, 1, 1, 2)}),
              ([(2, 3, 5)], {"pad": (-1, 2)}),
              ([("nc", (2, 3, 4))], {"pad": (1, 1, 1, 1)})]
for _mode in ("constant", "reflect", "replicate", "circular"):
    add(f"pad_{_mode}", fn=(lambda mode: lambda m, x, *a, **k: _nnf("pad")(
        m, x, *a, mode=mode, **k))(_mode), samples=_samples(_PAD_MODES),
        dtypes=FLOATS + ("int64",), errors=(
        ErrorCase((_ones(2, 3, 5, 5), (1, 2, 3)), match="divisible by 2"),
        ErrorCase((_ones(2, 3, 5, 5), (1,) * 10), match="Padding length should be"),
    ) + ((ErrorCase((_ones(2, 3, 5, 5), (1, 1)), match="not supported for 4D input"),
          ErrorCase((_ones(2, 3, 5, 5), (1, 1, 1, 1)), {"value": 1.0},
                    match="doesn't take in value"),) if _mode != "constant" else ()))
add("pad", fn=_nnf("pad"), samples=lambda d, r: [
    Sample((A(arr(r, (1, 2, 3), d)), (2, 1)), {"mode": "reflect"}),
    Sample((A(arr(r, (2, 3, 3), d)), (1, 1, 2, 0)), {"mode": "replicate"}),
    Sample((A(arr(r, (2, 3, 4), d)), (3, 4, 1, 2)), {"mode": "circular"})],
    dtypes=FLOATS, errors=(
        ErrorCase((_ones(2, 3, 5, 5), (5, 5, 1, 1)), {"mode": "reflect"},
                  match="Padding size should be less than"),
        ErrorCase((_ones(2, 3, 5, 5), (6, 6, 1, 1)), {"mode": "circular"},
                  match="wrapping around more than once"),
        ErrorCase((_ones(2, 3, 5, 5), (1, 1)), {"mode": "foo"}, match="Unrecognised"),
        ErrorCase((A(np.ones((2, 3, 5), bool)), (1, 1)), {"mode": "replicate"},
                  match="Bool")))


def _pad_backward(m, g, x, pad, mode):
    """The gradient of F.pad w.r.t. its input: ``pad_backward`` in ember."""
    if m.__name__ == "ember":
        return m._functional.apply(m._ops.REGISTRY["pad_backward"], (g,), {
            "pad": pad, "mode": mode, "input_size": tuple(x.shape)})
    x = x.detach().requires_grad_(True)
    return m.autograd.grad(m.nn.functional.pad(x, pad, mode=mode), x, g, create_graph=True)[0]


add("pad_backward", fn=_pad_backward, samples=lambda d, r: [
    Sample((A(arr(r, (1, 1, 6), d)), A(arr(r, (1, 1, 3), d), grad=False), (2, 1), mode),
           name=mode) for mode in ("reflect", "replicate", "circular")] + [
    Sample((A(arr(r, (2, 3, 6, 7), d)), A(arr(r, (2, 3, 4, 4), d), grad=False), (1, 2, 0, 2),
            "reflect"), name="2d")], dtypes=FLOATS)

add("pixel_shuffle", fn=lambda m, x, r: m.pixel_shuffle(x, r), samples=_samples([
    ([(1, 4, 1, 2)], {"r": 2}), ([(2, 9, 2, 3)], {"r": 3}), ([(2, 3, 8, 2, 2)], {"r": 2}),
    ([(4, 5, 5)], {"r": 1})]), dtypes=ALL_REAL, errors=(
        ErrorCase((_ones(2, 3, 5, 5), 2), match="divisible by the square"),
        ErrorCase((_ones(4, 5), 2), match="at least 3 dimensions")))
add("pixel_unshuffle", fn=lambda m, x, r: m.pixel_unshuffle(x, r), samples=_samples([
    ([(1, 1, 2, 4)], {"r": 2}), ([(2, 1, 6, 3)], {"r": 3}), ([(2, 3, 2, 4, 4)], {"r": 2})]),
    dtypes=ALL_REAL, errors=(ErrorCase((_ones(2, 3, 5, 5), 2), match="divisible by"),))
add("channel_shuffle", fn=lambda m, x, g: m.channel_shuffle(x, g), samples=_samples([
    ([(1, 4, 2)], {"g": 2}), ([(2, 6, 2, 3)], {"g": 3}), ([(2, 6, 1, 2, 2)], {"g": 2})]),
    dtypes=ALL_REAL, errors=(ErrorCase((_ones(2, 3, 5, 5), 2), match="divisible by groups"),
                             ErrorCase((_ones(4, 6), 2), match="> 2 dims")))

# average pooling's registry ops: the top-level torch.avg_pool1d and the pooling backward
add("avg_pool", fn=lambda m, *a, **k: m.avg_pool1d(*a, **k), samples=_samples([
    ([(1, 2, 5)], {"kernel_size": 2, "stride": 1}),
    ([(2, 3, 7)], {"kernel_size": 3, "padding": 1, "ceil_mode": True,
                   "count_include_pad": False})]), dtypes=FLOATS + ("int64",))


def _avg_pool_backward(m, g, x, **kw):
    """The gradient of avg_pool2d w.r.t. its input: ``avg_pool_backward`` in ember."""
    if m.__name__ == "ember":
        k = _conv_api._ntuple(kw["kernel_size"], 2, "")
        st = _conv_api._ntuple(kw.get("stride") or k, 2, "")
        p = _conv_api._ntuple(kw.get("padding", 0), 2, "")
        return m._functional.apply(m._ops.REGISTRY["avg_pool_backward"], (g,), {
            "kernel_size": k, "stride": st, "padding": p, "out": tuple(g.shape[2:]),
            "input_size": tuple(x.shape[2:]),
            "count_include_pad": kw.get("count_include_pad", True),
            "divisor_override": kw.get("divisor_override")})
    x = x.detach().requires_grad_(True)
    y = m.nn.functional.avg_pool2d(x, **kw)
    return m.autograd.grad(y, x, g, create_graph=True)[0]


add("avg_pool_backward", fn=_avg_pool_backward, samples=lambda d, r: [
    Sample((A(arr(r, (1, 1, 2, 2), d)), A(arr(r, (1, 1, 3, 3), d), grad=False)),
           {"kernel_size": 2, "ceil_mode": True}, name="ceil"),
    Sample((A(arr(r, (2, 2, 3, 3), d)), A(arr(r, (2, 2, 5, 5), d), grad=False)),
           {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
           name="no pad count"),
    Sample((A(arr(r, (1, 2, 2, 3), d)), A(arr(r, (1, 2, 4, 6), d), grad=False)),
           {"kernel_size": 2, "divisor_override": 3}, name="override")], dtypes=FLOATS)
