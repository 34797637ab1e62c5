"""``flowkit sample`` and ``flowkit evaluate`` on a training-free GMM-oracle run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from flowkit.cli import main

pytest.importorskip("flowkit_std")

SPEC = {
    "name": "oracle",
    "seed": 0,
    "dtype": "float64",
    "data": {"name": "gmm"},
    "model": {"name": "oracle"},
    "path": {"name": "vp"},
    "sample": {"solver": {"name": "euler", "params": {"steps": 10}}, "num_samples": 200},
    "output": {"plots": False},
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    spec = root / "spec.json"
    spec.write_text(json.dumps(SPEC))
    result = CliRunner().invoke(main, ["run", str(spec), "-o", str(root / "oracle"), "-q"])
    assert result.exit_code == 0, result.output
    return root / "oracle"


def test_sample_writes_its_own_folder_and_leaves_the_run_alone(run_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir() if p.is_file()}
    args = ["sample", str(run_dir), "--solver", "exponential", "--steps", "10", "--num", "120", "--tag", "ten"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "(10 NFE)" in result.output
    out = run_dir / "samples" / "exponential-ten"
    assert {p.name for p in out.iterdir()} == {"samples.pt", "samples.png", "trajectory.png", "info.json"}
    info = json.loads((out / "info.json").read_text())
    assert info["nfe"] == 10 and info["num_samples"] == 120
    assert info["solver"] == {"name": "exponential", "params": info["solver"]["params"]}
    assert info["solver"]["params"]["steps"] == 10
    samples = torch.load(out / "samples.pt", weights_only=True)
    assert samples.shape == (120, 2) and samples.dtype == torch.float64
    after = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir() if p.is_file()}
    assert after == before


def test_sample_passes_any_solver_param_and_is_reproducible(run_dir: Path) -> None:
    runner = CliRunner()
    common = ["sample", str(run_dir), "--solver", "sde_heun", "--steps", "8", "--num", "40"]
    common += ["--param", "sigma=constant", "--param", "sigma_scale=0.5", "-q"]
    assert runner.invoke(main, [*common, "--tag", "a"]).exit_code == 0
    assert runner.invoke(main, [*common, "--tag", "b", "--batch-size", "7"]).exit_code == 0
    a = torch.load(run_dir / "samples" / "sde_heun-a" / "samples.pt", weights_only=True)
    b = torch.load(run_dir / "samples" / "sde_heun-b" / "samples.pt", weights_only=True)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    info = json.loads((run_dir / "samples" / "sde_heun-a" / "info.json").read_text())
    assert info["solver"]["params"]["sigma"] == "constant" and info["nfe"] == 16


def test_adaptive_solver_from_the_cli(run_dir: Path) -> None:
    args = ["sample", str(run_dir), "--solver", "torchdiffeq", "--rtol", "1e-6", "--atol", "1e-6", "--num", "30"]
    result = CliRunner().invoke(main, [*args, "--tag", "dopri"])
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "samples" / "torchdiffeq-dopri" / "info.json").read_text())["nfe"] > 20


def test_evaluate_with_the_nll_metric(run_dir: Path) -> None:
    args = ["evaluate", str(run_dir), "--metric", "nll", "--param", "steps=40", "--param", "max_points=100"]
    result = CliRunner().invoke(main, [*args, "--tag", "nll"])
    assert result.exit_code == 0, result.output
    stored = json.loads((run_dir / "evaluations" / "nll.json").read_text())
    # The oracle's likelihood equals the data's exact entropy (the floor) to 1e-3 bits per dimension.
    assert abs(stored["nll"]["value"] - stored["nll"]["noise_floor"]) < 1e-3


def test_evaluate_reads_a_samples_folder_written_by_flowkit_sample(run_dir: Path) -> None:
    runner = CliRunner()
    args = ["sample", str(run_dir), "--solver", "midpoint", "--steps", "20", "--num", "150", "--tag", "mid", "-q"]
    assert runner.invoke(main, args).exit_code == 0
    folder = run_dir / "samples" / "midpoint-mid"
    result = runner.invoke(main, ["evaluate", str(run_dir), "--samples", str(folder), "--tag", "mid"])
    assert result.exit_code == 0, result.output
    stored = json.loads((run_dir / "evaluations" / "mid.json").read_text())
    assert stored["sliced_w2"]["num_samples"] == 150


def test_clear_errors(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["sample", str(tmp_path / "nope"), "--solver", "euler"])
    assert missing.exit_code == 1 and "no run folder" in missing.output
    bad = runner.invoke(main, ["sample", str(run_dir), "--solver", "euler", "--param", "grid=foo"])
    assert bad.exit_code == 2 and "solver.euler.params.grid" in bad.output
    unknown = runner.invoke(main, ["sample", str(run_dir), "--solver", "warp"])
    assert unknown.exit_code == 1 and "warp" in unknown.output


CONDITIONAL_SPEC = {
    "name": "conditional",
    "seed": 3,
    "data": {"name": "pinwheel", "params": {"arms": 3}},
    "model": {"name": "mlp", "params": {"width": 32, "depth": 2, "time_dim": 8}},
    "train": {"steps": 3, "batch_size": 64, "log_every": 1},
    "sample": {
        "solver": {"name": "midpoint", "params": {"steps": 6}},
        "num_samples": 90,
        "batch_size": 40,
        "guidance_scale": 2.0,
        "labels": [1],
    },
    "output": {"plots": False},
}


def test_resampling_a_conditional_run_keeps_its_labels_and_guidance(tmp_path: Path) -> None:
    """``flowkit sample RUN`` with the run's own solver and seed gives the run's own samples."""
    pytest.importorskip("flowkit_example")
    spec = tmp_path / "conditional.json"
    spec.write_text(json.dumps(CONDITIONAL_SPEC))
    run = tmp_path / "conditional"
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(spec), "-o", str(run), "-q"])
    assert result.exit_code == 0, result.output
    args = ["sample", str(run), "--solver", "midpoint", "--steps", "6", "--tag", "same", "-q"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    out = run / "samples" / "midpoint-same"
    trained = torch.load(run / "samples.pt", weights_only=True)
    again = torch.load(out / "samples.pt", weights_only=True)
    assert torch.equal(trained, again)
    assert torch.equal(torch.load(out / "labels.pt", weights_only=True), torch.ones(90, dtype=torch.long))
    info = json.loads((out / "info.json").read_text())
    assert info["guidance_scale"] == 2.0 and info["labels"] == [1]
    # the guidance is really applied: sampling without it gives other samples
    args = ["sample", str(run), "--solver", "midpoint", "--steps", "6", "--tag", "plain", "--guidance-scale", "1", "-q"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    plain = torch.load(run / "samples" / "midpoint-plain" / "samples.pt", weights_only=True)
    assert not torch.allclose(plain, trained)
