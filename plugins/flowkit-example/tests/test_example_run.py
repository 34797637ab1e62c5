"""End to end: install the ``example`` plugin's entry point and run a spec that uses all three components."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1]
SPEC = PLUGIN / "examples" / "example.json"
ROOT_COPY = PLUGIN.parents[1] / "examples" / "example_plugin.json"


def _flowkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FLOWKIT_STRICT_PLUGINS": "1"}
    env.pop("FLOWKIT_PLUGINS", None)
    env.pop("FLOWKIT_DISABLE_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "flowkit.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_repository_example_is_the_plugin_example() -> None:
    assert ROOT_COPY.read_text(encoding="utf-8") == SPEC.read_text(encoding="utf-8")


def test_the_installed_entry_point_points_at_the_plugin_module() -> None:
    from importlib import metadata

    found = [ep for ep in metadata.entry_points(group="flowkit.plugins") if ep.name == "example"]
    assert [(ep.value, ep.dist.name if ep.dist else None) for ep in found] == [
        ("flowkit_example.plugin", "flowkit-gm-example")
    ]


@pytest.mark.slow
def test_flowkit_run_uses_the_example_path_solver_and_dataset(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _flowkit(
        "run",
        str(SPEC),
        "--output",
        str(out),
        "--set",
        "train.steps=20",
        "--set",
        "train.batch_size=64",
        "--set",
        "model.params.width=16",
        "--set",
        "model.params.depth=1",
        "--set",
        "sample.num_samples=200",
        "--set",
        "sample.solver.params.steps=5",
        "--set",
        "evaluate.metrics.0.params.num_projections=16",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "sampled 200 with ralston (10 NFE)" in proc.stdout
    resolved = json.loads((out / "spec.json").read_text(encoding="utf-8"))["resolved"]["components"]
    for field, name in (("path", "trig"), ("solver", "ralston"), ("data", "pinwheel")):
        assert resolved[field]["name"] == name
        assert resolved[field]["plugin"] == "example"
        assert resolved[field]["distribution"] == "flowkit-gm-example"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["sample"]["solver"] == "ralston"
    assert summary["sample"]["nfe"] == 10
    assert summary["train"]["steps"] == 20
    assert summary["metrics"]["sliced_w2"]["value"] > 0
    assert (out / "samples.png").stat().st_size > 0
