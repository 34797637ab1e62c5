"""The ``$name`` solver: integrates ``dx/dt = u_t(x)`` from the prior (t_min) to the data (t_max)."""

from __future__ import annotations

from typing import ClassVar

from flowkit import Field, FixedStepSolver
from flowkit.solver import Workspace
from torch import Tensor


class ${camel}Solver(FixedStepSolver):
    """Heun's method: ``k1 = u(x, t)``, ``k2 = u(x + h k1, t + h)``, ``x + h (k1 + k2) / 2``.

    Order 2, two evaluations per step. The time grid (``steps``, ``grid``, ...) comes from
    :class:`flowkit.FixedStepSolver`'s params.
    """

    name: ClassVar[str] = "$name"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: Field, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        k1 = field.velocity(x, t)
        k2 = field.velocity(x + dt * k1, t + dt)
        return x + 0.5 * dt * (k1 + k2)
