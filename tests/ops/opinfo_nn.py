"""Op table entries: ``nn.functional`` activations, normalisation, embeddings and losses (see
``opinfo.py``). Entries call ``F.<name>`` of each framework (``_F``); random ops (dropout,
rrelu in training) are tested by their statistics in ``tests/test_nn_functional.py``."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from .opinfo import FLOATS, HALF, INTS, A, ErrorCase, Sample, add, arr

_EMBER_F = None


def _F(m):
    """``torch.nn.functional``, or ember's functions of the same names."""
    global _EMBER_F
    if m.__name__ == "torch":
        return m.nn.functional
    if _EMBER_F is None:
        from ember._api import activation, loss, normalization
        _EMBER_F = SimpleNamespace(**{n: getattr(mod, n) for mod in (activation, normalization,
                                                                      loss)
                                      for n in mod.__all__})
    return _EMBER_F


def _f(name, **fixed):
    return lambda m, *a, **k: getattr(_F(m), name)(*a, **fixed, **k)


_ACT_SHAPES = [(3, 4), (5,), (), (0, 3)]


def _gelu_backward(m, g, x, **k):
    """PyTorch's gelu_backward(grad, x); ember's takes the forward's internal output too."""
    if m.__name__ == "torch":
        return m.ops.aten.gelu_backward(g, x, **k)
    from ember._ops import REGISTRY
    _, s = REGISTRY["gelu"](x.detach(), **k)
    return REGISTRY["gelu_backward"](g, x, s, **k)


def _act_samples(low=-3.0, high=3.0, kwargs=({},), special=()):
    def gen(dtype, rng):
        out = [Sample((A(arr(rng, s, dtype, low, high)),), dict(kw), name=f"{s} {kw}")
               for s in _ACT_SHAPES for kw in kwargs]
        out.append(Sample((A(arr(rng, (4, 3), dtype, low, high), noncontig=True),),
                          dict(kwargs[0]), name="noncontig"))
        if special and dtype in FLOATS:
            out.append(Sample((A(np.array(special, dtype=dtype)),), dict(kwargs[-1]),
                              name="special"))
        return out
    return gen


FLOAT_ONLY = HALF + FLOATS + ("int64", "bool")  # integer inputs: PyTorch's dtype errors
TOL = {"atol": 1e-4, "rtol": 1e-4}

# -- activations ----------------------------------------------------------------------------------

_ACTS = {
    # name: (sample kwargs, extra points, dtypes)
    "gelu": (({}, {"approximate": "tanh"}), (-12.0, -4.0, 0.0, 0.3, 6.0), FLOAT_ONLY),
    "elu": (({}, {"alpha": 0.5}), (-30.0, 0.0, 1.0), FLOAT_ONLY),
    "selu": (({},), (-5.0, 0.0, 2.0), FLOAT_ONLY),
    "celu": (({}, {"alpha": 2.0}), (-5.0, 0.0), FLOAT_ONLY),
    "leaky_relu": (({}, {"negative_slope": 0.2}), (-1.0, 0.0), FLOAT_ONLY),
    "silu": (({},), (-50.0, 0.0, 50.0), FLOAT_ONLY),
    "mish": (({},), (-30.0, 0.0, 30.0), FLOAT_ONLY),
    "softplus": (({}, {"beta": 2.0, "threshold": 3.0}), (-30.0, 25.0), FLOAT_ONLY),
    "softsign": (({},), (0.0,), FLOATS + HALF + ("int64",)),
    "softshrink": (({}, {"lambd": 1.0}), (-0.25, 0.0, 2.0), FLOAT_ONLY),
    "hardshrink": (({}, {"lambd": 1.0}), (-0.25, 0.0, 2.0), FLOAT_ONLY),
    "tanhshrink": (({},), (0.0,), FLOATS + HALF + ("int64",)),
    "hardtanh": (({}, {"min_val": -2.0, "max_val": 0.5}), (-1.5, 0.2), FLOATS + HALF + INTS[2:]),
    "relu6": (({},), (-1.0, 7.0), FLOATS + HALF + INTS[1:]),
    "hardsigmoid": (({},), (-4.0, 1.0, 4.0), FLOAT_ONLY),
    "hardswish": (({},), (-4.0, 1.0, 4.0), FLOAT_ONLY),
    "logsigmoid": (({},), (-60.0, 0.0, 60.0), FLOAT_ONLY),
    "relu": (({},), (-1.0, 1.0), FLOATS),
}
for _n, (_kw, _special, _dt) in _ACTS.items():
    add(_n if _n != "relu" else "relu_functional", fn=_f(_n),
        samples=_act_samples(kwargs=_kw, special=_special), dtypes=_dt, **TOL)

add("gelu_backward", fn=_gelu_backward,
    samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d, -3, 3))), kw)
                          for kw in ({}, {"approximate": "tanh"})], dtypes=FLOATS, **TOL)
