"""Tests of the ``$name`` plugin: flowkit's conformance checks, then each component's own behaviour."""

from __future__ import annotations

import math
from importlib import metadata

import pytest
import torch
from flowkit import Component, Field, PluginHost
from flowkit.testing import (
    ExactVelocityNetwork,
    GaussianTarget,
    ReferencePath,
    check_component,
    check_plugin,
    plugin_components,
    reference_parameterization,
)

from $package import plugin
$own_imports

COMPONENTS = plugin_components(plugin)


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda cls: f"{cls.kind}:{cls.name}")
def test_component_passes_the_conformance_checks(cls: type[Component]) -> None:
    check_component(cls)


def test_plugin_registers_cleanly_under_its_api_version() -> None:
    checked = check_plugin(plugin, "$name")
    assert [(cls.kind, cls.name) for cls in checked] == $expected


def test_installed_entry_point_gives_flowkit_the_components() -> None:
    entry_points = [ep for ep in metadata.entry_points(group="$group") if ep.name == "$name"]
    assert [ep.value for ep in entry_points] == ["$package.plugin"]
    host = PluginHost(strict=False, disabled=[], only=["$name"], trace=False)
    for cls in COMPONENTS:
        assert host.get(cls.kind, cls.name) is cls


$tests
