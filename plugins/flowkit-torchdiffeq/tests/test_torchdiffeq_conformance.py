"""flowkit's conformance checks on the ``torchdiffeq`` plugin's solver, adaptive and fixed-grid."""

from __future__ import annotations

from typing import Any

import pytest

from flowkit import PLUGIN_API_VERSION, Component, PluginHost
from flowkit.testing import check_component, plugin_components
from flowkit_torchdiffeq import plugin

COMPONENTS = plugin_components(plugin)

PARAMS: list[dict[str, Any]] = [
    {},
    {"method": "rk4", "steps": 20},
    {"method": "bosh3", "rtol": 1e-4, "atol": 1e-4},
]
"""Every solver is checked with its defaults (adaptive dopri5) and these methods."""


def test_the_plugin_provides_solvers_only() -> None:
    assert COMPONENTS
    assert {cls.kind for cls in COMPONENTS} == {"solver"}


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: p.get("method", "default"))
@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda cls: f"{cls.kind}:{cls.name}")
def test_solver_passes_the_conformance_checks(cls: type[Component], params: dict[str, Any]) -> None:
    check_component(cls, params)


def test_the_plugin_registers_its_solver_under_the_current_api() -> None:
    host = PluginHost(autoload=False, strict=True, disabled=[], only=[], trace=False)
    assert host.register(plugin, "torchdiffeq") == "torchdiffeq"
    assert host.registry.names("solver") == sorted(cls.name for cls in COMPONENTS)
    assert plugin.FLOWKIT_PLUGIN_API == PLUGIN_API_VERSION
