"""Training-time samplers shared by every objective.

An objective draws one time per data point. The draw lives on a window ``[lo, hi]``: the
intersection of the objective's ``[t_min, t_max]`` with the path's safe ``time_range``.

* ``uniform``: ``t = lo + (hi - lo) u`` with ``u ~ U(0, 1)``;
* ``logit_normal``: ``t = lo + (hi - lo) sigmoid(m + s n)`` with ``n ~ N(0, 1)``, which puts more
  weight in the middle of the window (``m = 0``) or toward the data (``m > 0``) or noise
  (``m < 0``) end; ``s`` sets how concentrated the draw is.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor

from flowkit import Objective

TimeSamplerName = Literal["uniform", "logit_normal"]


class TimeSamplingParams(Objective.Params):
    """The time-sampling options every built-in objective accepts."""

    time_sampler: TimeSamplerName = Field("uniform", description="Distribution of training times.")
    logit_mean: float = Field(0.0, description="Mean of the normal before the sigmoid (logit_normal).")
    logit_std: float = Field(1.0, gt=0.0, description="Std of the normal before the sigmoid (logit_normal).")
    t_min: float = Field(0.0, ge=0.0, le=1.0, description="Lower end of the training-time window.")
    t_max: float = Field(1.0, ge=0.0, le=1.0, description="Upper end of the training-time window.")

    @model_validator(mode="after")
    def _check_window(self) -> TimeSamplingParams:
        if self.t_max <= self.t_min:
            raise ValueError(f"t_max ({self.t_max}) must exceed t_min ({self.t_min})")
        return self


def time_window(params: TimeSamplingParams, time_range: tuple[float, float]) -> tuple[float, float]:
    """The interval ``[lo, hi]`` where times are drawn: ``[t_min, t_max]`` intersected with ``time_range``.

    Raises:
        ValueError: if the intersection is empty.
    """
    lo = max(params.t_min, time_range[0])
    hi = min(params.t_max, time_range[1])
    if hi < lo:
        raise ValueError(
            f"the training-time window [{params.t_min}, {params.t_max}] misses the path's safe range "
            f"[{time_range[0]}, {time_range[1]}]"
        )
    return lo, hi


def sample_times(
    n: int,
    params: TimeSamplingParams,
    time_range: tuple[float, float],
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> Tensor:
    """Draw ``n`` training times, shape ``(n,)``, inside :func:`time_window` ``(params, time_range)``.

    Random numbers are drawn on the CPU from ``generator`` (so a seeded generator gives the same
    times on every device) and moved to ``device``.

    Raises:
        ValueError: if ``n`` is negative or the window is empty.
    """
    if n < 0:
        raise ValueError(f"cannot draw a negative number of times ({n})")
    lo, hi = time_window(params, time_range)
    if params.time_sampler == "uniform":
        u = torch.rand(n, generator=generator, dtype=torch.float64)
    else:
        normal = torch.randn(n, generator=generator, dtype=torch.float64)
        u = torch.sigmoid(params.logit_mean + params.logit_std * normal)
    return (lo + (hi - lo) * u).to(dtype=dtype, device=device)
