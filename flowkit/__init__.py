"""flowkit: flow-matching and diffusion generative models where every part is a plugin.

Time convention everywhere: ``t = 0`` is the prior (noise), ``t = 1`` is the data.

This module is the public door: everything a user or a plugin author needs is importable from
``flowkit`` itself, and the built-in plugins import nothing else of the core.

* component contracts: :class:`Component`, :class:`ProbabilityPath`, :class:`GaussianPath`,
  :class:`Parameterization`, :class:`Objective`, :class:`Coupling`, :class:`Solver`,
  :class:`FixedStepSolver`, :class:`SDESolver`, :class:`Dataset`, :class:`Model`, :class:`Metric`;
* :class:`ModelField`: a network + parameterization + path answering velocity, score, epsilon, data
  (``Field`` is its deprecated old name);
* solver parts: :class:`Workspace`, :class:`Grid`, :class:`GridParams`, :class:`SampleNoise`, the grids,
  :func:`gaussian_increment`, the noise schedules of the SDE base, likelihoods;
* plugins: :data:`hookimpl`, :data:`KINDS`, :class:`PluginHost`, :func:`default_host`, :func:`build_component`;
* runs: :func:`load_spec`, :func:`validate_spec`, :func:`build_components`, :class:`Trainer`,
  :func:`sample`, :func:`evaluate`, :func:`run`, :func:`load_run`, :func:`draw_samples`,
  :func:`sample_run`, :func:`evaluate_run`.
"""

from flowkit import _moved
from flowkit.component import Component, Params
from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.engine import EMA, MetricResult, SampleResult, Trainer, TrainResult, evaluate, sample
from flowkit.errors import (
    CheckpointError,
    ComponentConflictError,
    DivergedError,
    FlowkitError,
    IncompatibleComponentsError,
    PluginError,
    RunFolderError,
    SpecError,
    UnknownComponentError,
)
from flowkit.field import Field, ModelField
from flowkit.host import PLUGIN_API_VERSION, PluginHost, default_host, hookimpl, set_default_host
from flowkit.host.create import build_component
from flowkit.host.kinds import KINDS, Kind
from flowkit.metric import Metric
from flowkit.model import Model, ModelContext
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import (
    QUANTITIES,
    GaussianPath,
    PathSample,
    ProbabilityPath,
    Quantity,
    batch_times,
    check_quantity,
    expand_like,
    require_gaussian,
)
from flowkit.runs import (
    Components,
    LoadedRun,
    RunResult,
    build_components,
    load_run,
    load_spec,
    run,
    spec_json_schema,
    validate_spec,
)
from flowkit.runs.finished import build_metric, build_solver, draw_samples, evaluate_run, sample_run
from flowkit.solver import (
    TABLEAUS,
    ButcherTableau,
    FixedStepSolver,
    Grid,
    GridKind,
    GridParams,
    Recorder,
    RungeKuttaSolver,
    SampleNoise,
    Solver,
    SolveResult,
    Workspace,
    custom_grid,
    edm_grid,
    gaussian_increment,
    logsnr_grid,
    make_grid,
    merge_times,
    prior_from_noise,
    uniform_grid,
)
from flowkit.solver.likelihood import LikelihoodResult, log_likelihood, sample_with_log_prob
from flowkit.solver.sde import SDESchedule, SDESolver, SigmaSchedule, sigma_schedule

__all__ = [
    "EMA",
    "KINDS",
    "PLUGIN_API_VERSION",
    "QUANTITIES",
    "TABLEAUS",
    "ButcherTableau",
    "CheckpointError",
    "Component",
    "ComponentConflictError",
    "Components",
    "Coupling",
    "Dataset",
    "DivergedError",
    "Field",
    "FixedStepSolver",
    "FlowkitError",
    "GaussianPath",
    "Grid",
    "GridKind",
    "GridParams",
    "IncompatibleComponentsError",
    "Kind",
    "LikelihoodResult",
    "LoadedRun",
    "Metric",
    "MetricResult",
    "Model",
    "ModelContext",
    "ModelField",
    "Objective",
    "Parameterization",
    "Params",
    "PathSample",
    "PluginError",
    "PluginHost",
    "ProbabilityPath",
    "Quantity",
    "Recorder",
    "RunFolderError",
    "RunResult",
    "RungeKuttaSolver",
    "SDESchedule",
    "SDESolver",
    "SampleNoise",
    "SampleResult",
    "SigmaSchedule",
    "SolveResult",
    "Solver",
    "SpecError",
    "TrainResult",
    "Trainer",
    "UnknownComponentError",
    "Workspace",
    "batch_times",
    "build_component",
    "build_components",
    "build_metric",
    "build_solver",
    "check_quantity",
    "custom_grid",
    "default_host",
    "draw_samples",
    "edm_grid",
    "evaluate",
    "evaluate_run",
    "expand_like",
    "gaussian_increment",
    "hookimpl",
    "load_run",
    "load_spec",
    "log_likelihood",
    "logsnr_grid",
    "make_grid",
    "merge_times",
    "prior_from_noise",
    "require_gaussian",
    "run",
    "sample",
    "sample_run",
    "sample_with_log_prob",
    "set_default_host",
    "sigma_schedule",
    "spec_json_schema",
    "uniform_grid",
    "validate_spec",
]

_moved.install()
