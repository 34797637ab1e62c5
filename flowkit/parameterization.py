"""Parameterizations: what a network's output means, and how to read any quantity from it."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from flowkit.component import Component
from flowkit.errors import IncompatibleComponentsError
from flowkit.path import GaussianPath, ProbabilityPath, Quantity


class Parameterization(Component):
    """Declares which quantity a network predicts and converts its output to any other.

    ``predicts`` is one of ``velocity``, ``score``, ``epsilon``, ``data``. The conversion itself
    lives in the path (:meth:`flowkit.path.GaussianPath.convert`), so a parameterization is small:
    it names the quantity and may post-process the raw output (e.g. rescale it).

    Contract: ``to_quantity(output, quantity, x, t, path)`` takes the network output and the state
    ``x`` (both ``(B, *event_shape)``) and times ``t`` (``(B,)``) and returns the prediction of
    ``quantity`` with the same shape. On a non-Gaussian path only ``predicts`` itself is available.
    """

    kind: ClassVar[str] = "parameterization"
    predicts: ClassVar[Quantity] = "velocity"

    def check_path(self, path: ProbabilityPath) -> None:
        """Raise :class:`IncompatibleComponentsError` if ``path`` cannot serve this parameterization."""
        if self.predicts not in path.quantities:
            raise IncompatibleComponentsError(
                f"parameterization {self.name!r} predicts {self.predicts!r}, but path {path.name!r} "
                f"only provides {', '.join(path.quantities)}"
            )

    def prediction(self, output: Tensor, x: Tensor, t: Tensor) -> Tensor:
        """The prediction of ``predicts`` encoded by the raw network ``output`` (identity by default)."""
        return output

    def to_quantity(self, output: Tensor, quantity: Quantity, x: Tensor, t: Tensor, path: ProbabilityPath) -> Tensor:
        """Read ``quantity`` from the network ``output`` at ``(x, t)`` through ``path``."""
        pred = self.prediction(output, x, t)
        if quantity == self.predicts:
            return pred
        if not isinstance(path, GaussianPath):
            raise IncompatibleComponentsError(
                f"cannot convert {self.predicts!r} to {quantity!r} on path {path.name!r}: "
                "conversions need a Gaussian path"
            )
        return path.convert(pred, self.predicts, quantity, x, t)
