"""Native fixed-step ODE solvers for ``dx/dt = u_t(x)``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from torch import Tensor

from flowkit import Field as FlowField
from flowkit import FixedStepSolver


class StepsParams(FixedStepSolver.Params):
    steps: int = Field(100, gt=0, description="Number of uniform steps from t_min to t_max.")


class EulerSolver(FixedStepSolver):
    """Explicit Euler: ``x_{k+1} = x_k + h u(x_k, t_k)``. Order 1, one evaluation per step."""

    name: ClassVar[str] = "euler"

    class Params(StepsParams):
        pass

    params: Params

    def step(self, field: FlowField, x: Tensor, t: Tensor, dt: Tensor) -> Tensor:
        return x + dt * field.velocity(x, t)


class MidpointSolver(FixedStepSolver):
    """Explicit midpoint: ``x_{k+1} = x_k + h u(x_k + h/2 u(x_k, t_k), t_k + h/2)``. Order 2, two
    evaluations per step."""

    name: ClassVar[str] = "midpoint"

    class Params(StepsParams):
        pass

    params: Params

    def step(self, field: FlowField, x: Tensor, t: Tensor, dt: Tensor) -> Tensor:
        half = 0.5 * dt
        x_mid = x + half * field.velocity(x, t)
        return x + dt * field.velocity(x_mid, t + half)
