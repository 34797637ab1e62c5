"""The run spec: one validated document describing a whole run.

The spec model is built at run time from the registry. Each component field
(``data``, ``model``, ``path``, ``parameterization``, ``objective``, ``coupling``,
``sample.solver``, ``evaluate.metrics[]``) is a discriminated union over the installed
components of that kind, keyed by ``name``, whose ``params`` validate against the component's
own ``Params`` model. So an error reads ``path.vp.params.beta_max: Input should be greater than 0``
and an unknown name lists what is installed.

Files may be JSON (``.json``) or YAML (``.yaml``/``.yml``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic import create_model as _create_model

from flowkit.engine.ema import DEFAULT_EMA_DECAY
from flowkit.errors import SpecError
from flowkit.engine.evaluation import DEFAULT_REFERENCES
from flowkit.host.manager import PluginHost, default_host
from flowkit.host.registry import Conflict, Registry

COMPONENT_FIELDS: dict[str, str] = {
    "data": "dataset",
    "model": "model",
    "path": "path",
    "parameterization": "parameterization",
    "objective": "objective",
    "coupling": "coupling",
}
"""Top-level spec fields that hold a component, and the kind of each."""

create_model: Any = _create_model  # pydantic's dynamic model factory (typed loosely on purpose)


class Section(BaseModel):
    """Base of the fixed spec sections: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")


class TrainSpec(Section):
    """How to train (every field optional)."""

    steps: int = Field(2000, ge=0, description="Optimizer steps (0 trains nothing).")
    batch_size: int = Field(256, gt=0, description="Data points per micro-batch.")
    grad_accum: int = Field(1, gt=0, description="Micro-batches accumulated per optimizer step.")
    lr: float = Field(1e-3, gt=0, description="Peak learning rate of AdamW.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW moment decays.")
    warmup_steps: int = Field(0, ge=0, description="Linear learning-rate warm-up steps.")
    schedule: Literal["constant", "cosine"] = Field("constant", description="Learning rate after warm-up.")
    min_lr_ratio: float = Field(0.0, ge=0, le=1, description="Final learning rate of the cosine schedule / peak.")
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm to this value.")
    ema_decay: float | None = Field(
        DEFAULT_EMA_DECAY, gt=0, lt=1, description="Decay of the EMA weights used for sampling (null: no EMA)."
    )
    label_dropout: float = Field(
        0.1, ge=0, lt=1, description="Probability of dropping a label (class-conditional models; enables guidance)."
    )
    precision: Literal["float32", "bf16", "fp16"] = Field("float32", description="Autocast precision.")
    compile: bool = Field(False, description="Compile the model with torch.compile.")
    log_every: int = Field(100, gt=0, description="Write a metrics.jsonl line every this many steps.")
    checkpoint_every: int | None = Field(
        None, gt=0, description="Write a resumable checkpoint every this many steps (and always at the end)."
    )


class RunSpecBase(Section):
    """Fields every run spec has; the component fields are added per registry."""

    name: str | None = Field(None, description="A label for the run (defaults to the spec file's stem).")
    seed: int = Field(0, description="Seed of every random number the run draws.")
    device: str = Field("cpu", description="torch device, e.g. 'cpu' or 'cuda:0'.")
    dtype: Literal["float32", "float64"] = Field("float32", description="Floating-point type of the run.")
    train: TrainSpec = Field(default_factory=TrainSpec)

    def component(self, field: str) -> tuple[str, dict[str, Any]]:
        """``(name, params)`` of a top-level component field."""
        value = getattr(self, field)
        return value.name, value.params.model_dump()


def _component_union(kind: str, registry: Registry) -> Any:
    members: list[Any] = []
    for reg in registry.registrations(kind):
        member = create_model(
            f"{kind}:{reg.name}",
            __config__=ConfigDict(extra="forbid", title=f"{kind} {reg.name}"),
            __doc__=reg.cls.summary() or None,
            name=(Literal[reg.name], ...),
            # validated in place, so a missing required param reports its full location
            params=(reg.cls.Params, Field(default_factory=dict, validate_default=True)),
        )
        members.append(member)
    for conflict in registry.conflicts:
        if conflict.kind == kind:
            members.append(_conflict_member(conflict))
    if not members:
        members.append(_missing_member(kind))
    return Annotated[Union[tuple(members)], Field(discriminator="name")]  # noqa: UP007 (a runtime union of many)


