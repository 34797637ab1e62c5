"""Swap the schedule of a trained model: serve a field trained on path A on another Gaussian path B.

Two Gaussian paths with the same signal-to-noise range describe the same family of noisy
versions of the data, only reached at different times and overall scales. If
``x_B = alpha_B(r) z + beta_B(r) eps`` and ``t`` is the A-time with the same log-SNR,
``lambda_A(t) = lambda_B(r)``, then ``x_A = s x_B`` with

``s = alpha_A(t) / alpha_B(r) = beta_A(t) / beta_B(r) = (alpha_A(t) + beta_A(t)) / (alpha_B(r) + beta_B(r))``

(the last form is finite at both ends) is a draw of path A at time ``t`` built from the *same*
``(z, eps)``. So every marginal quantity on B follows from the one on A:

* data and epsilon are unchanged: ``D_B(x, r) = D_A(s x, t)``, ``E_B(x, r) = E_A(s x, t)``;
* the score picks up the scale: ``S_B(x, r) = s S_A(s x, t)``;
* the velocity follows from ``x_B(r) = x_A(t(r)) / s(r)``:
  ``u_B(x, r) = (t'(r) / s) u_A(s x, t) - (d log s / dr) x``, with
  ``t'(r) = s^2 (alpha_B' beta_B - beta_B' alpha_B) / (alpha_A' beta_A - beta_A' alpha_A)`` and
  ``d log s / dr = t'(r) (alpha_A' + beta_A') / (alpha_A + beta_A) - (alpha_B' + beta_B') / (alpha_B + beta_B)``.

The retimed model keeps the quantity the original predicts, so no extra (possibly ill-conditioned)
conversion is introduced; the returned :class:`flowkit.Field` then converts on path B as usual.
"""

from __future__ import annotations

import torch
from torch import Tensor

from flowkit import GaussianPath, ModelField, Quantity, batch_times, expand_like, require_gaussian
from flowkit_std.parameterizations import parameterization_for


def log_snr_range(path: GaussianPath) -> tuple[float, float]:
    """``(lambda(t_min), lambda(t_max))`` of ``path`` over its ``time_range``, in float64."""
    t = torch.tensor(path.time_range, dtype=torch.float64)
    lam = path.log_snr(t)
    return float(lam[0]), float(lam[1])


class RetimedNetwork:
    """A network ``(x, r) -> prediction`` on path ``target`` computed from a field on another path.

    Callable as ``network(x, r)`` with ``x`` ``(B, *event_shape)`` and ``r`` ``(B,)`` times of the
    target path; returns the prediction of ``quantity`` (the source's own predicted quantity) on
    the target path, per the module docstring. Times outside the target's ``time_range`` are
    clamped into it (like the path's own conversions), and log-SNR values outside the source's
    range are clamped to that range (the source is then used at its nearest safe time, and the
    answer is no longer exact).
    """

    def __init__(self, source: ModelField, target: GaussianPath) -> None:
        self.source = source
        self.source_path = require_gaussian(source.path, "re-timing")
        self.target = target
        self.quantity: Quantity = source.parameterization.predicts

    def __call__(self, x: Tensor, r: Tensor) -> Tensor:
        rr = self.target.clamp_time(batch_times(r, x))
        a_src, b_src = self.source_path, self.target
        t = a_src.time_at_log_snr(b_src.log_snr(rr))
        sum_a = a_src.alpha(t) + a_src.beta(t)
        sum_b = b_src.alpha(rr) + b_src.beta(rr)
        s = sum_a / sum_b
        x_src = expand_like(s, x) * x
        pred = self.source.predict(self.quantity, x_src, t)
        if self.quantity in ("data", "epsilon"):
            return pred
        if self.quantity == "score":
            return expand_like(s, x) * pred
        dt_dr = s.pow(2) * b_src.determinant("velocity", rr) / a_src.determinant("velocity", t)
        dlog_s = dt_dr * (a_src.d_alpha(t) + a_src.d_beta(t)) / sum_a - (b_src.d_alpha(rr) + b_src.d_beta(rr)) / sum_b
        return expand_like(dt_dr / s, x) * pred - expand_like(dlog_s, x) * x


def retime(field: ModelField, path: GaussianPath, *, strict: bool = True, tolerance: float = 1e-6) -> ModelField:
    """Serve ``field`` (a model on a Gaussian path A) as a model on the Gaussian path ``path`` (B).

    Args:
        field: the trained field; its path must be Gaussian with an increasing log-SNR.
        path: the new path B.
        strict: if true, B's log-SNR range over its ``time_range`` must lie inside A's (up to
            ``tolerance``); if false, values outside are clamped (see :class:`RetimedNetwork`).
        tolerance: slack allowed on the log-SNR range check.

    Returns:
        A :class:`flowkit.Field` on ``path`` whose network is a :class:`RetimedNetwork`, with the
        built-in parameterization of the quantity ``field`` predicts. It answers velocity, score,
        epsilon and data; its ``nfe`` counts its own calls (each costs one evaluation of ``field``).

    Raises:
        IncompatibleComponentsError: if either path is not Gaussian.
        ValueError: if ``strict`` and the log-SNR ranges do not fit.
    """
    source = require_gaussian(field.path, "re-timing")
    target = require_gaussian(path, "re-timing")
    lo_a, hi_a = log_snr_range(source)
    lo_b, hi_b = log_snr_range(target)
    if strict and (lo_b < lo_a - tolerance or hi_b > hi_a + tolerance):
        raise ValueError(
            f"path {target.name!r} spans log-SNR [{lo_b:.6g}, {hi_b:.6g}], beyond the range "
            f"[{lo_a:.6g}, {hi_a:.6g}] that path {source.name!r} was trained on; pass strict=False to clamp"
        )
    return ModelField(RetimedNetwork(field, target), parameterization_for(field.parameterization.predicts), target)
