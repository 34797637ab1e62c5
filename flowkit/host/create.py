"""Building a component from ``(kind, name, params)``: the one door from the registry to a live object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from flowkit.component import Component
from flowkit.errors import SpecError
from flowkit.host.kinds import kind_of

if TYPE_CHECKING:
    from flowkit.host.manager import PluginHost


def build_component(
    kind: str,
    name: str,
    params: Mapping[str, Any] | BaseModel | None = None,
    host: PluginHost | None = None,
    *,
    location: str | None = None,
) -> Component:
    """The installed component ``(kind, name)`` built with ``params``, validated by its ``Params`` model.

    This is the one way flowkit turns ``(kind, name, params)`` into a live component: the run-spec
    builder, re-sampling (``flowkit sample --solver``), re-evaluation (``flowkit evaluate --metric``)
    and :meth:`flowkit.PluginHost.create` all call it, so a mistake reads the same everywhere.

    Args:
        kind: a kind of :data:`flowkit.host.kinds.KINDS` (``"solver"``, ``"metric"``, ...).
        name: the component's registered name.
        params: its params (a mapping or a validated ``Params`` instance; default: none).
        host: the plugin host (default: the process-wide one).
        location: where the params came from, for messages (default: the kind's spec field).

    Raises:
        UnknownComponentError: no installed component of that kind has that name (the message lists
            the installed ones).
        SpecError: the params do not validate: one ``<location>.<name>.params.<key>: message`` line
            per problem.
    """
    if host is None:
        from flowkit.host.manager import default_host

        host = default_host()
    reg = host.registry.registration(kind, name)
    values = params.model_dump() if isinstance(params, BaseModel) else dict(params or {})
    try:
        component = reg.cls(**values)
    except ValidationError as exc:
        where = location or kind_of(kind).spec_field
        lines = [f"{where}.{name}.params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SpecError(lines) from exc
    return component
