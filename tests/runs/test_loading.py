"""``load_run``: a run folder back to live components with its weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import flowkit
from flowkit.errors import CheckpointError, FlowkitError, SpecError
from flowkit.runs.finished import load_run

pytest.importorskip("flowkit_nets")

SPEC = {
    "name": "tiny",
    "seed": 1,
    "data": {"name": "gmm"},
    "model": {"name": "mlp", "params": {"width": 16, "depth": 1, "time_dim": 8}},
    "train": {"steps": 5, "batch_size": 32, "log_every": 5},
    "sample": {"solver": {"name": "euler", "params": {"steps": 4}}, "num_samples": 50},
    "output": {"plots": False},
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("load")
    result = flowkit.run(flowkit.validate_spec(SPEC), root / "tiny")
    return result.folder


def test_load_run_restores_the_trained_weights(run_dir: Path) -> None:
    loaded = load_run(run_dir)
    assert loaded.spec.seed == 1 and loaded.seed == 1
    assert loaded.provenance["components"]["solver"]["name"] == "euler"
    from safetensors.torch import load_file

    stored = load_file(str(loaded.weights))
    for name, value in loaded.components.model.state_dict().items():
        assert torch.equal(value, stored[name]), name
    # The loaded field re-samples exactly what the run sampled (same solver, seed and chunks).
    redrawn = flowkit.sample(loaded.field(), loaded.components.solver, 50, (2,), seed=1)
    torch.testing.assert_close(redrawn.samples, torch.load(run_dir / "samples.pt", weights_only=True))


def test_missing_or_broken_folders_are_named(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FlowkitError, match="no run folder"):
        load_run(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FlowkitError, match=r"empty is not a run folder"):
        load_run(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "spec.json").write_text("{not json")
    with pytest.raises(FlowkitError, match="cannot read"):
        load_run(broken)
    invalid = tmp_path / "invalid"
    invalid.mkdir()
    (invalid / "spec.json").write_text(json.dumps({**SPEC, "path": {"name": "warp"}}))
    with pytest.raises(SpecError):
        load_run(invalid)
    noweights = tmp_path / "noweights"
    noweights.mkdir()
    (noweights / "spec.json").write_text((run_dir / "spec.json").read_text())
    with pytest.raises(CheckpointError, match="no weights"):
        load_run(noweights)
