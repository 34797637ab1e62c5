"""Every example spec validates and runs end to end on a tiny budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flowkit
from flowkit.runs.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.json"))
TINY = [
    "train.steps=3",
    "train.log_every=1",
    "train.checkpoint_every=2",
    "sample.num_samples=16",
    "sample.batch_size=8",
    "output.plots=true",
]


def test_there_are_examples_for_each_workload() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"checkerboard", "checkerboard_meta", "moons", "digits", "digits_conditional", "gmm_oracle"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_on_a_tiny_budget(example: Path, tmp_path: Path) -> None:
    spec = load_spec(example, TINY)
    result = flowkit.run(spec, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["sample"]["num_samples"] == 16
    assert result.samples.samples.shape[0] == 16
    for metric in summary["metrics"].values():
        assert metric["value"] == metric["value"]  # not NaN
    assert (tmp_path / "run" / "samples.png").is_file()
    if result.components.model.num_classes:
        assert (tmp_path / "run" / "labels.pt").is_file()
