"""The faults a long run meets: bad values refused before anything is written, damaged files and
foreign files reported in one line, logs torn by a crash resumed, paths kept inside the run folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

import flowkit
from flowkit import CheckpointError, FlowkitError
from flowkit.cli import main

WriteSpec = Any


def _invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lr=.inf", "train.lr: Input should be a finite number"),
        ("train.grad_clip=.inf", "train.grad_clip: Input should be a finite number"),
        ("sample.guidance_scale=.nan", "sample.guidance_scale: Input should be a finite number"),
        ("data.params.scale=.inf", "data.checkerboard.params.scale: Input should be a finite number"),
        ("train.betas=[1.5,7]", "train.betas: each AdamW moment decay must be in [0, 1), got [1.5, 7.0]"),
        ("train.precision=fp16", "train.precision 'fp16' needs a GPU; use 'bf16' or 'float32' on the CPU"),
        ("device=meta", "device: device 'meta' cannot run a model; use auto, cpu, cuda[:i] or mps"),
        ("name=../other", "name: a run name may not hold path parts"),
        ("sample.labels=[99]", "sample.labels: dataset 'checkerboard' has no classes to draw"),
    ],
)
def test_a_bad_value_is_refused_by_validate_and_run_before_anything_is_written(
    workdir: Path, write_spec: WriteSpec, tiny_spec: dict[str, Any], override: str, message: str
) -> None:
    spec = write_spec(tiny_spec)
    for command in ("validate", "run"):
        result = _invoke(command, spec, "--set", override)
        assert result.exit_code == 2, (command, result.output)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], (command, lines)
        assert "Traceback" not in result.output
    assert sorted(p.name for p in workdir.iterdir()) == []


def test_labels_outside_a_conditional_datasets_classes_are_refused_before_training(
    workdir: Path, write_spec: WriteSpec
) -> None:
    pytest.importorskip("flowkit_example")
    spec = write_spec(
        {
            "data": {"name": "pinwheel", "params": {"arms": 3}},
            "model": {"name": "mlp", "params": {"width": 8, "depth": 1}},
            "train": {"steps": 100000},
            "sample": {"labels": [1, 3]},
        }
    )
    result = _invoke("run", spec)
    assert result.exit_code == 2
    assert "sample.labels: [3] are outside the classes 0..2 of dataset 'pinwheel'" in result.stderr
    assert list(workdir.iterdir()) == []


def _tiny_run(tmp_path: Path, tiny_spec: dict[str, Any], **train: Any) -> Path:
    data = {**tiny_spec, "output": {"plots": False}, "train": {**tiny_spec["train"], **train}}
    return flowkit.run(flowkit.validate_spec(data), tmp_path / "run").folder


def test_a_runs_nll_metric_gets_the_trained_field(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    spec = {
        **tiny_spec,
        "evaluate": {"metrics": [{"name": "nll", "params": {"steps": 4, "max_points": 50}}]},
    }
    folder = _tiny_run(tmp_path, spec)
    nll = json.loads((folder / "summary.json").read_text())["metrics"]["nll"]
    assert 0 < nll["value"] < 10 and nll["params"]["steps"] == 4


def test_a_torn_last_log_line_is_dropped_on_resume(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    folder = _tiny_run(tmp_path, tiny_spec, steps=4, log_every=1)
    log = folder / "metrics.jsonl"
    log.write_text(log.read_text() + '{"step": 5, "lo', encoding="utf-8")  # a crash mid-write
    data = {**tiny_spec, "output": {"plots": False}, "train": {**tiny_spec["train"], "steps": 6, "log_every": 1}}
    flowkit.run(flowkit.validate_spec(data), folder, resume=True)
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_weights_that_do_not_fit_the_spec_are_reported_in_one_line(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    folder = _tiny_run(tmp_path, tiny_spec)
    spec_file = folder / "spec.json"
    spec = json.loads(spec_file.read_text())
    spec["model"]["params"]["width"] = 24
    spec_file.write_text(json.dumps(spec))
    with pytest.raises(CheckpointError) as caught:
        flowkit.load_run(folder)
    message = str(caught.value)
    assert "\n" not in message
    assert "do not fit the model built from the spec" in message and "tensors have other shapes" in message
    result = _invoke("sample", folder, "--solver", "euler", "--steps", "2")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1


class _Gadget:
    pass


def test_a_pickle_in_a_samples_file_is_refused_in_one_line(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    folder = _tiny_run(tmp_path, tiny_spec)
    bad = tmp_path / "bad.pt"
    torch.save({"samples": _Gadget()}, bad)
    with pytest.raises(FlowkitError, match="holds pickled objects other than a tensor; refusing to unpickle it"):
        flowkit.runs.finished.load_samples(bad)
    result = _invoke("evaluate", folder, "--samples", bad)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {bad} holds pickled objects other than a tensor; refusing to unpickle it"
    ]


def test_an_evaluation_tag_cannot_leave_the_run_folder(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    folder = _tiny_run(tmp_path, tiny_spec)
    result = _invoke("evaluate", folder, "--tag", "../../escaped")
    assert result.exit_code == 1 and "tag '../../escaped' may only hold" in result.stderr
    assert not list(tmp_path.rglob("escaped*"))


def test_evaluation_scores_a_bounded_prefix_and_says_so(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    folder = _tiny_run(tmp_path, tiny_spec)
    run = flowkit.load_run(folder)
    samples = run.components.dataset.sample(3000, generator=torch.Generator().manual_seed(0))
    [result] = flowkit.evaluate_run(run, samples=samples, max_points=500, references=2).values()
    assert (result.num_samples, result.drawn) == (500, 3000)
    written = json.loads((folder / "evaluations" / "latest.json").read_text())["sliced_w2"]
    assert (written["num_samples"], written["drawn"]) == (500, 3000)


def test_non_finite_samples_are_never_scored(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    folder = _tiny_run(tmp_path, tiny_spec)
    run = flowkit.load_run(folder)
    samples = torch.zeros(10, 2)
    samples[3, 1] = float("nan")
    with pytest.raises(flowkit.DivergedError, match="1 of 10 samples hold NaN or infinite values"):
        flowkit.evaluate_run(run, samples=samples)
    assert not (folder / "evaluations").exists()
