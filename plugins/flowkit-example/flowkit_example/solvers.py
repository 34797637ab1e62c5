"""The ``ralston`` solver: integrates ``dx/dt = u_t(x)`` from the prior (t_min) to the data (t_max)."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from flowkit import FixedStepSolver, ModelField, Workspace


class RalstonSolver(FixedStepSolver):
    """Ralston's second-order Runge-Kutta method. Order 2, two evaluations per step.

    ``k1 = u(x, t)``, ``k2 = u(x + (2/3) h k1, t + (2/3) h)``, ``x + h (k1 + 3 k2) / 4``. Among the
    explicit two-stage methods of order 2 it has the smallest bound on the leading error term, and
    its quadrature weights integrate a velocity that is quadratic in time exactly. The time grid
    (``steps``, ``grid``, ...) comes from :class:`flowkit.FixedStepSolver`'s params.
    """

    name: ClassVar[str] = "ralston"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        k1 = field.velocity(x, t)
        k2 = field.velocity(x + (2.0 / 3.0) * dt * k1, t + (2.0 / 3.0) * dt)
        return x + dt * (0.25 * k1 + 0.75 * k2)
