"""ember.set_num_threads / get_num_threads against PyTorch (NOTE [ Thread count ])."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import ember


@pytest.fixture
def threads():
    before = ember.get_num_threads(), torch.get_num_threads()
    yield
    ember.set_num_threads(before[0])
    torch.set_num_threads(before[1])


def test_default_matches_torch():
    code = ("import ember, torch; print(ember.get_num_threads(), torch.get_num_threads(), "
            "ember.get_num_interop_threads(), torch.get_num_interop_threads())")
    for env in ({}, {"OMP_NUM_THREADS": "1"}):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**__import__("os").environ, **env}).stdout.split()
        assert out[0] == out[1] and out[2] == out[3]


@pytest.mark.parametrize("fn", ["set_num_threads", "set_num_interop_threads"])
@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_errors_match_torch(fn, bad):
    with pytest.raises(RuntimeError) as t:
        getattr(torch, fn)(bad)
    with pytest.raises(RuntimeError) as e:
        getattr(ember, fn)(bad)
    assert str(e.value) == str(t.value)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_arange_chunks_follow_the_count(threads, n):
    # a float arange is computed per parallel_for chunk, so its values depend on the count
    ember.set_num_threads(n)
    torch.set_num_threads(n)
    assert ember.get_num_threads() == n
    e = ember.arange(0.0, 100000 * 0.1, 0.1).numpy()
    t = torch.arange(0.0, 100000 * 0.1, 0.1).numpy()
    np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("n", [1, 2])
def test_multi_tensor_step_on_n_threads_matches_torch(threads, n):
    # the optimizer pool shares the blocks out over n threads (NOTE [ Multi-tensor threads ])
    ember.set_num_threads(n)
    torch.set_num_threads(n)
    steps = {}
    for lib in (ember, torch):
        lib.manual_seed(0)
        ps = [lib.randn(300, 200, requires_grad=True) for _ in range(8)]
        for p in ps:
            p.grad = lib.randn_like(p)
        lib.optim.Adam(ps, lr=0.1, foreach=True).step()
        steps[lib] = [p.detach().numpy().copy() for p in ps]
    for a, b in zip(steps[ember], steps[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
