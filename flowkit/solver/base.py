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
    ) -> SolveResult:
        """Integrate ``x0`` (``(B, *event_shape)``) across ``field.time_range``.

        Raises:
            ValueError: ``save_at`` is not strictly increasing inside the time range, or ``noise``
                does not have one row per sample.
        """
        if noise is not None and len(noise) != x0.shape[0]:
            raise ValueError(f"noise has {len(noise)} rows for a batch of {x0.shape[0]} samples")
        start = field.nfe
        t0, t1 = field.time_range
        samples, times, states = self.integrate(
            field, x0, t0, t1, trajectory=trajectory, generator=generator, save_at=save_at, noise=noise
        )
        return SolveResult(samples=samples, nfe=field.nfe - start, times=times, trajectory=states)

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
