"""The CUDA backend: CuPy arrays. Loaded lazily, only when a CUDA device is used."""

from __future__ import annotations


def available() -> bool:
    try:
        import cupy
    except ImportError:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any driver failure means "no GPU"
        return False


def load():
    if not available():
        raise RuntimeError("ember: CUDA is not available (CuPy is not installed or no GPU is "
                           "visible); install the 'cuda' extra on a machine with an NVIDIA GPU")
    import cupy

    from .._device import device

    class CUDABackend:
        name = "cuda"
        xp = cupy
        array_type = cupy.ndarray

        @staticmethod
        def device_of(arr):
            return device("cuda", arr.device.id)

        @staticmethod
        def to_numpy(arr):
            return cupy.asnumpy(arr)

        @staticmethod
        def from_numpy(arr, dev):
            with cupy.cuda.Device(dev.index or 0):
                return cupy.asarray(arr)

    return CUDABackend()