add("log_sigmoid", fn=_f("logsigmoid"), samples=_act_samples(), dtypes=FLOATS)
add("threshold", fn=_f("threshold"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), 0.5, -2.0)), Sample((A(arr(r, (5,), d)), 1, 20)),
    Sample((A(np.array([0.5, 0.4, 0.6], dtype=d)), 0.5, 9.0), name="ties")],
    dtypes=FLOATS + HALF + INTS[1:], skip_gradcheck_samples=("ties",))
add("glu", fn=_f("glu"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)),)), Sample((A(arr(r, (4, 3), d)),), {"dim": 0}),
    Sample((A(arr(r, (2, 6, 2), d), noncontig=True),), {"dim": 1})], dtypes=FLOAT_ONLY,
    errors=(ErrorCase((A(np.ones((3, 3), np.float32)),), match="Halving dimension"),
            ErrorCase((A(np.array(1.0, np.float32)),), match="scalars")))
add("prelu", fn=_f("prelu"), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (3,), d, 0, 1)))),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (1,), d, 0, 1)))),
    Sample((A(arr(r, (5,), d)), A(arr(r, (), d, 0, 1))), name="scalar weight"),
    Sample((A(arr(r, (3, 2, 2), d), noncontig=True), A(arr(r, (2,), d, 0, 1))))],
    dtypes=FLOATS + HALF,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(4, np.float32))),
                      match="Mismatch of parameter numbers"),))
add("rrelu", fn=_f("rrelu"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)),)), Sample((A(arr(r, (5,), d)), 0.1, 0.5))],
    dtypes=FLOAT_ONLY)
add("softmin", fn=_f("softmin"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)),), {"dim": 1}), Sample((A(arr(r, (3, 4), d)),), {"dim": 0}),
    Sample((A(arr(r, (2, 3, 4), d), noncontig=True),), {"dim": -1}),
    Sample((A(arr(r, (3, 4), d)),), {"dim": 1, "dtype": None})], dtypes=FLOATS + HALF, **TOL)
add("normalize", fn=_f("normalize"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)),)), Sample((A(arr(r, (3, 4), d)),), {"p": 1.0, "dim": 0}),
    Sample((A(np.zeros((2, 3), d)),), name="zeros"),
    Sample((A(arr(r, (2, 3, 2), d), noncontig=True),), {"dim": -1, "eps": 0.5})],
    dtypes=FLOATS, **TOL, skip_gradcheck_samples=("zeros",))
add("cosine_similarity", fn=_f("cosine_similarity"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)))),
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (1, 4), d))), {"dim": -1}, name="broadcast"),
    Sample((A(arr(r, (4,), d) * 1e-5), A(arr(r, (4,), d))), {"dim": 0, "eps": 1e-3},
           name="tiny norm"),
    Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (2, 3, 4), d))), {"dim": 1})],
    dtypes=FLOATS, **TOL, skip_gradcheck_samples=("tiny norm",))
add("pairwise_distance", fn=_f("pairwise_distance"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)))),
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (4,), d))), {"p": 1.0, "keepdim": True}),
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d))), {"p": 3.0, "eps": 0.1})],
    dtypes=FLOATS, **TOL)
add("pdist", fn=_f("pdist"), samples=lambda d, r: [
    Sample((A(arr(r, (4, 3), d)),)), Sample((A(arr(r, (4, 3), d)),), {"p": 1.0}),
    Sample((A(arr(r, (3, 2), d)),), {"p": math.inf}), Sample((A(arr(r, (1, 3), d)),))],
    dtypes=FLOATS, **TOL,
    errors=(ErrorCase((A(np.ones(3, np.float32)),), match="2D"),))
add("cdist", fn=lambda m, *a, **k: m.cdist(*a, **k), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (2, 4), d)))),
    Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (2, 4), d))), {"p": 1.0}),
    Sample((A(arr(r, (3, 2), d)), A(arr(r, (2, 2), d))), {"p": 3.0}),
    Sample((A(arr(r, (27, 2), d)), A(arr(r, (2, 2), d))), name="mm path"),
    Sample((A(arr(r, (3, 2), d)), A(arr(r, (2, 2), d))),
           {"compute_mode": "use_mm_for_euclid_dist"})],
    dtypes=FLOATS, **TOL, skip_gradcheck_samples=("mm path",),
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((2, 4), np.float32))),
                      match="same number of columns"),))
add("one_hot", fn=_f("one_hot"), samples=lambda d, r: [
    Sample((A(np.array([0, 2, 1])),)), Sample((A(np.array([[0, 2], [1, 1]])), 4)),
    Sample((A(np.zeros(0, np.int64)), 3))], dtypes=("int64",), grad=False,
    errors=(ErrorCase((A(np.array([0, 3])), 3), match="smaller than num_classes"),
            ErrorCase((A(np.array([0.0, 1.0])),), match="LongTensor")))


# -- normalisation --------------------------------------------------------------------------------

