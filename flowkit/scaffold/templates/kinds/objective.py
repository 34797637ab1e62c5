"""The ``$name`` objective: the loss of one training batch."""

from __future__ import annotations

from typing import ClassVar

import torch
from flowkit import Field, Objective
from pydantic import Field as ParamField
from torch import Tensor


class ${camel}Objective(Objective):
    """Flow matching with logit-normal times: ``E || v_theta(x_t, t) - u_t(x_t | z) ||^2``.

    Training times are ``t_min + (t_max - t_min) sigmoid(location + scale n)`` with
    ``n ~ N(0, 1)`` and ``[t_min, t_max]`` the path's time range, so with ``location = 0`` the
    middle of the path gets the most weight. The squared error is summed over the event
    dimensions and averaged over the batch; the network is read through the field, so any
    parameterization the path can convert works.
    """

    name: ClassVar[str] = "$name"

    class Params(Objective.Params):
        location: float = ParamField(0.0, description="Mean of the normal variable before the sigmoid.")
        scale: float = ParamField(1.0, gt=0.0, description="Standard deviation of that normal variable.")

    params: Params

    def sample_times(self, n: int, field: Field, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """``n`` logit-normal times inside the field's time range, on ``like``'s device and dtype."""
        device = generator.device if generator is not None else like.device
        normal = torch.randn(n, generator=generator, dtype=like.dtype, device=device).to(like.device)
        lo, hi = field.time_range
        return lo + (hi - lo) * torch.sigmoid(self.params.location + self.params.scale * normal)

    def loss(self, field: Field, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        t = self.sample_times(z.shape[0], field, z, generator)
        draw = field.path.sample(z, t, noise)
        err = (field.velocity(draw.x, draw.t) - draw.target("velocity")).pow(2)
        return err.reshape(err.shape[0], -1).sum(dim=1).mean()
