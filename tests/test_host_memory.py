"""Freed host memory is kept for reuse (NOTE [ Host memory reuse ])."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import ember.backends.cpu as cpu

# Allocate and free 8-16 MB arrays as an eager step does; print the page faults of 20 rounds.
_ROUNDS = """
import resource, numpy as np, ember
def rounds(n):
    for _ in range(n):
        a = np.ones(1 << 20); b = np.ones(3 << 19); del a; c = np.ones(1 << 21); del b, c
rounds(3)
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
"""


def _faults(keep: str) -> int:
    env = dict(os.environ, EMBER_KEEP_HOST_MEMORY=keep)
    out = subprocess.run([sys.executable, "-c", _ROUNDS], env=env, capture_output=True,
                         text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not cpu.KEEPS_HOST_MEMORY, reason="needs glibc's malloc")
def test_freed_memory_is_reused_without_page_faults():
    kept, default = _faults("1"), _faults("0")
    assert kept < 200 < default, (kept, default)
