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
from typing import Annotated, Any, Literal, Union, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic import create_model as _create_model

from flowkit.engine.ema import DEFAULT_EMA_DECAY
from flowkit.errors import SpecError
from flowkit.engine.device import resolve_device
from flowkit.engine.evaluation import DEFAULT_MAX_POINTS, DEFAULT_REFERENCES
from flowkit.host.manager import PluginHost, default_host
from flowkit.component import Component
from flowkit.host.kinds import KINDS, Kind
from flowkit.host.registry import Conflict, Registry

COMPONENT_FIELDS: dict[str, str] = {k.spec_field: k.name for k in KINDS if "." not in k.spec_field}
"""Top-level spec fields that hold a component, and the kind of each (from :data:`~flowkit.host.kinds.KINDS`)."""

create_model: Any = _create_model  # pydantic's dynamic model factory (typed loosely on purpose)


class Section(BaseModel):
    """Base of the fixed spec sections: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TrainSpec(Section):
    """How to train (every field optional)."""

    steps: int = Field(2000, ge=0, description="Optimizer steps (0 trains nothing).")
    batch_size: int = Field(256, gt=0, description="Data points per micro-batch.")
    grad_accum: int = Field(1, gt=0, description="Micro-batches accumulated per optimizer step.")
    lr: float = Field(1e-3, gt=0, description="Peak learning rate of AdamW.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW moment decays, each in [0, 1).")
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

    @field_validator("betas")
    @classmethod
    def _betas_in_unit_interval(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in value):
            raise ValueError(f"each AdamW moment decay must be in [0, 1), got {list(value)}")
        return value


class ComponentSpec(Section):
    """One component of a spec: ``{"name": ..., "params": {...}}``.

    In the model built from the registry, each component field is a union with one member per
    installed component, whose ``params`` is that component's own ``Params`` model.
    """

    name: str = Field(description="The component's registered name (see `flowkit plugins list`).")
    params: Component.Params = Field(default_factory=Component.Params, description="The component's params.")


class SampleSpec(Section):
    """How to sample after training."""

    solver: ComponentSpec = Field(description="The solver (default: euler).")
    num_samples: int = Field(5000, gt=0, description="Samples to draw (and data points to compare them with).")
    batch_size: int = Field(10000, gt=0, description="Samples integrated at once (bounds memory).")
    use_ema: bool = Field(True, description="Sample with the EMA weights when the run has them.")
    guidance_scale: float = Field(
        1.0, ge=0, description="Classifier-free guidance scale w: out = uncond + w (cond - uncond)."
    )
    labels: list[int] | None = Field(
        None, description="Class labels to sample (cycled); default: every class in turn."
    )


class EvaluateSpec(Section):
    """How to evaluate the samples."""

    metrics: list[ComponentSpec] = Field(description="The metrics (default: sliced_w2).")
    references: int = Field(
        DEFAULT_REFERENCES,
        ge=1,
        description="Independent data sets each metric and its noise floor are averaged over.",
    )
    max_points: int = Field(
        DEFAULT_MAX_POINTS,
        ge=1,
        description="Samples each metric scores at most (the first ones); bounds the memory of evaluation.",
    )


class OutputSpec(Section):
    """Where the run folder goes."""

    dir: str | None = Field(None, description="Run folder (default: runs/<name>).")
    overwrite: bool = Field(
        False,
        description="Deprecated and not enough on its own: replacing a folder needs --overwrite "
        "(or run(..., overwrite=True)), so a spec cannot delete a folder.",
    )
    plots: bool = Field(True, description="Write samples.png and loss.png.")
    tensorboard: bool = Field(
        False, description="Also log to TensorBoard event files in <run>/tensorboard (needs tensorboard)."
    )


class RunSpecBase(Section):
    """Every field of a run spec, typed; the model built from the registry narrows the component fields.

    :func:`build_spec_model` derives the validating model from this one: each component field
    (``data``, ``model``, ``path``, ``parameterization``, ``objective``, ``coupling``,
    ``sample.solver``, ``evaluate.metrics``) becomes a union over the installed components of its
    kind; everything else is validated as declared here.
    """

    name: str | None = Field(None, description="A label for the run (defaults to the spec file's stem).")
    seed: int = Field(0, description="Seed of every random number the run draws.")
    device: str = Field(
        "cpu", description="torch device: 'auto' (CUDA when available, else the CPU), 'cpu', 'cuda[:i]' or 'mps'."
    )
    dtype: Literal["float32", "float64"] = Field("float32", description="Floating-point type of the run.")
    data: ComponentSpec
    model: ComponentSpec
    path: ComponentSpec
    parameterization: ComponentSpec
    objective: ComponentSpec
    coupling: ComponentSpec
    train: TrainSpec = Field(default_factory=TrainSpec)
    sample: SampleSpec
    evaluate: EvaluateSpec
    output: OutputSpec = Field(default_factory=OutputSpec)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value in {".", ".."} or any(c in value for c in "/\\\0")):
            raise ValueError(f"a run name may not hold path parts ('/', '\\', '.', '..'), got {value!r}")
        return value

    @field_validator("device")
    @classmethod
    def _available_device(cls, value: str) -> str:
        resolve_device(value)  # raises ValueError naming what is missing
        return value

    @model_validator(mode="after")
    def _precision_fits_the_device(self) -> RunSpecBase:
        if self.train.precision == "fp16" and resolve_device(self.device).type == "cpu":
            raise ValueError("train.precision 'fp16' needs a GPU; use 'bf16' or 'float32' on the CPU")
        return self

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


def _component_field(registry: Registry, kind: Kind) -> tuple[Any, Any]:
    """The (type, default) of the spec field holding components of ``kind``."""
    union = _component_union(kind.name, registry)
    if kind.many:
        names = [kind.default] if kind.default and _default_available(registry, kind.name, kind.default) else []
        return list[union], Field(  # type: ignore[valid-type]
            default_factory=lambda: [{"name": n} for n in names], validate_default=True
        )
    if kind.default is None:
        return union, ...
    return union, _default_component(registry, kind.name, kind.default)


def build_spec_model(registry: Registry) -> type[RunSpecBase]:
    """Build the run-spec pydantic model for the components in ``registry``.

    The model is :class:`RunSpecBase` with every component field of :data:`~flowkit.host.kinds.KINDS`
    narrowed to the installed components of its kind (in a section model derived from the static
    one when the field lives in a section, e.g. ``sample.solver``).
    """
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        if kind.section is None:
            top[kind.key] = _component_field(registry, kind)
        else:
            sections.setdefault(kind.section, {})[kind.key] = _component_field(registry, kind)
    for section, fields in sections.items():
        base = cast(type[Section], RunSpecBase.model_fields[section].annotation)
        model = create_model(base.__name__, __base__=base, __doc__=base.__doc__, **fields)
        top[section] = (model, _default_section())
    top["output"] = (OutputSpec, _default_section())
    spec_model: type[RunSpecBase] = create_model("RunSpec", __base__=RunSpecBase, **top)
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
    """The kind whose component field ``loc`` points at (a list field's items for ``many`` kinds)."""
    dotted = ".".join(str(p) for p in loc)
    for kind in KINDS:
        if kind.many:
            head, _, index = dotted.rpartition(".")
            if head == kind.spec_field and index.isdigit():
                return kind.name
        elif dotted == kind.spec_field:
            return kind.name
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
    "ComponentSpec",
    "EvaluateSpec",
    "OutputSpec",
    "RunSpecBase",
    "SampleSpec",
    "TrainSpec",
    "apply_overrides",
    "build_spec_model",
    "format_errors",
    "load_spec",
    "read_spec_file",
    "spec_json_schema",
    "validate_spec",
]
