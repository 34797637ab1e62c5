"""The ``$name`` parameterization: what the network's output means."""

from __future__ import annotations

from typing import ClassVar

from flowkit import Parameterization
from flowkit.path import Quantity
from torch import Tensor


class ${camel}Parameterization(Parameterization):
    """The network predicts the residual ``z - x_t``; the data prediction is ``x_t + output``.

    Near the data end ``x_t`` is already close to ``z``, so the network only learns a small
    correction there. Every other quantity comes from the path's conversion of the data
    prediction (a Gaussian path is needed for those).
    """

    name: ClassVar[str] = "$name"
    predicts: ClassVar[Quantity] = "data"

    def prediction(self, output: Tensor, x: Tensor, t: Tensor) -> Tensor:
        return x + output