def _conflict_member(conflict: Conflict) -> type[BaseModel]:
    message = conflict.message()

    def refuse(value: Any) -> Any:
        raise ValueError(message)

    member: type[BaseModel] = create_model(
        f"{conflict.kind}:{conflict.name}",
        __config__=ConfigDict(extra="allow"),
        __validators__={"refuse": model_validator(mode="before")(refuse)},
        name=(Literal[conflict.name], ...),
    )
    return member


def _missing_member(kind: str) -> type[BaseModel]:
    member: type[BaseModel] = create_model(
        f"{kind}:none-installed",
        name=(Literal[f"<no {kind} installed>"], ...),
    )
    return member


def _default_available(registry: Registry, kind: str, name: str) -> bool:
    # A conflicting default stays the default, so its validation names both providers instead of
    # silently turning the field into a required one.
    return name in registry.names(kind) or registry.conflict(kind, name) is not None


def _default_component(registry: Registry, kind: str, name: str) -> Any:
    if _default_available(registry, kind, name):
        return Field(default_factory=lambda: {"name": name}, validate_default=True)
    return ...


def _default_section() -> Any:
    # Validated in place (not built by a factory) so an error inside it keeps its full location.
    return Field(default_factory=dict, validate_default=True)


def build_spec_model(registry: Registry) -> type[RunSpecBase]:
    """Build the run-spec pydantic model for the components in ``registry``."""

    def union(kind: str) -> Any:
        return _component_union(kind, registry)

    sample_model = create_model(
        "SampleSpec",
        __base__=Section,
        __doc__="How to sample after training.",
        solver=(union("solver"), _default_component(registry, "solver", "euler")),
        num_samples=(int, Field(5000, gt=0, description="Samples to draw (and data points to compare them with).")),
        batch_size=(int, Field(10000, gt=0, description="Samples integrated at once (bounds memory).")),
        use_ema=(bool, Field(True, description="Sample with the EMA weights when the run has them.")),
        guidance_scale=(
            float,
            Field(1.0, ge=0, description="Classifier-free guidance scale w: out = uncond + w (cond - uncond)."),
        ),
        labels=(
            list[int] | None,
            Field(None, description="Class labels to sample (cycled); default: every class in turn."),
        ),
    )
    metric_list: Any = list[union("metric")]  # type: ignore[misc]
    default_metrics = ["sliced_w2"] if _default_available(registry, "metric", "sliced_w2") else []
    evaluate_model = create_model(
        "EvaluateSpec",
        __base__=Section,
        __doc__="How to evaluate the samples.",
        metrics=(
            metric_list,
            Field(default_factory=lambda: [{"name": n} for n in default_metrics], validate_default=True),
        ),
        references=(
            int,
            Field(
                DEFAULT_REFERENCES,
                ge=1,
                description="Independent data sets each metric and its noise floor are averaged over.",
            ),
        ),
    )
    output_model = create_model(
        "OutputSpec",
        __base__=Section,
        __doc__="Where the run folder goes.",
        dir=(str | None, Field(None, description="Run folder (default: runs/<name>).")),
        overwrite=(bool, Field(False, description="Replace an existing run folder.")),
        plots=(bool, Field(True, description="Write samples.png and loss.png.")),
        tensorboard=(
            bool,
            Field(False, description="Also log to TensorBoard event files in <run>/tensorboard (needs tensorboard)."),
        ),
    )
    fields: dict[str, Any] = {
        "data": (union("dataset"), ...),
        "model": (union("model"), ...),
        "path": (union("path"), _default_component(registry, "path", "condot")),
        "parameterization": (union("parameterization"), _default_component(registry, "parameterization", "velocity")),
        "objective": (union("objective"), _default_component(registry, "objective", "flow_matching")),
        "coupling": (union("coupling"), _default_component(registry, "coupling", "independent")),
        "sample": (sample_model, _default_section()),
        "evaluate": (evaluate_model, _default_section()),
        "output": (output_model, _default_section()),
    }
    spec_model: type[RunSpecBase] = create_model("RunSpec", __base__=RunSpecBase, **fields)
    return spec_model


