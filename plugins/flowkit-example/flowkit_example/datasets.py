"""The ``pinwheel`` dataset: two-dimensional points on spiral arms, drawn fresh on every call."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from pydantic import Field
from torch import Tensor

from flowkit import Dataset


class PinwheelDataset(Dataset):
    """Points on ``arms`` spiral arms, labelled by arm (``num_classes = arms``).

    A point of arm ``k`` starts as ``(r, s)`` with ``r = 1 + radial_std * N(0, 1)`` and
    ``s = tangential_std * N(0, 1)``, is rotated by ``2 pi k / arms + rate * exp(r)`` (the farther
    out, the more it turns, which bends the arm into a spiral) and is multiplied by ``scale``.
    Arms are equally likely.
    """

    name: ClassVar[str] = "pinwheel"

    class Params(Dataset.Params):
        arms: int = Field(5, ge=1, le=64, description="Number of spiral arms (and of class labels).")
        radial_std: float = Field(0.3, ge=0.0, description="Spread of a point's distance along its arm.")
        tangential_std: float = Field(0.1, ge=0.0, description="Spread across the arm.")
        rate: float = Field(0.25, description="How fast an arm turns with distance (0 gives straight arms).")
        scale: float = Field(2.0, gt=0.0, description="Multiplies every point.")

    params: Params

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def num_classes(self) -> int:
        return self.params.arms

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return self.sample_labeled(n, generator=generator, dtype=dtype)[0]

    def sample_labeled(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[Tensor, Tensor]:
        """``n`` points ``(n, 2)`` of ``dtype`` and their arms ``(n,)`` (``torch.long``, in ``[0, arms)``)."""
        p = self.params
        arms = torch.randint(0, p.arms, (n,), generator=generator)
        r = 1.0 + p.radial_std * torch.randn(n, generator=generator, dtype=torch.float64)
        s = p.tangential_std * torch.randn(n, generator=generator, dtype=torch.float64)
        angle = 2.0 * math.pi * arms.double() / p.arms + p.rate * torch.exp(r)
        cos, sin = torch.cos(angle), torch.sin(angle)
        points = torch.stack([r * cos - s * sin, r * sin + s * cos], dim=1)
        return (p.scale * points).to(dtype), arms
