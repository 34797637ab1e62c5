"""Objectives: the training loss of a batch, independent of what the network predicts."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.component import Component
from flowkit.field import ModelField


class Objective(Component):
    """The loss of one batch.

    Contract: ``loss(field, z, noise)`` takes the field being trained, data ``z`` and paired prior
    draws ``noise`` (both ``(B, *event_shape)``), draws training times inside
    ``field.time_range`` itself, and returns a scalar tensor to minimise. It reads the network
    through ``field.predict(quantity, ...)``, so it works with every parameterization the path
    can convert.

    Scale: a loss built from squared errors averages them over the event dimensions (every
    non-batch dimension) rather than summing them, then over the batch. So a loss value, and a
    gradient-clip threshold, mean the same for data of any shape, and read as other libraries'
    per-dimension MSE. The built-in objectives follow this.
    """

    kind: ClassVar[str] = "objective"

    @abstractmethod
    def loss(
        self,
        field: ModelField,
        z: Tensor,
        noise: Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Return the scalar loss of the batch ``z`` with prior draws ``noise``."""
