"""The run folder: atomic writes, safetensors weights, and replacing a run only when it is complete."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from flowkit import CheckpointError, PluginHost, RunFolderError
from flowkit.runs.folder import (
    RunFolder,
    atomic_write_bytes,
    atomic_write_text,
    load_weights,
    save_weights,
    write_json,
)
from flowkit.runs.spec import validate_spec


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


# --- atomic writes ---------------------------------------------------------------------------------


def test_atomic_writes_leave_only_the_target(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"\x00\x01first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    atomic_write_text(tmp_path / "note.txt", "gr\u00fc\u00df dich\n")
    assert (tmp_path / "note.txt").read_bytes() == "gr\u00fc\u00df dich\n".encode()
    write_json(tmp_path / "data.json", {"loss": 0.25, "steps": [1, 2]})
    assert json.loads((tmp_path / "data.json").read_text()) == {"loss": 0.25, "steps": [1, 2]}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data.json", "file.bin", "note.txt", "sub"]


def test_a_failed_atomic_write_keeps_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(TypeError, match="not 'str'"):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_atomic_writes_get_the_permissions_of_a_plain_write(tmp_path: Path, umask_027: None) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    expected = stat.S_IMODE(plain.stat().st_mode)
    assert expected == 0o640
    atomic_write_text(tmp_path / "atomic.txt", "x")
    save_weights(tmp_path / "model.safetensors", torch.nn.Linear(2, 2))
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "model.safetensors").stat().st_mode) == expected


# --- weights -------------------------------------------------------------------------------------


def test_weights_round_trip_exactly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.SiLU(), torch.nn.Linear(5, 3)).double()
    path = tmp_path / "model.safetensors"
    save_weights(path, source, {"flowkit": "test"})
    target = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.SiLU(), torch.nn.Linear(5, 3)).double()
    load_weights(path, target)
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_a_failed_weight_save_keeps_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.safetensors"
    save_weights(path, torch.nn.Linear(2, 2))
    before = path.read_bytes()

    def half_written(state: Any, filename: str, metadata: Any = None) -> None:
        Path(filename).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(sys.modules["flowkit.runs.folder"], "save_file", half_written)
    with pytest.raises(OSError, match="disk full"):
        save_weights(path, torch.nn.Linear(2, 2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_loading_weights_that_are_missing_corrupt_or_for_another_model_raises_checkpoint_error(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 2)
    with pytest.raises(CheckpointError, match="no weights at"):
        load_weights(tmp_path / "missing.safetensors", model)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="cannot read weights from"):
        load_weights(corrupt, model)
    other = tmp_path / "other.safetensors"
    save_weights(other, torch.nn.Linear(3, 2))
    with pytest.raises(CheckpointError, match=r"do not fit the model .*: 1 tensors have other shapes \(e.g. weight"):
        load_weights(other, model)


# --- the folder -------------------------------------------------------------------------------------


def test_a_run_folder_is_staged_then_moved_into_place(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    staging = folder.open()
    assert staging == tmp_path / "run.partial"
    (staging / "a.txt").write_text("a")
    assert not (tmp_path / "run").exists()
    assert folder.commit() == tmp_path / "run"
    assert _tree(tmp_path) == {"run/a.txt": b"a"}


def test_a_stale_staging_folder_is_cleared(tmp_path: Path) -> None:
    (tmp_path / "run.partial").mkdir()
    (tmp_path / "run.partial" / "stale.txt").write_text("from a crashed run")
    staging = RunFolder(tmp_path / "run").open()
    assert list(staging.iterdir()) == []


def test_an_existing_folder_is_refused_without_overwrite_and_replaced_whole_with_it(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "spec.json").write_text("{}")
    (target / "old.txt").write_text("old")
    with pytest.raises(RunFolderError, match=r"already exists; pass --overwrite"):
        RunFolder(target)
    folder = RunFolder(target, overwrite=True)
    (folder.open() / "new.txt").write_text("new")
    assert _tree(target) == {"old.txt": b"old", "spec.json": b"{}"}  # untouched until the commit
    folder.commit()
    assert _tree(tmp_path) == {"run/new.txt": b"new"}


def test_a_target_that_is_a_file_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    (tmp_path / "run").write_text("a file")
    with pytest.raises(RunFolderError, match="exists and is not a folder"):
        RunFolder(tmp_path / "run", overwrite=True)


def test_a_folder_that_appears_while_running_is_not_overwritten(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    (folder.open() / "mine.txt").write_text("mine")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "theirs.txt").write_text("theirs")
    with pytest.raises(RunFolderError, match="already exists"):
        folder.commit()
    assert _tree(tmp_path / "run") == {"theirs.txt": b"theirs"}


# --- a whole run that fails mid-way -------------------------------------------------------------


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("sampler crashed")


@pytest.fixture
def failing_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules["flowkit.runs.pipeline"], "draw_samples", _explode)


def _spec(builtin_host: PluginHost, tiny_spec: dict[str, Any]) -> Any:
    return validate_spec({**tiny_spec, "output": {"plots": False}}, host=builtin_host)


def test_a_run_failing_mid_way_leaves_the_existing_folder_untouched(
    tmp_path: Path, builtin_host: PluginHost, tiny_spec: dict[str, Any], failing_sampler: None
) -> None:
    run = sys.modules["flowkit.runs.pipeline"].run
    target = tmp_path / "run"
    target.mkdir()
    (target / "spec.json").write_text("{}")
    (target / "summary.json").write_text('{"loss": 0.1}')
    (target / "model.safetensors").write_bytes(b"previous weights")
    before = _tree(target)
    with pytest.raises(RuntimeError, match="sampler crashed"):
        run(_spec(builtin_host, tiny_spec), target, overwrite=True, host=builtin_host)
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.partial"]


def test_a_run_failing_mid_way_creates_no_target(
    tmp_path: Path, builtin_host: PluginHost, tiny_spec: dict[str, Any], failing_sampler: None
) -> None:
    run = sys.modules["flowkit.runs.pipeline"].run
    target = tmp_path / "run"
    with pytest.raises(RuntimeError, match="sampler crashed"):
        run(_spec(builtin_host, tiny_spec), target, host=builtin_host)
    assert not target.exists()
    # What was done so far stays in the staging folder (for --resume), never in the target.
    staging = tmp_path / "run.partial"
    assert (staging / "spec.json").is_file()
    assert not (staging / "summary.json").exists()
    assert not [p for p in staging.rglob("*") if p.name.endswith(".tmp")]


# --- promises a run folder keeps when things go wrong ---------------------------------------------


def test_overwrite_never_replaces_a_folder_flowkit_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "photos"
    target.mkdir()
    (target / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(RunFolderError, match=r"is not a flowkit folder \(it has no spec.json\); refusing"):
        RunFolder(target, overwrite=True)
    assert _tree(target) == {"holiday.jpg": b"precious"}


def test_overwrite_moves_the_old_run_aside_under_a_fresh_name_and_leaves_a_users_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "spec.json").write_text("{}")
    (tmp_path / "run.old").mkdir()
    (tmp_path / "run.old" / "mine.txt").write_text("a user's own folder")
    folder = RunFolder(target, overwrite=True)
    (folder.open() / "new.txt").write_text("new")
    folder.commit()
    assert _tree(tmp_path) == {"run/new.txt": b"new", "run.old/mine.txt": b"a user's own folder"}


def test_a_partial_run_with_a_checkpoint_is_offered_for_resume_not_deleted(tmp_path: Path) -> None:
    staging = tmp_path / "run.partial"
    (staging / "checkpoint").mkdir(parents=True)
    (staging / "checkpoint" / "state.json").write_text("{}")
    with pytest.raises(RunFolderError, match=r"holds an interrupted run with a checkpoint; continue it with --resume"):
        RunFolder(tmp_path / "run").open()
    assert (staging / "checkpoint" / "state.json").is_file()
    assert not (tmp_path / ".run.lock").exists()  # the refused open released its lock
    RunFolder(tmp_path / "run", overwrite=True).open()  # discarding it is an explicit choice
    assert list(staging.iterdir()) == []


def test_two_writers_of_one_run_folder_are_refused(tmp_path: Path) -> None:
    first = RunFolder(tmp_path / "run")
    first.open()
    with pytest.raises(RunFolderError, match=r"another flowkit process is writing .*run.partial"):
        RunFolder(tmp_path / "run").open()
    first.commit()
    assert not (tmp_path / ".run.lock").exists()
    second = RunFolder(tmp_path / "run2")
    with second as staging:
        (staging / "x").write_text("x")
    assert (tmp_path / "run2.partial" / "x").is_file()  # left without a commit: kept, unlocked
    RunFolder(tmp_path / "run2").open()


def test_a_spec_cannot_overwrite_a_folder_by_itself(
    tmp_path: Path, builtin_host: PluginHost, tiny_spec: dict[str, Any]
) -> None:
    run = sys.modules["flowkit.runs.pipeline"].run
    target = tmp_path / "run"
    target.mkdir()
    (target / "spec.json").write_text("{}")
    spec = validate_spec({**tiny_spec, "output": {"plots": False, "overwrite": True}}, host=builtin_host)
    with pytest.raises(RunFolderError, match=r"output.overwrite in a spec is not enough"):
        run(spec, target, host=builtin_host)
    assert _tree(target) == {"spec.json": b"{}"}
