"""flowkit's conformance checks on everything the ``example`` plugin registers."""

from __future__ import annotations

import pytest

from flowkit import Component
from flowkit.testing import check_component, check_plugin, plugin_components
from flowkit_example import plugin

COMPONENTS = plugin_components(plugin)


def test_the_plugin_provides_a_path_a_solver_and_a_dataset() -> None:
    assert [(cls.kind, cls.name) for cls in COMPONENTS] == [
        ("path", "trig"),
        ("solver", "ralston"),
        ("dataset", "pinwheel"),
    ]


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda cls: f"{cls.kind}:{cls.name}")
def test_component_passes_the_conformance_checks(cls: type[Component]) -> None:
    check_component(cls)


def test_the_plugin_registers_cleanly_under_the_current_api() -> None:
    assert check_plugin(plugin, "example") == COMPONENTS


def test_non_default_params_conform_too() -> None:
    check_component(COMPONENTS[0], {"t_eps": 1e-2})
    check_component(COMPONENTS[1], {"steps": 7, "grid": "logsnr"})
    check_component(COMPONENTS[2], {"arms": 3, "rate": 0.0, "scale": 1.0})
