"""Sampling: draw prior noise and integrate it to data with a solver, in bounded-memory chunks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from flowkit.engine.progress import progress_bar
from flowkit.field import ModelField
from flowkit.solver.base import Solver
from flowkit.solver.noise import SampleNoise, prior_from_noise


@dataclass
class SampleResult:
    """Samples and what they cost.

    Attributes:
        samples: ``(num, *event_shape)`` on the CPU.
        nfe: network evaluations of one solve (the largest over the chunks).
        nfe_total: evaluations over all chunks.
        seconds: wall-clock time.
        times, trajectory: the first chunk's trajectory when asked for (``(T,)``, ``(T, B, ...)``).
        labels: the class of every sample, ``(num,)``, for a class-conditional draw (else ``None``).
    """

    samples: Tensor
    nfe: int
    nfe_total: int
    seconds: float
    times: Tensor | None = None
    trajectory: Tensor | None = None
    labels: Tensor | None = None


@torch.no_grad()
def sample(
    field: ModelField,
    solver: Solver,
    num: int,
    event_shape: Sequence[int],
    *,
    batch_size: int = 10000,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    trajectory: bool = False,
    progress: bool = False,
    labels: Tensor | None = None,
    null_label: int | None = None,
    save_at: Sequence[float] | None = None,
    x0: Tensor | None = None,
) -> SampleResult:
    """Draw ``num`` samples: prior noise from a generator seeded with ``seed``, integrated by ``solver``.

    At most ``batch_size`` samples are integrated at once; only the first chunk's trajectory is
    kept, so memory stays bounded for any ``num``. ``save_at`` asks for the trajectory at those
    times (see :meth:`flowkit.Solver.solve`).

    Sample ``i``'s prior draw and SDE noise depend only on ``(seed, i)``
    (:class:`~flowkit.solver.noise.SampleNoise`), so they do not change with ``batch_size`` or ``num``.
    ``x0`` (``(num, *event_shape)``) replaces the prior draws by the caller's own starting points
    (an SDE solver still draws its increments from ``(seed, i)``).

    For a class-conditional model, ``labels`` (``(num,)`` integers) are the classes to draw; with
    ``field.guidance_scale != 1`` the ``null_label`` ("no label" token) gives the unconditional
    branch of classifier-free guidance.
    """
    if num <= 0:
        raise ValueError(f"number of samples must be positive, got {num}")
    if labels is not None and labels.shape != (num,):
        raise ValueError(f"labels must have shape ({num},), got {tuple(labels.shape)}")
    if x0 is not None and tuple(x0.shape) != (num, *event_shape):
        raise ValueError(f"x0 must have shape {(num, *event_shape)}, got {tuple(x0.shape)}")
    generator = torch.Generator(device="cpu").manual_seed(seed)
    chunks: list[Tensor] = []
    nfe = nfe_total = 0
    times = states = None
    start = time.perf_counter()
    bar = progress_bar(total=num, desc="sample", enabled=progress)
    try:
        done = 0
        while done < num:
            n = min(batch_size, num - done)
            noise = SampleNoise.range(seed, done, n)
            if x0 is None:
                start_points = prior_from_noise(field.path, noise, event_shape, dtype=dtype, device=device)
            else:
                start_points = x0[done : done + n].to(dtype=dtype, device=device)
            if labels is not None:
                field.condition = labels[done : done + n].to(device)
                if null_label is not None:
                    field.null_condition = torch.full_like(field.condition, null_label)
            first = not chunks
            result = solver.solve(
                field,
                start_points,
                trajectory=trajectory and first,
                generator=generator,
                save_at=save_at if first else None,
                noise=noise,
            )
            if result.trajectory is not None:
                times, states = result.times, result.trajectory.cpu()
            chunks.append(result.samples.cpu())
            nfe = max(nfe, result.nfe)
            nfe_total += result.nfe
            done += n
            bar.update(n)
    finally:
        bar.close()
        if labels is not None:
            field.condition = field.null_condition = None
    seconds = time.perf_counter() - start
    return SampleResult(torch.cat(chunks), nfe, nfe_total, seconds, times, states, labels)
