"""Couplings: how data points and prior draws are paired in a training batch."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.component import Component


class Coupling(Component):
    """Pairs a batch of data ``z`` with a batch of prior draws ``noise`` (same shape ``(B, *event_shape)``).

    Contract: ``pair(z, noise)`` returns ``(z', noise')``, each a permutation (or resampling) of
    its input with the same shape, so that ``(z'[i], noise'[i])`` is a draw from the coupling.
    The independent coupling returns its inputs unchanged.
    """

    kind: ClassVar[str] = "coupling"

    @abstractmethod
    def pair(self, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Return the paired ``(z, noise)``."""
