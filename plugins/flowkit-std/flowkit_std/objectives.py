"""Regression objectives on conditional targets."""

from __future__ import annotations

from typing import ClassVar

import torch
from pydantic import Field
from torch import Tensor

from flowkit import Field as FlowField
from flowkit import Objective


class FlowMatchingObjective(Objective):
    """Conditional flow matching: ``E_{t, z, eps} || u_theta(x_t, t) - u_t(x_t | z) ||^2``.

    Its gradient equals that of the (intractable) marginal flow-matching loss, because the two
    losses differ by a constant. Times are drawn uniformly in the path's time range (intersected
    with ``[t_min, t_max]``). The network is read through the parameterization, so a network that
    predicts epsilon, score or data trains with this loss as well. The squared error is summed over
    the event dimensions and averaged over the batch.
    """

    name: ClassVar[str] = "flow_matching"

    class Params(Objective.Params):
        t_min: float = Field(0.0, ge=0.0, le=1.0, description="Lower end of the training-time window.")
        t_max: float = Field(1.0, ge=0.0, le=1.0, description="Upper end of the training-time window.")

    params: Params

    def sample_times(self, n: int, field: FlowField, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """Uniform times in ``[max(t_min, path t_min), min(t_max, path t_max)]``, shape ``(n,)``."""
        lo = max(self.params.t_min, field.time_range[0])
        hi = min(self.params.t_max, field.time_range[1])
        if hi < lo:
            raise ValueError(
                f"objective time window [{self.params.t_min}, {self.params.t_max}] misses the path's range"
            )
        u = torch.rand(n, generator=generator, dtype=like.dtype, device=like.device)
        return lo + (hi - lo) * u

    def loss(
        self,
        field: FlowField,
        z: Tensor,
        noise: Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        t = self.sample_times(z.shape[0], field, z, generator)
        draw = field.path.sample(z, t, noise)
        pred = field.velocity(draw.x, draw.t)
        err = (pred - draw.target("velocity")).pow(2)
        return err.reshape(err.shape[0], -1).sum(dim=1).mean()
