"""The hooks a flowkit plugin implements, and the plugin API version.

A plugin is a module (registered through the ``flowkit.plugins`` entry-point group) whose
functions are marked with :data:`hookimpl`. Each hook is narrow: it returns the component
classes of one kind that the plugin provides. A plugin implements only the hooks it needs.

A plugin module may declare ``FLOWKIT_PLUGIN_API = <int>``, the plugin API version it was
written for; a plugin whose version differs from :data:`PLUGIN_API_VERSION` is refused.

Example::

    from flowkit import hookimpl

    @hookimpl
    def flowkit_paths():
        return [MyPath]
"""

from __future__ import annotations

import pluggy

from flowkit.component import Component
from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.metric import Metric
from flowkit.model import Model
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath
from flowkit.solver.base import Solver

PROJECT_NAME = "flowkit"
ENTRY_POINT_GROUP = "flowkit.plugins"
PLUGIN_API_VERSION = 1
"""Version of the plugin interface described in this module. It changes only when a hook or a
component contract changes incompatibly."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def flowkit_paths() -> list[type[ProbabilityPath]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.path.ProbabilityPath` subclasses this plugin provides."""


@hookspec
def flowkit_parameterizations() -> list[type[Parameterization]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.parameterization.Parameterization` subclasses this plugin provides."""


@hookspec
def flowkit_objectives() -> list[type[Objective]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.objective.Objective` subclasses this plugin provides."""


@hookspec
def flowkit_couplings() -> list[type[Coupling]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.coupling.Coupling` subclasses this plugin provides."""


@hookspec
def flowkit_solvers() -> list[type[Solver]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.solver.Solver` subclasses this plugin provides."""


@hookspec
def flowkit_datasets() -> list[type[Dataset]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.data.Dataset` subclasses this plugin provides."""


@hookspec
def flowkit_models() -> list[type[Model]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.model.Model` subclasses this plugin provides."""


@hookspec
def flowkit_metrics() -> list[type[Metric]]:  # type: ignore[empty-body]
    """Return the :class:`~flowkit.metric.Metric` subclasses this plugin provides."""


KIND_HOOKS: dict[str, str] = {
    "path": "flowkit_paths",
    "parameterization": "flowkit_parameterizations",
    "objective": "flowkit_objectives",
    "coupling": "flowkit_couplings",
    "solver": "flowkit_solvers",
    "dataset": "flowkit_datasets",
    "model": "flowkit_models",
    "metric": "flowkit_metrics",
}
"""Each component kind and the hook that collects it."""

KIND_BASES: dict[str, type[Component]] = {
    "path": ProbabilityPath,
    "parameterization": Parameterization,
    "objective": Objective,
    "coupling": Coupling,
    "solver": Solver,
    "dataset": Dataset,
    "model": Model,
    "metric": Metric,
}
"""Each component kind and the base class its components derive from."""
