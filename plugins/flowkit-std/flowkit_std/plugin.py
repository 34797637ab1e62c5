"""Hook implementations of the ``std`` plugin."""

from __future__ import annotations

from flowkit import Coupling, Dataset, Metric, Model, Objective, Parameterization, ProbabilityPath, Solver, hookimpl
from flowkit_std.couplings import IndependentCoupling, OTCoupling
from flowkit_std.exponential import ExponentialSolver
from flowkit_std.gmm import GaussianMixture
from flowkit_std.likelihood_metric import NegativeLogLikelihood
from flowkit_std.metrics import EnergyDistance, MaximumMeanDiscrepancy, SlicedWasserstein
from flowkit_std.objectives import (
    DataObjective,
    EpsilonObjective,
    FlowMatchingObjective,
    ScoreMatchingObjective,
)
from flowkit_std.oracle import OracleModel
from flowkit_std.parameterizations import (
    DataParameterization,
    EpsilonParameterization,
    ScoreParameterization,
    VelocityParameterization,
)
from flowkit_std.paths import CondOTPath, PolynomialPath, VEPath, VPPath
from flowkit_std.sde import EulerMaruyamaSolver, StochasticHeunSolver
from flowkit_std.solvers import EulerSolver, HeunSolver, MidpointSolver, RK4Solver

FLOWKIT_PLUGIN_API = 1


@hookimpl
def flowkit_paths() -> list[type[ProbabilityPath]]:
    return [CondOTPath, VPPath, VEPath, PolynomialPath]


@hookimpl
def flowkit_parameterizations() -> list[type[Parameterization]]:
    return [VelocityParameterization, ScoreParameterization, EpsilonParameterization, DataParameterization]


@hookimpl
def flowkit_objectives() -> list[type[Objective]]:
    return [FlowMatchingObjective, ScoreMatchingObjective, EpsilonObjective, DataObjective]


@hookimpl
def flowkit_couplings() -> list[type[Coupling]]:
    return [IndependentCoupling, OTCoupling]


@hookimpl
def flowkit_solvers() -> list[type[Solver]]:
    return [
        EulerSolver,
        MidpointSolver,
        HeunSolver,
        RK4Solver,
        ExponentialSolver,
        EulerMaruyamaSolver,
        StochasticHeunSolver,
    ]


@hookimpl
def flowkit_metrics() -> list[type[Metric]]:
    return [SlicedWasserstein, MaximumMeanDiscrepancy, EnergyDistance, NegativeLogLikelihood]


@hookimpl
def flowkit_datasets() -> list[type[Dataset]]:
    return [GaussianMixture]


@hookimpl
def flowkit_models() -> list[type[Model]]:
    return [OracleModel]
