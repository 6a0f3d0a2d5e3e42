"""``ember.fft``: discrete Fourier transforms, as ``torch.fft``.

    x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    ember.fft.irfft(ember.fft.rfft(x), n=4)  # tensor([1., 2., 3., 4.])
"""

from __future__ import annotations

from ._api.fft import (  # noqa: F401
    __all__,
    fft,
    fft2,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ifftshift,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftfreq,
    rfftn,
)
