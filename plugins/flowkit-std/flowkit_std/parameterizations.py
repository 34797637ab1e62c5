"""The four parameterizations: the network predicts velocity, score, epsilon or data.

Each one only names its quantity; reading any other quantity from it goes through the path's
single conversion rule (:meth:`flowkit.path.GaussianPath.convert`), so each converts to all the
others on every Gaussian path:

* from velocity ``v`` (with ``alpha, beta`` and their derivatives ``alpha', beta'`` at ``t``),
  ``det = alpha beta' - beta alpha'``: data ``= (beta' x - beta v) / det``, epsilon
  ``= (alpha v - alpha' x) / det``, score ``= -epsilon / beta``;
* from score ``s``: epsilon ``= -beta s``, data ``= (x + beta^2 s) / alpha``;
* from epsilon ``e``: data ``= (x - beta e) / alpha``, velocity ``= alpha' data + beta' e``;
* from data ``d``: epsilon ``= (x - alpha d) / beta``, velocity ``= alpha' d + beta' epsilon``.

**Preconditioning.** Every conversion is exact, but some amplify a network's error: reading
data or velocity from an epsilon or score prediction divides by ``alpha_t`` (zero at the noise end
of CondOT, cosine-VP and polynomial paths), and reading epsilon, score or velocity from a data
prediction divides by ``beta_t`` (zero at the data end). With ``preconditioning="gaussian"`` the
network output ``F`` is instead a normalised residual around the answer for Gaussian data
``z ~ N(0, sigma_d^2 I)``:

``q = m_q(t) x + s_q(t) F``, with ``v = alpha^2 sigma_d^2 + beta^2``,
``m_q = (a_q alpha sigma_d^2 + b_q beta) / v`` and ``s_q = sigma_d |a_q beta - b_q alpha| / sqrt(v)``,

where ``q = a_q z + b_q eps`` (see :meth:`flowkit.path.GaussianPath.coefficients`): ``m_q x`` is
``E[q | x_t = x]`` and ``s_q`` the posterior standard deviation of ``q`` under that Gaussian model.
Any other quantity ``q'`` is read as ``m_q' x + c_q s_q F`` (``c_q`` the conversion's gain), so an
error in ``F`` reaches every quantity scaled by a bounded factor, at both ends of the path (the
idea behind EDM's preconditioning, applied to every quantity). ``sigma_d`` is ``data_std``.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field
from torch import Tensor

from flowkit import (
    GaussianPath,
    Parameterization,
    ProbabilityPath,
    Quantity,
    check_quantity,
    expand_like,
    require_gaussian,
)


def gaussian_posterior(path: GaussianPath, quantity: Quantity, t: Tensor, data_std: float) -> tuple[Tensor, Tensor]:
    """``(m_q, s_q)``: posterior mean coefficient and standard deviation of ``quantity`` given ``x_t``
    when the data is ``N(0, data_std^2 I)`` (formulas in the module docstring); each ``(B,)``.

    Times are clamped into the path's ``time_range`` first, so both are finite.
    """
    tt = path.clamp_time(t)
    a_q, b_q = path.coefficients(quantity, tt)
    alpha, beta = path.alpha(tt), path.beta(tt)
    var = data_std**2
    v = alpha * alpha * var + beta * beta
    mean = (a_q * alpha * var + b_q * beta) / v
    std = math.sqrt(var) * path.determinant(quantity, tt).abs() / v.sqrt()
    return mean, std


class StdParameterization(Parameterization):
    """Base of the four built-in parameterizations: the quantity plus optional preconditioning.

    With ``preconditioning="none"`` (the default) the network output is the prediction itself.
    With ``"gaussian"`` it is the normalised residual ``F`` of the module docstring; that needs the
    path, so :meth:`to_quantity` does the whole mapping and :meth:`prediction` (which has no path)
    is the identity only in the ``"none"`` case.

    Raises (from :meth:`to_quantity`):
        IncompatibleComponentsError: preconditioning or a conversion on a non-Gaussian path.
    """

    class Params(Parameterization.Params):
        preconditioning: Literal["none", "gaussian"] = Field(
            "none", description="'gaussian': the output is a residual around the Gaussian-data answer."
        )
        data_std: float = Field(1.0, gt=0.0, description="Data standard deviation assumed by the preconditioning.")

    params: Params

    def to_quantity(self, output: Tensor, quantity: Quantity, x: Tensor, t: Tensor, path: ProbabilityPath) -> Tensor:
        if self.params.preconditioning == "none":
            return super().to_quantity(output, quantity, x, t, path)
        target = check_quantity(quantity)
        gpath = require_gaussian(path, f"parameterization {self.name!r} with gaussian preconditioning")
        sigma = self.params.data_std
        _, scale = gaussian_posterior(gpath, self.predicts, t, sigma)
        mean, _ = gaussian_posterior(gpath, target, t, sigma)
        if target != self.predicts:
            _, gain = gpath.conversion_coefficients(self.predicts, target, t)
            scale = gain * scale
        return expand_like(mean, x) * x + expand_like(scale, x) * output


class VelocityParameterization(StdParameterization):
    """The network predicts the marginal velocity ``u_t(x)`` (flow matching)."""

    name: ClassVar[str] = "velocity"
    predicts: ClassVar[Quantity] = "velocity"


class ScoreParameterization(StdParameterization):
    """The network predicts the score ``grad_x log p_t(x)``."""

    name: ClassVar[str] = "score"
    predicts: ClassVar[Quantity] = "score"


class EpsilonParameterization(StdParameterization):
    """The network predicts the noise ``E[eps | x_t = x]`` (DDPM)."""

    name: ClassVar[str] = "epsilon"
    predicts: ClassVar[Quantity] = "epsilon"


class DataParameterization(StdParameterization):
    """The network predicts the clean data ``E[z | x_t = x]`` (x0-prediction)."""

    name: ClassVar[str] = "data"
    predicts: ClassVar[Quantity] = "data"


PARAMETERIZATION_FOR: dict[str, type[Parameterization]] = {
    "velocity": VelocityParameterization,
    "score": ScoreParameterization,
    "epsilon": EpsilonParameterization,
    "data": DataParameterization,
}
"""The built-in parameterization that predicts each quantity."""


def parameterization_for(quantity: str) -> Parameterization:
    """A new instance of the built-in parameterization predicting ``quantity``.

    Raises:
        ValueError: for an unknown quantity.
    """
    return PARAMETERIZATION_FOR[check_quantity(quantity)]()
