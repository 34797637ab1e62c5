"""An exponential-integrator multistep solver for Gaussian paths, in data-prediction form.

**Derivation in flowkit's convention** (``t = 0`` noise, ``t = 1`` data, ``x_t = alpha_t z + beta_t eps``).
Write ``D(x, t) = E[z | x_t = x]`` for the data prediction and ``lambda_t = log(alpha_t / beta_t)``.
The marginal velocity is ``u = alpha' D + beta' E[eps | x]`` with ``E[eps | x] = (x - alpha D) / beta``, so
the probability-flow ODE is

``dx/dt = (beta'/beta) x + alpha (alpha'/alpha - beta'/beta) D = (beta'/beta) x + alpha lambda' D``.

Its linear part is solved exactly with the integrating factor ``1 / beta``:
``d(x / beta)/dt = (alpha / beta) lambda' D = e^lambda lambda' D``, hence from ``t_k`` to ``t_{k+1}``

``x_{k+1} = (beta_{k+1} / beta_k) x_k + alpha_{k+1} * integral e^(lambda - lambda_{k+1}) D dlambda``
(the integral over ``[lambda_k, lambda_{k+1}]``).

Only the data prediction is approximated. Holding it at ``D_k`` gives the first-order step
(deterministic DDIM; on the CondOT path it coincides with Euler):

``x_{k+1} = (beta_{k+1} / beta_k) x_k + (alpha_{k+1} - alpha_k beta_{k+1} / beta_k) D_k``.

The multistep variants (in the manner of DPM-Solver++(2M) and of UniPC's corrector) replace ``D``
by the polynomial through the last ``order`` predictions, ``D(t) ~ sum_j l_j(t) D_{k-j}`` (Lagrange
basis ``l_j`` on the grid times), and integrate it against the exponential weight exactly:

``x_{k+1} = (beta_{k+1} / beta_k) x_k + sum_j w_{kj} D_{k-j}``,
``w_{kj} = alpha_{k+1} * integral e^(lambda - lambda_{k+1}) l_j(t(lambda)) dlambda``.

The polynomial is taken in ``t`` rather than in ``lambda``: near the data end ``D`` converges like
``e^(-2 lambda)``, which a polynomial in ``lambda`` extrapolates badly over the long final
``lambda``-steps of paths that reach ``beta ~ 0``, while it is smooth in ``t``. The weights are
computed once per solve by 64-point Gauss-Legendre quadrature in ``lambda`` (float64, on the host).

With ``corrector=True`` each step is corrected with the prediction at the new point, which the next
step needs anyway (``D_{k+1}`` is evaluated at the predicted state and reused): the corrected step
uses the polynomial through ``D_{k+1}, D_k, ...`` (one order higher) at no extra evaluation. The last
step is not corrected. Every variant costs exactly one network evaluation per step.

Steps whose ``lambda`` is not finite at an end (``alpha = 0`` or ``beta = 0`` inside the grid) use the
first-order step, whose coefficients stay finite.

Everything is written against :class:`~flowkit.path.GaussianPath` (``alpha``, ``beta``, the log-SNR
inverse) and :meth:`flowkit.Field.data`, so the solver works for every Gaussian path (CondOT, VP, VE,
...) and every parameterization.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from flowkit import Field as FlowField
from flowkit import FixedStepSolver
from flowkit.noise import SampleNoise
from flowkit.path import require_gaussian
from flowkit.solver import Grid, Recorder, Workspace

_QUADRATURE_NODES = 64


class ExponentialSolver(FixedStepSolver):
    """Exponential-integrator multistep solver (data prediction, orders 1-3, optional corrector) for Gaussian paths.

    ``x_{k+1} = (beta_{k+1} / beta_k) x_k + sum_j w_{kj} D_{k-j}`` with exact exponential weights of
    the polynomial through the last ``order`` data predictions; ``corrector`` adds one order at no
    extra evaluation. One evaluation per step. The grid is uniform in time by default; ``logsnr``
    suits variance-preserving paths.

    Raises:
        IncompatibleComponentsError: the field's path is not Gaussian.
    """

    name: ClassVar[str] = "exponential"

    class Params(FixedStepSolver.Params):
        steps: int = Field(10, gt=0, description="Number of grid intervals (one network evaluation each).")
        order: Literal[1, 2, 3] = Field(2, description="Number of past data predictions interpolated (1 is DDIM).")
        corrector: bool = Field(True, description="Correct each step with the next prediction (no extra NFE).")

    params: Params

    def plan(self, field: FlowField, times64: Tensor) -> tuple[Tensor, Tensor, Tensor, list[int], list[int]]:
        """The per-step coefficients of a solve on the float64 grid ``times64`` (``(N + 1,)``).

        Returns:
            ``(ratio, w_pred, w_corr, q_pred, q_corr)``: ``ratio[k] = beta_{k+1} / beta_k``;
            ``w_pred[k, j]`` multiplies ``D_{k-j}`` in the predictor (``j < q_pred[k]``);
            ``w_corr[k, j]`` multiplies ``D_{k+1-j}`` in the corrector (``j < q_corr[k]``, and
            ``q_corr[k] = 0`` when step ``k`` is not corrected). Weights are float64, ``(N, 4)``.
        """
        path = require_gaussian(field.path, f"solver {self.name!r}")
        t = times64.to(torch.float64)
        alpha, beta = path.alpha(t).to(torch.float64), path.beta(t).to(torch.float64)
        n = t.shape[0] - 1
        ratio = beta[1:] / beta[:-1]
        gain = alpha[1:] - alpha[:-1] * ratio
        lam = torch.log(alpha) - torch.log(beta)
        finite = [bool(torch.isfinite(lam[k]) and torch.isfinite(lam[k + 1])) for k in range(n)]
        w_pred = torch.zeros(n, 4, dtype=torch.float64)
        w_corr = torch.zeros(n, 4, dtype=torch.float64)
        w_pred[:, 0] = gain
        q_pred, q_corr = [1] * n, [0] * n
        order, correct = self.params.order, self.params.corrector
        steps = [k for k in range(n) if finite[k]]
        if not steps or (order == 1 and not correct):
            return ratio, w_pred, w_corr, q_pred, q_corr
        nodes, weights = np.polynomial.legendre.leggauss(_QUADRATURE_NODES)
        gx = torch.as_tensor(nodes, dtype=torch.float64)
        gw = torch.as_tensor(weights, dtype=torch.float64)
        idx = torch.tensor(steps)
        lo, hi = lam[idx, None], lam[idx + 1, None]
        big_l = 0.5 * (hi - lo) * gx[None, :] + 0.5 * (hi + lo)  # (S, G) quadrature nodes in lambda
        mass = 0.5 * (hi - lo) * gw[None, :] * torch.exp(big_l - hi) * alpha[idx + 1, None]
        tau = path.time_at_log_snr(big_l).to(torch.float64)  # (S, G) times of the nodes
        for row, k in enumerate(steps):
            q = min(order, k + 1)
            w_pred[k, :q] = _lagrange_weights(t[[k - j for j in range(q)]], tau[row], mass[row], gain[k])
            q_pred[k] = q
            if correct and k + 1 < n:
                qc = min(order + 1, k + 2)
                w_corr[k, :qc] = _lagrange_weights(t[[k + 1 - j for j in range(qc)]], tau[row], mass[row], gain[k])
                q_corr[k] = qc
        return ratio, w_pred, w_corr, q_pred, q_corr

    def march(
        self,
        field: FlowField,
        x: Tensor,
        grid: Grid,
        ws: Workspace,
        record: Recorder,
        *,
        generator: torch.Generator | None,
        noise: SampleNoise | None,
    ) -> Tensor:
        ratio64, wp64, wc64, q_pred, q_corr = self.plan(field, grid.times64)
        ratio, w_pred, w_corr = (c.to(device=x.device, dtype=x.dtype) for c in (ratio64, wp64, wc64))
        times = grid.times
        history: list[Tensor] = [_detached(field.data(x, times[0]), x)]  # history[j] = D_{k-j}
        for k in range(grid.steps):
            last = k + 1 == grid.steps
            pred = _combine(ws, "stage", x, ratio[k], w_pred[k], history, q_pred[k], inplace_x=False)
            if last:
                x = pred if not ws.inplace else x.copy_(pred)
                record(k + 1, x)
                break
            d_next = _detached(field.data(pred, times[k + 1]), pred)
            if q_corr[k] > 0:
                x = _combine(ws, "", x, ratio[k], w_corr[k], [d_next, *history], q_corr[k], inplace_x=True)
            else:
                x = pred if not ws.inplace else x.copy_(pred)
            history = [d_next, *history][: max(self.params.order, 1) + 1]
            record(k + 1, x)
        return x


def _detached(d: Tensor, state: Tensor) -> Tensor:
    """``d``, cloned if it shares memory with ``state`` (a network that returns its input), since the
    solver overwrites its state buffers in place."""
    if d.untyped_storage().data_ptr() == state.untyped_storage().data_ptr():
        return d.clone()
    return d


def _lagrange_weights(nodes: Tensor, tau: Tensor, mass: Tensor, total: Tensor) -> Tensor:
    """``w_j = sum_g mass_g l_j(tau_g)`` for the Lagrange basis on ``nodes``, rescaled to sum to ``total``."""
    out = torch.empty(nodes.shape[0], dtype=torch.float64)
    for j in range(nodes.shape[0]):
        basis = torch.ones_like(tau)
        for m in range(nodes.shape[0]):
            if m != j:
                basis = basis * (tau - nodes[m]) / (nodes[j] - nodes[m])
        out[j] = (mass * basis).sum()
    # The basis sums to one, so the weights sum to the first-order gain up to quadrature rounding.
    return out * (total / out.sum()) if bool(out.sum() != 0) else out


def _combine(
    ws: Workspace,
    name: str,
    x: Tensor,
    ratio: Tensor,
    weights: Tensor,
    history: list[Tensor],
    count: int,
    *,
    inplace_x: bool,
) -> Tensor:
    """``ratio * x + sum_{j < count} weights[j] * history[j]`` (into ``x`` or buffer ``name`` when in place)."""
    if not ws.inplace:
        out = ratio * x
        for j in range(count):
            out = torch.addcmul(out, weights[j], history[j])
        return out
    out = x.mul_(ratio) if inplace_x else ws.scaled(name, x, ratio)
    for j in range(count):
        out.addcmul_(weights[j], history[j])
    return out
