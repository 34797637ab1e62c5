"""An exponential-integrator multistep solver for Gaussian paths, in data-prediction form.

**Derivation in flowkit's convention** (``t = 0`` noise, ``t = 1`` data, ``x_t = alpha_t z + beta_t eps``).
Write ``D(x, t) = E[z | x_t = x]`` for the data prediction and ``lambda_t = log(alpha_t / beta_t)``.
The marginal velocity is ``u = alpha' D + beta' E[eps | x]`` with ``E[eps | x] = (x - alpha D) / beta``, so
the probability-flow ODE is ``dx/dt = (beta'/beta) x + alpha lambda' D``. Its linear part is solved
exactly with the integrating factor ``1 / beta``; from ``t_{k}`` to ``t_{k+1}``, with
``h_k = lambda_{k+1} - lambda_k > 0``,

``x_{k+1} = (beta_{k+1} / beta_k) x_k + alpha_{k+1} * integral_0^h_k e^(s - h_k) D(lambda_k + s) ds``.

Only the data prediction is approximated, as a function of ``lambda``:

* order 1 (deterministic DDIM; Euler on the CondOT path):
  ``x_{k+1} = (beta_{k+1} / beta_k) x_k + alpha_{k+1} (1 - e^(-h_k)) D_k``;
* order 2 (DPM-Solver++(2M)): ``D_k`` is replaced by ``(1 + 1/(2 r_k)) D_k - 1/(2 r_k) D_{k-1}``
  with ``r_k = h_{k-1} / h_k``;
* order 3: the three-prediction UniPC predictor (``B(h) = e^h - 1``); it converges with order 3
  on a log-SNR grid and is best used there.

``corrector=True`` adds UniPC's corrector (UniC, ``bh2``): the prediction ``D_{k+1}`` at the
predicted state, which the next step needs anyway, is combined with ``D_k, D_{k-1}, ...`` (one order
higher; with order 1 it is the trapezoidal rule ``(D_k + D_{k+1}) / 2``) and the step is redone
from ``x_k`` at no extra evaluation. The last step is not corrected. Every variant costs exactly one
network evaluation per step.

The first step is of order 1 and the order is lowered on the last steps (``min(order, steps - k)``
at step ``k``, as DPM-Solver++ does): the last ``lambda``-steps of paths that nearly reach the data
(``beta -> 0``, e.g. CondOT) are long, and extrapolating ``D`` across them diverges. Steps whose
``h`` is not finite (``alpha = 0`` or ``beta = 0`` on the grid) use order 1, whose coefficients stay
finite (``alpha_{k+1} (1 - e^(-h)) -> alpha_{k+1}``). All coefficients are computed once per solve
in float64 on the host.

Everything is written against :class:`~flowkit.path.GaussianPath` (``alpha``, ``beta``) and
:meth:`flowkit.Field.data`, so the solver works for every Gaussian path (CondOT, VP, VE, ...) and
every parameterization.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from flowkit import FixedStepSolver, Grid, ModelField, Recorder, SampleNoise, Workspace, require_gaussian


class ExponentialSolver(FixedStepSolver):
    """Exponential-integrator multistep solver (data prediction, orders 1-3, optional corrector) for Gaussian paths.

    With ``h_k = lambda_{k+1} - lambda_k``: ``x_{k+1} = (beta_{k+1} / beta_k) x_k + alpha_{k+1}
    (1 - e^(-h_k)) D_hat``, where ``D_hat = D_k`` (order 1, DDIM) or the DPM-Solver++(2M) combination
    ``(1 + 1/(2 r_k)) D_k - 1/(2 r_k) D_{k-1}``, ``r_k = h_{k-1} / h_k`` (order 2; order 3 uses
    UniPC's three-prediction predictor). The first step is of order 1 and the order drops to
    ``steps - k`` on the last steps. ``corrector`` redoes each step (but the last) with UniPC's
    corrector through the next prediction, at no extra evaluation. One evaluation per step. The grid
    is uniform in time by default (measured best across CondOT and VP at ~10 steps); ``logsnr``
    suits variance-preserving paths with narrow data.

    Raises:
        IncompatibleComponentsError: the field's path is not Gaussian.
    """

    name: ClassVar[str] = "exponential"

    class Params(FixedStepSolver.Params):
        steps: int = Field(10, gt=0, description="Number of grid intervals (one network evaluation each).")
        order: Literal[1, 2, 3] = Field(
            2, description="Data predictions combined per step (1 is DDIM, 2 is DPM-Solver++(2M))."
        )
        corrector: bool = Field(True, description="Correct each step with the next prediction (no extra NFE).")

    params: Params

    def plan(self, field: ModelField, times64: Tensor) -> tuple[Tensor, Tensor, Tensor, list[int], list[int]]:
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
        lam = path.log_snr(t).to(torch.float64)
        h = lam[1:] - lam[:-1]
        # alpha_{k+1} (1 - e^(-h_k)), written so it stays exact where alpha_k = 0 or beta_{k+1} = 0.
        gain = alpha[1:] - alpha[:-1] * ratio
        finite = [bool(torch.isfinite(h[k]) and h[k] > 0) for k in range(n)]
        w_pred = torch.zeros(n, 4, dtype=torch.float64)
        w_corr = torch.zeros(n, 4, dtype=torch.float64)
        w_pred[:, 0] = gain
        q_pred, q_corr = [1] * n, [0] * n
        order, correct = self.params.order, self.params.corrector
        for k in range(n):
            if not finite[k]:
                continue  # first order: its coefficients stay finite
            q = min(order, k + 1, n - k)  # lower order at the start and on the last steps
            while q > 1 and not all(finite[k - j] for j in range(1, q)):
                q -= 1
            hk = float(h[k])
            rks = [float(lam[k - j] - lam[k]) / hk for j in range(1, q)]  # negative: past lambdas
            w_pred[k, :q] = float(gain[k]) * torch.as_tensor(
                _unipc_weights(rks, hk, corrector=False), dtype=torch.float64
            )
            q_pred[k] = q
            if correct and k + 1 < n:
                w_corr[k, : q + 1] = float(gain[k]) * torch.as_tensor(
                    _unipc_weights(rks, hk, corrector=True), dtype=torch.float64
                )
                q_corr[k] = q + 1
        return ratio, w_pred, w_corr, q_pred, q_corr

    def march(
        self,
        field: ModelField,
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


def _unipc_weights(rks: list[float], h: float, *, corrector: bool) -> list[float]:
    """Weights (summing to one) of the data predictions in one step, relative to the first-order gain.

    ``rks[i - 1] = (lambda_{k-i} - lambda_k) / h`` for the past predictions ``D_{k-i}`` (``i >= 1``).
    The predictor returns weights of ``[D_k, D_{k-1}, ...]``; the corrector those of
    ``[D_{k+1}, D_k, D_{k-1}, ...]``. The order conditions are UniPC's with ``B(h) = e^h - 1``
    (``bh2``), in data-prediction form; with one past prediction the predictor is DPM-Solver++(2M).
    """
    p = len(rks) + 1  # number of predictions the predictor uses
    hh = -h
    phi1 = math.expm1(hh)
    b_h = phi1
    phi_k = phi1 / hh - 1.0
    factorial = 1.0
    nodes = [*rks, 1.0]
    rows: list[list[float]] = []
    rhs: list[float] = []
    for i in range(1, p + 1):
        rows.append([r ** (i - 1) for r in nodes])
        rhs.append(phi_k * factorial / b_h)
        factorial *= i + 1
        phi_k = phi_k / hh - 1.0 / factorial
    if corrector:
        rhos = [0.5] if p == 1 else np.linalg.solve(np.array(rows), np.array(rhs)).tolist()
        past = [rhos[i] / rks[i] for i in range(p - 1)]
        return [rhos[-1], 1.0 - sum(past) - rhos[-1], *past]
    if p == 1:
        return [1.0]
    rhos = [0.5] if p == 2 else np.linalg.solve(np.array(rows)[:-1, :-1], np.array(rhs)[:-1]).tolist()
    past = [rhos[i] / rks[i] for i in range(p - 1)]
    return [1.0 - sum(past), *past]


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
