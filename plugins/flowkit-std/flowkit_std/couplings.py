"""Couplings between data and prior draws."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from flowkit import Coupling


class IndependentCoupling(Coupling):
    """Pairs data and noise independently (the product coupling): returns both unchanged."""

    name: ClassVar[str] = "independent"

    def pair(self, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        return z, noise
