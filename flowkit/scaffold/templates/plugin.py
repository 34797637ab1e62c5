"""Hook implementations of the ``$name`` plugin: each hook returns the classes of one kind."""

from __future__ import annotations

from flowkit import hookimpl
$base_imports

$own_imports

FLOWKIT_PLUGIN_API = $api
"""The flowkit plugin API this plugin was written for."""


$hooks
