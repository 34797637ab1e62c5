"""flowkit's standard components (the ``std`` plugin)."""

from flowkit_std.couplings import IndependentCoupling, OTCoupling
from flowkit_std.exponential import ExponentialSolver
from flowkit_std.gmm import GaussianMixture
from flowkit_std.metrics import EnergyDistance, MaximumMeanDiscrepancy, SlicedWasserstein
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
from flowkit_std.sde import EulerMaruyamaSolver, StochasticHeunSolver
from flowkit_std.solvers import EulerSolver, HeunSolver, MidpointSolver, RK4Solver

__all__ = [
    "CondOTPath",
    "DataObjective",
    "DataParameterization",
    "EnergyDistance",
    "EpsilonObjective",
    "EpsilonParameterization",
    "EulerMaruyamaSolver",
    "EulerSolver",
    "ExponentialSolver",
    "FlowMatchingObjective",
    "GaussianMixture",
    "HeunSolver",
    "IndependentCoupling",
    "MaximumMeanDiscrepancy",
    "MidpointSolver",
    "OTCoupling",
    "OracleModel",
    "PolynomialPath",
    "RK4Solver",
    "ScoreMatchingObjective",
    "ScoreParameterization",
    "SlicedWasserstein",
    "StochasticHeunSolver",
    "VEPath",
    "VPPath",
    "VelocityParameterization",
    "oracle_field",
    "retime",
]
