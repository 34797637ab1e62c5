"""The ``$name`` metric: how far generated samples are from data (lower is better)."""

from __future__ import annotations

from typing import ClassVar

import torch
from flowkit import Metric
from pydantic import Field
from torch import Tensor


def _subset(x: Tensor, limit: int, generator: torch.Generator | None) -> Tensor:
    flat = x.detach().reshape(x.shape[0], -1).to(device="cpu", dtype=torch.float64)
    if flat.shape[0] <= limit:
        return flat
    return flat[torch.randperm(flat.shape[0], generator=generator)[:limit]]


class ${camel}Metric(Metric):
    """Energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` between samples and reference data.

    It is zero exactly when the two distributions agree (and non-negative otherwise). It is
    estimated on the flattened points, in float64, with every pair of at most ``max_points``
    points per set (a random subset, drawn with ``generator``, when a set is larger).
    """

    name: ClassVar[str] = "$name"

    class Params(Metric.Params):
        max_points: int = Field(2000, gt=1, description="Points of each set used at most (pairs cost memory).")

    params: Params

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        x = _subset(samples, self.params.max_points, generator)
        y = _subset(reference, self.params.max_points, generator)
        if x.shape[1] != y.shape[1]:
            raise ValueError(f"cannot compare points of dimension {x.shape[1]} with {y.shape[1]}")
        cross = torch.cdist(x, y).mean()
        within = torch.cdist(x, x).mean() + torch.cdist(y, y).mean()
        return float(2.0 * cross - within)
