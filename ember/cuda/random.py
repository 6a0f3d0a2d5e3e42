"""Per-device random generators of ``ember.cuda`` (``torch.cuda.random``).

# NOTE [ CUDA generators ]
Each GPU has a default ``ember.Generator`` (``default_generators[i]``, made when CUDA is first
used), seeded like PyTorch's (``ember.manual_seed`` seeds them too, also before CUDA starts).
Their stream is PyTorch's CPU stream (mt19937 and PyTorch's CPU sampling), drawn on the host
and copied to the device: ``ember.manual_seed(0); ember.randn(3, device='cuda')`` equals
``ember.randn(3)`` after the same seed, not ``torch.randn(3, device='cuda')``, whose CUDA
generator is Philox4x32-10 with a per-kernel offset scheme ember does not reproduce. The
state (``get_rng_state``) is therefore the CPU generator's 5056 bytes, not PyTorch's 16.
Host drawing costs a host-to-device copy per sample and cannot be captured in a CUDA graph.
"""

from __future__ import annotations

__all__ = ["default_generators", "get_rng_state", "get_rng_state_all", "initial_seed",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "set_rng_state",
           "set_rng_state_all"]

default_generators: tuple = ()
_PENDING: dict = {}  # a seed given before the generators exist: {"all": s} or {index: s}


def _generators() -> tuple:
    """The per-device generators, made on first use (seeded with any pending seed)."""
    global default_generators
    if not default_generators:
        from .. import cuda
        from ..random import Generator
        if not cuda.is_available():
            raise cuda._unavailable()
        gens = tuple(Generator(f"cuda:{i}") for i in range(cuda.device_count()))
        for i, g in enumerate(gens):
            s = _PENDING.get(i, _PENDING.get("all"))
            if s is not None:
                g.manual_seed(s)
        _PENDING.clear()
        default_generators = cuda.default_generators = gens
    return default_generators


def default_generator(index: int):
    """The default generator of GPU ``index``."""
    return _generators()[index]


def _device_index(device) -> int:
    from . import _index
    if isinstance(device, str) and device == "cuda":
        device = None
    return _index(device)


def manual_seed(seed) -> None:
    """Seed the current GPU's generator (a no-op without CUDA)."""
    from . import is_available
    if not is_available():
        return
    seed = int(seed)
    if default_generators:
        default_generators[_device_index(None)].manual_seed(seed)
    else:
        _PENDING[_device_index(None)] = seed


def manual_seed_all(seed) -> None:
    """Seed every GPU's generator; kept for later when CUDA is not started yet."""
    seed = int(seed)
    if default_generators:
        for g in default_generators:
            g.manual_seed(seed)
    else:
        _PENDING.clear()
        _PENDING["all"] = seed


def seed() -> None:
    """Seed the current GPU's generator non-deterministically (a no-op without CUDA)."""
    from . import is_available
    if is_available():
        _generators()[_device_index(None)].seed()


def seed_all() -> None:
    """Seed every GPU's generator with one non-deterministic seed."""
    from . import is_available
    if not is_available():
        return
    gens = _generators()
    s = gens[0].seed()
    for g in gens[1:]:
        g.manual_seed(s)


def initial_seed() -> int:
    """The current GPU's generator's seed."""
    return _generators()[_device_index(None)].initial_seed()


def get_rng_state(device="cuda"):
    """The state of a GPU's generator, as a uint8 CPU tensor (see NOTE [ CUDA generators ])."""
    return _generators()[_device_index(device)].get_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restore a GPU's generator from ``get_rng_state`` (a no-op without CUDA)."""
    from . import is_available
    if is_available():
        _generators()[_device_index(device)].set_state(new_state)


def get_rng_state_all() -> list:
    """Every GPU's generator state ([] without CUDA)."""
    from . import is_available
    return [g.get_state() for g in _generators()] if is_available() else []


def set_rng_state_all(new_states) -> None:
    for i, state in enumerate(new_states):
        set_rng_state(state, i)
