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

from flowkit import TABLEAUS, RungeKuttaSolver


class EulerSolver(RungeKuttaSolver):
    """Explicit Euler: ``x_{k+1} = x_k + h_k u(x_k, t_k)``. Order 1, one evaluation per step."""

    name: ClassVar[str] = "euler"
    tableau = TABLEAUS["euler"]


class MidpointSolver(RungeKuttaSolver):
    """Explicit midpoint: ``x_{k+1} = x_k + h u(x_k + h/2 u(x_k, t_k), t_k + h/2)``. Order 2, two
    evaluations per step."""

    name: ClassVar[str] = "midpoint"
    tableau = TABLEAUS["midpoint"]


class HeunSolver(RungeKuttaSolver):
    """Heun's method (explicit trapezoid): ``k1 = u(x_k, t_k)``, ``k2 = u(x_k + h k1, t_k + h)``,
    ``x_{k+1} = x_k + h/2 (k1 + k2)``. Order 2, two evaluations per step."""

    name: ClassVar[str] = "heun"
    tableau = TABLEAUS["heun"]


class RK4Solver(RungeKuttaSolver):
    """The classical fourth-order Runge-Kutta method. Order 4, four evaluations per step.

    ``k1 = u(x, t)``, ``k2 = u(x + h/2 k1, t + h/2)``, ``k3 = u(x + h/2 k2, t + h/2)``,
    ``k4 = u(x + h k3, t + h)``, ``x_{k+1} = x + h/6 (k1 + 2 k2 + 2 k3 + k4)``.
    """

    name: ClassVar[str] = "rk4"
    tableau = TABLEAUS["rk4"]
