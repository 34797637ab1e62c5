"""flowkit: flow-matching and diffusion generative models where every part is a plugin.

Time convention everywhere: ``t = 0`` is the prior (noise), ``t = 1`` is the data.

The public API:

* component interfaces: :class:`ProbabilityPath`, :class:`GaussianPath`, :class:`Parameterization`,
  :class:`Objective`, :class:`Coupling`, :class:`Solver`, :class:`Dataset`, :class:`Model`,
  :class:`Metric` (all :class:`Component` subclasses with a validated ``Params`` model);
* :class:`Field`: a network + parameterization + path answering velocity, score, epsilon, data;
* plugins: :data:`hookimpl`, :class:`PluginHost`, :func:`default_host`;
* runs: :func:`load_spec`, :func:`validate_spec`, :func:`build_components`, :class:`Trainer`,
  :func:`sample`, :func:`evaluate`, :func:`run`.
"""

from flowkit import _moved
from flowkit.component import Component, Params
from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.engine.evaluation import MetricResult, evaluate
from flowkit.engine.sampling import SampleResult, sample
from flowkit.engine.train import Trainer, TrainResult
from flowkit.errors import (
    CheckpointError,
    ComponentConflictError,
    FlowkitError,
    IncompatibleComponentsError,
    PluginError,
    RunFolderError,
    SpecError,
    UnknownComponentError,
)
from flowkit.field import Field
from flowkit.host import PluginHost, default_host, set_default_host
from flowkit.host.hookspecs import PLUGIN_API_VERSION, hookimpl
from flowkit.metric import Metric
from flowkit.model import Model, ModelContext
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import GaussianPath, PathSample, ProbabilityPath
from flowkit.runs.build import Components, build_components
from flowkit.runs.pipeline import RunResult, run
from flowkit.runs.spec import load_spec, spec_json_schema, validate_spec
from flowkit.solver import FixedStepSolver, Solver, SolveResult

__all__ = [
    "PLUGIN_API_VERSION",
    "CheckpointError",
    "Component",
    "ComponentConflictError",
    "Components",
    "Coupling",
    "Dataset",
    "Field",
    "FixedStepSolver",
    "FlowkitError",
    "GaussianPath",
    "IncompatibleComponentsError",
    "Metric",
    "MetricResult",
    "Model",
    "ModelContext",
    "Objective",
    "Parameterization",
    "Params",
    "PathSample",
    "PluginError",
    "PluginHost",
    "ProbabilityPath",
    "RunFolderError",
    "RunResult",
    "SampleResult",
    "SolveResult",
    "Solver",
    "SpecError",
    "TrainResult",
    "Trainer",
    "UnknownComponentError",
    "build_components",
    "default_host",
    "evaluate",
    "hookimpl",
    "load_spec",
    "run",
    "sample",
    "set_default_host",
    "spec_json_schema",
    "validate_spec",
]

_moved.install()
