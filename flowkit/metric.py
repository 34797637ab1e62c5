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

    Metrics of the model itself (e.g. a log-likelihood) set ``needs_field = True``: they are called
    as ``compute(samples, reference, generator=..., field=field)`` with the model's
    :class:`~flowkit.Field`, and may give the value a perfect model would score through
    :meth:`ideal_value` (used as the noise floor).
    """

    kind: ClassVar[str] = "metric"
    needs_field: ClassVar[bool] = False
    """True when ``compute`` needs the model's field (passed as the keyword ``field``)."""

    def ideal_value(self, reference: Tensor, dataset: object) -> float | None:
        """What a perfect model would score on ``reference`` drawn from ``dataset`` (``None``: unknown)."""
        return None

    @abstractmethod
    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        """The metric value (lower is better)."""
