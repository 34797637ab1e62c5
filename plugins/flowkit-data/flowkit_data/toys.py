"""Toy distributions, sampled fresh on every call: the 2D toys and the 1D two-point example.

Every 2D toy takes a ``scale`` param that multiplies the points, so specs can reproduce the scalings
used in the literature (e.g. ``scale = 1 / 0.45`` for the checkerboard of the flow-matching 2D
example).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import ClassVar

import torch
from pydantic import Field
from torch import Tensor

from flowkit import Dataset


class ToyParams(Dataset.Params):
    scale: float = Field(1.0, gt=0, description="Multiplies every point.")


class ToyDataset(Dataset):
    """Base of the 2D toys: ``draw`` makes unscaled float64 points; ``sample`` scales and casts."""

    class Params(ToyParams):
        pass

    params: Params

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (2,)

    @abstractmethod
    def draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        """``n`` unscaled points, ``(n, 2)`` float64."""

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return (self.params.scale * self.draw(n, generator)).to(dtype)


class CheckerboardDataset(ToyDataset):
    """Uniform on the 8 dark squares of a 4x4 checkerboard covering ``[-2, 2]^2`` (times ``scale``)."""

    name: ClassVar[str] = "checkerboard"

    def draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        x = 4.0 * torch.rand(n, generator=generator, dtype=torch.float64) - 2.0
        row = torch.randint(0, 2, (n,), generator=generator).double()
        # within a column of width 1 the dark squares alternate: shift by one unit on odd columns
        y = torch.rand(n, generator=generator, dtype=torch.float64) - 2.0 * row + torch.floor(x).remainder(2.0)
        return torch.stack([x, y], dim=1)


class MoonsDataset(ToyDataset):
    """Two interleaving half circles with Gaussian jitter (``noise`` std), centred at the origin."""

    name: ClassVar[str] = "moons"

    class Params(ToyDataset.Params):
        noise: float = Field(0.05, ge=0, description="Std of the Gaussian jitter added to each point.")

    params: Params

    def draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        upper = torch.rand(n, generator=generator) < 0.5
        angle = math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        x = torch.where(upper, torch.cos(angle), 1.0 - torch.cos(angle))
        y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
        pts = torch.stack([x - 0.5, y - 0.25], dim=1)
        return pts + self.params.noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)


class EightGaussiansDataset(ToyDataset):
    """Eight Gaussians (std ``std``) evenly spaced on a circle of radius ``radius``."""

    name: ClassVar[str] = "8gaussians"

    class Params(ToyDataset.Params):
        radius: float = Field(2.0, gt=0, description="Radius of the circle of centres.")
        std: float = Field(0.1, gt=0, description="Std of each Gaussian.")

    params: Params

    def draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        k = torch.randint(0, 8, (n,), generator=generator).double()
        angle = 2 * math.pi * k / 8
        centres = self.params.radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        return centres + self.params.std * torch.randn(n, 2, generator=generator, dtype=torch.float64)


class CirclesDataset(ToyDataset):
    """Two concentric rings: radius ``radius`` and ``factor * radius``, half of the points on each.

    Angles are uniform; each point gets Gaussian jitter of std ``noise`` in both coordinates.
    """

    name: ClassVar[str] = "circles"

    class Params(ToyDataset.Params):
        radius: float = Field(2.0, gt=0, description="Radius of the outer ring.")
        factor: float = Field(0.5, gt=0, lt=1, description="Inner radius as a fraction of the outer radius.")
        noise: float = Field(0.03, ge=0, description="Std of the Gaussian jitter added to each point.")

    params: Params

    def draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        p = self.params
        inner = torch.rand(n, generator=generator) < 0.5
        angle = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        r = torch.where(inner, p.factor * p.radius, p.radius).to(torch.float64)
        pts = r[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        return pts + p.noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)


class SpiralsDataset(ToyDataset):
    """Two interleaved spiral arms (Archimedean, the second one turned by half a revolution).

    A point of arm ``k`` at angle ``theta`` in ``[0, 2 pi turns]`` sits at radius
    ``radius * theta / (2 pi turns)`` and polar angle ``theta + k pi``; ``theta = 2 pi turns sqrt(u)``
    with ``u`` uniform spreads points about evenly along each arm. Half of the points lie on each
    arm; each gets Gaussian jitter of std ``noise``.
    """

    name: ClassVar[str] = "spirals"

    class Params(ToyDataset.Params):
        radius: float = Field(2.0, gt=0, description="Radius at the outer end of each arm.")
        turns: float = Field(1.5, gt=0, description="Revolutions each arm makes around the origin.")
        noise: float = Field(0.03, ge=0, description="Std of the Gaussian jitter added to each point.")

    params: Params

    def draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        p = self.params
        arm = torch.randint(0, 2, (n,), generator=generator).double()
        total = 2 * math.pi * p.turns
        theta = total * torch.rand(n, generator=generator, dtype=torch.float64).sqrt()
        r = p.radius * theta / total
        angle = theta + math.pi * arm
        pts = r[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        return pts + p.noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)


class TwoPointsDataset(Dataset):
    """The one-dimensional two-point example: ``z = -location`` or ``+location``, each with probability 1/2.

    Event shape ``(1,)``. With the default ``location = 2`` this is the distribution whose
    marginal vector field the flow-matching lecture notes derive in closed form.
    """

    name: ClassVar[str] = "two_points"

    class Params(Dataset.Params):
        location: float = Field(2.0, gt=0, description="The two points are -location and +location.")

    params: Params

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (1,)

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        sign = 2.0 * torch.randint(0, 2, (n, 1), generator=generator, dtype=torch.float64) - 1.0
        return (self.params.location * sign).to(dtype)