def _bn_samples(dtype, rng):
    c = 3
    rm, rv = A(arr(rng, (c,), dtype, -1, 1), grad=False), A(arr(rng, (c,), dtype, 0.5, 2),
                                                             grad=False)
    w, b = A(arr(rng, (c,), dtype)), A(arr(rng, (c,), dtype))
    x = A(arr(rng, (4, c, 2), dtype))
    return [Sample((x, None, None), {"training": True}, name="train no stats"),
            Sample((A(arr(rng, (4, c), dtype)), rm, rv, w, b), {"training": True},
                   name="train 2d"),
            Sample((x, rm, rv, w, b), {"training": True, "momentum": 0.3}, name="train"),
            Sample((x, rm, rv), {"training": False}, name="eval"),
            Sample((A(arr(rng, (2, c, 2, 2), dtype)), rm, rv, w, b), {"training": False,
                                                                      "eps": 0.1}),
            Sample((A(arr(rng, (2, 2, c), dtype), noncontig=True), None, None, w, None),
                   {"training": True}, name="noncontig")]


add("native_batch_norm", fn=_f("batch_norm"), samples=_bn_samples, dtypes=FLOATS + HALF,
    **TOL, errors=(ErrorCase((A(np.ones((1, 3), np.float32)), None, None), {"training": True},
                             match="more than 1 value"),
                   ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(4, np.float32)),
                              A(np.ones(4, np.float32))), match="running_mean"),
                   # PyTorch checks the running statistics before the weight
                   ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(4, np.float32)),
                              A(np.ones(4, np.float32)), A(np.ones(2, np.float32))),
                             match="running_mean should contain 3 elements not 4"),
                   ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones(3, np.float32)),
                              A(np.ones(3, np.float32)), A(np.ones(3, np.float32)),
                              A(np.ones(2, np.float32))), match="bias should contain")))
add("native_layer_norm", fn=_f("layer_norm"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), (4,))),
    Sample((A(arr(r, (2, 3, 4), d)), (3, 4), A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)))),
    Sample((A(arr(r, (2, 3), d)), [3], A(arr(r, (3,), d))), {"eps": 0.1}),
    Sample((A(arr(r, (2, 2, 3), d), noncontig=True), (2,), None, A(arr(r, (2,), d)))),
    Sample((A(arr(r, (0, 4), d)), (4,)), name="empty")],
    dtypes=FLOATS + HALF, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), (4,)), match="normalized_shape"),
            ErrorCase((A(np.ones((2, 3), np.float32)), 3), match="tuple of ints")))
add("native_group_norm", fn=_f("group_norm"), samples=lambda d, r: [
    Sample((A(arr(r, (2, 4, 3), d)), 2)),
    Sample((A(arr(r, (2, 4, 2, 2), d)), 4, A(arr(r, (4,), d)), A(arr(r, (4,), d)))),
    Sample((A(arr(r, (3, 2), d)), 1, A(arr(r, (2,), d))), {"eps": 0.1}),
    Sample((A(arr(r, (3, 4, 2), d), noncontig=True), 2))],
    dtypes=FLOATS + HALF, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3, 2), np.float32)), 2), match="divisible"),))
add("instance_norm", fn=_f("instance_norm"), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3, 4), d)),)),
    Sample((A(arr(r, (2, 3, 2, 2), d)), None, None, A(arr(r, (3,), d)), A(arr(r, (3,), d)))),
    Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (3,), d), grad=False),
            A(arr(r, (3,), d, 0.5, 2), grad=False)), {"use_input_stats": False})],
    dtypes=FLOATS, **TOL)
add("rms_norm", fn=_f("rms_norm"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), (4,))),
    Sample((A(arr(r, (2, 3, 4), d)), (3, 4), A(arr(r, (3, 4), d)))),
    Sample((A(arr(r, (2, 3), d)), [3], A(arr(r, (3,), d))), {"eps": 0.1}),
    Sample((A(arr(r, (2, 2, 3), d), noncontig=True), (2,)))],
    dtypes=FLOATS + HALF, **TOL)
add("local_response_norm", fn=_f("local_response_norm"), samples=lambda d, r: [
    Sample((A(arr(r, (2, 5, 3), d)), 2)),
    Sample((A(arr(r, (2, 4, 2, 2), d)), 3), {"alpha": 0.1, "beta": 0.5, "k": 2.0}),
    Sample((A(arr(r, (1, 3, 2, 1, 2), d)), 4))],
    dtypes=FLOATS, **TOL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), 2), match="3D or higher"),))


# -- embeddings -----------------------------------------------------------------------------------

def _ids(*rows):
    return A(np.array(rows, dtype=np.int64))


