"""Datasets: sources of data points ``z ~ p_data`` (the t = 1 end of every path)."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.component import Component


class Dataset(Component):
    """A source of data points.

    Contract: ``event_shape`` is the shape of one data point; ``sample(n)`` returns ``n`` points as a
    ``(n, *event_shape)`` tensor of ``dtype`` (float32 by default), drawn with ``generator`` so a
    seeded generator gives the same points every time. A finite dataset draws (with replacement)
    from its examples; a synthetic one draws fresh points.
    """

    kind: ClassVar[str] = "dataset"

    @property
    @abstractmethod
    def event_shape(self) -> tuple[int, ...]:
        """Shape of a single data point, e.g. ``(2,)`` or ``(1, 8, 8)``."""

    @property
    def num_classes(self) -> int | None:
        """Number of class labels, or ``None`` for unlabelled data."""
        return None

    @abstractmethod
    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """Draw ``n`` data points, shape ``(n, *event_shape)``."""
