"""flowkit's standard components (the ``std`` plugin)."""

from flowkit_std.couplings import IndependentCoupling
from flowkit_std.gmm import GaussianMixture
from flowkit_std.metrics import SlicedWasserstein
from flowkit_std.objectives import FlowMatchingObjective
from flowkit_std.oracle import OracleModel, oracle_field
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
    "GaussianMixture",
    "IndependentCoupling",
    "MidpointSolver",
    "OracleModel",
    "ScoreParameterization",
    "SlicedWasserstein",
    "VelocityParameterization",
    "oracle_field",
]
