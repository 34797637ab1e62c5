"""From a validated spec to live components (the second step of spec -> registry -> components)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import torch

from flowkit.component import Component
from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.engine.device import resolve_device
from flowkit.errors import IncompatibleComponentsError, SpecError
from flowkit.field import ModelField
from flowkit.host.create import build_component
from flowkit.host.manager import PluginHost, default_host
from flowkit.metric import Metric
from flowkit.model import Model, ModelContext
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath
from flowkit.host.registry import Registration
from flowkit.solver.base import Solver
from flowkit.runs.spec import ComponentSpec, RunSpecBase

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Components:
    """Everything a run needs, built from a spec; ``provenance`` records which plugin gave what."""

    dataset: Dataset
    model: Model
    path: ProbabilityPath
    parameterization: Parameterization
    objective: Objective
    coupling: Coupling
    solver: Solver
    metrics: list[Metric]
    device: torch.device
    dtype: torch.dtype
    provenance: dict[str, Any] = field(default_factory=dict)

    def field(self, network: Model | None = None, condition: torch.Tensor | None = None) -> ModelField:
        """The run's :class:`ModelField` (``network`` defaults to the model being trained)."""
        return ModelField(network if network is not None else self.model, self.parameterization, self.path, condition)


def provenance_of(reg: Registration, params: dict[str, Any]) -> dict[str, Any]:
    """What a run folder records about one component: its name, params, plugin, distribution, version."""
    return {
        "name": reg.name,
        "params": params,
        "plugin": reg.provider.plugin,
        "distribution": reg.provider.distribution,
        "version": reg.provider.version,
    }


def check_model_fits_data(model: Model, dataset: Dataset, device: torch.device, dtype: torch.dtype) -> None:
    """Run the model on two data points and check the output has the data's shape.

    Raises:
        IncompatibleComponentsError: if the model fails on the data or returns another shape; the
            message names the dataset, the model, the data's shape and the shape the model was
            built for (or returned).
    """
    x = dataset.sample(2, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)
    data_shape = tuple(x.shape[1:])
    built_for = tuple(model.event_shape)
    t = torch.full((2,), 0.5, dtype=dtype, device=device)
    try:
        with torch.no_grad():
            out = model(x, t)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise IncompatibleComponentsError(
            f"model {model.name!r} (built for shape {built_for}) cannot take data of shape {data_shape} "
            f"from dataset {dataset.name!r}: {type(exc).__name__}: {reason}"
        ) from exc
    if out.shape != x.shape:
        raise IncompatibleComponentsError(
            f"model {model.name!r} (built for shape {built_for}) returns shape {tuple(out.shape[1:])} "
            f"for data of shape {data_shape} from dataset {dataset.name!r}"
        )


def check_labels(labels: list[int] | None, dataset: Dataset) -> None:
    """Refuse ``sample.labels`` a run could not draw, before anything is trained or written.

    Raises:
        SpecError: labels given for a dataset without classes, or outside ``0 .. num_classes - 1``.
    """
    if not labels:
        return
    classes = dataset.num_classes
    if not classes:
        raise SpecError([f"sample.labels: dataset {dataset.name!r} has no classes to draw"])
    bad = [c for c in labels if not 0 <= c < classes]
    if bad:
        raise SpecError([f"sample.labels: {bad} are outside the classes 0..{classes - 1} of dataset {dataset.name!r}"])


def build_components(spec: RunSpecBase, host: PluginHost | None = None) -> Components:
    """Instantiate every component of ``spec`` and check that they fit together.

    The model is initialised from ``torch.manual_seed(spec.seed)``, so the same spec gives the same
    initial weights.
    """
    host = host or default_host()
    registry = host.registry
    provenance: dict[str, Any] = {}

    def make(kind: str, label: str, value: ComponentSpec) -> Component:
        params = value.params.model_dump()
        provenance[label] = provenance_of(registry.registration(kind, value.name), params)
        return build_component(kind, value.name, params, host)

    device = resolve_device(spec.device)
    dtype = DTYPES[spec.dtype]
    s = spec
    dataset = cast(Dataset, make("dataset", "data", s.data))
    path = cast(ProbabilityPath, make("path", "path", s.path))
    parameterization = cast(Parameterization, make("parameterization", "parameterization", s.parameterization))
    objective = cast(Objective, make("objective", "objective", s.objective))
    coupling = cast(Coupling, make("coupling", "coupling", s.coupling))
    solver = cast(Solver, make("solver", "solver", s.sample.solver))
    metrics = [cast(Metric, make("metric", f"metric:{m.name}", m)) for m in s.evaluate.metrics]
    parameterization.check_path(path)

    model_reg = registry.registration("model", s.model.name)
    model_params = s.model.params.model_dump()
    provenance["model"] = provenance_of(model_reg, model_params)
    torch.manual_seed(spec.seed)
    context = ModelContext(tuple(dataset.event_shape), dataset.num_classes, dataset, path, parameterization)
    model_cls = cast(type[Model], model_reg.cls)
    model = model_cls.from_context(context, model_params).to(device=device, dtype=dtype)
    check_model_fits_data(model, dataset, device, dtype)
    check_labels(spec.sample.labels, dataset)
    return Components(
        dataset=dataset,
        model=model,
        path=path,
        parameterization=parameterization,
        objective=objective,
        coupling=coupling,
        solver=solver,
        metrics=metrics,
        device=device,
        dtype=dtype,
        provenance=provenance,
    )