add("embedding", fn=_f("embedding"), samples=lambda d, r: [
    Sample((_ids(1, 2, 1, 4), A(arr(r, (5, 3), d)))),
    Sample((_ids([0, 2], [2, 2]), A(arr(r, (5, 3), d))), {"padding_idx": 2}, name="padding"),
    Sample((_ids(1, 3, 1, 1), A(arr(r, (5, 3), d))), {"scale_grad_by_freq": True},
           name="scale_grad_by_freq"),
    Sample((A(np.array(3)), A(arr(r, (5, 3), d))), {"padding_idx": -1}, name="0-d")],
    dtypes=FLOATS + HALF, skip_gradcheck_samples=("scale_grad_by_freq", "padding", "0-d"),
    errors=(ErrorCase((_ids(5), A(np.ones((5, 3), np.float32))), match="out of range"),
            ErrorCase((A(np.array([0.0])), A(np.ones((5, 3), np.float32))), match="Long")))
add("embedding_renorm", fn=lambda m, w, i, **k: _F(m).embedding(i, w.detach().clone(),
                                                               max_norm=1.0, **k),
    samples=lambda d, r: [Sample((A(arr(r, (5, 3), d)), _ids(1, 2, 1))),
                          Sample((A(arr(r, (5, 3), d)), _ids(0, 4)), {"norm_type": 1.0})],
    dtypes=FLOATS, grad=False)
add("embedding_bag", fn=_f("embedding_bag"), samples=lambda d, r: [
    Sample((_ids([1, 2, 4], [0, 0, 3]), A(arr(r, (5, 3), d)))),
    Sample((_ids(1, 2, 4, 0, 3, 3), A(arr(r, (5, 3), d)), _ids(0, 2, 2)), {"mode": "sum"},
           name="offsets, empty bag"),
    Sample((_ids(1, 2, 4, 0, 3), A(arr(r, (5, 3), d)), _ids(0, 1, 4)), {"mode": "max"},
           name="max"),
    Sample((_ids(1, 2, 4, 0), A(arr(r, (5, 3), d)), _ids(0, 1, 4)),
           {"mode": "mean", "include_last_offset": True}, name="include_last_offset"),
    Sample((_ids(1, 2, 4, 2), A(arr(r, (5, 3), d)), _ids(0, 2)),
           {"mode": "sum", "per_sample_weights": A(arr(r, (4,), d))}, name="psw"),
    Sample((_ids([1, 2, 2], [2, 2, 3]), A(arr(r, (5, 3), d))),
           {"mode": "mean", "padding_idx": 2}, name="padding mean"),
    Sample((_ids([1, 2, 2], [2, 2, 3]), A(arr(r, (5, 3), d))),
           {"mode": "max", "padding_idx": 2}, name="padding max")],
    dtypes=FLOATS, nondeterministic_ties=True,
    errors=(ErrorCase((_ids(1, 2), A(np.ones((5, 3), np.float32))), match="offsets"),))


# -- losses ---------------------------------------------------------------------------------------

_RED = ("mean", "sum", "none")


def _pair_samples(tgt_low=-2.0, tgt_high=2.0, extra=({},), target_grad=True, low=-2.0,
                  high=2.0):
    def gen(dtype, rng):
        out = []
        for red in _RED:
            for kw in extra:
                out.append(Sample((A(arr(rng, (3, 4), dtype, low, high)),
                                   A(arr(rng, (3, 4), dtype, tgt_low, tgt_high),
                                     grad=target_grad)), dict(kw, reduction=red),
                                  name=f"{red} {kw}"))
        out.append(Sample((A(arr(rng, (4, 3), dtype, low, high), noncontig=True),
                           A(arr(rng, (3, 4), dtype, tgt_low, tgt_high), grad=target_grad)),
                          dict(extra[0]), name="noncontig"))
        out.append(Sample((A(arr(rng, (), dtype, low, high)),
                           A(arr(rng, (), dtype, tgt_low, tgt_high), grad=target_grad)),
                          dict(extra[-1]), name="0-d"))
        return out
    return gen


_BAD_RED = ErrorCase((A(np.ones(3, np.float32)), A(np.ones(3, np.float32))),
                     {"reduction": "foo"}, match="not a valid value")

add("l1_loss", fn=_f("l1_loss"), samples=_pair_samples(), dtypes=FLOATS, errors=(_BAD_RED,))
add("l1_loss_weight", fn=_f("l1_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), None, None, red,
            A(arr(r, (3, 4), d, 0.5, 1))), name=red) for red in _RED], dtypes=FLOATS)
add("mse_loss", fn=_f("mse_loss"), samples=_pair_samples(), dtypes=FLOATS, errors=(_BAD_RED,))
add("mse_loss_weight", fn=_f("mse_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d))),
           {"reduction": red, "weight": A(arr(r, (3, 4), d, 0.5, 1))}, name=red)
    for red in _RED], dtypes=FLOATS)
add("smooth_l1_loss", fn=_f("smooth_l1_loss"),
    samples=_pair_samples(extra=({}, {"beta": 0.5}, {"beta": 0.0})), dtypes=FLOATS,
    errors=(_BAD_RED,))
