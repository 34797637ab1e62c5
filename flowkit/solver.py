"""Solvers: integrate a field from the prior at ``t = t_min`` to the data at ``t = t_max``."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.component import Component
from flowkit.field import Field


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
    With ``trajectory=True`` the states at the solver's own time grid (including both ends) are
    returned as well.
    """

    kind: ClassVar[str] = "solver"
    stochastic: ClassVar[bool] = False
    """True for SDE solvers (they consume random numbers from ``generator``)."""

    def solve(
        self,
        field: Field,
        x0: Tensor,
        *,
        trajectory: bool = False,
        generator: torch.Generator | None = None,
    ) -> SolveResult:
        """Integrate ``x0`` (``(B, *event_shape)``) across ``field.time_range``."""
        start = field.nfe
        t0, t1 = field.time_range
        samples, times, states = self.integrate(field, x0, t0, t1, trajectory=trajectory, generator=generator)
        return SolveResult(samples=samples, nfe=field.nfe - start, times=times, trajectory=states)

    @abstractmethod
    def integrate(
        self,
        field: Field,
        x0: Tensor,
        t0: float,
        t1: float,
        *,
        trajectory: bool,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Return ``(x(t1), times, states)``; ``times``/``states`` are ``None`` unless ``trajectory``."""


class FixedStepSolver(Solver):
    """Base of explicit one-step schemes on a uniform grid of ``steps`` intervals.

    A subclass implements ``step(field, x, t, dt)`` returning the state at ``t + dt``; times are
    passed as 0-d tensors of the state's dtype. The loop keeps no per-step host synchronisation.
    """

    @abstractmethod
    def step(self, field: Field, x: Tensor, t: Tensor, dt: Tensor) -> Tensor:
        """Advance ``x`` from ``t`` to ``t + dt``."""

    def num_steps(self) -> int:
        """Number of grid intervals (read from ``params.steps``)."""
        steps: int = self.params.steps  # type: ignore[attr-defined]
        return steps

    def integrate(
        self,
        field: Field,
        x0: Tensor,
        t0: float,
        t1: float,
        *,
        trajectory: bool,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        n = self.num_steps()
        grid = torch.linspace(t0, t1, n + 1, dtype=x0.dtype, device=x0.device)
        x = x0
        states = [x0] if trajectory else None
        for i in range(n):
            x = self.step(field, x, grid[i], grid[i + 1] - grid[i])
            if states is not None:
                states.append(x)
        if states is None:
            return x, None, None
        return x, grid, torch.stack(states)
