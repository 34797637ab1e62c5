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

    Labels: a labelled dataset reports ``num_classes`` (``K``) and overrides :meth:`sample_labeled`
    to return integer labels in ``[0, K)`` alongside the points; the default returns ``None``
    labels. Models reserve index ``K`` as the "no label" token.

    Train/validation split: a finite dataset holds out a fixed part of its examples through the
    params ``validation_fraction`` (share of examples held out) and ``split_seed`` (seed of the
    permutation that chooses them), and serves one part, chosen by the param
    ``subset`` (``"train"`` or ``"validation"``). Both parts come from the same params apart from
    ``subset``, so they are disjoint and fixed across runs.
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

    def sample_labeled(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[Tensor, Tensor | None]:
        """Draw ``n`` data points with their class labels.

        Returns:
            ``(points, labels)``: points of shape ``(n, *event_shape)`` and ``dtype``; labels of
            shape ``(n,)`` and dtype ``torch.long`` with values in ``[0, num_classes)``, or
            ``None`` for unlabelled data (the default, which draws exactly what :meth:`sample`
            draws).
        """
        return self.sample(n, generator=generator, dtype=dtype), None
