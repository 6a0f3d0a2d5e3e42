"""ember.utils.checkpoint against torch.utils.checkpoint: same values and gradients, RNG
replayed in the recomputation, intermediates not kept, PyTorch's warnings and errors."""

import warnings
import weakref

import numpy as np
import pytest

import ember
from ember.autograd.graph import saved_tensors_hooks

from .autograd.compare import raises_same, same

X = [0.5, -1.0, 2.0, 0.25]


def block(m):
    """A segment with random dropout-like masking (RNG drawn inside the segment)."""
    def f(a, b, scale=1.0):
        h = (a * b).sin()
        keep = m.rand(4) > 0.3
        return (h * keep).exp() * b * scale
    return f


def leaves(m):
    return (m.tensor(X, dtype=m.float64, requires_grad=True),
            m.tensor([1.5, 0.5, -0.5, 2.0], dtype=m.float64, requires_grad=True))


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradients_match_unchekpointed_and_torch(use_reentrant):
    def f(m):
        m.manual_seed(0)
        a, b = leaves(m)
        out = m.utils.checkpoint.checkpoint(block(m), a, b, use_reentrant=use_reentrant)
        # the rerun replays the RNG, and the caller's RNG continues as after the forward
        after = m.rand(2)
        out.sum().backward()
        return out, a.grad, b.grad, after, m.rand(2)
    result = same(f)

    def plain(m):
        m.manual_seed(0)
        a, b = leaves(m)
        out = block(m)(a, b)
        out.sum().backward()
        return out, a.grad, b.grad
    np.testing.assert_allclose(same(plain)[1][3], result[1][3])


def test_preserve_rng_state_false_draws_new_numbers():
    def f(m):
        m.manual_seed(0)
        a, b = leaves(m)
        out = m.utils.checkpoint.checkpoint(block(m), a, b, use_reentrant=False,
                                            preserve_rng_state=False)
        out.sum().backward()
        return a.grad, b.grad
    same(f)


def test_non_reentrant_kwargs_grad_and_double_backward():
    def f(m):
        a, b = leaves(m)
        out = m.utils.checkpoint.checkpoint(lambda x, y, scale: (x * y).sin() * scale, a, b,
                                            use_reentrant=False, scale=3.0)
        ga, gb = m.autograd.grad(out.sum(), (a, b), create_graph=True)
        (gga,) = m.autograd.grad(ga.sum(), a)
        return out, ga, gb, gga
    same(f)


def test_retain_graph_recomputes_for_each_backward():
    def f(m):
        a, b = leaves(m)
        out = m.utils.checkpoint.checkpoint(lambda x, y: (x * y).exp(), a, b,
                                            use_reentrant=False)
        out.sum().backward(retain_graph=True)
        first = a.grad.clone()
        out.sum().backward()
        return first, a.grad
    same(f)


def test_reentrant_errors_and_warnings():
    def grad_through(m):
        a, b = leaves(m)
        out = m.utils.checkpoint.checkpoint(lambda x, y: x * y, a, b, use_reentrant=True)
        return m.autograd.grad(out.sum(), a)
    raises_same(grad_through)
    raises_same(lambda m: m.utils.checkpoint.checkpoint(lambda x: x, leaves(m)[0],
                                                        use_reentrant=True, scale=2))
    raises_same(lambda m: m.utils.checkpoint.checkpoint(lambda x: x, leaves(m)[0],
                                                        use_reentrant=True, debug=True))
    raises_same(lambda m: m.utils.checkpoint.checkpoint(lambda x: x, leaves(m)[0],
                                                        use_reentrant=False,
                                                        determinism_check="bad"))

    def no_grad_output(m):
        a, b = leaves(m)
        out = m.utils.checkpoint.checkpoint(lambda x: x.detach() * 2, a, use_reentrant=True)
        (out * b).sum().backward()
    raises_same(no_grad_output)


