"""The hooks a flowkit plugin implements, and the plugin API version.

A plugin is a module (registered through the ``flowkit.plugins`` entry-point group) whose
functions are marked with :data:`hookimpl`. Each hook is narrow: it returns the component
classes of one kind that the plugin provides. A plugin implements only the hooks it needs.

There is one hook per row of :data:`flowkit.host.kinds.KINDS`, generated from it:
``flowkit_paths``, ``flowkit_parameterizations``, ``flowkit_objectives``, ``flowkit_couplings``,
``flowkit_solvers``, ``flowkit_datasets``, ``flowkit_models`` and ``flowkit_metrics``; each takes no
argument and returns a list of component classes of its kind.

A plugin module may declare ``FLOWKIT_PLUGIN_API = <int>``, the plugin API version it was
written for; a plugin whose version differs from :data:`PLUGIN_API_VERSION` is refused.

Example::

    from flowkit import hookimpl

    @hookimpl
    def flowkit_paths():
        return [MyPath]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from flowkit.host.kinds import KIND_BASES, KIND_HOOKS, KINDS, Kind

PROJECT_NAME = "flowkit"
ENTRY_POINT_GROUP = "flowkit.plugins"
PLUGIN_API_VERSION = 1
"""Version of the plugin interface described in this module. It changes only when a hook or a
component contract changes incompatibly."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


def _hook_spec(kind: Kind) -> Callable[[], list[type[Any]]]:
    def spec() -> list[type[Any]]:  # pragma: no cover - a specification, never called
        return []

    base = kind.base
    spec.__name__ = spec.__qualname__ = kind.hook
    spec.__module__ = __name__
    spec.__doc__ = f"Return the :class:`~{base.__module__}.{base.__qualname__}` subclasses this plugin provides."
    spec.__annotations__ = {"return": f"list[type[{base.__qualname__}]]"}
    return hookspec(spec)


for _kind in KINDS:  # one hook per row of the kinds table
    globals()[_kind.hook] = _hook_spec(_kind)
del _kind

HOOKS: tuple[str, ...] = tuple(k.hook for k in KINDS)
"""Every hook name, in the order of :data:`flowkit.host.kinds.KINDS`."""

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOKS",
    "KIND_BASES",
    "KIND_HOOKS",
    "PLUGIN_API_VERSION",
    "PROJECT_NAME",
    "hookimpl",
    "hookspec",
    *HOOKS,
]
