"""Shared fixtures of the core test suite.

Every test starts from the same plugin state: no ``FLOWKIT_*`` plugin environment variables, an
empty "already warned" set (so warn-once behaviour is observable per test), and a process-wide
default host that is the real one built from the installed entry points (created once per
session and restored after each test, so a test that swaps it cannot leak into the next one).
"""

from __future__ import annotations

import functools
import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import flowkit.host.manager
from flowkit import PluginHost
from flowkit.testing import fake_plugin

PLUGIN_ENV_VARS = ("FLOWKIT_STRICT_PLUGINS", "FLOWKIT_DISABLE_PLUGINS", "FLOWKIT_PLUGINS", "FLOWKIT_TRACE_PLUGINS")

MakePlugin = Callable[..., types.ModuleType]
WriteSpec = Callable[..., Path]


@pytest.fixture(scope="session")
def builtin_host() -> PluginHost:
    """A host loaded from the real ``flowkit.plugins`` entry points (shared; never mutate it)."""
    # Every setting is explicit: this runs before the per-test environment clean-up.
    return PluginHost(strict=False, disabled=[], only=[], trace=False)


@pytest.fixture(autouse=True)
def _isolated_plugin_state(monkeypatch: pytest.MonkeyPatch, builtin_host: PluginHost) -> Iterator[None]:
    for var in PLUGIN_ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(flowkit.host.manager, "_WARNED", set())
    monkeypatch.setattr(flowkit.host.manager, "_default_host", builtin_host)
    yield


@pytest.fixture
def make_plugin() -> MakePlugin:
    """Build a plugin module from hook results: :func:`flowkit.testing.fake_plugin` declaring no API.

    ``make_plugin("mod", flowkit_paths=[CondOTPath])`` gives a module whose ``flowkit_paths`` hook
    returns that list; a value that is an exception instance makes the hook raise it instead.
    ``api=`` sets ``FLOWKIT_PLUGIN_API`` (left out by default, which the host reads as the current
    API). Hook names are not checked, so unknown hooks can be made.
    """
    return functools.partial(fake_plugin, api=None)


@pytest.fixture
def tiny_spec() -> dict[str, Any]:
    """A complete spec whose run takes well under a second: checkerboard, a 16-unit MLP, 5 steps."""
    return {
        "name": "tiny",
        "seed": 0,
        "data": {"name": "checkerboard"},
        "model": {"name": "mlp", "params": {"width": 16, "depth": 1, "time_dim": 8}},
        "train": {"steps": 5, "batch_size": 64, "log_every": 2},
        "sample": {"solver": {"name": "euler", "params": {"steps": 4}}, "num_samples": 200},
        "evaluate": {"metrics": [{"name": "sliced_w2", "params": {"num_projections": 16}}]},
    }


@pytest.fixture
def write_spec(tmp_path: Path) -> WriteSpec:
    """Write a spec mapping to ``tmp_path/<stem><suffix>`` as JSON or YAML and return the path."""

    def write(data: dict[str, Any], stem: str = "spec", suffix: str = ".json") -> Path:
        path = tmp_path / f"{stem}{suffix}"
        text = yaml.safe_dump(data, sort_keys=False) if suffix in {".yaml", ".yml"} else json.dumps(data, indent=2)
        path.write_text(text, encoding="utf-8")
        return path

    return write


InstallDist = Callable[..., Path]


@pytest.fixture
def install_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InstallDist]:
    """Install fake distributions for ``importlib.metadata`` on a temporary ``sys.path`` entry.

    ``install_dist("flowkit-fake", "1.2.3", {"fake": "fake_mod"}, {"fake_mod": "source"})`` writes
    ``flowkit_fake-1.2.3.dist-info`` (METADATA and ``entry_points.txt`` in ``group``) and the
    modules' source files, so the entry points load exactly as an installed package's would.
    Modules imported from there are removed from ``sys.modules`` afterwards.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(
        distribution: str,
        version: str,
        entry_points: dict[str, str],
        sources: dict[str, str],
        group: str = "flowkit.plugins",
    ) -> Path:
        info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = [f"[{group}]"] + [f"{name} = {target}" for name, target in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for module, source in sources.items():
            (site / f"{module}.py").write_text(source, encoding="utf-8")
            modules.append(module)
        return info

    yield install
    for module in modules:
        sys.modules.pop(module, None)
