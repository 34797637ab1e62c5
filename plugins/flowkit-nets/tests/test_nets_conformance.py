"""flowkit's conformance checks on every model the ``nets`` plugin registers.

The models are read from the plugin's own hooks, so one added later is checked here without
editing this file. Each model is probed on a 2D vector and a (1, 8, 8) image; a model may refuse
one of them at construction (an image network given vectors), but must accept at least one.
"""

from __future__ import annotations

import pytest

from flowkit import PLUGIN_API_VERSION, Component, PluginHost
from flowkit.testing import check_component, plugin_components
from flowkit_nets import plugin

COMPONENTS = plugin_components(plugin)


def test_the_plugin_provides_models_only() -> None:
    assert COMPONENTS
    assert {cls.kind for cls in COMPONENTS} == {"model"}


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda cls: f"{cls.kind}:{cls.name}")
def test_model_passes_the_conformance_checks(cls: type[Component]) -> None:
    check_component(cls)


def test_the_plugin_registers_every_model_under_the_current_api() -> None:
    host = PluginHost(autoload=False, strict=True, disabled=[], only=[], trace=False)
    assert host.register(plugin, "nets") == "nets"
    assert host.registry.names("model") == sorted(cls.name for cls in COMPONENTS)
    assert plugin.FLOWKIT_PLUGIN_API == PLUGIN_API_VERSION
