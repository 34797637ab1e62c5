"""SDE samplers: ``dX = [u_t(X) + sigma_t^2 / 2 * score_t(X)] dt + sigma_t dW``, from ``t_min`` to ``t_max``.

For every choice of the noise schedule ``sigma_t`` this SDE has the same marginals ``p_t`` as the
probability-flow ODE ``dx/dt = u_t(x)`` (the Fokker-Planck equation gains
``-div(p sigma^2/2 grad log p) + sigma^2/2 Laplacian p = 0``), so ``sigma_t`` is a free choice: ``0``
gives back the ODE, larger values let the noise correct errors accumulated along the way.

``sigma_t`` schedules (``sigma`` param, scaled by ``sigma_scale = c``):

* ``zero``: ``sigma_t = 0`` (the ODE; no random numbers are drawn);
* ``constant``: ``sigma_t = c``;
* ``beta``: ``sigma_t = c * beta_t`` (noise proportional to the path's noise scale: it fades out at the data end);
* ``diffusion``: ``sigma_t = c * sqrt(2 beta_t^2 lambda'_t)`` with ``lambda_t = log(alpha_t / beta_t)``;
  for a variance-preserving path and ``c = 1`` this is the diffusion coefficient of the noising SDE,
  i.e. the classic reverse-time diffusion sampler.

A subclass may override :meth:`SDESolver.sigma` to plug in any other schedule.

The drift needs the velocity and the score at the same point; both are read from one network
evaluation through the parameterization (so a step of Euler-Maruyama costs one NFE). The score
needs a Gaussian path unless ``sigma`` is ``zero``.

Stability: the schemes are explicit; the score term contracts like ``-sigma_t^2 / (2 v)`` where
``v`` is the smallest variance of ``p_t`` along a direction, so a step ``h`` needs roughly
``h sigma_t^2 / (2 v) < 1``. ``beta`` is the safe choice near the data end of paths that reach
``beta = 0``.

Noise: increments come from a :class:`~flowkit.noise.SampleNoise` when the sampler passes one (stream
``k + 1`` for step ``k``; a sample's path then does not depend on the batch it is in), else from the
``generator``. ``denoise=True`` ends with one extra evaluation that replaces the state by the data
prediction ``E[z | x_{t_max}]``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor

from flowkit.errors import IncompatibleComponentsError
from flowkit.field import ModelField
from flowkit.path import GaussianPath, ProbabilityPath, batch_times, require_gaussian
from flowkit.solver.fixed_step import FixedStepSolver, Grid, Recorder, Workspace
from flowkit.solver.noise import SampleNoise


def gaussian_increment(
    shape: Sequence[int],
    stream: int,
    like: Tensor,
    *,
    generator: torch.Generator | None,
    noise: SampleNoise | None,
) -> Tensor:
    """Standard normals of ``shape`` for SDE step ``stream - 1`` (stream 0 is the prior's).

    From ``noise`` (per-sample, batch-independent) when given, else from ``generator`` (drawn on
    the CPU and moved to ``like``'s device so a seeded CPU generator works for every device).
    """
    if tuple(shape) != tuple(like.shape):
        raise ValueError(
            f"an increment needs the state's whole shape (batch, *event_shape) {tuple(like.shape)}, got {tuple(shape)}"
        )
    if noise is not None:
        return noise.normal(stream, tuple(shape[1:]), dtype=like.dtype, device=like.device)
    draw = torch.randn(tuple(shape), generator=generator, dtype=like.dtype, device="cpu")
    return draw.to(like.device)


@dataclass
class SDESchedule:
    """The noise schedule of one solve on its grid (state's device and dtype).

    Attributes:
        sigma: ``sigma_t`` at the grid points, ``(N + 1,)``.
        half_sigma2: ``sigma_t^2 / 2``, ``(N + 1,)`` (the score's weight in the drift).
        sqrt_dt: ``sqrt(t_{k+1} - t_k)``, ``(N,)``.
        noisy: whether any ``sigma_t > 0`` (else no random numbers are drawn).
    """

    sigma: Tensor
    half_sigma2: Tensor
    sqrt_dt: Tensor
    noisy: bool


SigmaSchedule = Literal["zero", "constant", "beta", "diffusion"]


def sigma_schedule(name: str, path: ProbabilityPath, t: Tensor, scale: float) -> Tensor:
    """``sigma_t`` of the named schedule at float64 times ``t`` (``(N,)`` in, ``(N,)`` out).

    Raises:
        IncompatibleComponentsError: a schedule other than ``zero``/``constant`` on a non-Gaussian path.
        ValueError: an unknown schedule name.
    """
    if name == "zero":
        return torch.zeros_like(t)
    if name == "constant":
        return torch.full_like(t, scale)
    if name == "beta":
        return scale * require_gaussian(path, "the 'beta' noise schedule").beta(t).to(t.dtype)
    if name == "diffusion":
        gp = require_gaussian(path, "the 'diffusion' noise schedule")
        return scale * torch.sqrt((2.0 * gp.beta(t).pow(2) * gp.d_log_snr(t)).clamp(min=0.0)).to(t.dtype)
    raise ValueError(f"unknown sigma schedule {name!r}; expected zero, constant, beta or diffusion")


class SDESolver(FixedStepSolver):
    """Base of the SDE samplers: the noise schedule, the one-evaluation drift, the final denoising."""

    stochastic: ClassVar[bool] = True

    class Params(FixedStepSolver.Params):
        sigma: SigmaSchedule = Field("beta", description="Noise schedule: zero, constant, beta or diffusion.")
        sigma_scale: float = Field(1.0, ge=0.0, description="The factor c of the noise schedule.")
        denoise: bool = Field(False, description="End with one extra evaluation returning E[z | x_t_max].")

    params: Params

    def sigma(self, path: ProbabilityPath, t: Tensor) -> Tensor:
        """``sigma_t`` at float64 times ``t`` (override to plug in another schedule)."""
        return sigma_schedule(self.params.sigma, path, t, self.params.sigma_scale)

    def check_field(self, field: ModelField) -> None:
        """Raise :class:`IncompatibleComponentsError` if the drift needs a score the path cannot give."""
        needs_score = self.params.sigma != "zero" and self.params.sigma_scale > 0
        if (needs_score or self.params.denoise) and not isinstance(field.path, GaussianPath):
            what = "the score" if needs_score else "denoising"
            raise IncompatibleComponentsError(
                f"solver {self.name!r} needs {what}, which needs a Gaussian path; path {field.path.name!r} is not one"
            )

    def drift(self, field: ModelField, x: Tensor, t: Tensor, half_sigma2: Tensor, noisy: bool) -> Tensor:
        """``u_t(x) + sigma_t^2 / 2 * score_t(x)`` from one network evaluation (just ``u`` when not ``noisy``)."""
        if not noisy:
            return field.velocity(x, t)
        tt = batch_times(t, x)
        out = field.output(x, tt)
        to_q = field.parameterization.to_quantity
        velocity = to_q(out, "velocity", x, tt, field.path)
        score = to_q(out, "score", x, tt, field.path)
        return torch.addcmul(velocity, half_sigma2, score)

    def schedule(self, field: ModelField, grid: Grid, like: Tensor) -> SDESchedule:
        """The noise schedule on ``grid``, on the state's device and dtype."""
        sig64 = self.sigma(field.path, grid.times64)
        if not bool(torch.isfinite(sig64).all()) or bool((sig64 < 0).any()):
            raise ValueError(f"the noise schedule of solver {self.name!r} is not finite and non-negative on the grid")
        noisy = bool((sig64 > 0).any())
        sqrt_dt64 = torch.sqrt(grid.times64[1:] - grid.times64[:-1])
        sig = sig64.to(device=like.device, dtype=like.dtype)
        return SDESchedule(sig, 0.5 * sig * sig, sqrt_dt64.to(device=like.device, dtype=like.dtype), noisy)

    def finish(self, field: ModelField, x: Tensor, grid: Grid) -> Tensor:
        """Apply the optional final denoising step (one evaluation) at ``t_max``."""
        if not self.params.denoise:
            return x
        return field.data(x, grid.times[-1])

    @abstractmethod
    def sde_step(
        self, field: ModelField, x: Tensor, k: int, grid: Grid, sde: SDESchedule, xi: Tensor | None, ws: Workspace
    ) -> Tensor:
        """Advance ``x`` (owned by the solver) across grid interval ``k``.

        Args:
            field: the model's field (:meth:`drift` gives the drift from one evaluation).
            x: the state at ``grid.times[k]``.
            k: the interval, from ``grid.times[k]`` to ``grid.times[k + 1]``.
            grid: the solve's grid.
            sde: the noise schedule on the grid (:meth:`schedule`).
            xi: the standard normal increment of this step (``None`` when no noise is used).
            ws: the solve's workspace.

        Returns:
            The state at ``grid.times[k + 1]`` (``x`` itself, updated, when ``ws.inplace``).
        """

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
        """The one loop of every SDE scheme: draw the step's increment, take :meth:`sde_step`, record;
        then the optional final denoising."""
        self.check_field(field)
        sde = self.schedule(field, grid, x)
        for k in range(grid.steps):
            xi = gaussian_increment(x.shape, k + 1, x, generator=generator, noise=noise) if sde.noisy else None
            x = self.sde_step(field, x, k, grid, sde, xi, ws)
            if k + 1 < grid.steps:
                record(k + 1, x)
        x = self.finish(field, x, grid)
        record(grid.steps, x)
        return x
