"""The ``flowkit`` command line: error reporting, inspection commands and tiny real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result
from safetensors.torch import load_file

import flowkit.runs.pipeline  # noqa: F401  (the module behind flowkit.run)
from flowkit import SpecError
from flowkit.cli import main
from flowkit.host import set_default_host
from flowkit.runs.spec import load_spec

WriteSpec = Callable[..., Path]
InstallDist = Callable[..., Path]

BUILTIN_DISTRIBUTIONS = {
    "std": "flowkit-gm-std",
    "data": "flowkit-gm-data",
    "nets": "flowkit-gm-nets",
    "torchdiffeq": "flowkit-gm-torchdiffeq",
}

BAD_SPEC: dict[str, Any] = {
    "data": {"name": "checkerbord"},
    "model": {"name": "mlp", "params": {"width": -1}},
    "train": {"stepz": 5},
}
"""Three mistakes: an unknown dataset, a negative width and an unknown train key."""


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (the default run folder is ``runs/<name>`` under it)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


# --- errors -----------------------------------------------------------------------------------


def test_a_bad_spec_exits_2_with_one_error_line_per_problem_and_writes_nothing(
    workdir: Path, write_spec: WriteSpec
) -> None:
    spec = write_spec(BAD_SPEC)
    result = invoke("run", spec, "--output", workdir / "out")
    assert result.exit_code == 2
    lines = _error_lines(result.stderr)
    assert len(lines) == 3
    assert all(line.startswith(f"error: {spec}: ") for line in lines)
    fields = sorted(line.removeprefix(f"error: {spec}: ").split(":")[0] for line in lines)
    assert fields == ["data.name", "model.mlp.params.width", "train.stepz"]
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert list(workdir.iterdir()) == []


def test_a_bad_override_exits_2(workdir: Path, write_spec: WriteSpec, tiny_spec: dict[str, Any]) -> None:
    spec = write_spec(tiny_spec)
    result = invoke("run", spec, "--set", "train.steps")
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == ["error: override 'train.steps' must look like key.sub=value"]
    result = invoke("validate", spec, "--set", "train.steps=-1")
    assert result.exit_code == 2
    assert _error_lines(result.stderr) == [f"error: {spec}: train.steps: Input should be greater than or equal to 0"]
    assert list(workdir.iterdir()) == []


def test_debug_lets_the_exception_through(write_spec: WriteSpec) -> None:
    result = invoke("--debug", "validate", write_spec(BAD_SPEC))
    assert isinstance(result.exception, SpecError)
    assert len(result.exception.problems) == 3
    assert result.exit_code != 0


def test_an_unexpected_exception_is_one_line_pointing_at_debug(
    workdir: Path, write_spec: WriteSpec, tiny_spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("out of cheese\nsecond line")

    monkeypatch.setattr(sys.modules["flowkit.runs.pipeline"], "run", explode)
    result = invoke("run", write_spec(tiny_spec))
    assert result.exit_code == 1
    assert _error_lines(result.stderr) == ["error: RuntimeError: out of cheese (run with --debug for the traceback)"]


def test_the_installed_command_reports_errors_without_traceback(workdir: Path, write_spec: WriteSpec) -> None:
    exe = Path(sys.executable).parent / "flowkit"
    assert exe.is_file(), f"the flowkit console script is not installed next to {sys.executable}"
    spec = write_spec(BAD_SPEC, suffix=".yaml")
    done = subprocess.run([str(exe), "run", str(spec)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = _error_lines(done.stderr)
    assert len(lines) == 3
    assert all(line.startswith(f"error: {spec}: ") for line in lines)
    assert "Traceback" not in done.stderr
    assert list(workdir.iterdir()) == []


# --- inspection commands --------------------------------------------------------------------


def test_validate_prints_the_resolved_spec(write_spec: WriteSpec, tiny_spec: dict[str, Any]) -> None:
    spec = write_spec(tiny_spec, suffix=".yaml")
    result = invoke("validate", spec, "--set", "seed=7")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == load_spec(spec, ["seed=7"]).model_dump(mode="json")
    assert printed["seed"] == 7
    assert printed["path"] == {"name": "condot", "params": {"sigma_min": 0.0, "t_eps": 1e-5}}
    assert printed["sample"]["solver"]["name"] == "euler"
    assert printed["sample"]["solver"]["params"]["steps"] == 4


def test_schema_prints_json_schema(builtin_host: Any) -> None:
    result = invoke("schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "RunSpec"
    assert set(schema["required"]) == {"data", "model"}
    text = result.stdout
    for reg in builtin_host.registry.registrations():
        assert json.dumps(reg.name) in text


def test_plugins_list_shows_every_builtin_with_distribution_and_version() -> None:
    result = invoke("plugins", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for plugin, distribution in BUILTIN_DISTRIBUTIONS.items():
        version = metadata.version(distribution)
        [line] = [line for line in lines if line.split()[:1] == [plugin]]
        assert line.split() == [plugin, distribution, version, "ok"]
    assert "    path:              condot" in lines or any(
        line.strip().startswith("path:") and "condot" in line for line in lines
    )


def test_plugins_list_json(builtin_host: Any) -> None:
    result = invoke("plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert listing["conflicts"] == []
    plugins = {p["name"]: p for p in listing["plugins"]}
    for plugin, distribution in BUILTIN_DISTRIBUTIONS.items():
        entry = plugins[plugin]
        assert (entry["distribution"], entry["version"], entry["status"], entry["error"]) == (
            distribution,
            metadata.version(distribution),
            "ok",
            None,
        )
    assert "condot" in plugins["std"]["provides"]["path"]
    assert "torchdiffeq" in plugins["torchdiffeq"]["provides"]["solver"]
    assert "mlp" in plugins["nets"]["provides"]["model"]


def test_plugins_list_shows_a_broken_plugin_and_strict_mode_refuses_it(install_dist: InstallDist) -> None:
    install_dist(
        "flowkit-broken-plugin", "0.0.1", {"broken": "fk_h1_cli_broken"}, {"fk_h1_cli_broken": "import no_such_mod\n"}
    )
    set_default_host(None)  # rediscover with the broken distribution installed
    result = invoke("plugins", "list")
    assert result.exit_code == 0, result.output
    assert "broken         flowkit-broken-plugin 0.0.1" in result.stdout
    assert "    error: import of 'fk_h1_cli_broken' raised ModuleNotFoundError: No module named 'no_such_mod'" in (
        result.stdout
    )
    assert "flowkit: warning: plugin 'broken' (flowkit-broken-plugin 0.0.1) failed to load" in result.stderr

    strict = invoke("--strict-plugins", "plugins", "list")
    assert strict.exit_code == 1
    assert _error_lines(strict.stderr) == [
        "error: strict plugin mode: plugin 'broken' (flowkit-broken-plugin 0.0.1) failed to load: import of "
        "'fk_h1_cli_broken' raised ModuleNotFoundError: No module named 'no_such_mod'"
    ]


# --- real runs -----------------------------------------------------------------------------------


def _run(spec: Path, out: Path, *extra: str) -> Result:
    result = invoke("run", spec, "--output", out, "--quiet", *extra)
    assert result.exit_code == 0, result.output
    return result


def test_a_tiny_run_writes_the_whole_run_folder(
    workdir: Path, write_spec: WriteSpec, tiny_spec: dict[str, Any]
) -> None:
    spec = write_spec(tiny_spec)
    result = invoke("run", spec, "--set", "train.steps=5", "--set", "sample.num_samples=200")
    assert result.exit_code == 0, result.output
    folder = workdir / "runs" / "tiny"
    assert f"run folder: {Path('runs') / 'tiny'}" in result.stdout
    assert "sliced_w2: " in result.stdout
    required = {"spec.json", "model.safetensors", "metrics.jsonl", "summary.json", "samples.pt", "samples.png"}
    assert required | {"loss.png"} <= {p.name for p in folder.iterdir()}
    assert not [p for p in folder.rglob("*") if p.name.endswith((".tmp", ".partial", ".old"))]
    assert sorted(p.name for p in workdir.joinpath("runs").iterdir()) == ["tiny"]  # no staging left behind

    resolved = json.loads((folder / "spec.json").read_text())
    assert resolved["train"]["steps"] == 5
    components = resolved["resolved"]["components"]
    expected = {
        "data": ("checkerboard", "flowkit-gm-data"),
        "model": ("mlp", "flowkit-gm-nets"),
        "path": ("condot", "flowkit-gm-std"),
        "parameterization": ("velocity", "flowkit-gm-std"),
        "objective": ("flow_matching", "flowkit-gm-std"),
        "coupling": ("independent", "flowkit-gm-std"),
        "solver": ("euler", "flowkit-gm-std"),
        "metric:sliced_w2": ("sliced_w2", "flowkit-gm-std"),
    }
    for field, (name, distribution) in expected.items():
        entry = components[field]
        assert (entry["name"], entry["distribution"], entry["version"]) == (
            name,
            distribution,
            metadata.version(distribution),
        )
    assert components["model"]["params"]["width"] == 16

    weights = load_file(str(folder / "model.safetensors"))
    hidden = 16
    assert (
        sum(t.numel() for t in weights.values())
        == json.loads((folder / "summary.json").read_text())["train"]["num_parameters"]
    )
    assert any(t.shape[0] == hidden for t in weights.values())

    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 5]  # every log_every=2 steps, and the last one
    for r in records:
        assert r["loss"] > 0 and r["samples_per_s"] > 0

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["train"]["final_loss"] == records[-1]["loss"]
    metric = summary["metrics"]["sliced_w2"]
    assert metric["value"] > 0 and metric["noise_floor"] > 0
    assert metric["ratio"] == pytest.approx(metric["value"] / metric["noise_floor"])
    assert (metric["num_samples"], metric["params"]) == (200, {"num_projections": 16})
    assert (summary["sample"]["solver"], summary["sample"]["nfe"]) == ("euler", 4)

    samples = torch.load(folder / "samples.pt", weights_only=True)
    assert samples.shape == (200, 2)
    assert samples.dtype == torch.float32
    assert torch.isfinite(samples).all()
    for png in ("samples.png", "loss.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_existing_run_folder_is_kept_unless_overwrite(
    workdir: Path, write_spec: WriteSpec, tiny_spec: dict[str, Any]
) -> None:
    spec = write_spec(tiny_spec)
    out = workdir / "out"
    out.mkdir()
    (out / "notes.txt").write_text("precious")

    refused = invoke("run", spec, "--output", out, "--set", "output.plots=false")
    assert refused.exit_code == 1
    assert _error_lines(refused.stderr) == [f"error: run folder {out} already exists; pass --overwrite to replace it"]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    # a folder flowkit did not write is never replaced, not even with --overwrite
    refused = invoke("run", spec, "--output", out, "--overwrite", "--set", "output.plots=false")
    assert refused.exit_code == 1
    assert "is not a flowkit folder (it has no spec.json); refusing to replace it" in refused.stderr
    assert (out / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in workdir.iterdir()) == ["out"]

    run_dir = workdir / "run"
    _run(spec, run_dir, "--set", "output.plots=false")
    _run(spec, run_dir, "--overwrite", "--set", "output.plots=false")
    assert (run_dir / "summary.json").is_file()
    assert sorted(p.name for p in workdir.iterdir()) == ["out", "run"]
    # a spec alone cannot ask for it
    refused = invoke("run", spec, "--output", run_dir, "--set", "output.overwrite=true", "--set", "output.plots=false")
    assert refused.exit_code == 1 and "a spec cannot delete a folder" in refused.stderr


def test_the_same_seed_gives_the_same_numbers_and_weights_and_another_seed_does_not(
    workdir: Path, write_spec: WriteSpec, tiny_spec: dict[str, Any]
) -> None:
    spec = write_spec(tiny_spec)
    no_plots = ("--set", "output.plots=false")
    runs = {
        "a": _run(spec, workdir / "a", *no_plots),
        "b": _run(spec, workdir / "b", *no_plots),
        "c": _run(spec, workdir / "c", "--set", "seed=1", *no_plots),
    }
    assert set(runs) == {"a", "b", "c"}

    def numbers(name: str) -> tuple[float, float, float]:
        summary = json.loads((workdir / name / "summary.json").read_text())
        metric = summary["metrics"]["sliced_w2"]
        return summary["train"]["final_loss"], metric["value"], metric["noise_floor"]

    def weights(name: str) -> dict[str, torch.Tensor]:
        return load_file(str(workdir / name / "model.safetensors"))

    assert numbers("a") == numbers("b")
    wa, wb, wc = weights("a"), weights("b"), weights("c")
    assert wa.keys() == wb.keys() == wc.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert torch.equal(torch.load(workdir / "a" / "samples.pt"), torch.load(workdir / "b" / "samples.pt"))

    loss_a, w2_a, floor_a = numbers("a")
    loss_c, w2_c, floor_c = numbers("c")
    assert loss_a != loss_c
    assert w2_a != w2_c
    assert floor_a != floor_c
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_threads_option_sets_torchs_thread_count() -> None:
    import torch

    from flowkit.cli import main

    before = torch.get_num_threads()
    try:
        result = CliRunner().invoke(main, ["--threads", "1", "plugins", "list", "--json"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 1
        bad = CliRunner().invoke(main, ["--threads", "0", "plugins", "list"])
        assert bad.exit_code == 2 and "--threads" in bad.output
    finally:
        torch.set_num_threads(before)
