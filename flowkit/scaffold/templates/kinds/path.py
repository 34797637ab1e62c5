"""The ``$name`` probability path (t = 0 noise, t = 1 data)."""

from __future__ import annotations

from typing import ClassVar

from flowkit import GaussianPath
from pydantic import Field
from torch import Tensor


class ${camel}Path(GaussianPath):
    """Smoothstep path: ``x_t = s(t) z + (1 - s(t)) eps`` with ``s(t) = 3 t^2 - 2 t^3``.

    ``alpha_t = s(t)`` and ``beta_t = 1 - s(t)``, so ``d_alpha = 6 t (1 - t) = -d_beta``. The path
    leaves both ends slowly, so it spends more time near the prior and near the data than the
    straight path does. The prior is ``N(0, I)``. Conversions from the velocity divide by
    ``s'(t)``, which vanishes at both ends, so the safe time range is ``[t_eps, 1 - t_eps]``.
    """

    name: ClassVar[str] = "$name"

    class Params(GaussianPath.Params):
        t_eps: float = Field(1e-3, gt=0.0, lt=0.5, description="Margin kept from both ends, where s'(t) = 0.")

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        return (self.params.t_eps, 1.0 - self.params.t_eps)

    def alpha(self, t: Tensor) -> Tensor:
        return t * t * (3.0 - 2.0 * t)

    def beta(self, t: Tensor) -> Tensor:
        return 1.0 - self.alpha(t)

    def d_alpha(self, t: Tensor) -> Tensor:
        return 6.0 * t * (1.0 - t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -self.d_alpha(t)
