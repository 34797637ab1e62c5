"""A whole run: build, train, sample, evaluate, and write the run folder.

Run folder contents:

* ``spec.json``: the resolved spec, with the plugin, distribution and version of every component;
* ``model.safetensors``: the trained weights;
* ``metrics.jsonl``: one JSON line per logging step (loss, learning rate, samples/s);
* ``summary.json``: final loss, timings, NFE, every metric with its noise floor;
* ``samples.pt``: the samples (a plain tensor, loadable with ``torch.load(..., weights_only=True)``);
* ``samples.png`` and ``loss.png``.
"""

from __future__ import annotations

import io
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from flowkit.build import Components, build_components
from flowkit.evaluation import MetricResult, evaluate
from flowkit.host import PluginHost
from flowkit.plots import plot_loss, plot_samples
from flowkit.runfolder import RunFolder, atomic_write_bytes, save_weights, write_json
from flowkit.sampling import SampleResult, sample
from flowkit.spec import RunSpecBase
from flowkit.train import LogRecord, Trainer, TrainResult


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
    out: Any = spec.output  # type: ignore[attr-defined]
    return Path(out.dir) if out.dir else Path("runs") / (spec.name or "run")


def run(
    spec: RunSpecBase,
    output: str | Path | None = None,
    *,
    overwrite: bool | None = None,
    host: PluginHost | None = None,
    progress: bool = False,
) -> RunResult:
    """Train, sample and evaluate ``spec``, writing the run folder.

    Args:
        spec: a validated spec (:func:`flowkit.load_spec` / :func:`flowkit.validate_spec`).
        output: the run folder (default: ``output.dir`` or ``runs/<name>``).
        overwrite: replace an existing folder (default: ``output.overwrite``).
        progress: show progress bars (only when stderr is a terminal).

    Raises:
        RunFolderError: the folder exists and overwriting was not asked for (checked before any work).
    """
    s: Any = spec
    folder = RunFolder(output or default_output(spec), overwrite=s.output.overwrite if overwrite is None else overwrite)
    components = build_components(spec, host)
    staging = folder.open()
    write_json(staging / "spec.json", resolved_spec(spec, components))

    metrics_file = staging / "metrics.jsonl"
    metrics_file.touch()

    def log(record: LogRecord) -> None:
        with metrics_file.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    train_result = TrainResult()
    if components.model.trainable and s.train.steps > 0:
        trainer = Trainer(
            components.model,
            components.path,
            components.parameterization,
            components.objective,
            components.dataset,
            components.coupling,
            batch_size=s.train.batch_size,
            lr=s.train.lr,
            weight_decay=s.train.weight_decay,
            grad_clip=s.train.grad_clip,
            seed=spec.seed,
            device=components.device,
            dtype=components.dtype,
        )
        train_result = trainer.fit(s.train.steps, log_every=s.train.log_every, on_log=log, progress=progress)
    save_weights(staging / "model.safetensors", components.model, {"flowkit": flowkit_version()})

    components.model.eval()
    drawn = sample(
        components.field(),
        components.solver,
        s.sample.num_samples,
        components.dataset.event_shape,
        batch_size=s.sample.batch_size,
        seed=spec.seed,
        dtype=components.dtype,
        device=components.device,
        progress=progress,
    )
    buffer = _tensor_bytes(drawn.samples)
    atomic_write_bytes(staging / "samples.pt", buffer)
    metric_results = evaluate(drawn.samples, components.dataset, components.metrics, seed=spec.seed)

    summary: dict[str, Any] = {
        "name": spec.name,
        "seed": spec.seed,
        "flowkit": flowkit_version(),
        "train": {
            "steps": s.train.steps if components.model.trainable else 0,
            "final_loss": train_result.final_loss if train_result.history else None,
            "seconds": train_result.seconds,
            "samples_per_s": train_result.samples_per_s,
            "num_parameters": sum(p.numel() for p in components.model.parameters()),
        },
        "sample": {
            "solver": components.provenance["solver"]["name"],
            "num_samples": s.sample.num_samples,
            "nfe": drawn.nfe,
            "seconds": drawn.seconds,
        },
        "metrics": {name: r.to_dict() for name, r in metric_results.items()},
    }
    if s.output.plots:
        data = components.dataset.sample(drawn.samples.shape[0], generator=torch.Generator().manual_seed(spec.seed + 1))
        plot_samples(staging / "samples.png", drawn.samples, data, title=_title(spec, metric_results))
        plot_loss(
            staging / "loss.png", [r["step"] for r in train_result.history], [r["loss"] for r in train_result.history]
        )
    write_json(staging / "summary.json", summary)
    final = folder.commit()
    return RunResult(final, summary, components, train_result, drawn, metric_results)


def _title(spec: RunSpecBase, metrics: dict[str, MetricResult]) -> str:
    parts = [spec.name or "run"]
    for name, r in metrics.items():
        parts.append(f"{name} {r.value:.4f} (floor {r.noise_floor:.4f})")
    return " | ".join(parts)


def _tensor_bytes(t: torch.Tensor) -> bytes:
    buf = io.BytesIO()
    torch.save(t.contiguous(), buf)
    return buf.getvalue()
