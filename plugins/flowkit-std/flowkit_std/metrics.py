"""Sample-quality metrics."""

from __future__ import annotations

from typing import ClassVar

import torch
from pydantic import Field
from torch import Tensor

from flowkit import Metric


def sliced_wasserstein(
    x: Tensor,
    y: Tensor,
    num_projections: int,
    generator: torch.Generator | None = None,
    quantiles: int = 1000,
) -> float:
    """Sliced Wasserstein-2 distance between the empirical measures of ``x`` and ``y``.

    ``SW2(x, y) = ( E_theta W2^2(theta.x, theta.y) )^(1/2)`` with ``theta`` uniform on the unit
    sphere, estimated with ``num_projections`` random directions. Each one-dimensional W2 compares
    the two sorted projections; when the sample sizes differ, both are compared at ``quantiles``
    evenly spaced quantile levels. Inputs are ``(N, *event_shape)`` and ``(M, *event_shape)``.
    """
    xf = x.reshape(x.shape[0], -1).double()
    yf = y.reshape(y.shape[0], -1).double()
    if xf.shape[1] != yf.shape[1]:
        raise ValueError(f"cannot compare samples of dimension {xf.shape[1]} with {yf.shape[1]}")
    theta = torch.randn(xf.shape[1], num_projections, generator=generator, dtype=torch.float64)
    theta = theta / theta.norm(dim=0, keepdim=True)
    px = torch.sort(xf.cpu() @ theta, dim=0).values
    py = torch.sort(yf.cpu() @ theta, dim=0).values
    if px.shape[0] != py.shape[0]:
        levels = (torch.arange(quantiles, dtype=torch.float64) + 0.5) / quantiles
        px = torch.quantile(px, levels, dim=0)
        py = torch.quantile(py, levels, dim=0)
    return float((px - py).pow(2).mean().sqrt())


class SlicedWasserstein(Metric):
    """Sliced Wasserstein-2 distance between samples and data (lower is better; same units as the data)."""

    name: ClassVar[str] = "sliced_w2"

    class Params(Metric.Params):
        num_projections: int = Field(256, gt=0, description="Random directions averaged over.")

    params: Params

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        return sliced_wasserstein(samples, reference, self.params.num_projections, generator)
