"""Sampling and evaluating a finished run with any solver or metric (what ``flowkit sample`` and
``flowkit evaluate`` call).

``sample_run`` writes ``RUN/samples/<solver>-<tag>/`` (``samples.pt``, ``samples.png``,
``trajectory.png``, ``info.json`` with the NFE, seconds and the solver's params) through a staging
folder renamed into place, never touching the run's other files. ``evaluate_run`` scores a run's
samples with the spec's metrics or named ones (``nll`` included) and writes
``RUN/evaluations/<tag>.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from torch import Tensor

from flowkit.errors import FlowkitError, SpecError
from flowkit.engine.evaluation import MetricResult, evaluate
from flowkit.host.manager import PluginHost, default_host
from flowkit.runs.finished import LoadedRun
from flowkit.metric import Metric
from flowkit.runs.plots import plot_samples
from flowkit.runs.folder import RunFolder, atomic_write_bytes, write_json
from flowkit.engine.sampling import SampleResult, sample
from flowkit.solver.base import Solver

TRAJECTORY_POINTS = 9


def build_solver(name: str, params: dict[str, Any], host: PluginHost | None = None) -> Solver:
    """The installed solver ``name`` with ``params`` (validated like a spec's ``sample.solver``).

    Raises:
        UnknownComponentError: no installed solver has that name.
        SpecError: the params do not validate (one ``solver.params.<key>: message`` line per problem).
    """
    reg = (host or default_host()).registry.registration("solver", name)
    try:
        solver = reg.cls(**params)
    except ValidationError as exc:
        lines = [f"solver.{name}.params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SpecError(lines) from exc
    if not isinstance(solver, Solver):
        raise FlowkitError(f"component {name!r} is not a solver")
    return solver


def build_metric(name: str, params: dict[str, Any] | None = None, host: PluginHost | None = None) -> Metric:
    """The installed metric ``name`` with ``params`` (raises like :func:`build_solver`)."""
    reg = (host or default_host()).registry.registration("metric", name)
    try:
        metric = reg.cls(**(params or {}))
    except ValidationError as exc:
        lines = [f"metric.{name}.params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SpecError(lines) from exc
    if not isinstance(metric, Metric):
        raise FlowkitError(f"component {name!r} is not a metric")
    return metric


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
    tag: str | None = None,
    plots: bool = True,
    progress: bool = False,
) -> SampleRunResult:
    """Draw samples from a loaded run with ``solver`` and write ``RUN/samples/<solver>-<tag>/``.

    ``num``, ``batch_size`` and ``seed`` default to the run's spec. The trajectory of the first chunk
    is recorded on the solver's own grid (so recording never changes the solve) and thinned for the
    picture. An existing folder with the same tag is replaced.

    Raises:
        ValueError: ``num`` or ``batch_size`` is not positive, or ``tag`` holds path separators.
    """
    s: Any = run.spec
    comps = run.components
    num = s.sample.num_samples if num is None else num
    batch_size = s.sample.batch_size if batch_size is None else batch_size
    seed = run.seed if seed is None else seed
    if num <= 0 or batch_size <= 0:
        raise ValueError(f"num and batch size must be positive, got {num} and {batch_size}")
    tag = tag or default_tag(solver, num, seed)
    if not re.fullmatch(r"[A-Za-z0-9._=+-]+", tag):
        raise ValueError(f"tag {tag!r} may only hold letters, digits and . _ = + -")
    field = run.field()
    drawn = sample(
        field,
        solver,
        num,
        comps.dataset.event_shape,
        batch_size=batch_size,
        seed=seed,
        dtype=comps.dtype,
        device=comps.device,
        progress=progress,
        trajectory=plots,
    )
    target = run.folder / "samples" / f"{solver.name}-{tag}"
    out = RunFolder(target, overwrite=True)
    staging = out.open()
    atomic_write_bytes(staging / "samples.pt", _tensor_bytes(drawn.samples))
    info: dict[str, Any] = {
        "solver": {"name": solver.name, "params": solver.params.model_dump(mode="json")},
        "num_samples": num,
        "batch_size": batch_size,
        "seed": seed,
        "nfe": drawn.nfe,
        "nfe_total": drawn.nfe_total,
        "seconds": drawn.seconds,
    }
    if plots:
        data = comps.dataset.sample(num, generator=torch.Generator().manual_seed(seed + 1))
        title = f"{solver.name} ({drawn.nfe} NFE)"
        plot_samples(staging / "samples.png", drawn.samples, data, title=title)
        if drawn.times is not None and drawn.trajectory is not None:
            # The solver's own grid (so the solve is unchanged), thinned to a few times for the picture.
            last = drawn.times.shape[0] - 1
            keep = sorted({round(i * last / (TRAJECTORY_POINTS - 1)) for i in range(TRAJECTORY_POINTS)})
            plot_trajectory(staging / "trajectory.png", drawn.times[keep], drawn.trajectory[keep], title=title)
    write_json(staging / "info.json", info)
    return SampleRunResult(out.commit(), drawn, info)


def plot_trajectory(path: Path, times: Tensor, states: Tensor, title: str = "", max_paths: int = 300) -> None:
    """Paths of up to ``max_paths`` samples (first two coordinates) from the prior to the data, with
    the states at each saved time marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = states[:, :max_paths].reshape(states.shape[0], min(states.shape[1], max_paths), -1).double().cpu()
    fig, ax = plt.subplots(figsize=(6, 6))
    if pts.shape[2] >= 2:
        for i in range(pts.shape[1]):
            ax.plot(pts[:, i, 0].numpy(), pts[:, i, 1].numpy(), color="0.6", lw=0.4, alpha=0.6)
        colors = plt.cm.viridis(torch.linspace(0, 1, pts.shape[0]).numpy())
        for k in range(pts.shape[0]):
            ax.scatter(
                pts[k, :, 0].numpy(), pts[k, :, 1].numpy(), s=3, color=colors[k], label=f"t={float(times[k]):.2f}"
            )
    else:
        for i in range(pts.shape[1]):
            ax.plot(times.double().cpu().numpy(), pts[:, i, 0].numpy(), color="0.4", lw=0.4, alpha=0.6)
        ax.set_xlabel("t")
    ax.legend(fontsize=6, markerscale=3, loc="best")
    if title:
        ax.set_title(title)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)
    plt.close(fig)


