"""The four parameterizations: the network predicts velocity, score, epsilon or data."""

from __future__ import annotations

from typing import ClassVar

from flowkit import Parameterization
from flowkit.path import Quantity


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
