"""The ``$name`` dataset: two-dimensional points, drawn fresh on every call."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from flowkit import Dataset
from pydantic import Field
from torch import Tensor


class ${camel}Dataset(Dataset):
    """Points on a ring: a uniform angle and a radius ``radius + noise * N(0, 1)``."""

    name: ClassVar[str] = "$name"

    class Params(Dataset.Params):
        radius: float = Field(2.0, gt=0.0, description="Radius of the ring.")
        noise: float = Field(0.1, ge=0.0, description="Standard deviation of the radial jitter.")

    params: Params

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (2,)

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        angle = 2.0 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        jitter = torch.randn(n, generator=generator, dtype=torch.float64)
        radius = self.params.radius + self.params.noise * jitter
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1).to(dtype)
