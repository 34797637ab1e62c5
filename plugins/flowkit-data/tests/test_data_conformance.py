"""flowkit's conformance checks on every dataset the ``data`` plugin registers.

The datasets are read from the plugin's own hooks, so one added later is checked here without
editing this file. A dataset that needs params beyond its defaults (a file to read) gets them from
``params_for``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from flowkit import PLUGIN_API_VERSION, Component, PluginHost
from flowkit.testing import check_component, plugin_components
from flowkit_data import plugin

COMPONENTS = plugin_components(plugin)


def params_for(cls: type[Component], tmp_path: Path) -> list[dict[str, Any]]:
    """The params each dataset is checked with (its defaults, unless it cannot have any)."""
    if cls.name == "file":
        rng = np.random.default_rng(0)
        table = tmp_path / "points.npy"
        np.save(table, rng.normal(size=(40, 3)))
        labelled = tmp_path / "labelled.pt"
        torch.save({"data": torch.randn(30, 1, 2, 2), "labels": torch.arange(30) % 3}, labelled)
        return [{"path": str(table)}, {"path": str(labelled), "subset": "validation", "validation_fraction": 0.2}]
    return [{}]


def test_the_plugin_provides_datasets_only() -> None:
    assert COMPONENTS
    assert {cls.kind for cls in COMPONENTS} == {"dataset"}


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda cls: f"{cls.kind}:{cls.name}")
def test_dataset_passes_the_conformance_checks(cls: type[Component], tmp_path: Path) -> None:
    for params in params_for(cls, tmp_path):
        check_component(cls, params)


def test_the_plugin_registers_every_dataset_under_the_current_api() -> None:
    host = PluginHost(autoload=False, strict=True, disabled=[], only=[], trace=False)
    assert host.register(plugin, "data") == "data"
    assert host.registry.names("dataset") == sorted(cls.name for cls in COMPONENTS)
    assert plugin.FLOWKIT_PLUGIN_API == PLUGIN_API_VERSION