add("huber_loss", fn=_f("huber_loss"), samples=_pair_samples(extra=({}, {"delta": 0.5})),
    dtypes=FLOATS, errors=(_BAD_RED,))
add("soft_margin_loss", fn=_f("soft_margin_loss"), samples=_pair_samples(), dtypes=FLOATS)
add("kl_div", fn=_f("kl_div"), samples=_pair_samples(
    0.1, 1.0, extra=({}, {"log_target": True}), high=-0.1, low=-3), dtypes=FLOATS)
add("kl_div_batchmean", fn=_f("kl_div", reduction="batchmean"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d, -3, -0.1)), A(arr(r, (3, 4), d, 0.1, 1))))], dtypes=FLOATS)
add("poisson_nll_loss", fn=_f("poisson_nll_loss"), samples=_pair_samples(
    0.5, 3.0, extra=({}, {"log_input": False}, {"full": True}), low=0.2, high=2.0),
    dtypes=FLOATS)
add("gaussian_nll_loss", fn=_f("gaussian_nll_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d, 0.1, 1))),
           {"reduction": red}, name=red) for red in _RED] + [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(arr(r, (3,), d, 0.1, 1))),
           {"full": True}, name="homoscedastic"),
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(arr(r, (3, 1), d, 0.0, 1e-3))),
           {"eps": 1e-4}, name="clamped")],
    dtypes=FLOATS, **TOL,
    errors=(ErrorCase((A(np.ones((3, 4), np.float32)), A(np.ones((3, 4), np.float32)),
                       A(np.ones((2,), np.float32))), match="incorrect size"),))


def _bce_samples(dtype, rng):
    out = []
    for red in _RED:
        out.append(Sample((A(arr(rng, (3, 4), dtype, 0.05, 0.95)),
                           A(arr(rng, (3, 4), dtype, 0, 1))), {"reduction": red}, name=red))
    out.append(Sample((A(arr(rng, (3, 4), dtype, 0.05, 0.95)), A(arr(rng, (3, 4), dtype, 0, 1)),
                       A(arr(rng, (4,), dtype, 0.5, 2), grad=False)), name="weight"))
    out.append(Sample((A(np.array([0.0, 1.0, 0.5], dtype)), A(np.array([0.0, 1.0, 1.0], dtype))),
                      name="edges"))
    return out


add("binary_cross_entropy", fn=_f("binary_cross_entropy"), samples=_bce_samples,
    dtypes=FLOATS, skip_gradcheck_samples=("edges",),
    errors=(ErrorCase((A(np.array([0.5, 1.5], np.float32)), A(np.array([0.0, 1.0], np.float32))),
                      match="between 0 and 1"),))
add("binary_cross_entropy_with_logits", fn=_f("binary_cross_entropy_with_logits"),
    samples=lambda d, r: [
        Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d, 0, 1))), {"reduction": red},
               name=red) for red in _RED] + [
        Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d, 0, 1))),
               {"weight": A(arr(r, (4,), d, 0.5, 2)), "pos_weight": A(arr(r, (4,), d, 0.5, 3))},
               name="weights"),
        Sample((A(np.array([-200.0, 0.0, 200.0], d)), A(np.array([1.0, 0.5, 0.0], d))),
               name="large")],
    dtypes=FLOATS,
    errors=(ErrorCase((A(np.ones(3, np.float32)), A(np.ones(2, np.float32))),
                      match="must be the same as input size"),))
add("multilabel_soft_margin_loss", fn=_f("multilabel_soft_margin_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A((r.random((3, 4)) > 0.5).astype(d), grad=False)),
           {"reduction": red}, name=red) for red in _RED] + [
    Sample((A(arr(r, (3, 4), d)), A((r.random((3, 4)) > 0.5).astype(d), grad=False),
            A(arr(r, (4,), d, 0.5, 2), grad=False)), name="weight")], dtypes=FLOATS)


def _nll_samples(log=True):
    def gen(dtype, rng):
        def x(shape):
            a = arr(rng, shape, dtype, -3, 0 if log else 3)
            return A(a)
        t = A(rng.integers(0, 4, (3,)))
        w = A(arr(rng, (4,), dtype, 0.5, 2), grad=False)
        out = [Sample((x((3, 4)), t), {"reduction": red}, name=red) for red in _RED]
        out += [Sample((x((3, 4)), t, w), {"reduction": red}, name=f"weight {red}")
                for red in _RED]
        out.append(Sample((x((3, 4)), A(np.array([1, -100, 3]))), name="ignore"))
        out.append(Sample((x((3, 4)), A(np.array([1, 2, 2])), w),
                          {"ignore_index": 2, "reduction": "mean"}, name="ignore weight"))
        out.append(Sample((x((2, 4, 3)), A(rng.integers(0, 4, (2, 3)))), name="K-dim"))
        out.append(Sample((x((2, 4, 2, 2)), A(rng.integers(0, 4, (2, 2, 2))), w),
                          {"reduction": "none"}, name="K-dim 2"))
        out.append(Sample((x((4,)), A(np.array(2))), name="unbatched"))
        out.append(Sample((A(arr(rng, (4, 3), dtype, -3, 0), noncontig=True), t),
                          name="noncontig"))
        return out
    return gen


