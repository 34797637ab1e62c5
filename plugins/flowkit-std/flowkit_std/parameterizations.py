"""The four parameterizations: the network predicts velocity, score, epsilon or data.

Each one only names its quantity; reading any other quantity from it goes through the path's
single conversion rule (:meth:`flowkit.path.GaussianPath.convert`), so each converts to all the
others on every Gaussian path:

* from velocity ``v`` (with ``alpha, beta`` and their derivatives ``alpha', beta'`` at ``t``),
  ``det = alpha beta' - beta alpha'``: data ``= (beta' x - beta v) / det``, epsilon
  ``= (alpha v - alpha' x) / det``, score ``= -epsilon / beta``;
* from score ``s``: epsilon ``= -beta s``, data ``= (x + beta^2 s) / alpha``;
* from epsilon ``e``: data ``= (x - beta e) / alpha``, velocity ``= alpha' data + beta' e``;
* from data ``d``: epsilon ``= (x - alpha d) / beta``, velocity ``= alpha' d + beta' epsilon``.
"""

from __future__ import annotations

from typing import ClassVar

from flowkit import Parameterization
from flowkit.path import Quantity, check_quantity


class VelocityParameterization(Parameterization):
    """The network predicts the marginal velocity ``u_t(x)`` (flow matching)."""

    name: ClassVar[str] = "velocity"
    predicts: ClassVar[Quantity] = "velocity"


class ScoreParameterization(Parameterization):
    """The network predicts the score ``grad_x log p_t(x)``."""

    name: ClassVar[str] = "score"
    predicts: ClassVar[Quantity] = "score"


class EpsilonParameterization(Parameterization):
    """The network predicts the noise ``E[eps | x_t = x]`` (DDPM)."""

    name: ClassVar[str] = "epsilon"
    predicts: ClassVar[Quantity] = "epsilon"


class DataParameterization(Parameterization):
    """The network predicts the clean data ``E[z | x_t = x]`` (x0-prediction)."""

    name: ClassVar[str] = "data"
    predicts: ClassVar[Quantity] = "data"


PARAMETERIZATION_FOR: dict[str, type[Parameterization]] = {
    "velocity": VelocityParameterization,
    "score": ScoreParameterization,
    "epsilon": EpsilonParameterization,
    "data": DataParameterization,
}
"""The built-in parameterization that predicts each quantity."""


def parameterization_for(quantity: str) -> Parameterization:
    """A new instance of the built-in parameterization predicting ``quantity``.

    Raises:
        ValueError: for an unknown quantity.
    """
    return PARAMETERIZATION_FOR[check_quantity(quantity)]()
