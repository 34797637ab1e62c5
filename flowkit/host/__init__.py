"""The plugin host: the hooks, the kinds they collect, the loader and the registry it builds.

* :mod:`flowkit.host.hookspecs`: the hooks a plugin implements and the plugin API version;
* :mod:`flowkit.host.manager`: :class:`PluginHost`, which loads each entry point on its own;
* :mod:`flowkit.host.registry`: the :class:`Registry` of ``(kind, name) -> component class``;
* :mod:`flowkit.host.describe`: what ``flowkit plugins show`` prints about a component.
"""

from flowkit.host.hookspecs import ENTRY_POINT_GROUP, PLUGIN_API_VERSION, PROJECT_NAME, hookimpl, hookspec
from flowkit.host.manager import PluginFailure, PluginHost, PluginInfo, default_host, set_default_host
from flowkit.host.registry import Conflict, Provider, Registration, Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "PLUGIN_API_VERSION",
    "PROJECT_NAME",
    "Conflict",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
    "Provider",
    "Registration",
    "Registry",
    "default_host",
    "hookimpl",
    "hookspec",
    "set_default_host",
]
