"""The solver contract: integrate a field from the prior at ``t = t_min`` to the data at ``t = t_max``."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.component import Component
from flowkit.field import ModelField
from flowkit.solver.noise import SampleNoise


@dataclass
class SolveResult:
    """What a solve returns.

    Attributes:
        samples: the final states at ``t_max``, shape ``(B, *event_shape)``.
        nfe: the number of network evaluations spent.
        times: the times of the saved trajectory, shape ``(T,)`` (``None`` unless asked for).
        trajectory: the states at ``times``, shape ``(T, B, *event_shape)`` (``None`` unless asked for).
    """

    samples: Tensor
    nfe: int
    times: Tensor | None = None
    trajectory: Tensor | None = None


class Solver(Component):
    """Integrates from prior draws ``x0`` at ``t_min`` to samples at ``t_max``.

    ``(t_min, t_max)`` is the field's ``time_range`` (``(0, 1)`` for most paths): ``t = 0`` is the
    prior, ``t = 1`` the data. ``solve`` runs without building an autograd graph unless the caller
    enables it, counts evaluations through ``field.nfe``, and returns a :class:`SolveResult`.

    Trajectories: with ``trajectory=True`` the states at the solver's own time grid (both ends
    included) are returned; with ``save_at=[t_a, t_b, ...]`` (strictly increasing, inside the time
    range) the states at exactly those times are returned instead (grid solvers add them to their
    grid, so a saved time never changes the steps taken between the others by more than the split).

    Randomness: SDE solvers (``stochastic = True``) draw their Brownian increments from ``noise``
    when it is given (a :class:`~flowkit.noise.SampleNoise`, which makes every sample's path
    independent of the batch it is in), else from ``generator``.
    """

    kind: ClassVar[str] = "solver"
    stochastic: ClassVar[bool] = False
    """True for SDE solvers (they consume random numbers from ``noise`` or ``generator``)."""

    def solve(
        self,
        field: ModelField,
        x0: Tensor,
        *,
        trajectory: bool = False,
        generator: torch.Generator | None = None,
        save_at: Sequence[float] | None = None,
        noise: SampleNoise | None = None,
        batch_size: int | None = None,
    ) -> SolveResult:
        """Integrate ``x0`` (``(B, *event_shape)``) across ``field.time_range``.

        With ``batch_size``, at most that many rows are integrated at once (the field's per-sample
        condition and ``noise`` are split with them) and the results are joined: the samples and the
        trajectory hold every row, ``nfe`` counts the evaluations of all chunks.

        Raises:
            ValueError: ``save_at`` is not strictly increasing inside the time range, ``noise``
                does not have one row per sample, or ``batch_size`` is not positive.
        """
        if noise is not None and len(noise) != x0.shape[0]:
            raise ValueError(f"noise has {len(noise)} rows for a batch of {x0.shape[0]} samples")
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch size must be positive, got {batch_size}")
        start = field.nfe
        t0, t1 = field.time_range
        if batch_size is None or x0.shape[0] <= batch_size:
            samples, times, states = self.integrate(
                field, x0, t0, t1, trajectory=trajectory, generator=generator, save_at=save_at, noise=noise
            )
            return SolveResult(samples=samples, nfe=field.nfe - start, times=times, trajectory=states)
        condition, null = field.condition, field.null_condition
        parts: list[tuple[Tensor, Tensor | None, Tensor | None]] = []
        try:
            for lo in range(0, x0.shape[0], batch_size):
                rows = slice(lo, lo + batch_size)
                field.condition = condition[rows] if condition is not None else None
                field.null_condition = null[rows] if null is not None else None
                chunk_noise = noise.subset(rows) if noise is not None else None
                parts.append(
                    self.integrate(
                        field,
                        x0[rows],
                        t0,
                        t1,
                        trajectory=trajectory,
                        generator=generator,
                        save_at=save_at,
                        noise=chunk_noise,
                    )
                )
        finally:
            field.condition, field.null_condition = condition, null
        paths = [part[2] for part in parts if part[2] is not None]
        return SolveResult(
            samples=torch.cat([part[0] for part in parts]),
            nfe=field.nfe - start,
            times=parts[0][1],
            trajectory=torch.cat(paths, dim=1) if paths else None,
        )

    @abstractmethod
    def integrate(
        self,
        field: ModelField,
        x0: Tensor,
        t0: float,
        t1: float,
        *,
        trajectory: bool,
        generator: torch.Generator | None,
        save_at: Sequence[float] | None = None,
        noise: SampleNoise | None = None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Return ``(x(t1), times, states)``; ``times``/``states`` are ``None`` unless ``trajectory``
        or ``save_at`` asks for them (``save_at`` wins: then ``times`` equals ``save_at``)."""
