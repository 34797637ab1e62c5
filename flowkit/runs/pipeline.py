"""A whole run: build, train, sample, evaluate, and write the run folder.

Run folder contents:

* ``spec.json``: the resolved spec, with the plugin, distribution and version of every component;
* ``model.safetensors``: the trained weights; ``model_ema.safetensors``: their EMA (when enabled);
* ``checkpoint/``: everything needed to continue training (``flowkit run SPEC --resume``);
* ``metrics.jsonl``: one JSON line per logging step (loss, learning rate, samples/s);
* ``summary.json``: final loss, timings, NFE, every metric with its settings and noise floor;
* ``samples.pt``: the samples (a plain tensor, loadable with ``torch.load(..., weights_only=True)``)
  and, for class-conditional runs, ``labels.pt``;
* pictures: ``samples.png`` (samples beside data: 2D densities, or image grids), ``loss.png``,
  ``trajectories.png`` and, for class-conditional image runs, ``classes.png``.

The run is written into ``<folder>.partial`` and moved into place only when complete. An
interrupted run leaves ``<folder>.partial`` with its last checkpoint; ``resume=True`` continues
it so that the final weights equal those of an uninterrupted run.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from flowkit.runs.build import Components, build_components
from flowkit.runs.checkpoint import find_checkpoint, load_checkpoint, save_checkpoint
from flowkit.errors import DivergedError, RunFolderError
from flowkit.engine.evaluation import MetricResult, evaluate
from flowkit.engine.sampling import SampleResult
from flowkit.engine.train import LogRecord, Trainer, TrainResult
from flowkit.host.manager import PluginHost
from flowkit.runs.finished import LoadedRun, draw_samples, reference_data, save_samples
from flowkit.runs.folder import (
    CHECKPOINT_DIR,
    EMA_WEIGHTS_FILE,
    LOSS_PICTURE,
    METRICS_FILE,
    SPEC_FILE,
    SUMMARY_FILE,
    TENSORBOARD_DIR,
    WEIGHTS_FILE,
    RunFolder,
    atomic_write_text,
    save_weights,
    write_json,
)
from flowkit.runs.plots import plot_loss, write_sample_pictures
from flowkit.runs.spec import RunSpecBase

RESUME_FREE_SECTIONS = ("name", "sample", "evaluate", "output", "resolved")
RESUME_FREE_TRAIN_FIELDS = ("steps", "log_every", "checkpoint_every")


def flowkit_version() -> str:
    """The installed flowkit version."""
    try:
        return metadata.version("flowkit-gm")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


@dataclass
class RunResult:
    """What :func:`run` returns: where the folder is, and the numbers it holds."""

    folder: Path
    summary: dict[str, Any]
    components: Components
    train: TrainResult
    samples: SampleResult
    metrics: dict[str, MetricResult]


def resolved_spec(spec: RunSpecBase, components: Components) -> dict[str, Any]:
    """The spec as run: every default filled in, plus the provenance of each component."""
    return {
        **spec.model_dump(mode="json"),
        "resolved": {
            "flowkit": flowkit_version(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "components": components.provenance,
        },
    }


def default_output(spec: RunSpecBase) -> Path:
    """``output.dir`` if set, else ``runs/<name>``."""
    return Path(spec.output.dir) if spec.output.dir else Path("runs") / (spec.name or "run")


def make_trainer(spec: RunSpecBase, components: Components) -> Trainer:
    """The :class:`Trainer` a spec describes."""
    t = spec.train
    return Trainer(
        components.model,
        components.path,
        components.parameterization,
        components.objective,
        components.dataset,
        components.coupling,
        batch_size=t.batch_size,
        lr=t.lr,
        weight_decay=t.weight_decay,
        betas=t.betas,
        grad_clip=t.grad_clip,
        grad_accum=t.grad_accum,
        warmup_steps=t.warmup_steps,
        schedule=t.schedule,
        total_steps=t.steps,
        min_lr_ratio=t.min_lr_ratio,
        ema_decay=t.ema_decay,
        label_dropout=t.label_dropout if components.model.num_classes else 0.0,
        precision=t.precision,
        compile=t.compile,
        seed=spec.seed,
        device=components.device,
        dtype=components.dtype,
    )


def _training_identity(resolved: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in resolved.items() if k not in RESUME_FREE_SECTIONS}
    out["train"] = {k: v for k, v in resolved.get("train", {}).items() if k not in RESUME_FREE_TRAIN_FIELDS}
    return out


def check_resumable(previous_spec: Path, resolved: dict[str, Any]) -> None:
    """Refuse to resume when the spec changed in anything but steps, logging, sampling or evaluation."""
    try:
        previous = json.loads(previous_spec.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"cannot resume: {previous_spec} is unreadable ({exc})") from exc
    old, new = _training_identity(previous), _training_identity(resolved)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if "train" in changed:
        changed.remove("train")
        keys = set(old.get("train", {})) | set(new.get("train", {}))
        changed += [f"train.{k}" for k in sorted(keys) if old["train"].get(k) != new["train"].get(k)]
    if changed:
        raise RunFolderError(f"cannot resume {previous_spec.parent}: the spec changed in {', '.join(changed)}")


def run(
    spec: RunSpecBase,
    output: str | Path | None = None,
    *,
    overwrite: bool | None = None,
    resume: bool = False,
    host: PluginHost | None = None,
    progress: bool = False,
    on_log: Callable[[LogRecord], None] | None = None,
) -> RunResult:
    """Train, sample and evaluate ``spec``, writing the run folder.

    Args:
        spec: a validated spec (:func:`flowkit.load_spec` / :func:`flowkit.validate_spec`).
        output: the run folder (default: ``output.dir`` or ``runs/<name>``).
        overwrite: replace an existing run folder (only one flowkit wrote; a spec's ``output.overwrite``
            alone is refused, so a downloaded spec cannot delete a folder).
        resume: continue an interrupted run (``<folder>.partial``) or a finished one, from its
            last checkpoint; the spec may differ only in steps, logging, sampling and evaluation.
        progress: show progress bars (only when stderr is a terminal).
        on_log: called with every training log record.

    Raises:
        RunFolderError: the folder exists and overwriting was not asked for (checked before any
            work), or there is nothing to resume.
    """
    s = spec
    target = Path(output or default_output(spec))
    if s.output.overwrite and not overwrite and target.exists():
        raise RunFolderError(
            f"run folder {target} already exists; pass --overwrite to replace it "
            "(output.overwrite in a spec is not enough: a spec cannot delete a folder)"
        )
    folder = RunFolder(target, overwrite=bool(overwrite), resume=resume)
    components = build_components(spec, host)
    with folder as staging:
        resolved = resolved_spec(spec, components)
        metrics_file = staging / METRICS_FILE
        checkpoint_dir = staging / CHECKPOINT_DIR

        trainer = make_trainer(spec, components) if components.model.trainable else None
        if resume:
            if trainer is not None:
                if find_checkpoint(checkpoint_dir) is None:
                    raise RunFolderError(f"nothing to resume in {staging}: it has no checkpoint")
                check_resumable(staging / SPEC_FILE, resolved)
                trainer.load_state(*load_checkpoint(checkpoint_dir))
            kept = _read_log(metrics_file, up_to=trainer.step if trainer else 0)
            atomic_write_text(metrics_file, "".join(json.dumps(r) + "\n" for r in kept))
        else:
            atomic_write_text(metrics_file, "")
        write_json(staging / SPEC_FILE, resolved)

        board = _tensorboard(staging) if s.output.tensorboard else None

        def log(record: LogRecord) -> None:
            with metrics_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            if board is not None:
                for key in ("loss", "lr", "samples_per_s"):
                    board.add_scalar(f"train/{key}", record[key], record["step"])
            if on_log is not None:
                on_log(record)

        def checkpoint(tr: Trainer) -> None:
            tensors, state = tr.state()
            save_checkpoint(checkpoint_dir, tensors, state)

        train_result = TrainResult()
        if trainer is not None and trainer.step < s.train.steps:
            try:
                train_result = trainer.fit(
                    s.train.steps - trainer.step,
                    log_every=s.train.log_every,
                    on_log=log,
                    checkpoint_every=s.train.checkpoint_every,
                    on_checkpoint=checkpoint,
                    progress=progress,
                )
            except KeyboardInterrupt as exc:
                checkpoint(trainer)  # fit stops between steps, so this is the state of a whole step
                raise RunFolderError(
                    f"interrupted at step {trainer.step}; checkpoint saved in {staging}; continue it with --resume"
                ) from exc
            except DivergedError as exc:
                found = find_checkpoint(checkpoint_dir)
                saved = f"the last good checkpoint is kept in {staging}" if found else f"nothing was saved ({staging})"
                raise DivergedError(f"{exc}; {saved}") from exc
        stamp = {"flowkit": flowkit_version()}
        if trainer is not None:
            checkpoint(trainer)
        save_weights(staging / WEIGHTS_FILE, components.model, stamp)
        use_ema = trainer is not None and trainer.ema is not None and s.sample.use_ema
        if trainer is not None and trainer.ema is not None:
            save_weights(staging / EMA_WEIGHTS_FILE, trainer.ema.module, stamp)

        trained = LoadedRun(
            staging,
            spec,
            components,
            resolved["resolved"],
            staging / (EMA_WEIGHTS_FILE if use_ema else WEIGHTS_FILE),
            network=trainer.sampling_model() if (trainer is not None and use_ema) else components.model,
        )
        drawn = draw_samples(trained, trajectory=s.output.plots, progress=progress)
        save_samples(staging, drawn)
        metric_results = evaluate(
            drawn.samples,
            components.dataset,
            components.metrics,
            seed=spec.seed,
            field=trained.field(),
            references=s.evaluate.references,
            max_points=s.evaluate.max_points,
        )

        history = _read_log(metrics_file, up_to=None)
        final_loss = history[-1]["loss"] if history else None
        summary: dict[str, Any] = {
            "name": spec.name,
            "seed": spec.seed,
            "flowkit": flowkit_version(),
            "train": {
                "steps": trainer.step if trainer is not None else 0,
                "final_loss": final_loss,
                "seconds": train_result.seconds,
                "samples_per_s": train_result.samples_per_s,
                "num_parameters": sum(p.numel() for p in components.model.parameters()),
                "ema": use_ema,
            },
            "sample": {
                "solver": components.provenance["solver"]["name"],
                "solver_params": components.provenance["solver"]["params"],
                "num_samples": s.sample.num_samples,
                "nfe": drawn.nfe,
                "seconds": drawn.seconds,
                "guidance_scale": s.sample.guidance_scale if drawn.labels is not None else None,
            },
            "metrics": {name: r.to_dict() for name, r in metric_results.items()},
        }
        if s.output.plots:
            plot_loss(staging / LOSS_PICTURE, [r["step"] for r in history], [r["loss"] for r in history])
            write_sample_pictures(
                staging,
                drawn.samples,
                reference_data(trained, drawn.samples.shape[0], spec.seed),
                title=_title(spec, metric_results),
                times=drawn.times,
                trajectory=drawn.trajectory,
                labels=drawn.labels,
            )
        if board is not None:
            for name, r in metric_results.items():
                board.add_scalar(f"eval/{name}", r.value, summary["train"]["steps"])
                board.add_scalar(f"eval/{name}_noise_floor", r.noise_floor, summary["train"]["steps"])
            board.close()
        write_json(staging / SUMMARY_FILE, summary)
        final = folder.commit()
        return RunResult(final, summary, components, train_result, drawn, metric_results)


def _tensorboard(folder: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise RunFolderError("output.tensorboard needs the tensorboard package: pip install tensorboard") from exc
    return SummaryWriter(log_dir=str(folder / TENSORBOARD_DIR))


def _read_log(path: Path, up_to: int | None) -> list[LogRecord]:
    """The records of ``metrics.jsonl`` up to step ``up_to``; a torn last line (a crash or a full disk
    in the middle of a write) is dropped, a torn line before the last one is an error."""
    if not path.is_file():
        return []
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    records: list[LogRecord] = []
    for i, line in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if i == len(lines) - 1:
                break
            raise RunFolderError(f"{path} line {i + 1} is not JSON ({exc.msg}); the log is damaged") from exc
        records.append(record)
    return [r for r in records if up_to is None or r["step"] <= up_to]


def _title(spec: RunSpecBase, metrics: dict[str, MetricResult]) -> str:
    parts = [spec.name or "run"]
    for name, r in metrics.items():
        parts.append(f"{name} {r.value:.4f} (floor {r.noise_floor:.4f})")
    return " | ".join(parts)
