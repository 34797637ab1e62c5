"""scikit-learn's handwritten digits: 1797 images of 8x8 pixels, shipped inside scikit-learn."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

import numpy as np
import torch
from pydantic import Field

from flowkit_data.finite import Examples, FiniteDataset


@lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    return np.asarray(bunch.images), np.asarray(bunch.target)


class DigitsDataset(FiniteDataset):
    """scikit-learn's 8x8 handwritten digits as ``(1, 8, 8)`` images in ``[-1, 1]``, labels 0-9.

    The raw pixel intensities ``0..16`` map linearly to ``value / 8 - 1``, so 0 (background) is
    -1 and 16 (full ink) is +1. Reads the copy that ships inside scikit-learn; nothing is
    downloaded. By default 10% of the 1797 images are held out as the validation part (see
    :mod:`flowkit_data.finite`); ``labels = false`` serves the images without labels
    (``num_classes`` is then ``None``), for unconditional models.
    """

    name: ClassVar[str] = "digits"

    class Params(FiniteDataset.Params):
        validation_fraction: float = Field(
            0.1, ge=0, lt=1, description="Share of the images held out as the validation part."
        )
        labels: bool = Field(True, description="Serve the digit (0-9) of each image as its class label.")

    params: Params

    def load(self) -> Examples:
        images, target = _load_digits()
        data = torch.from_numpy(images / 8.0 - 1.0).to(torch.float32).unsqueeze(1)
        if not self.params.labels:
            return Examples(data)
        return Examples(data, torch.from_numpy(target).to(torch.long), 10)

    def describe(self) -> str:
        return "dataset 'digits' (scikit-learn)"
