"""``torch.backends.cudnn``'s switches, as scripts set them (``ember.backends.cudnn.benchmark =
True``). They take effect once the CUDA backend has cuDNN convolutions; until then they are
recorded and ``is_available()`` is False."""

from __future__ import annotations

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Whether cuDNN can be used (False: ember's CUDA backend has no cuDNN yet)."""
    return False


def version():
    """cuDNN's version, or None without it."""
    return None
