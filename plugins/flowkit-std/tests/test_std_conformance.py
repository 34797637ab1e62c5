"""flowkit's conformance checks on every component the ``std`` plugin registers.

The components are read from the plugin's own hooks, so a component added to the plugin is
checked here without editing this file. A component that needs more than its defaults gets its
options from ``OPTIONS``.
"""

from __future__ import annotations

from typing import Any

import pytest

from flowkit import PLUGIN_API_VERSION, Component, ModelContext, PluginHost
from flowkit.testing import check_component, plugin_components
from flowkit_std import plugin
from flowkit_std.gmm import GaussianMixture
from flowkit_std.paths import CondOTPath, VPPath

COMPONENTS = plugin_components(plugin)


def _gmm_context(path: Any) -> ModelContext:
    mixture = GaussianMixture()
    return ModelContext(mixture.event_shape, None, mixture, path)


OPTIONS: dict[str, dict[str, Any]] = {
    # the oracle serves the exact field of the gmm dataset, so it is checked on that dataset
    "model:oracle": {"contexts": [_gmm_context(CondOTPath()), _gmm_context(VPPath())]},
}


def _key(cls: type[Component]) -> str:
    return f"{cls.kind}:{cls.name}"


def test_the_plugin_provides_every_kind_it_is_meant_to() -> None:
    kinds = {cls.kind for cls in COMPONENTS}
    assert kinds >= {"path", "parameterization", "objective", "coupling", "solver", "metric"}


@pytest.mark.parametrize("cls", COMPONENTS, ids=_key)
def test_component_passes_the_conformance_checks(cls: type[Component]) -> None:
    check_component(cls, **OPTIONS.get(_key(cls), {}))


def test_every_option_names_a_registered_component() -> None:
    assert set(OPTIONS) <= {_key(cls) for cls in COMPONENTS}


def test_the_plugin_registers_every_component_under_the_current_api() -> None:
    host = PluginHost(autoload=False, strict=True, disabled=[], only=[], trace=False)
    assert host.register(plugin, "std") == "std"
    registered = [(r.kind, r.name) for r in host.registry.registrations()]
    assert registered == sorted((cls.kind, cls.name) for cls in COMPONENTS)
    assert plugin.FLOWKIT_PLUGIN_API == PLUGIN_API_VERSION
