"""A flowkit solver that integrates ``dx/dt = u_t(x)`` with any torchdiffeq method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor
from torchdiffeq import odeint

from flowkit import ModelField, SampleNoise, Solver, merge_times

FIXED_GRID_METHODS = ("euler", "midpoint", "heun2", "heun3", "rk4", "explicit_adams", "implicit_adams", "fixed_adams")
ADAPTIVE_METHODS = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")
Method = Literal[
    "dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun",
    "euler", "midpoint", "heun2", "heun3", "rk4", "explicit_adams", "implicit_adams", "fixed_adams",
]  # fmt: skip


class TorchDiffEqSolver(Solver):
    """Integrates the velocity ODE with ``torchdiffeq.odeint``.

    Adaptive methods (``dopri5``, ``dopri8``, ``bosh3``, ``fehlberg2``, ``adaptive_heun``) control
    the local error with ``rtol``/``atol``; fixed-grid methods (``euler``, ``midpoint``,
    ``heun2``, ``heun3``, ``rk4`` and the Adams methods) take ``steps`` uniform steps. With
    ``trajectory=True`` the states at ``trajectory_points`` uniform times (both ends included)
    are returned; with ``save_at`` the states at those times (the solve also stops at them, which
    for fixed-grid methods adds them to the step grid). NFE are counted by the field.
    """

    name: ClassVar[str] = "torchdiffeq"

    class Params(Solver.Params):
        method: Method = Field("dopri5", description="torchdiffeq method.")
        rtol: float = Field(1e-5, gt=0, description="Relative tolerance (adaptive methods).")
        atol: float = Field(1e-5, gt=0, description="Absolute tolerance (adaptive methods).")
        steps: int | None = Field(None, gt=0, description="Uniform steps (fixed-grid methods; default 100).")
        trajectory_points: int = Field(11, ge=2, description="Saved states when a trajectory is asked for.")

        @model_validator(mode="after")
        def _steps_only_for_fixed(self) -> TorchDiffEqSolver.Params:
            if self.steps is not None and self.method in ADAPTIVE_METHODS:
                raise ValueError(f"steps applies to fixed-grid methods; {self.method!r} is adaptive (use rtol/atol)")
            return self

    params: Params

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
        p = self.params
        ends = torch.tensor([t0, t1], dtype=torch.float64)
        if save_at is not None:
            # Output times: both ends plus the requested ones (merge_times validates them).
            grid64, save_idx = merge_times(ends, save_at)
        else:
            grid64 = torch.linspace(t0, t1, p.trajectory_points if trajectory else 2, dtype=torch.float64)
            save_idx = list(range(grid64.shape[0]))
        times = grid64.to(dtype=x0.dtype, device=x0.device)
        options: dict[str, object] = {}
        if p.method in FIXED_GRID_METHODS:
            options["step_size"] = (t1 - t0) / (p.steps or 100)
            kwargs: dict[str, object] = {"options": options}
        else:
            # Adaptive steps may overshoot the last time and interpolate back; a path can be
            # undefined past its time range (e.g. VP beyond t_max), so make a step land on it.
            end = torch.tensor([t1], dtype=torch.float64, device=x0.device)
            kwargs = {"rtol": p.rtol, "atol": p.atol, "options": {"step_t": end}}

        def rhs(t: Tensor, x: Tensor) -> Tensor:
            return field.velocity(x, t)

        states = odeint(rhs, x0, times, method=p.method, **kwargs)
        if save_at is not None:
            return states[-1], times[save_idx], states[save_idx]
        if trajectory:
            return states[-1], times, states
        return states[-1], None, None
