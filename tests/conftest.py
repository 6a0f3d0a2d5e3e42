import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _restore_defaults():
    """Tests may change global defaults; put them back."""
    import ember
    yield
    ember.set_default_dtype(ember.float32)


def pytest_configure(config):
    np.seterr(all="ignore")
    # the reference runs on one thread: the tests compare values, not speed, and on a small
    # shared machine torch's thread pool contends with everything else (more than twice slower)
    import torch
    torch.set_num_threads(1)
