"""The component kinds: one table that every part of flowkit reads.

A *kind* is an extension point: a base class that components derive from, the hook that collects
them from plugins, and the place in a run spec that names one (or a list) of them. The hooks of
:mod:`flowkit.host.hookspecs`, the host's return-type checks, the registry, the run-spec model,
the component builder, the conformance kit, the scaffold and the command line all read
:data:`KINDS`, so adding a kind is one new row here, plus what only a person can write: its base
class, its conformance check, its scaffold templates (``flowkit/scaffold/templates/kinds/``) and
its docs page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowkit.component import Component
from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.metric import Metric
from flowkit.model import Model
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath
from flowkit.solver.base import Solver


@dataclass(frozen=True)
class Kind:
    """One extension point.

    Attributes:
        name: the kind's name (``"path"``), as in ``flowkit plugins show path condot``.
        base: the class every component of the kind derives from.
        hook: the hook that returns the kind's component classes (``"flowkit_paths"``).
        spec_field: where a run spec names a component of the kind, dotted (``"sample.solver"``).
        many: the spec field holds a list of components (metrics), not one.
        default: the component a spec gets when it leaves the field out (``None``: required, or an
            empty list for ``many``).
        plural: the kind in the plural, for messages and hook docstrings.
    """

    name: str
    base: type[Component]
    hook: str
    spec_field: str
    plural: str
    many: bool = False
    default: str | None = None

    @property
    def section(self) -> str | None:
        """The spec section holding the field (``"sample"`` for ``sample.solver``), or ``None`` at the top."""
        return self.spec_field.rpartition(".")[0] or None

    @property
    def key(self) -> str:
        """The field's own key inside its section (``"solver"`` for ``sample.solver``)."""
        return self.spec_field.rpartition(".")[2]


KINDS: tuple[Kind, ...] = (
    Kind("path", ProbabilityPath, "flowkit_paths", "path", "paths", default="condot"),
    Kind(
        "parameterization",
        Parameterization,
        "flowkit_parameterizations",
        "parameterization",
        "parameterizations",
        default="velocity",
    ),
    Kind("objective", Objective, "flowkit_objectives", "objective", "objectives", default="flow_matching"),
    Kind("coupling", Coupling, "flowkit_couplings", "coupling", "couplings", default="independent"),
    Kind("solver", Solver, "flowkit_solvers", "sample.solver", "solvers", default="euler"),
    Kind("dataset", Dataset, "flowkit_datasets", "data", "datasets"),
    Kind("model", Model, "flowkit_models", "model", "models"),
    Kind("metric", Metric, "flowkit_metrics", "evaluate.metrics", "metrics", many=True, default="sliced_w2"),
)
"""Every component kind, in the order listings show them."""

KIND_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
"""Each kind by its name."""

KIND_HOOKS: dict[str, str] = {k.name: k.hook for k in KINDS}
"""Each kind and the hook that collects it (derived from :data:`KINDS`)."""

KIND_BASES: dict[str, type[Component]] = {k.name: k.base for k in KINDS}
"""Each kind and the base class its components derive from (derived from :data:`KINDS`)."""


def kind_of(name: str) -> Kind:
    """The kind called ``name``; raises ``KeyError`` naming the known kinds."""
    try:
        return KIND_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown component kind {name!r}; kinds are: {', '.join(KIND_BY_NAME)}") from None


def kind_of_class(cls: type) -> Kind | None:
    """The kind a component class belongs to (the first base it derives from), if any."""
    return next((k for k in KINDS if isinstance(cls, type) and issubclass(cls, k.base)), None)
