"""The ``trig`` probability path (t = 0 noise, t = 1 data)."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from pydantic import Field
from torch import Tensor

from flowkit import GaussianPath


class TrigPath(GaussianPath):
    """Trigonometric path: ``x_t = sin(pi t / 2) z + cos(pi t / 2) eps``.

    ``alpha_t = sin(pi t / 2)`` and ``beta_t = cos(pi t / 2)``, so ``alpha_t^2 + beta_t^2 = 1``
    (variance preserving) and ``d_alpha = (pi / 2) beta_t``, ``d_beta = -(pi / 2) alpha_t``. The
    prior is ``N(0, I)``. ``alpha_0 = 0`` makes the conversions from epsilon or score singular at
    ``t = 0`` and ``beta_1 = 0`` makes the score singular at ``t = 1``, so the safe time range is
    ``[t_eps, 1 - t_eps]``. The half log signal-to-noise ratio is ``log tan(pi t / 2)``, which
    :meth:`time_at_log_snr` inverts in closed form.
    """

    name: ClassVar[str] = "trig"

    class Params(GaussianPath.Params):
        t_eps: float = Field(
            1e-4, gt=0.0, lt=0.5, description="Margin kept from both ends, where a conversion is singular."
        )

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        return (self.params.t_eps, 1.0 - self.params.t_eps)

    def alpha(self, t: Tensor) -> Tensor:
        return torch.sin(0.5 * math.pi * t)

    def beta(self, t: Tensor) -> Tensor:
        return torch.cos(0.5 * math.pi * t)

    def d_alpha(self, t: Tensor) -> Tensor:
        return 0.5 * math.pi * torch.cos(0.5 * math.pi * t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -0.5 * math.pi * torch.sin(0.5 * math.pi * t)

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Closed form: ``tan(pi t / 2) = e^lambda`` gives ``t = (2 / pi) atan(e^lambda)``."""
        return self.clamp_time((2.0 / math.pi) * torch.atan(torch.exp(log_snr)))