def evaluate_run(
    run: LoadedRun,
    metrics: list[Metric] | None = None,
    *,
    samples: Tensor | None = None,
    seed: int | None = None,
    references: int | None = None,
    tag: str = "latest",
) -> dict[str, MetricResult]:
    """Score ``samples`` (default: the run's ``samples.pt``) with ``metrics`` (default: the spec's)
    and write ``RUN/evaluations/<tag>.json``. Field metrics such as ``nll`` get the run's field.
    ``seed`` and ``references`` (data sets averaged over, see :func:`flowkit.evaluation.evaluate`)
    default to the run's spec.

    Raises:
        FlowkitError: no samples were given and the run has no readable ``samples.pt``.
    """
    if samples is None:
        samples = load_samples(run.folder / "samples.pt")
    metrics = run.components.metrics if metrics is None else metrics
    seed = run.seed if seed is None else seed
    if references is None:
        spec: Any = run.spec  # the registry-built spec has every section
        references = int(spec.evaluate.references)
    field = run.field()
    results = evaluate(
        samples.to(run.components.dtype),
        run.components.dataset,
        metrics,
        seed=seed,
        field=field,
        references=references,
    )
    write_json(
        run.folder / "evaluations" / f"{tag}.json",
        {name: r.to_dict() for name, r in results.items()},
    )
    return results


def load_samples(path: Path) -> Tensor:
    """A tensor saved by ``flowkit run``/``flowkit sample`` (loaded with ``weights_only=True``)."""
    if not path.is_file():
        raise FlowkitError(f"no samples at {path}")
    try:
        value = torch.load(path, weights_only=True)
    except Exception as exc:
        raise FlowkitError(f"cannot read samples from {path}: {exc}") from exc
    if not isinstance(value, Tensor):
        raise FlowkitError(f"{path} does not hold a tensor")
    return value


def _tensor_bytes(t: Tensor) -> bytes:
    buf = io.BytesIO()
    torch.save(t.contiguous(), buf)
    return buf.getvalue()