_NLL_ERRORS = (ErrorCase((A(np.zeros((3, 4), np.float32)), A(np.array([1, 2]))),
                         match="batch_size"),
               ErrorCase((A(np.zeros((3, 4), np.float32)), A(np.array([1, 2, 7]))),
                         match="out of bounds"),
               ErrorCase((A(np.zeros((3, 4), np.float32)), A(np.array([1, 2, 3]))),
                         {"reduction": "foo"}, match="not a valid value"))
add("nll_loss", fn=_f("nll_loss"), samples=_nll_samples(), dtypes=FLOATS, errors=_NLL_ERRORS)


def _ce_samples(dtype, rng):
    out = _nll_samples(log=False)(dtype, rng)
    for ls in (0.1, 0.5):
        out.append(Sample((A(arr(rng, (3, 4), dtype)), A(np.array([1, -100, 3]))),
                          {"label_smoothing": ls}, name=f"smooth {ls}"))
        for red in _RED:
            out.append(Sample((A(arr(rng, (3, 4), dtype)), A(rng.integers(0, 4, (3,))),
                               A(arr(rng, (4,), dtype, 0.5, 2), grad=False)),
                              {"label_smoothing": ls, "reduction": red, "ignore_index": 1},
                              name=f"smooth weight {red}"))
    probs = rng.random((3, 4))
    probs = (probs / probs.sum(1, keepdims=True)).astype(dtype)
    for red in _RED:
        out.append(Sample((A(arr(rng, (3, 4), dtype)), A(probs)), {"reduction": red},
                          name=f"probs {red}"))
    out.append(Sample((A(arr(rng, (3, 4), dtype)), A(probs), A(arr(rng, (4,), dtype, 0.5, 2))),
                      {"label_smoothing": 0.2}, name="probs weight smooth"))
    out.append(Sample((A(arr(rng, (2, 4, 3), dtype)), A(np.moveaxis(
        np.stack([probs] * 2), 2, 1).copy())), name="probs K-dim"))
    return out


add("cross_entropy", fn=_f("cross_entropy"), samples=_ce_samples, dtypes=FLOATS, **TOL,
    errors=_NLL_ERRORS + (ErrorCase((A(np.zeros((3, 4), np.float32)), A(np.array([1, 2, 3]))),
                                    {"label_smoothing": 1.5}, match="label_smoothing"),))
# the fused cross entropy op and its first-order backward kernel, against PyTorch's composite
_RED_ENUM = {"none": 0, "mean": 1, "sum": 2}


def _ce_op(m, x, t, w=None, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    if m.__name__ == "torch":
        return m.ops.aten.cross_entropy_loss(x, t, w, _RED_ENUM[reduction], ignore_index,
                                             label_smoothing)
    from ember._ops import REGISTRY
    return REGISTRY["cross_entropy_loss"](x, t, w, ignore_index=ignore_index,
                                          reduction=reduction,
                                          label_smoothing=label_smoothing)[0]


def _ce_backward(m, x, t, w=None, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    kw = {"ignore_index": ignore_index, "reduction": reduction,
          "label_smoothing": label_smoothing}
    g = m.linspace(0.5, 2.0, t.numel(), dtype=x.dtype, device=x.device).reshape(t.shape) \
        if reduction == "none" else m.tensor(1.5, dtype=x.dtype, device=x.device)
    if m.__name__ == "torch":
        x = x.detach().requires_grad_(True)
        return m.autograd.grad(m.nn.functional.cross_entropy(x, t, w, **kw), x, g)[0]
    from ember._ops import REGISTRY
    _, prob = REGISTRY["cross_entropy_loss"](x, t, w, **kw)
    # in x's dtype, as the engine casts it (differs only under autocast)
    return REGISTRY["cross_entropy_loss_backward"](g, prob, t, w, **kw).to(x.dtype)


def _ce_op_samples(dtype, rng):
    t, w = A(rng.integers(0, 4, (5,))), A(arr(rng, (4,), dtype, 0.5, 2), grad=False)
    out = [Sample((A(arr(rng, (5, 4), dtype)), t), {"reduction": red}, name=red)
           for red in _RED]
    out += [Sample((A(arr(rng, (5, 4), dtype)), A(np.array([1, -100, 3, 0, 3])), w),
                   {"reduction": red, "label_smoothing": ls}, name=f"weight ignore {ls} {red}")
            for red in _RED for ls in (0.0, 0.2)]
    out.append(Sample((A(arr(rng, (5, 4), dtype)), A(np.array([2, 1, 2, 0, 3]))),
                      {"ignore_index": 2, "label_smoothing": 0.3}, name="ignore smooth"))
    out += [Sample((A(arr(rng, (2, 4, 3, 2), dtype)), A(rng.integers(0, 4, (2, 3, 2))), w),
                   {"reduction": red, "label_smoothing": 0.1}, name=f"K-dim {red}")
            for red in ("mean", "none")]
    out.append(Sample((A(arr(rng, (5, 4), dtype)), A(np.full(5, -100))), name="all ignored"))
    return out


add("cross_entropy_loss", fn=_ce_op, samples=_ce_op_samples, dtypes=FLOATS, **TOL)
add("cross_entropy_loss_backward", fn=_ce_backward, samples=_ce_op_samples, dtypes=FLOATS,
    grad=False, **TOL)
add("multilabel_margin_loss", fn=_f("multilabel_margin_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]]))),
           {"reduction": red}, name=red) for red in _RED] + [
    Sample((A(arr(r, (4,), d)), A(np.array([2, 1, -1, 3]))), name="unbatched")],
    dtypes=FLOATS,
    errors=(ErrorCase((A(np.zeros((1, 4), np.float32)), A(np.array([[1, 5, -1, 0]]))),
                      match="out of range"),))
add("multi_margin_loss", fn=_f("multi_margin_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(np.array([3, 0, 1]))), {"reduction": red}, name=red)
    for red in _RED] + [
    Sample((A(arr(r, (3, 4), d)), A(np.array([3, 0, 1]))),
           {"p": 2, "margin": 0.5, "weight": A(arr(r, (4,), d, 0.5, 2), grad=False)},
           name="p2 weight"),
    Sample((A(arr(r, (4,), d)), A(np.array(2))), name="unbatched")], dtypes=FLOATS,
    errors=(ErrorCase((A(np.zeros((2, 4), np.float32)), A(np.array([1, 5]))),
                      match="target out of range"),))
add("margin_ranking_loss", fn=_f("margin_ranking_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (5,), d)), A(arr(r, (5,), d)), A(np.sign(arr(r, (5,), d)), grad=False)),
           {"reduction": red, "margin": 0.3}, name=red) for red in _RED], dtypes=FLOATS)
