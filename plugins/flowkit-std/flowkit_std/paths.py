"""The built-in Gaussian probability paths (``t = 0`` noise, ``t = 1`` data).

Every path here is a :class:`~flowkit.path.GaussianPath`, ``x_t = alpha_t z + beta_t eps``: it
only defines the schedule ``alpha_t, beta_t`` and their time derivatives, its safe
``time_range``, and a closed-form inverse of the log signal-to-noise ratio (used to re-time a
trained model onto another path, see :mod:`flowkit_std.retime`). The prior, the conditional
targets and every conversion between velocity, score, epsilon and data come from the base class.

Diffusion papers usually run "diffusion time" ``s`` from data (``s = 0``) to noise (``s = 1``);
the variance-preserving and variance-exploding paths below are those schedules with ``s = 1 - t``.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import ClassVar, Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor

from flowkit import GaussianPath


class _EndpointMargin(GaussianPath.Params):
    t_eps: float = Field(1e-5, ge=0.0, lt=0.5, description="Margin kept from the singular endpoints.")


def _beta_derivative(alpha: Tensor, d_alpha: Tensor, beta: Tensor) -> Tensor:
    """``d beta / dt`` for a variance-preserving schedule ``beta = sqrt(1 - alpha^2)``: ``-alpha alpha' / beta``."""
    return -alpha * d_alpha / beta


