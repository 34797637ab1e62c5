"""Regression objectives on conditional targets, each independent of the parameterization.

Every objective here draws times ``t`` with the shared samplers of :mod:`flowkit_std.time_samplers`,
builds ``x_t = alpha_t z + beta_t eps`` with the path, reads the network's prediction of the
quantity it regresses through ``field.predict`` (so a network that predicts any quantity trains
with any objective, the path converting between them), and returns

``loss = mean_i  w(t_i) || r_i ||^2 / D``,

the squared residual ``r_i`` averaged over the ``D`` event dimensions (all non-batch dimensions),
weighted, averaged over the batch: the per-dimension mean squared error, as other flow-matching
and diffusion libraries report it, so values and gradient-clip thresholds do not scale with the
size of the data.

* ``flow_matching``: ``r = v_theta - (alpha'_t z + beta'_t eps)``; optimum: the velocity ``u_t(x)``;
* ``score_matching``: ``r = s_theta + eps / beta_t`` (form ``score``) or ``r = beta_t s_theta + eps``
  (form ``ddpm``); optimum: the score ``grad log p_t(x)``;
* ``epsilon_mse``: ``r = eps_theta - eps``; optimum: ``E[eps | x_t = x]``;
* ``data_mse``: ``r = z_theta - z``; optimum: ``E[z | x_t = x]``.

The conditional and marginal versions of each loss differ by a constant independent of the
network (for flow matching this is the theorem in the lecture notes), so minimising the
conditional loss, which needs no marginal, trains the marginal quantity.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor

from flowkit import (
    IncompatibleComponentsError,
    ModelField,
    Objective,
    PathSample,
    Quantity,
    expand_like,
    require_gaussian,
)
from flowkit_std.time_samplers import TimeSamplingParams, sample_times


class RegressionObjective(Objective):
    """Base of the built-in objectives: ``mean_i w(t_i) || residual_i ||^2 / D``.

    The squared residual is averaged over the ``D`` event dimensions, then (weighted) over the
    batch.

    A subclass names the ``quantity`` it regresses (the default :meth:`residual` compares the
    model's prediction of it with its conditional target) and may override :meth:`residual` and
    :meth:`weight`. Time sampling is configured by :class:`TimeSamplingParams`.

    Raises (from :meth:`loss`):
        IncompatibleComponentsError: if the path cannot give the regressed quantity's target.
        ValueError: if ``z`` and ``noise`` differ in shape or the time window is empty.
    """

    quantity: ClassVar[Quantity] = "velocity"

    class Params(TimeSamplingParams):
        pass

    params: Params

    def sample_times(self, n: int, field: ModelField, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """``n`` training times, ``(n,)``, in the window of the params and ``field.time_range``."""
        return sample_times(n, self.params, field.time_range, generator=generator, dtype=like.dtype, device=like.device)

    def residual(self, field: ModelField, draw: PathSample) -> Tensor:
        """The per-sample residual ``r`` at ``draw`` (same shape as ``draw.x``).

        By default the model's prediction of ``quantity`` minus its conditional target.
        """
        return field.predict(self.quantity, draw.x, draw.t) - draw.target(self.quantity)

    def weight(self, field: ModelField, draw: PathSample) -> Tensor | None:
        """The per-sample weight ``w(t)``, ``(B,)``, or ``None`` for 1."""
        return None

    def loss(
        self,
        field: ModelField,
        z: Tensor,
        noise: Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        if self.quantity not in field.path.quantities:
            raise IncompatibleComponentsError(
                f"objective {self.name!r} regresses {self.quantity!r}, but path {field.path.name!r} "
                f"only provides {', '.join(field.path.quantities)}"
            )
        if z.shape != noise.shape:
            raise ValueError(f"z and noise must have the same shape, got {tuple(z.shape)} and {tuple(noise.shape)}")
        t = self.sample_times(z.shape[0], field, z, generator)
        draw = field.path.sample(z, t, noise)
        r = self.residual(field, draw)
        per_sample = r.pow(2).reshape(r.shape[0], -1).mean(dim=1)
        w = self.weight(field, draw)
        if w is not None:
            per_sample = w * per_sample
        return per_sample.mean()


class FlowMatchingObjective(RegressionObjective):
    """Conditional flow matching: ``E_{t, z, eps} || v_theta(x_t, t) - (alpha'_t z + beta'_t eps) ||^2``.

    Its gradient equals that of the (intractable) marginal flow-matching loss, because the two
    losses differ by a constant. The network is read through the parameterization, so a network
    that predicts epsilon, score or data trains with this loss as well.
    """

    name: ClassVar[str] = "flow_matching"
    quantity: ClassVar[Quantity] = "velocity"

    class Params(RegressionObjective.Params):
        pass

    params: Params


class ScoreMatchingObjective(RegressionObjective):
    """Conditional (denoising) score matching on a Gaussian path.

    The conditional score is ``grad log p_t(x_t | z) = -eps / beta_t``. Two forms:

    * ``form="score"``: ``E || s_theta(x_t, t) + eps / beta_t ||^2
      = E (1 / beta_t^2) || beta_t s_theta + eps ||^2``, the plain conditional score-matching loss;
      its weight ``1 / beta_t^2`` grows without bound toward the data end, so pair it with a
      ``t_max`` window (or ``sigma_min > 0``) for stable training;
    * ``form="ddpm"``: ``E || beta_t s_theta(x_t, t) + eps ||^2``, the same loss with the weight
      ``1 / beta_t^2`` dropped (the DDPM simplification; the noise-prediction loss written in score
      form). Both are minimised by the marginal score.

    Raises (from :meth:`loss`): :class:`IncompatibleComponentsError` on a non-Gaussian path.
    """

    name: ClassVar[str] = "score_matching"
    quantity: ClassVar[Quantity] = "score"

    class Params(RegressionObjective.Params):
        form: Literal["score", "ddpm"] = Field(
            "ddpm", description="'score': the 1/beta_t^2-weighted loss; 'ddpm': the weight dropped."
        )

    params: Params

    def residual(self, field: ModelField, draw: PathSample) -> Tensor:
        path = require_gaussian(field.path, f"objective {self.name!r}")
        score = field.predict("score", draw.x, draw.t)
        beta = expand_like(path.beta(draw.t), draw.x)
        if self.params.form == "ddpm":
            return beta * score + draw.target("epsilon")
        return score + draw.target("epsilon") / beta


class EpsilonObjective(RegressionObjective):
    """Noise prediction: ``E || eps_theta(x_t, t) - eps ||^2`` (minimised by ``E[eps | x_t]``)."""

    name: ClassVar[str] = "epsilon_mse"
    quantity: ClassVar[Quantity] = "epsilon"

    class Params(RegressionObjective.Params):
        pass

    params: Params


class DataObjective(RegressionObjective):
    """Data prediction: ``E || z_theta(x_t, t) - z ||^2`` (minimised by ``E[z | x_t]``)."""

    name: ClassVar[str] = "data_mse"
    quantity: ClassVar[Quantity] = "data"

    class Params(RegressionObjective.Params):
        pass

    params: Params