def test_use_reentrant_not_passed_warns_and_defaults_to_reentrant():
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        out = ember.utils.checkpoint.checkpoint(lambda x: x * 2, leaves(ember)[0])
    assert out.grad_fn.name() == "_CheckpointFunctionBackward"
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad"):
        ember.utils.checkpoint.checkpoint(lambda x: x * 2, ember.ones(2), use_reentrant=True)
    with pytest.warns(UserWarning, match="use_reentrant"):
        ember.utils.checkpoint.checkpoint_sequential([lambda x: x], 1, leaves(ember)[0])


def test_non_deterministic_recomputation_is_detected():
    calls = []

    def changes_shape(x):
        calls.append(1)
        return (x[: len(calls) + 1] * 2).exp()

    a = leaves(ember)[0]
    out = ember.utils.checkpoint.checkpoint(changes_shape, a, use_reentrant=False)
    with pytest.raises(ember.utils.checkpoint.CheckpointError, match="different metadata"):
        out.sum().backward()


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential(use_reentrant):
    def f(m):
        a, _ = leaves(m)
        fs = [lambda t: t.sin(), lambda t: t * 2, lambda t: t.exp(), lambda t: t.cos(),
              lambda t: t + 1]
        out = m.utils.checkpoint.checkpoint_sequential(fs, 2, a, use_reentrant=use_reentrant)
        out.sum().backward()
        return out, a.grad
    same(f)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_intermediates_are_not_kept_alive(use_reentrant):
    """The segment's intermediate buffers die after the forward (weakrefs to the arrays
    behind them), and nothing saved inside the segment reaches the outer hooks."""
    refs = []

    def segment(x):
        h = x.sin()
        k = h * h
        refs.extend([weakref.ref(h._data), weakref.ref(k._data)])
        return k.cos()

    x = ember.randn(5, dtype=ember.float64, requires_grad=True)
    out_plain = segment(x)
    assert all(r() is not None for r in refs)  # without checkpointing the graph keeps them
    del out_plain
    refs.clear()

    kept = []
    with saved_tensors_hooks(lambda t: kept.append(t) or t, lambda t: t):
        out = ember.utils.checkpoint.checkpoint(segment, x, use_reentrant=use_reentrant)
    assert all(r() is None for r in refs)
    # nothing from inside the segment reached the outer hooks: only the segment's inputs
    # (reentrant) are saved outside it
    assert all(t is x for t in kept)
    out.sum().backward()
    xs = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(),
                               -np.sin(np.sin(xs) ** 2) * 2 * np.sin(xs) * np.cos(xs))


def test_no_grad_runs_the_function_plainly():
    with ember.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ember.utils.checkpoint.checkpoint(lambda x: x * 2, leaves(ember)[0],
                                                use_reentrant=False)
    assert out.grad_fn is None


def test_nested_checkpoints_and_custom_functions_inside():
    def f(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * g * x * x

        ck = m.utils.checkpoint.checkpoint

        def inner(t):
            return Cube.apply(t.sin()) * t

        def outer(t, w):
            return ck(inner, t * w, use_reentrant=False).exp() * w

        a, b = leaves(m)
        out = ck(outer, a, b, use_reentrant=False)
        out.sum().backward()
        return out, a.grad, b.grad
    same(f)


def test_non_reentrant_reruns_once_per_backward():
    """A backward that reads a saved tensor twice (batch norm's VJP) reruns the segment once,
    as PyTorch: the running statistics see two forwards, not one per read."""
    import importlib

    import torch

    for m in (torch, ember):
        cp = importlib.import_module(m.__name__ + ".utils.checkpoint")
        m.manual_seed(0)
        bn = m.nn.BatchNorm1d(3)
        x = m.randn(4, 3, requires_grad=True)
        cp.checkpoint(bn, x, use_reentrant=False).sum().backward()
        assert bn.num_batches_tracked.item() == 2, m.__name__