add("hinge_embedding_loss", fn=_f("hinge_embedding_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(np.where(r.random((3, 4)) > 0.5, 1.0, -1.0).astype(d),
                                    grad=False)), {"reduction": red, "margin": 0.5}, name=red)
    for red in _RED], dtypes=FLOATS)
add("cosine_embedding_loss", fn=_f("cosine_embedding_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(np.array([1.0, -1.0, -1.0], d),
                                                          grad=False)),
           {"reduction": red, "margin": -0.5 if red == "sum" else 0.1}, name=red)
    for red in _RED] + [
    Sample((A(arr(r, (4,), d)), A(arr(r, (4,), d)), A(np.array(-1.0, d), grad=False)),
           name="unbatched")], dtypes=FLOATS, **TOL,
    errors=(ErrorCase((A(np.ones((3, 4), np.float32)), A(np.ones((3, 4), np.float32)),
                       A(np.ones((3, 1), np.float32))), match="target tensor expected"),))
add("triplet_margin_loss", fn=_f("triplet_margin_loss"), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d))),
           {"reduction": red}, name=red) for red in _RED] + [
    Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d))),
           {"swap": True, "p": 1.0, "margin": 2.0}, name="swap")], dtypes=FLOATS, **TOL,
    errors=(ErrorCase((A(np.ones((3, 4), np.float32)), A(np.ones((3, 4), np.float32)),
                       A(np.ones((4,), np.float32))), match="same number of dimensions"),))
add("triplet_margin_with_distance_loss", fn=_f("triplet_margin_with_distance_loss"),
    samples=lambda d, r: [
        Sample((A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d)), A(arr(r, (3, 4), d))),
               {"reduction": red, "swap": red == "sum"}, name=red) for red in _RED],
    dtypes=FLOATS, **TOL)


def _ctc_fn(m, x, targets, il, tl, **kw):
    lp = x - x.logsumexp(-1, keepdim=True)
    return _F(m).ctc_loss(lp, targets, il, tl, **kw)


def _ctc_samples(dtype, rng):
    t, n, c = 6, 3, 4
    x = lambda: A(arr(rng, (t, n, c), dtype))  # noqa: E731
    padded = A(np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]]))
    il, tl = A(np.array([6, 5, 4])), A(np.array([3, 2, 1]))
    out = [Sample((x(), padded, il, tl), {"reduction": red}, name=red) for red in _RED]
    out.append(Sample((x(), A(np.array([1, 2, 2, 3, 1, 2])), il, tl), {"reduction": "sum"},
                      name="concatenated"))
    out.append(Sample((x(), padded, il, A(np.array([3, 0, 2]))), {"blank": 3}, name="blank 3"))
    out.append(Sample((A(arr(rng, (2, n, c), dtype)), padded, A(np.array([2, 2, 1])), tl),
                      {"zero_infinity": True, "reduction": "none"}, name="impossible"))
    out.append(Sample((A(arr(rng, (t, c), dtype)), A(np.array([1, 1])), A(np.array(5)),
                       A(np.array(2))), {"reduction": "none"}, name="unbatched"))
    return out


