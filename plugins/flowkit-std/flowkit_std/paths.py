"""Gaussian probability paths (t = 0 noise, t = 1 data)."""

from __future__ import annotations

from typing import ClassVar

import torch
from pydantic import Field
from torch import Tensor

from flowkit import GaussianPath


class CondOTPath(GaussianPath):
    """Conditional optimal-transport path: ``x_t = t z + (1 - (1 - sigma_min) t) eps``.

    ``alpha_t = t``, ``beta_t = 1 - (1 - sigma_min) t``, so ``d_alpha = 1`` and
    ``d_beta = -(1 - sigma_min)``; the conditional velocity is ``z - (1 - sigma_min) eps``.
    The prior is ``N(0, I)``. With ``sigma_min = 0`` the path ends exactly at the data and the
    score (which divides by ``beta_t``) is singular at ``t = 1``, so the safe time range stops at
    ``1 - t_eps``; with ``sigma_min > 0`` every conversion is finite up to ``t = 1``. Conversions
    from epsilon or score to data or velocity divide by ``alpha_t = t``, so the range starts at
    ``t_eps`` as well.
    """

    name: ClassVar[str] = "condot"

    class Params(GaussianPath.Params):
        sigma_min: float = Field(0.0, ge=0.0, lt=1.0, description="Noise scale left at t = 1.")
        t_eps: float = Field(1e-5, ge=0.0, lt=0.5, description="Margin kept from the singular endpoints.")

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        eps = self.params.t_eps
        return (eps, 1.0 if self.params.sigma_min > 0 else 1.0 - eps)

    def alpha(self, t: Tensor) -> Tensor:
        return t

    def beta(self, t: Tensor) -> Tensor:
        return 1.0 - (1.0 - self.params.sigma_min) * t

    def d_alpha(self, t: Tensor) -> Tensor:
        return torch.ones_like(t)

    def d_beta(self, t: Tensor) -> Tensor:
        return torch.full_like(t, -(1.0 - self.params.sigma_min))
