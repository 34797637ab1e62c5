"""End to end: `flowkit run` trains a model whose samples beat an untrained one's by a clear margin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import flowkit

REPO = Path(__file__).resolve().parents[1]
FLOWKIT = [sys.executable, "-m", "flowkit.cli"]

TINY = [
    "--set", "train.steps=600",
    "--set", "train.batch_size=512",
    "--set", "train.log_every=100",
    "--set", "train.checkpoint_every=300",
    "--set", "model.params.width=128",
    "--set", "model.params.depth=3",
    "--set", "sample.num_samples=4000",
    "--set", "sample.solver.params.steps=20",
]  # fmt: skip


def _run(out: Path, *extra: str) -> dict[str, object]:
    proc = subprocess.run(
        [*FLOWKIT, "run", str(REPO / "examples" / "checkerboard.json"), "-o", str(out), "-q", *TINY, *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    return summary


@pytest.mark.slow
def test_trained_model_beats_untrained_model_and_approaches_the_noise_floor(tmp_path: Path) -> None:
    trained = _run(tmp_path / "trained")
    untrained = _run(tmp_path / "untrained", "--set", "train.steps=0")
    sw_trained = trained["metrics"]["sliced_w2"]  # type: ignore[index]
    sw_untrained = untrained["metrics"]["sliced_w2"]  # type: ignore[index]
    assert sw_trained["value"] < 0.5 * sw_untrained["value"]
    assert sw_trained["value"] < 3 * sw_trained["noise_floor"]
    folder = tmp_path / "trained"
    for name in ("spec.json", "model.safetensors", "model_ema.safetensors", "metrics.jsonl", "samples.pt"):
        assert (folder / name).is_file(), name
    for name in ("samples.png", "loss.png", "trajectories.png"):
        assert (folder / name).stat().st_size > 10_000, name
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [100, 200, 300, 400, 500, 600]
    assert lines[-1]["loss"] < lines[0]["loss"]


def _spec(steps: int = 40) -> flowkit.RunSpecBase:
    return flowkit.validate_spec(
        {
            "seed": 3,
            "data": {"name": "moons"},
            "model": {"name": "mlp", "params": {"width": 32, "depth": 2}},
            "train": {
                "steps": steps,
                "batch_size": 64,
                "log_every": 5,
                "checkpoint_every": 10,
                "schedule": "cosine",
                "warmup_steps": 5,
            },
            "sample": {"num_samples": 200, "solver": {"name": "euler", "params": {"steps": 10}}},
        }
    )


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path: Path) -> None:
    straight = flowkit.run(_spec(), tmp_path / "straight")

    def stop_at_25(record: dict[str, object]) -> None:
        if record["step"] == 25:
            raise KeyboardInterrupt

    with pytest.raises(flowkit.RunFolderError, match=r"interrupted at step 25.*--resume"):
        flowkit.run(_spec(), tmp_path / "resumed", on_log=stop_at_25)
    assert not (tmp_path / "resumed").exists()
    assert (tmp_path / "resumed.partial" / "checkpoint" / "tensors.safetensors").is_file()

    resumed = flowkit.run(_spec(), tmp_path / "resumed", resume=True)
    assert not (tmp_path / "resumed.partial").exists()
    for weights in ("model.safetensors", "model_ema.safetensors"):
        a = load_file(str(tmp_path / "straight" / weights))
        b = load_file(str(tmp_path / "resumed" / weights))
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), weights
    losses = [json.loads(x)["loss"] for x in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    resumed_losses = [json.loads(x)["loss"] for x in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
    assert losses == resumed_losses
    assert straight.summary["metrics"] == resumed.summary["metrics"]


def test_resuming_refuses_a_changed_spec_and_a_missing_run(tmp_path: Path) -> None:
    flowkit.run(_spec(), tmp_path / "run")
    changed = flowkit.validate_spec({**_spec().model_dump(), "seed": 4})
    with pytest.raises(flowkit.RunFolderError, match="the spec changed in seed"):
        flowkit.run(changed, tmp_path / "run", resume=True)
    with pytest.raises(flowkit.RunFolderError, match="nothing to resume"):
        flowkit.run(_spec(), tmp_path / "absent", resume=True)


def test_a_finished_run_can_be_extended_with_more_steps(tmp_path: Path) -> None:
    flowkit.run(_spec(steps=20), tmp_path / "run")
    longer = flowkit.run(_spec(steps=30), tmp_path / "run", resume=True)
    assert longer.summary["train"]["steps"] == 30  # type: ignore[index]
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5, 10, 15, 20, 25, 30]


def test_tensorboard_logging_writes_the_training_and_evaluation_scalars(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    spec = flowkit.validate_spec({**_spec(steps=10).model_dump(), "output": {"tensorboard": True, "plots": False}})
    flowkit.run(spec, tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/samples_per_s", "eval/sliced_w2", "eval/sliced_w2_noise_floor"} <= tags
    assert [e.step for e in events.Scalars("train/loss")] == [5, 10]


def test_ctrl_c_between_checkpoints_saves_one_and_the_resumed_run_matches(tmp_path: Path) -> None:
    import os
    import signal

    straight = tmp_path / "straight"
    flowkit.run(_spec(20), straight)

    def ctrl_c_at_15(record: dict[str, object]) -> None:
        if record["step"] == 15:
            os.kill(os.getpid(), signal.SIGINT)  # what a terminal sends; lands between two steps

    with pytest.raises(flowkit.RunFolderError, match=r"interrupted at step 15; checkpoint saved"):
        flowkit.run(_spec(20), tmp_path / "resumed", on_log=ctrl_c_at_15)
    state = json.loads((tmp_path / "resumed.partial" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 15  # not the last periodic checkpoint (10)
    flowkit.run(_spec(20), tmp_path / "resumed", resume=True)
    a = load_file(str(straight / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_diverging_run_stops_at_the_first_bad_step_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    data = _spec(40).model_dump()
    data["train"] = {**data["train"], "lr": 1e20, "warmup_steps": 0, "schedule": "constant", "checkpoint_every": 1}
    with pytest.raises(flowkit.DivergedError, match=r"training diverged at step \d+: the loss is (nan|inf)") as caught:
        flowkit.run(flowkit.validate_spec(data), tmp_path / "run")
    message = str(caught.value)
    step = int(message.split("step ")[1].split(":")[0])
    staging = tmp_path / "run.partial"
    assert step >= 2 and "the last good checkpoint is kept" in message
    assert not (tmp_path / "run").exists() and not (staging / "summary.json").exists()
    assert json.loads((staging / "checkpoint" / "state.json").read_text())["step"] == step - 1
    tensors = load_file(str(staging / "checkpoint" / "tensors.safetensors"))
    assert all(bool(torch.isfinite(t).all()) for t in tensors.values() if t.is_floating_point())
