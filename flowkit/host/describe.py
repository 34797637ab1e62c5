"""Describe an installed component: what ``flowkit plugins show KIND NAME`` prints.

:func:`describe_component` turns a :class:`~flowkit.registry.Registration` into a
:class:`ComponentInfo`: the full docstring, every param with its type, default, constraints and
description (read from the component's ``Params`` model), the plugin and distribution that provide
it, and the source file that defines it.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flowkit.host.registry import Registration

CLASS_ATTRIBUTES: tuple[str, ...] = ("quantities", "predicts", "stochastic", "trainable")
"""Class attributes of the component kinds worth showing (a path's quantities, a solver's ``stochastic``, ...)."""

_SYMBOLS: dict[str, str] = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_WORDS: dict[str, str] = {
    "multiple_of": "multiple of",
    "min_length": "min length",
    "max_length": "max length",
    "pattern": "matches",
    "max_digits": "max digits",
    "decimal_places": "decimal places",
    "allow_inf_nan": "allows inf/nan:",
    "strict": "strict:",
}


@dataclass
class ParamInfo:
    """One field of a component's ``Params`` model.

    Attributes:
        name: the key used in ``params``.
        type: the annotation, readable (``"float"``, ``"Literal['linear', 'cosine']"``).
        required: True when the field has no default.
        default: the default value (``None`` when required; a factory's value when it has one).
        constraints: e.g. ``{"gt": 0}``, from the field's ``Field(...)`` arguments.
        description: the field's description, if any.
    """

    name: str
    type: str
    required: bool
    default: Any
    constraints: dict[str, Any] = field(default_factory=dict)
    description: str | None = None

    def constraint_text(self) -> str:
        """The constraints as text, e.g. ``"> 0, multiple of 2"`` (empty when there are none)."""
        parts = []
        for key, value in self.constraints.items():
            if key in _SYMBOLS:
                parts.append(f"{_SYMBOLS[key]} {value!r}")
            else:
                parts.append(f"{_WORDS.get(key, key)} {value!r}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (the default is kept as is when JSON can hold it, else as text)."""
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": _jsonable(self.default),
            "constraints": {k: _jsonable(v) for k, v in self.constraints.items()},
            "description": self.description,
        }


@dataclass
class ComponentInfo:
    """Everything ``flowkit plugins show`` reports about one component."""

    kind: str
    name: str
    class_path: str
    summary: str
    doc: str
    params: list[ParamInfo]
    plugin: str
    distribution: str | None
    version: str | None
    source: str | None
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "kind": self.kind,
            "name": self.name,
            "class": self.class_path,
            "summary": self.summary,
            "doc": self.doc,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "source": self.source,
            "attributes": {k: _jsonable(v) for k, v in self.attributes.items()},
            "params": [p.to_dict() for p in self.params],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return repr(value)


def type_name(annotation: Any) -> str:
    """A readable name of a type annotation: ``float``, ``int | None``, ``Literal['a', 'b']``."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _constraints(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in info.metadata:
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            values = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
        else:
            values = dict(getattr(item, "__dict__", {}))
        out.update({k: v for k, v in values.items() if v is not None and not k.startswith("_")})
    return out


def describe_params(model: type[BaseModel]) -> list[ParamInfo]:
    """Describe every field of a ``Params`` model, in declaration order."""
    params = []
    for name, info in model.model_fields.items():
        required = info.is_required()
        if required:
            default: Any = None
        elif info.default_factory is not None:
            factory: Any = info.default_factory
            default = factory()
        else:
            default = info.default
        params.append(
            ParamInfo(
                name=name,
                type=type_name(info.annotation),
                required=required,
                default=default,
                constraints=_constraints(info),
                description=info.description,
            )
        )
    return params


def _source(cls: type) -> str | None:
    try:
        path = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None
    return f"{path}:{line}" if path else None


def describe_component(reg: Registration) -> ComponentInfo:
    """Describe the component of a registration (see :class:`ComponentInfo`)."""
    cls = reg.cls
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    attributes = {attr: getattr(cls, attr) for attr in CLASS_ATTRIBUTES if hasattr(cls, attr)}
    return ComponentInfo(
        kind=reg.kind,
        name=reg.name,
        class_path=f"{cls.__module__}.{cls.__qualname__}",
        summary=cls.summary(),
        doc=doc,
        params=describe_params(cls.Params),
        plugin=reg.provider.plugin,
        distribution=reg.provider.distribution,
        version=reg.provider.version,
        source=_source(cls),
        attributes=attributes,
    )
