"""A finished run folder brought back to life, sampled with any solver and evaluated with any metric.

A run folder (written by :func:`flowkit.run`) holds ``spec.json`` (the resolved spec; its top-level
``resolved`` key records provenance) and the weights. :func:`load_run` re-validates the spec
against the installed plugins, rebuilds the components and loads the weights.

Sampling a trained run is written once, in :func:`draw_samples`: the run's own final samples
(:func:`flowkit.run`) and ``flowkit sample`` both call it, so the labels, the guidance scale and the
"no label" token of a class-conditional run are used the same way by both. :func:`sample_run` writes
``RUN/samples/<solver>-<tag>/`` (``samples.pt``, ``labels.pt`` for a class-conditional run, the
pictures and ``info.json``) through a staging folder renamed into place, never touching the run's
other files. :func:`evaluate_run` scores a run's samples with the spec's metrics or named ones
(``nll`` included) and writes ``RUN/evaluations/<tag>.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor

from flowkit.engine.evaluation import MetricResult, evaluate
from flowkit.engine.sampling import SampleResult, sample
from flowkit.errors import FlowkitError, RunFolderError
from flowkit.field import ModelField
from flowkit.host.create import build_component
from flowkit.host.manager import PluginHost
from flowkit.metric import Metric
from flowkit.model import Model
from flowkit.runs.build import Components, build_components
from flowkit.runs.folder import (
    EMA_WEIGHTS_FILE,
    EVALUATIONS_DIR,
    LABELS_FILE,
    RESAMPLED_DIR,
    RESAMPLED_INFO,
    RESAMPLED_TRAJECTORY_PICTURE,
    SAMPLES_FILE,
    SPEC_FILE,
    WEIGHTS_FILE,
    RunFolder,
    load_tensor,
    load_weights,
    save_tensor,
    write_json,
)
from flowkit.runs.plots import write_sample_pictures
from flowkit.runs.spec import RunSpecBase, validate_spec
from flowkit.solver.base import Solver


@dataclass
class LoadedRun:
    """A trained run: its spec, its components and the network that samples.

    Attributes:
        folder: the run folder (the staging folder while :func:`flowkit.run` is still writing it).
        spec: the validated spec (without its ``resolved`` provenance).
        components: the components, with the trained weights in ``components.model``.
        provenance: the ``resolved`` record of the run (versions, plugins), as written.
        weights: the weights file the network was loaded from.
        network: the network that samples (default ``components.model``; the EMA copy while a run
            that samples with EMA weights is still in memory).
    """

    folder: Path
    spec: RunSpecBase
    components: Components
    provenance: dict[str, Any]
    weights: Path
    network: Model | None = None

    @property
    def sampler(self) -> Model:
        """The network that samples, in eval mode."""
        network = self.network if self.network is not None else self.components.model
        network.eval()
        return network

    def field(self, guidance_scale: float = 1.0) -> ModelField:
        """The trained model as a :class:`~flowkit.Field` (the network is put in eval mode)."""
        return ModelField(
            self.sampler, self.components.parameterization, self.components.path, guidance_scale=guidance_scale
        )

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.spec.seed


def load_run(folder: str | Path, host: PluginHost | None = None, *, weights: str | None = None) -> LoadedRun:
    """Load the run in ``folder``: spec re-validated, components rebuilt, ``weights`` loaded.

    Args:
        folder: a run folder written by :func:`flowkit.run`.
        host: the plugin host (default: the process-wide one).
        weights: the weights file inside the folder (e.g. another checkpoint of the same model); by
            default the EMA weights when the spec samples with them (``sample.use_ema``) and the
            folder has them, else ``model.safetensors`` (the weights the run sampled with).

    Raises:
        FlowkitError: the folder or its spec is missing or unreadable (the message names the folder).
        SpecError: the spec no longer validates against the installed plugins.
        CheckpointError: the weights are missing or do not fit the model.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FlowkitError(f"no run folder at {root}")
    spec_path = root / SPEC_FILE
    if not spec_path.is_file():
        raise FlowkitError(f"{root} is not a run folder: it has no {SPEC_FILE}")
    try:
        data = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FlowkitError(f"cannot read {spec_path}: {exc}") from exc
    if not isinstance(data, dict):
        raise FlowkitError(f"{spec_path} does not hold a spec (a JSON object)")
    provenance = data.pop("resolved", {}) or {}
    spec = validate_spec(data, host=host, source=str(spec_path))
    components = build_components(spec, host)
    if weights is None:
        use_ema = spec.sample.use_ema
        weights = EMA_WEIGHTS_FILE if use_ema and (root / EMA_WEIGHTS_FILE).is_file() else WEIGHTS_FILE
    weights_path = root / weights
    load_weights(weights_path, components.model)
    components.model.eval()
    return LoadedRun(root, spec, components, dict(provenance), weights_path)