add("ctc_loss", fn=_ctc_fn, samples=_ctc_samples, dtypes=FLOATS, gradgrad=False, **TOL)
add("_ctc_loss_backward", fn=_ctc_fn, samples=lambda d, r: _ctc_samples(d, r)[:1],
    dtypes=("float64",), gradgrad=False)


# the fused first-order backward kernels, against PyTorch's
def _ln_backward(m, g, x, w, b):
    shape = (x.shape[-1],)
    if m.__name__ == "torch":
        _, mean, rstd = m.native_layer_norm(x, shape, w, b, 1e-5)
        return m.ops.aten.native_layer_norm_backward(g, x, shape, mean, rstd, w, b,
                                                     [True, True, True])
    from ember._ops import REGISTRY
    _, mean, rstd = REGISTRY["native_layer_norm"](x, w, b, normalized_shape=shape, eps=1e-5)
    return REGISTRY["native_layer_norm_backward"](g, x, mean, rstd, w, normalized_shape=shape,
                                                  mask=(True, True, True))


def _rms_backward(m, g, x, w):
    shape = (x.shape[-1],)
    if m.__name__ == "torch":  # PyTorch has no CPU kernel: its autograd's gradients
        x, w = x.detach().requires_grad_(), w.detach().requires_grad_()
        return m.autograd.grad(m.rms_norm(x, shape, w), (x, w), g)
    from ember._ops import REGISTRY
    _, rstd = REGISTRY["rms_norm"](x, w, normalized_shape=shape, eps=None)
    return REGISTRY["rms_norm_backward"](g, x, rstd, w, normalized_shape=shape,
                                         mask=(True, True))


def _gn_backward(m, g, x, w, group):
    n, c, hxw = x.shape[0], x.shape[1], math.prod(x.shape[2:])
    if m.__name__ == "torch":
        _, mean, rstd = m.native_group_norm(x, w, None, n, c, hxw, group, 1e-5)
        return m.ops.aten.native_group_norm_backward(g, x, mean, rstd, w, n, c, hxw, group,
                                                     [True, True, True])
    from ember._ops import REGISTRY
    _, mean, rstd = REGISTRY["native_group_norm"](x, w, None, N=n, C=c, HxW=hxw, group=group,
                                                  eps=1e-5)
    return REGISTRY["native_group_norm_backward"](g, x, mean, rstd, w, N=n, C=c, HxW=hxw,
                                                  group=group, mask=(True, True, True))


def _bn_backward(m, g, x, w, rm, rv, training):
    if m.__name__ == "torch":
        _, mean, rstd = m.native_batch_norm(x, w, None, rm, rv, training, 0.1, 1e-5)
        return m.ops.aten.native_batch_norm_backward(g, x, w, rm, rv, mean, rstd, training,
                                                     1e-5, [True, True, True])
    from ember._ops import REGISTRY
    _, mean, rstd = REGISTRY["native_batch_norm"](x, w, None, rm, rv, training=training,
                                                  momentum=0.1, eps=1e-5)
    if not training:
        mean, rstd = rm, (rv + 1e-5).rsqrt()
    return REGISTRY["native_batch_norm_backward"](g, x, w, mean, rstd, training=training,
                                                  mask=(True, True, True))


add("native_layer_norm_backward", fn=_ln_backward, samples=lambda d, r: [
    Sample((A(arr(r, s, d)), A(arr(r, s, d)), A(arr(r, s[-1:], d)), A(arr(r, s[-1:], d))),
           name=str(s)) for s in ((3, 4), (2, 3, 5))], dtypes=FLOATS, grad=False, **TOL)
add("rms_norm_backward", fn=_rms_backward, samples=lambda d, r: [
    Sample((A(arr(r, s, d)), A(arr(r, s, d)), A(arr(r, s[-1:], d))), name=str(s))
    for s in ((3, 4), (2, 3, 5))], dtypes=FLOATS, grad=False, **TOL)
add("native_group_norm_backward", fn=_gn_backward, samples=lambda d, r: [
    Sample((A(arr(r, s, d)), A(arr(r, s, d)), A(arr(r, s[1:2], d)), grp), name=str(s))
    for s, grp in (((2, 4, 3), 2), ((3, 6, 2, 2), 3), ((2, 2), 1))], dtypes=FLOATS, grad=False,
    **TOL)
add("native_batch_norm_backward", fn=_bn_backward, samples=lambda d, r: [
    Sample((A(arr(r, (4, 3, 2), d)), A(arr(r, (4, 3, 2), d)), A(arr(r, (3,), d)),
            A(arr(r, (3,), d)), A(arr(r, (3,), d, 0.5, 2)), t), name=f"training={t}")
    for t in (True, False)], dtypes=FLOATS, grad=False, **TOL)
