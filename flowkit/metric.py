"""Metrics: measures of how close generated samples are to data."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.component import Component


class Metric(Component):
    """A sample-quality measure comparing ``samples`` with ``reference`` data.

    Contract: ``compute(samples, reference)`` takes two ``(N, *event_shape)`` tensors (their sizes
    may differ) and returns a float where lower is better. Randomised metrics draw from
    ``generator`` so a seeded call is reproducible.
    """

    kind: ClassVar[str] = "metric"

    @abstractmethod
    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        """The metric value (lower is better)."""