# ------------------------------------------------------------------------------------------------
# Reading, overriding and validating


def read_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML spec file into a dict (raises :class:`SpecError` naming the file)."""
    p = Path(path)
    if not p.is_file():
        raise SpecError([f"no such spec file: {p}"])
    text = p.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if p.suffix.lower() in {".yaml", ".yml"} else json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:  # YAML puts the position on later lines
            first = f"{exc.problem or first} (line {mark.line + 1}, column {mark.column + 1})"
        raise SpecError([f"cannot parse: {first}"], source=str(p)) from exc
    if not isinstance(data, dict):
        raise SpecError(["the spec must be a mapping (a JSON object)"], source=str(p))
    return data


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML, so ``3``, ``true``, ``[1,2]`` work).

    A numeric key indexes a list: ``evaluate.metrics.0.params.num_projections=64``.
    """
    out: dict[str, Any] = copy.deepcopy(dict(data))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SpecError([f"override {item!r} must look like key.sub=value"])
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        parts = key.strip().split(".")
        if not all(part.strip() for part in parts):
            raise SpecError([f"override {item!r} has an empty key part"])
        parts = [part.strip() for part in parts]
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise SpecError([f"override {key}: {'.'.join(parts[:i])} has no item {part}"])
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    if not isinstance(node.get(part), (dict, list)):
                        node[part] = {}
                    node = node[part]
            else:
                raise SpecError([f"override {key}: {'.'.join(parts[:i])} is not a mapping"])
    return out


def format_errors(exc: ValidationError, registry: Registry) -> list[str]:
    """One ``field.path: message`` line per problem."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        kind = _kind_at(err["loc"])
        if err["type"] == "union_tag_invalid" and kind is not None:
            tag = str((err.get("ctx") or {}).get("tag", ""))
            lines.append(f"{loc}.name: {registry.unknown_message(kind, tag)}")
        elif err["type"] == "union_tag_not_found" and kind is not None:
            listing = ", ".join(registry.names(kind)) or "none"
            lines.append(f"{loc}: a component needs a 'name'; installed {kind}s: {listing}")
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            lines.append(f"{loc}: {msg}" if loc else msg)
    return lines


def _kind_at(loc: tuple[int | str, ...]) -> str | None:
    if len(loc) == 1 and loc[0] in COMPONENT_FIELDS:
        return COMPONENT_FIELDS[str(loc[0])]
    if loc[:2] == ("sample", "solver") and len(loc) == 2:
        return "solver"
    if loc[:2] == ("evaluate", "metrics") and len(loc) == 3:
        return "metric"
    return None


def validate_spec(
    data: Mapping[str, Any],
    *,
    host: PluginHost | None = None,
    source: str | None = None,
) -> RunSpecBase:
    """Validate a spec mapping against the installed plugins; raise :class:`SpecError` listing every problem."""
    registry = (host or default_host()).registry
    model = build_spec_model(registry)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecError(format_errors(exc, registry), source=source) from exc


def load_spec(
    path: str | Path,
    overrides: Sequence[str] = (),
    *,
    host: PluginHost | None = None,
) -> RunSpecBase:
    """Read, override and validate a spec file. A spec without ``name`` is named after the file."""
    data = apply_overrides(read_spec_file(path), overrides)
    data.setdefault("name", Path(path).stem)
    return validate_spec(data, host=host, source=str(path))


def spec_json_schema(host: PluginHost | None = None) -> dict[str, Any]:
    """The JSON Schema of the run spec for the installed plugins."""
    return build_spec_model((host or default_host()).registry).model_json_schema()


__all__ = [
    "COMPONENT_FIELDS",
    "RunSpecBase",
    "TrainSpec",
    "apply_overrides",
    "build_spec_model",
    "format_errors",
    "load_spec",
    "read_spec_file",
    "spec_json_schema",
    "validate_spec",
]
