"""Native explicit Runge-Kutta solvers for the probability-flow ODE ``dx/dt = u_t(x)``.

Each solver marches across the time grid of its params (``steps`` and ``grid`` in ``uniform``,
``logsnr``, ``edm`` or ``custom``; see :mod:`flowkit.grids`), from the prior at ``t_min`` to the data
at ``t_max``. With autograd off, the stages are written into buffers allocated once per solve and the
state is updated in place, so a step allocates nothing besides the network's outputs and never
synchronises with the host.

=========  =====  ===============
solver     order  NFE per step
=========  =====  ===============
euler      1      1
midpoint   2      2
heun       2      2
rk4        4      4
=========  =====  ===============
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from flowkit import FixedStepSolver, ModelField, Workspace


class EulerSolver(FixedStepSolver):
    """Explicit Euler: ``x_{k+1} = x_k + h_k u(x_k, t_k)``. Order 1, one evaluation per step."""

    name: ClassVar[str] = "euler"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        return ws.update(x, dt, field.velocity(x, t))


class MidpointSolver(FixedStepSolver):
    """Explicit midpoint: ``x_{k+1} = x_k + h u(x_k + h/2 u(x_k, t_k), t_k + h/2)``. Order 2, two
    evaluations per step."""

    name: ClassVar[str] = "midpoint"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        half = 0.5 * dt
        x_mid = ws.axpy("stage", x, half, field.velocity(x, t))
        return ws.update(x, dt, field.velocity(x_mid, t + half))


class HeunSolver(FixedStepSolver):
    """Heun's method (explicit trapezoid): ``k1 = u(x_k, t_k)``, ``k2 = u(x_k + h k1, t_k + h)``,
    ``x_{k+1} = x_k + h/2 (k1 + k2)``. Order 2, two evaluations per step."""

    name: ClassVar[str] = "heun"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        k1 = field.velocity(x, t)
        acc = ws.copy("acc", k1)
        k2 = field.velocity(ws.axpy("stage", x, dt, k1), t + dt)
        acc = ws.add(acc, k2)
        return ws.update(x, dt, acc, 0.5)


class RK4Solver(FixedStepSolver):
    """The classical fourth-order Runge-Kutta method. Order 4, four evaluations per step.

    ``k1 = u(x, t)``, ``k2 = u(x + h/2 k1, t + h/2)``, ``k3 = u(x + h/2 k2, t + h/2)``,
    ``k4 = u(x + h k3, t + h)``, ``x_{k+1} = x + h/6 (k1 + 2 k2 + 2 k3 + k4)``.
    """

    name: ClassVar[str] = "rk4"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        half = 0.5 * dt
        t_mid = t + half
        k1 = field.velocity(x, t)
        acc = ws.copy("acc", k1)
        k2 = field.velocity(ws.axpy("stage", x, half, k1), t_mid)
        acc = ws.add(acc, k2, 2.0)
        k3 = field.velocity(ws.axpy("stage", x, half, k2), t_mid)
        acc = ws.add(acc, k3, 2.0)
        k4 = field.velocity(ws.axpy("stage", x, dt, k3), t + dt)
        acc = ws.add(acc, k4)
        return ws.update(x, dt, acc, 1.0 / 6.0)