class _EndsAtSigmaMin(GaussianPath):
    """Base of the paths with ``beta_t = 1 - (1 - sigma_min) alpha_t`` and ``alpha`` rising from 0 to 1.

    A subclass gives ``alpha``, ``d_alpha`` and the inverse of ``alpha``; ``beta``, ``d_beta``, the
    safe time range and the closed-form inverse of the log-SNR follow: ``alpha_t / beta_t = e^lambda``
    gives ``alpha_t = 1 / (e^-lambda + 1 - sigma_min)``.
    """

    class Params(_EndpointMargin):
        sigma_min: float = Field(0.0, ge=0.0, lt=1.0, description="Noise scale left at t = 1.")

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        eps = self.params.t_eps
        return (eps, 1.0 if self.params.sigma_min > 0 else 1.0 - eps)

    def beta(self, t: Tensor) -> Tensor:
        return 1.0 - (1.0 - self.params.sigma_min) * self.alpha(t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -(1.0 - self.params.sigma_min) * self.d_alpha(t)

    @abstractmethod
    def alpha_inverse(self, alpha: Tensor) -> Tensor:
        """The time ``t`` with ``alpha_t = alpha``."""

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Closed form: ``alpha_t = 1 / (e^-lambda + 1 - sigma_min)``, then :meth:`alpha_inverse`."""
        return self.clamp_time(self.alpha_inverse(1.0 / (torch.exp(-log_snr) + (1.0 - self.params.sigma_min))))


class CondOTPath(_EndsAtSigmaMin):
    """Conditional optimal-transport path: ``x_t = t z + (1 - (1 - sigma_min) t) eps``.

    ``alpha_t = t``, ``beta_t = 1 - (1 - sigma_min) t``, so ``d_alpha = 1`` and
    ``d_beta = -(1 - sigma_min)``; the conditional velocity is ``z - (1 - sigma_min) eps``.
    The prior is ``N(0, I)``. With ``sigma_min = 0`` the path ends exactly at the data and the
    score (which divides by ``beta_t``) is singular at ``t = 1``, so the safe time range stops at
    ``1 - t_eps``; with ``sigma_min > 0`` every conversion is finite up to ``t = 1``. Conversions
    from epsilon or score to data or velocity divide by ``alpha_t = t``, so the range starts at
    ``t_eps`` as well.
    """

    name: ClassVar[str] = "condot"

    def alpha(self, t: Tensor) -> Tensor:
        return t

    def d_alpha(self, t: Tensor) -> Tensor:
        return torch.ones_like(t)

    def alpha_inverse(self, alpha: Tensor) -> Tensor:
        return alpha


class PolynomialPath(_EndsAtSigmaMin):
    """Polynomial path: ``alpha_t = t^n``, ``beta_t = 1 - (1 - sigma_min) t^n`` (``n > 0``).

    ``n = 1`` is :class:`CondOTPath`; ``n > 1`` spends longer near the noise, ``n < 1`` near the
    data. Derivatives: ``d_alpha = n t^(n - 1)``, ``d_beta = -(1 - sigma_min) n t^(n - 1)``. The prior
    is ``N(0, I)``. The safe range is ``[t_eps, 1 - t_eps]`` (``[t_eps, 1]`` when ``sigma_min > 0``):
    ``alpha_0 = 0`` makes conversions from score or epsilon singular at ``t = 0`` (and ``d_alpha``
    is infinite there when ``n < 1``), ``beta_1 = 0`` makes the score singular at ``t = 1``.
    """

    name: ClassVar[str] = "polynomial"

    class Params(_EndsAtSigmaMin.Params):
        exponent: float = Field(2.0, gt=0.0, le=10.0, description="The power n in alpha_t = t^n.")

    params: Params

    def alpha(self, t: Tensor) -> Tensor:
        return t.pow(self.params.exponent)

    def d_alpha(self, t: Tensor) -> Tensor:
        n = self.params.exponent
        return n * t.pow(n - 1.0)

    def alpha_inverse(self, alpha: Tensor) -> Tensor:
        return alpha.pow(1.0 / self.params.exponent)


class VPPath(GaussianPath):
    """Variance-preserving path (``alpha_t^2 + beta_t^2 = 1``) with a linear-beta or cosine schedule.

    With ``s = 1 - t`` (diffusion time):

    * ``schedule="linear"`` (the continuous DDPM / VP-SDE schedule): the noise rate
      ``b(s) = beta_min + (beta_max - beta_min) s`` integrates to
      ``B(s) = beta_min s + (beta_max - beta_min) s^2 / 2``, and ``alpha_t = exp(-B(s) / 2)``,
      ``beta_t = sqrt(1 - exp(-B(s)))``, ``d_alpha = b(s) alpha_t / 2``.
    * ``schedule="cosine"`` (improved DDPM) with offset ``c``: ``phi = (pi/2)(s + c)/(1 + c)``,
      ``phi_0 = (pi/2) c/(1 + c)``, ``alpha_t = cos(phi) / cos(phi_0)``,
      ``beta_t = sqrt(sin(phi + phi_0) sin(phi - phi_0)) / cos(phi_0)`` (the same as
      ``sqrt(1 - alpha_t^2)``, written without cancellation near the data), and
      ``d_alpha = (pi/2) sin(phi) / ((1 + c) cos(phi_0))``. With ``c = 0`` this is the
      trigonometric interpolant ``alpha_t = sin(pi t / 2)``, ``beta_t = cos(pi t / 2)``.

    In both, ``d_beta = -alpha_t d_alpha / beta_t``. The prior is ``N(0, beta_0^2 I)``; for the
    linear schedule ``alpha_0 = exp(-(beta_min + beta_max)/4)`` is small but not zero (about 0.0066
    with the defaults), so the prior matches the path's ``t = 0`` marginal only approximately, as
    in every VP diffusion. ``beta_1 = 0``, so the score and ``d_beta`` are singular at ``t = 1`` and
    the safe range stops at ``1 - t_eps``; the cosine schedule has ``alpha_0 = 0``, so its range
    also starts at ``t_eps``.
    """

    name: ClassVar[str] = "vp"

    class Params(_EndpointMargin):
        schedule: Literal["linear", "cosine"] = Field("linear", description="Noise schedule.")
        beta_min: float = Field(0.1, gt=0.0, description="Noise rate at the data end (linear schedule).")
        beta_max: float = Field(20.0, gt=0.0, description="Noise rate at the noise end (linear schedule).")
        cosine_offset: float = Field(0.008, ge=0.0, le=1.0, description="Offset c of the cosine schedule.")

        @model_validator(mode="after")
        def _check_rates(self) -> VPPath.Params:
            if self.beta_max < self.beta_min:
                raise ValueError(f"beta_max ({self.beta_max}) must be at least beta_min ({self.beta_min})")
            return self

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        eps = self.params.t_eps
        return (eps if self.params.schedule == "cosine" else 0.0, 1.0 - eps)

    # linear schedule helpers (s = 1 - t)
    def _integrated_rate(self, t: Tensor) -> Tensor:
        s = 1.0 - t
        p = self.params
        return p.beta_min * s + 0.5 * (p.beta_max - p.beta_min) * s * s

    def _rate(self, t: Tensor) -> Tensor:
        p = self.params
        return p.beta_min + (p.beta_max - p.beta_min) * (1.0 - t)

    # cosine schedule helpers
    def _phases(self, t: Tensor) -> tuple[Tensor, float]:
        c = self.params.cosine_offset
        phi = (0.5 * math.pi) * (1.0 - t + c) / (1.0 + c)
        return phi, 0.5 * math.pi * c / (1.0 + c)

    def alpha(self, t: Tensor) -> Tensor:
        if self.params.schedule == "linear":
            return torch.exp(-0.5 * self._integrated_rate(t))
        phi, phi0 = self._phases(t)
        return torch.cos(phi) / math.cos(phi0)

    def beta(self, t: Tensor) -> Tensor:
        if self.params.schedule == "linear":
            return torch.sqrt(-torch.expm1(-self._integrated_rate(t)))
        phi, phi0 = self._phases(t)
        return torch.sqrt(torch.sin(phi + phi0) * torch.sin(phi - phi0)) / math.cos(phi0)

    def d_alpha(self, t: Tensor) -> Tensor:
        if self.params.schedule == "linear":
            return 0.5 * self._rate(t) * self.alpha(t)
        phi, phi0 = self._phases(t)
        c = self.params.cosine_offset
        return (0.5 * math.pi / (1.0 + c)) * torch.sin(phi) / math.cos(phi0)

    def d_beta(self, t: Tensor) -> Tensor:
        return _beta_derivative(self.alpha(t), self.d_alpha(t), self.beta(t))

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Closed form. ``alpha^2 = sigmoid(2 lambda)`` on a VP path; then

        * linear: ``B(s) = softplus(-2 lambda)``, and the root of the quadratic ``B(s) = B`` written
          without cancellation, ``s = 2B / (beta_min + sqrt(beta_min^2 + 2 (beta_max - beta_min) B))``;
        * cosine: ``cos(phi) = cos(phi_0) alpha``, solved with ``atan2`` for accuracy at both ends.
        """
        p = self.params
        if p.schedule == "linear":
            big_b = torch.nn.functional.softplus(-2.0 * log_snr)
            s = 2.0 * big_b / (p.beta_min + torch.sqrt(p.beta_min**2 + 2.0 * (p.beta_max - p.beta_min) * big_b))
            return self.clamp_time(1.0 - s)
        _, phi0 = self._phases(torch.zeros(()))
        c0 = math.cos(phi0)
        a = torch.sqrt(torch.sigmoid(2.0 * log_snr))
        sin_phi = torch.sqrt(math.sin(phi0) ** 2 + c0**2 * torch.sigmoid(-2.0 * log_snr))
        phi = torch.atan2(sin_phi, c0 * a)
        c = p.cosine_offset
        return self.clamp_time(1.0 + c - phi * (1.0 + c) / (0.5 * math.pi))


class VEPath(GaussianPath):
    """Variance-exploding path with a geometric noise scale: ``x_t = z + sigma(t) eps``.

    ``alpha_t = 1``, ``beta_t = sigma_min (sigma_max / sigma_min)^(1 - t)`` (so ``beta_0 = sigma_max``
    and ``beta_1 = sigma_min``), ``d_alpha = 0``, ``d_beta = -log(sigma_max / sigma_min) beta_t``.
    The prior is ``N(0, sigma_max^2 I)``; it matches the ``t = 0`` marginal (the data blurred by
    ``sigma_max``) only when ``sigma_max`` is large against the data's spread, so choose it about
    the largest distance between data points. Every coefficient and conversion is finite on all
    of ``[0, 1]``.
    """

    name: ClassVar[str] = "ve"

    class Params(GaussianPath.Params):
        sigma_min: float = Field(0.01, gt=0.0, description="Noise scale at the data end (t = 1).")
        sigma_max: float = Field(10.0, gt=0.0, description="Noise scale at the prior end (t = 0).")

        @model_validator(mode="after")
        def _check_scales(self) -> VEPath.Params:
            if self.sigma_max <= self.sigma_min:
                raise ValueError(f"sigma_max ({self.sigma_max}) must exceed sigma_min ({self.sigma_min})")
            return self

    params: Params

    @property
    def _log_ratio(self) -> float:
        return math.log(self.params.sigma_max / self.params.sigma_min)

    def alpha(self, t: Tensor) -> Tensor:
        return torch.ones_like(t)

    def beta(self, t: Tensor) -> Tensor:
        return self.params.sigma_min * torch.exp(self._log_ratio * (1.0 - t))

    def d_alpha(self, t: Tensor) -> Tensor:
        return torch.zeros_like(t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -self._log_ratio * self.beta(t)

    def log_snr(self, t: Tensor) -> Tensor:
        return -math.log(self.params.sigma_min) - self._log_ratio * (1.0 - t)

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Closed form: ``lambda = -log(sigma_min) - (1 - t) log(sigma_max / sigma_min)``."""
        t = 1.0 - (-log_snr - math.log(self.params.sigma_min)) / self._log_ratio
        return self.clamp_time(t)
