"""flowkit's standard components (the ``std`` plugin)."""

from flowkit_std.couplings import IndependentCoupling, OTCoupling
from flowkit_std.gmm import GaussianMixture
from flowkit_std.metrics import SlicedWasserstein
from flowkit_std.objectives import (
    DataObjective,
    EpsilonObjective,
    FlowMatchingObjective,
    ScoreMatchingObjective,
)
from flowkit_std.oracle import OracleModel, oracle_field
from flowkit_std.parameterizations import (
    DataParameterization,
    EpsilonParameterization,
    ScoreParameterization,
    VelocityParameterization,
)
from flowkit_std.paths import CondOTPath, PolynomialPath, VEPath, VPPath
from flowkit_std.retime import retime
from flowkit_std.solvers import EulerSolver, MidpointSolver

__all__ = [
    "CondOTPath",
    "DataObjective",
    "DataParameterization",
    "EpsilonObjective",
    "EpsilonParameterization",
    "EulerSolver",
    "FlowMatchingObjective",
    "GaussianMixture",
    "IndependentCoupling",
    "MidpointSolver",
    "OTCoupling",
    "OracleModel",
    "PolynomialPath",
    "ScoreMatchingObjective",
    "ScoreParameterization",
    "SlicedWasserstein",
    "VEPath",
    "VPPath",
    "VelocityParameterization",
    "oracle_field",
    "retime",
]