def class_labels(num: int, requested: list[int] | None, num_classes: int) -> Tensor:
    """``num`` labels cycling through ``requested`` (default: every class in turn).

    Raises:
        RunFolderError: a requested label is outside ``0 .. num_classes - 1``.
    """
    pool = requested if requested else list(range(num_classes))
    bad = [c for c in pool if not 0 <= c < num_classes]
    if bad:
        raise RunFolderError(f"sample.labels {bad} are outside the dataset's classes 0..{num_classes - 1}")
    return torch.tensor(pool, dtype=torch.long).repeat(-(-num // len(pool)))[:num]


def draw_samples(
    run: LoadedRun,
    solver: Solver | None = None,
    *,
    num: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    guidance_scale: float | None = None,
    labels: list[int] | None = None,
    trajectory: bool = False,
    progress: bool = False,
) -> SampleResult:
    """Samples of a trained run, exactly as the run draws them.

    Every argument defaults to the run's spec (``sample.solver``, ``sample.num_samples``,
    ``sample.batch_size``, ``seed``, ``sample.guidance_scale``, ``sample.labels``). A class-conditional
    network (``num_classes > 0``) draws ``num`` labels cycling through ``labels`` (default: every
    class in turn) and is guided with ``guidance_scale`` against its "no label" token
    (``num_classes``); the labels come back in ``result.labels``. With ``trajectory`` the first
    chunk's path is kept on the solver's own grid (recording never changes the solve).

    Raises:
        ValueError: ``num`` or ``batch_size`` is not positive.
        RunFolderError: a label is outside the dataset's classes.
    """
    settings = run.spec.sample
    comps = run.components
    num = settings.num_samples if num is None else num
    batch_size = settings.batch_size if batch_size is None else batch_size
    if num <= 0 or batch_size <= 0:
        raise ValueError(f"num and batch size must be positive, got {num} and {batch_size}")
    network = run.sampler
    num_classes = network.num_classes
    scale = settings.guidance_scale if guidance_scale is None else guidance_scale
    field = run.field(guidance_scale=scale if num_classes else 1.0)
    drawn_labels = class_labels(num, labels or settings.labels, num_classes) if num_classes else None
    return sample(
        field,
        comps.solver if solver is None else solver,
        num,
        comps.dataset.event_shape,
        batch_size=batch_size,
        seed=run.seed if seed is None else seed,
        dtype=comps.dtype,
        device=comps.device,
        trajectory=trajectory,
        progress=progress,
        labels=drawn_labels,
        null_label=num_classes if num_classes else None,
    )


def save_samples(folder: Path, drawn: SampleResult) -> None:
    """Write ``samples.pt`` (and ``labels.pt`` for a class-conditional draw) into ``folder``."""
    save_tensor(folder / SAMPLES_FILE, drawn.samples)
    if drawn.labels is not None:
        save_tensor(folder / LABELS_FILE, drawn.labels)


def reference_data(run: LoadedRun, num: int, seed: int) -> Tensor:
    """``num`` fresh data points for the pictures (seeded with ``seed + 1``, apart from the samples')."""
    return run.components.dataset.sample(num, generator=torch.Generator().manual_seed(seed + 1))


class TagError(FlowkitError, ValueError):
    """A tag that cannot name a file or folder inside a run folder."""


def check_tag(tag: str) -> str:
    """``tag`` if it can name a file or folder inside the run folder (no path parts), else :class:`TagError`."""
    if not re.fullmatch(r"[A-Za-z0-9_=+-][A-Za-z0-9._=+-]*", tag):
        raise TagError(f"tag {tag!r} may only hold letters, digits and . _ = + - (and may not start with '.')")
    return tag


def default_tag(solver: Solver, num: int, seed: int) -> str:
    """A short folder tag derived from the solver's params, the sample count and the seed."""
    params = json.dumps(solver.params.model_dump(mode="json"), sort_keys=True)
    digest = hashlib.sha1(f"{params}|{num}|{seed}".encode()).hexdigest()[:8]
    return f"n{num}-s{seed}-{digest}"


@dataclass
class SampleRunResult:
    """Where the samples went and what they cost."""

    folder: Path
    result: SampleResult
    info: dict[str, Any]


def sample_run(
    run: LoadedRun,
    solver: Solver,
    *,
    num: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    guidance_scale: float | None = None,
    labels: list[int] | None = None,
    tag: str | None = None,
    plots: bool = True,
    progress: bool = False,
) -> SampleRunResult:
    """Draw samples from a loaded run with ``solver`` (see :func:`draw_samples`) and write
    ``RUN/samples/<solver>-<tag>/``. An existing folder with the same tag is replaced.

    Raises:
        ValueError: ``num`` or ``batch_size`` is not positive, or ``tag`` holds path parts.
    """
    settings = run.spec.sample
    num = settings.num_samples if num is None else num
    seed = run.seed if seed is None else seed
    if tag is not None:
        check_tag(tag)
    drawn = draw_samples(
        run,
        solver,
        num=num,
        batch_size=batch_size,
        seed=seed,
        guidance_scale=guidance_scale,
        labels=labels,
        trajectory=plots,
        progress=progress,
    )
    folder = run.folder / RESAMPLED_DIR / f"{solver.name}-{tag or default_tag(solver, num, seed)}"
    out = RunFolder(folder, overwrite=True, marker=RESAMPLED_INFO)
    with out as staging:
        save_samples(staging, drawn)
        conditional = drawn.labels is not None
        info: dict[str, Any] = {
            "solver": {"name": solver.name, "params": solver.params.model_dump(mode="json")},
            "num_samples": num,
            "batch_size": settings.batch_size if batch_size is None else batch_size,
            "seed": seed,
            "nfe": drawn.nfe,
            "nfe_total": drawn.nfe_total,
            "seconds": drawn.seconds,
            "guidance_scale": (settings.guidance_scale if guidance_scale is None else guidance_scale)
            if conditional
            else None,
            "labels": (labels or settings.labels) if conditional else None,
        }
        if plots:
            write_sample_pictures(
                staging,
                drawn.samples,
                reference_data(run, num, seed),
                title=f"{solver.name} ({drawn.nfe} NFE)",
                times=drawn.times,
                trajectory=drawn.trajectory,
                labels=drawn.labels,
                trajectory_name=RESAMPLED_TRAJECTORY_PICTURE,
            )
        write_json(staging / RESAMPLED_INFO, info)
        return SampleRunResult(out.commit(), drawn, info)


def build_solver(name: str, params: dict[str, Any], host: PluginHost | None = None) -> Solver:
    """The installed solver ``name`` with ``params`` (see :func:`flowkit.host.create.build_component`)."""
    return cast(Solver, build_component("solver", name, params, host, location="solver"))


def build_metric(name: str, params: dict[str, Any] | None = None, host: PluginHost | None = None) -> Metric:
    """The installed metric ``name`` with ``params`` (see :func:`flowkit.host.create.build_component`)."""
    return cast(Metric, build_component("metric", name, params, host, location="metric"))


def evaluate_run(
    run: LoadedRun,
    metrics: list[Metric] | None = None,
    *,
    samples: Tensor | None = None,
    seed: int | None = None,
    references: int | None = None,
    tag: str = "latest",
    max_points: int | None = None,
) -> dict[str, MetricResult]:
    """Score ``samples`` (default: the run's ``samples.pt``) with ``metrics`` (default: the spec's)
    and write ``RUN/evaluations/<tag>.json``. ModelField metrics such as ``nll`` get the run's field.
    ``seed``, ``references`` (data sets averaged over) and ``max_points`` (samples scored at most; see
    :func:`flowkit.engine.evaluation.evaluate`) default to the run's spec.

    Raises:
        ValueError: ``tag`` holds path parts.
        FlowkitError: no samples were given and the run has no readable ``samples.pt``.
    """
    check_tag(tag)
    if samples is None:
        samples = load_samples(run.folder / SAMPLES_FILE)
    results = evaluate(
        samples.to(run.components.dtype),
        run.components.dataset,
        run.components.metrics if metrics is None else metrics,
        seed=run.seed if seed is None else seed,
        field=run.field(),
        references=run.spec.evaluate.references if references is None else references,
        max_points=run.spec.evaluate.max_points if max_points is None else max_points,
    )
    write_json(run.folder / EVALUATIONS_DIR / f"{tag}.json", {name: r.to_dict() for name, r in results.items()})
    return results


def load_samples(path: Path) -> Tensor:
    """A tensor saved by ``flowkit run``/``flowkit sample`` (loaded with ``weights_only=True``)."""
    return load_tensor(path)
