"""The common base of every plugin component: a name, a kind and a validated ``Params`` model.

A component class declares

* ``name``: the identifier used in run specs (``{"name": "condot", "params": {...}}``);
* ``Params``: a pydantic model (``extra="forbid"``) holding every option of the component.

``SomeComponent(**params)`` from Python and ``{"name": ..., "params": {...}}`` from a spec validate
through the same ``Params`` model, so a mistake reads the same either way.
"""

from __future__ import annotations

from abc import ABC
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Component(ABC):
    """Base of every pluggable component.

    Subclasses set ``name`` (a class attribute) and may define a nested ``Params`` model. The
    validated parameters are available as ``self.params``.

    Raises:
        pydantic.ValidationError: if ``params`` do not validate against ``Params``.
    """

    kind: ClassVar[str] = "component"
    name: ClassVar[str] = ""

    class Params(BaseModel):
        """Base of every component's parameter model: unknown keys are rejected, values are frozen, and
        a float must be finite (``inf`` and ``nan`` are refused where they are given, not found later).

        A component subclass extends its parent's model: ``class Params(GaussianPath.Params): ...``.
        """

        model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    params: Params

    def __init__(self, **params: Any) -> None:
        self.params = type(self).Params(**params)

    @classmethod
    def from_params(cls, params: BaseModel | dict[str, Any] | None = None) -> Component:
        """Build the component from a ``Params`` instance or a plain mapping."""
        if params is None:
            return cls()
        if isinstance(params, BaseModel):
            return cls(**params.model_dump())
        return cls(**params)

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring (used in listings)."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({fields})"


Params = Component.Params
"""The base of every component's ``Params`` model (``Component.Params``)."""
