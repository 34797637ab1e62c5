"""Gaussian probability paths ``x_t = alpha_t z + beta_t eps`` and the one place where every
conversion between velocity, score, epsilon and data prediction is written."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.errors import IncompatibleComponentsError
from flowkit.path.base import (
    QUANTITIES,
    PathSample,
    ProbabilityPath,
    Quantity,
    batch_times,
    check_quantity,
    expand_like,
)


class GaussianPath(ProbabilityPath):
    """A Gaussian conditional path ``p_t(x | z) = N(alpha_t z, beta_t^2 I)``, i.e.
    ``x_t = alpha_t z + beta_t eps`` with ``eps ~ N(0, I)``.

    A subclass defines the schedule: ``alpha(t)``, ``beta(t)`` and their time derivatives
    ``d_alpha(t)``, ``d_beta(t)`` (each maps a ``(B,)`` tensor to a ``(B,)`` tensor). Everything else
    (prior, conditional targets, and every conversion between velocity, score, epsilon and data
    prediction) is implemented here, once.

    The prior is ``N(0, beta_0^2 I)`` (``alpha_0`` must be 0, or negligible, for this to be exact).

    **The conversion rule.** Each quantity is linear in ``(z, eps)`` given ``t``:

    ==========  ==================================
    quantity    coefficients ``(a_q, b_q)``
    ==========  ==================================
    data        ``(1, 0)``
    epsilon     ``(0, 1)``
    velocity    ``(d_alpha, d_beta)``
    score       ``(0, -1 / beta)``
    ==========  ==================================

    Given ``x = alpha z + beta eps`` and a known ``q = a z + b eps``, solving the 2x2 system gives
    any other quantity ``q' = a' z + b' eps`` as ``q' = c_x x + c_q q`` with

    ``det = alpha b - beta a``, ``c_x = (a' b - b' a) / det``, ``c_q = (b' alpha - a' beta) / det``.

    The same rule holds for the marginal quantities (they are the conditional ones averaged over
    the posterior of ``(z, eps)`` given ``x_t``, and the rule is linear), which is Proposition 1 of
    the lecture notes for velocity and score. ``det`` is non-zero wherever the signal-to-noise
    ratio ``alpha / beta`` is strictly monotone; the path's ``time_range`` must exclude the times
    where a conversion divides by zero.
    """

    quantities: ClassVar[tuple[str, ...]] = QUANTITIES

    # --- the schedule -------------------------------------------------------------------------
    @abstractmethod
    def alpha(self, t: Tensor) -> Tensor:
        """Signal coefficient ``alpha_t`` (``alpha_0 = 0``, ``alpha_1 = 1`` for a path that reaches the data)."""

    @abstractmethod
    def beta(self, t: Tensor) -> Tensor:
        """Noise scale ``beta_t`` (``beta_t > 0`` inside ``time_range``)."""

    @abstractmethod
    def d_alpha(self, t: Tensor) -> Tensor:
        """Time derivative of ``alpha_t``."""

    @abstractmethod
    def d_beta(self, t: Tensor) -> Tensor:
        """Time derivative of ``beta_t``."""

    def log_snr(self, t: Tensor) -> Tensor:
        """``lambda_t = log(alpha_t / beta_t)``: half the log signal-to-noise ratio (increasing in t)."""
        return torch.log(self.alpha(t)) - torch.log(self.beta(t))

    def d_log_snr(self, t: Tensor) -> Tensor:
        """``lambda'_t = alpha'_t / alpha_t - beta'_t / beta_t``: the time derivative of :meth:`log_snr`.

        ``2 beta_t^2 lambda'_t`` is the squared diffusion coefficient of the noising SDE with these
        marginals (``g_t^2``), and ``alpha_t beta_t lambda'_t`` is the determinant of the velocity
        against ``x`` (:meth:`determinant`).
        """
        return self.d_alpha(t) / self.alpha(t) - self.d_beta(t) / self.beta(t)

    def determinant(self, quantity: Quantity, t: Tensor) -> Tensor:
        """``a_q beta_t - b_q alpha_t`` for ``q = a_q z + b_q eps`` (:meth:`coefficients`), ``(B,)``.

        The determinant of ``(x_t, q)`` in the ``(z, eps)`` basis: the conversion between ``q`` and
        any other quantity exists where it is non-zero, and it scales every such conversion. For the
        velocity it is ``alpha'_t beta_t - beta'_t alpha_t = alpha_t beta_t lambda'_t``.
        """
        a_q, b_q = self.coefficients(quantity, t)
        return a_q * self.beta(t) - b_q * self.alpha(t)

    def time_at_log_snr(self, log_snr: Tensor) -> Tensor:
        """Invert :meth:`log_snr` on ``time_range``: the ``t`` with ``lambda_t = log_snr``.

        Values outside the path's log-SNR range map to the nearest end of ``time_range``. The
        default solves by bisection in float64 (64 halvings, i.e. to machine precision in ``t``),
        which needs ``lambda_t`` increasing; a path with a closed-form inverse may override it.

        Args:
            log_snr: target values of ``log(alpha_t / beta_t)``, any shape.

        Returns:
            Times of the same shape, dtype and device as ``log_snr``.
        """
        target = log_snr.detach().to(torch.float64)
        t0, t1 = self.time_range
        lo = torch.full_like(target, t0)
        hi = torch.full_like(target, t1)
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            below = self.log_snr(mid) < target
            lo = torch.where(below, mid, lo)
            hi = torch.where(below, hi, mid)
        return (0.5 * (lo + hi)).to(log_snr.dtype)

    def clamp_time(self, t: Tensor) -> Tensor:
        """Clamp ``t`` into ``time_range`` (where every coefficient and conversion is finite)."""
        t0, t1 = self.time_range
        return t.clamp(min=t0, max=t1)

    # --- prior ---------------------------------------------------------------------------------
    def prior_std(self) -> float:
        """Standard deviation of the prior, ``beta_0``."""
        return float(self.beta(torch.zeros((), dtype=torch.float64)))

    def sample_prior(
        self,
        n: int,
        event_shape: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> Tensor:
        eps = torch.randn((n, *event_shape), generator=generator, dtype=dtype, device=device)
        return self.prior_std() * eps

    def prior_log_prob(self, x: Tensor) -> Tensor:
        s = self.prior_std()
        d = x[0].numel()
        sq = x.reshape(x.shape[0], -1).pow(2).sum(dim=1)
        return -0.5 * sq / s**2 - d * (math.log(s) + 0.5 * math.log(2 * math.pi))

    # --- conditional draws and targets ----------------------------------------------------------
    def standard_noise(self, noise: Tensor) -> Tensor:
        """The standard normal ``eps = noise / beta_0`` behind prior draws ``noise ~ N(0, beta_0^2 I)``."""
        s = self.prior_std()
        return noise if s == 1.0 else noise / s

    def sample(self, z: Tensor, t: Tensor, noise: Tensor) -> PathSample:
        """``x_t = alpha_t z + beta_t eps`` with ``eps = noise / beta_0``.

        ``noise`` are prior draws (``N(0, beta_0^2 I)``, as :meth:`sample_prior` makes them), so a
        path whose prior is not standard (e.g. variance exploding, ``beta_0 = sigma_max``) is
        handled like any other; the conditional targets use the same ``eps``.
        """
        if z.shape != noise.shape:
            raise ValueError(f"z and noise must have the same shape, got {tuple(z.shape)} and {tuple(noise.shape)}")
        tt = batch_times(t, z)
        x = expand_like(self.alpha(tt), z) * z + expand_like(self.beta(tt), z) * self.standard_noise(noise)
        return PathSample(x=x, t=tt, z=z, noise=noise, path=self)

    def coefficients(self, quantity: Quantity, t: Tensor) -> tuple[Tensor, Tensor]:
        """The ``(a_q, b_q)`` with ``quantity = a_q z + b_q eps`` at times ``t`` (each ``(B,)``)."""
        q = check_quantity(quantity)
        if q == "data":
            return torch.ones_like(t), torch.zeros_like(t)
        if q == "epsilon":
            return torch.zeros_like(t), torch.ones_like(t)
        if q == "velocity":
            return self.d_alpha(t), self.d_beta(t)
        return torch.zeros_like(t), -1.0 / self.beta(t)

    def conditional_target(self, quantity: Quantity, sample: PathSample) -> Tensor:
        a, b = self.coefficients(quantity, sample.t)
        eps = self.standard_noise(sample.noise)
        return expand_like(a, sample.z) * sample.z + expand_like(b, sample.z) * eps

    # --- conversions ---------------------------------------------------------------------------
    def conversion_coefficients(self, source: Quantity, target: Quantity, t: Tensor) -> tuple[Tensor, Tensor]:
        """``(c_x, c_q)`` such that ``target = c_x * x + c_q * source`` at times ``t`` (each ``(B,)``).

        Times are first clamped into ``time_range`` (:meth:`clamp_time`), so the coefficients are
        finite for every ``t`` in ``[0, 1]``; at a time outside the range they are those of the
        nearest safe time. Raises ``ValueError`` for an unknown quantity.
        """
        if source == target:
            check_quantity(source)
            return torch.zeros_like(t), torch.ones_like(t)
        t = self.clamp_time(t)
        a, b = self.coefficients(source, t)
        a2, b2 = self.coefficients(target, t)
        alpha, beta = self.alpha(t), self.beta(t)
        det = alpha * b - beta * a
        return (a2 * b - b2 * a) / det, (b2 * alpha - a2 * beta) / det

    def convert(self, value: Tensor, source: Quantity, target: Quantity, x: Tensor, t: Tensor | float) -> Tensor:
        """Convert a prediction of ``source`` at ``(x, t)`` into the equivalent prediction of ``target``.

        Args:
            value: the prediction of ``source``, shape ``(B, *event_shape)``.
            source, target: quantities (``velocity``, ``score``, ``epsilon``, ``data``).
            x: the states, shape ``(B, *event_shape)``.
            t: times, ``(B,)`` or a scalar; times outside ``time_range`` are clamped into it
                (see :meth:`conversion_coefficients`), so the answer is always finite.

        Returns:
            The prediction of ``target``, shape ``(B, *event_shape)``.
        """
        if source == target:
            check_quantity(source)
            return value
        tt = batch_times(t, x)
        c_x, c_q = self.conversion_coefficients(source, target, tt)
        return expand_like(c_x, x) * x + expand_like(c_q, x) * value


def require_gaussian(path: ProbabilityPath, what: str) -> GaussianPath:
    """Return ``path`` as a :class:`GaussianPath` or raise a clear error naming ``what`` needs it."""
    if not isinstance(path, GaussianPath):
        raise IncompatibleComponentsError(f"{what} needs a Gaussian path, but path {path.name!r} is not one")
    return path
