"""The CPU backend: NumPy arrays (bfloat16 through ml_dtypes)."""

from __future__ import annotations

import numpy as np

from .._device import CPU

ndarray = np.ndarray


class CPUBackend:
    name = "cpu"
    xp = np
    array_type = np.ndarray

    @staticmethod
    def device_of(arr) -> object:
        return CPU

    @staticmethod
    def to_numpy(arr) -> np.ndarray:
        return arr

    @staticmethod
    def from_numpy(arr: np.ndarray, dev) -> np.ndarray:
        return arr


BACKEND = CPUBackend()
