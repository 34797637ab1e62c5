"""SDE samplers: Euler-Maruyama and stochastic Heun, two schemes on the core's SDE base.

The SDE ``dX = [u_t(X) + sigma_t^2 / 2 * score_t(X)] dt + sigma_t dW``, its noise schedules, the
one-evaluation drift, the marching loop and the final denoising live in :mod:`flowkit.solver.sde`
(:class:`flowkit.SDESolver`); a scheme here only says how one step is taken (:meth:`sde_step`).
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from flowkit import Grid, ModelField, SDESchedule, SDESolver, SigmaSchedule, Workspace, sigma_schedule

__all__ = ["EulerMaruyamaSolver", "SDESolver", "SigmaSchedule", "StochasticHeunSolver", "sigma_schedule"]


class EulerMaruyamaSolver(SDESolver):
    """Euler-Maruyama: ``x_{k+1} = x_k + h f(x_k, t_k) + sigma_{t_k} sqrt(h) xi_k``, ``xi_k ~ N(0, I)``.

    ``f = u + sigma^2/2 score``. Strong order 1/2, weak order 1 (order 1 for the ODE when
    ``sigma = zero``); one evaluation per step (plus one with ``denoise``).
    """

    name: ClassVar[str] = "euler_maruyama"

    def sde_step(
        self, field: ModelField, x: Tensor, k: int, grid: Grid, sde: SDESchedule, xi: Tensor | None, ws: Workspace
    ) -> Tensor:
        f = self.drift(field, x, grid.times[k], sde.half_sigma2[k], sde.noisy)
        if xi is not None:
            x = ws.update(x, sde.sigma[k] * sde.sqrt_dt[k], xi)
        return ws.update(x, grid.dts[k], f)


class StochasticHeunSolver(SDESolver):
    """Stochastic Heun (predictor-corrector for additive noise), a second-order scheme.

    With ``dW = sqrt(h) xi`` shared by both stages:

    ``x' = x_k + h f(x_k, t_k) + sigma_k dW``,
    ``x_{k+1} = x_k + h/2 [f(x_k, t_k) + f(x', t_{k+1})] + (sigma_k + sigma_{k+1})/2 dW``.

    The noise is additive (``sigma`` depends on ``t`` only), so this has weak order 2 and reduces to
    Heun's ODE method (order 2) for ``sigma = zero``. Two evaluations per step (plus one with ``denoise``).
    """

    name: ClassVar[str] = "sde_heun"

    def sde_step(
        self, field: ModelField, x: Tensor, k: int, grid: Grid, sde: SDESchedule, xi: Tensor | None, ws: Workspace
    ) -> Tensor:
        times, dts = grid.times, grid.dts
        f1 = self.drift(field, x, times[k], sde.half_sigma2[k], sde.noisy)
        acc = ws.copy("acc", f1)
        pred = ws.axpy("stage", x, dts[k], f1)
        if xi is not None:
            pred = ws.update(pred, sde.sigma[k] * sde.sqrt_dt[k], xi)
        f2 = self.drift(field, pred, times[k + 1], sde.half_sigma2[k + 1], sde.noisy)
        acc = ws.add(acc, f2)
        if xi is not None:
            x = ws.update(x, 0.5 * (sde.sigma[k] + sde.sigma[k + 1]) * sde.sqrt_dt[k], xi)
        return ws.update(x, dts[k], acc, 0.5)
