"""flowkit's standard components (the ``std`` plugin)."""

from flowkit_std.couplings import IndependentCoupling
from flowkit_std.metrics import SlicedWasserstein
from flowkit_std.objectives import FlowMatchingObjective
from flowkit_std.parameterizations import (
    DataParameterization,
    EpsilonParameterization,
    ScoreParameterization,
    VelocityParameterization,
)
from flowkit_std.paths import CondOTPath
from flowkit_std.solvers import EulerSolver, MidpointSolver

__all__ = [
    "CondOTPath",
    "DataParameterization",
    "EpsilonParameterization",
    "EulerSolver",
    "FlowMatchingObjective",
    "IndependentCoupling",
    "MidpointSolver",
    "ScoreParameterization",
    "SlicedWasserstein",
    "VelocityParameterization",
]
