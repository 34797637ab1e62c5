"""Gaussian mixtures: a dataset whose marginal path quantities are known in closed form.

The data distribution is ``p_data = sum_k w_k N(m_k, s_k^2 I)`` in ``D`` dimensions. Along a
Gaussian path ``x_t = alpha_t z + beta_t eps`` (``t = 0`` prior, ``t = 1`` data) the marginal stays
a mixture,

``p_t(x) = sum_k w_k N(x; alpha_t m_k, v_k I)``, with ``v_k = alpha_t^2 s_k^2 + beta_t^2``,

and, given the component ``k``, ``(z, eps, x_t)`` are jointly Gaussian. With the responsibilities
``r_k(x) = w_k N(x; alpha_t m_k, v_k I) / p_t(x)`` and ``d_k = x - alpha_t m_k``:

* score:    ``grad log p_t(x) = -sum_k r_k d_k / v_k``
* epsilon:  ``E[eps | x]      =  sum_k r_k beta_t d_k / v_k``
* data:     ``E[z | x]        =  sum_k r_k (m_k + alpha_t s_k^2 d_k / v_k)``
* velocity: ``u_t(x)          =  sum_k r_k (alpha'_t m_k + (alpha'_t alpha_t s_k^2 + beta'_t beta_t) d_k / v_k)``

(the velocity is ``alpha'_t E[z | x] + beta'_t E[eps | x]``). Because every ``s_k > 0``, each
``v_k`` is positive at every ``t`` in ``[0, 1]``, so these formulas are finite even where the
path's own conversions are not (e.g. ``beta_t = 0`` at ``t = 1``).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from pydantic import Field, model_validator
from torch import Tensor

from flowkit import Dataset, GaussianPath, ProbabilityPath, batch_times, check_quantity, require_gaussian


class GaussianMixture(Dataset):
    """A mixture of isotropic Gaussians in any dimension, with exact marginals along Gaussian paths.

    ``GaussianMixture(weights=[...], means=[[...], ...], stds=[...])``: ``K`` components in ``D``
    dimensions; points have event shape ``(D,)``. Weights are normalised to sum to one. Besides
    sampling, it gives the exact log-density :meth:`log_prob` and, for any
    :class:`~flowkit.path.GaussianPath`, the exact marginal velocity, score, epsilon and data
    predictions at ``(x, t)`` (:meth:`marginal`) and the marginal log-density
    (:meth:`marginal_log_prob`), which makes it the ground truth for solvers and conversions.

    Raises:
        pydantic.ValidationError: for inconsistent lengths, ragged means, non-positive weights
            or standard deviations.
    """

    name: ClassVar[str] = "gmm"

    class Params(Dataset.Params):
        weights: list[float] = Field(
            default_factory=lambda: [0.5, 0.3, 0.2],
            min_length=1,
            description="Mixture weights (positive; normalised to sum to one).",
        )
        means: list[list[float]] = Field(
            default_factory=lambda: [[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]],
            min_length=1,
            description="Component means, one list of D coordinates per component.",
        )
        stds: float | list[float] = Field(
            default_factory=lambda: [0.5, 0.4, 0.3],
            description="Per-component standard deviation (isotropic), or one value for all.",
        )

        @model_validator(mode="after")
        def _check_shapes(self) -> GaussianMixture.Params:
            k = len(self.weights)
            if len(self.means) != k:
                raise ValueError(f"got {k} weights but {len(self.means)} means")
            dims = {len(m) for m in self.means}
            if len(dims) != 1 or 0 in dims:
                raise ValueError(f"every mean must have the same positive dimension, got {sorted(dims)}")
            if any(not w > 0 for w in self.weights):  # finiteness is checked by every Params model
                raise ValueError(f"weights must be positive, got {self.weights}")
            stds = self.stds if isinstance(self.stds, list) else [self.stds]
            if isinstance(self.stds, list) and len(self.stds) != k:
                raise ValueError(f"got {k} components but {len(self.stds)} stds")
            if any(not s > 0 for s in stds):
                raise ValueError(f"stds must be positive, got {self.stds}")
            return self

    params: Params

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        p = self.params
        w = torch.tensor(p.weights, dtype=torch.float64)
        self._weights = w / w.sum()
        self._means = torch.tensor(p.means, dtype=torch.float64)
        k = self._means.shape[0]
        stds = p.stds if isinstance(p.stds, list) else [p.stds] * k
        self._stds = torch.tensor(stds, dtype=torch.float64)

    # --- description ---------------------------------------------------------------------------
    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self._means.shape[1]),)

    @property
    def num_components(self) -> int:
        """Number of mixture components ``K``."""
        return int(self._means.shape[0])

    @property
    def weights(self) -> Tensor:
        """Normalised weights, ``(K,)`` float64."""
        return self._weights.clone()

    @property
    def means(self) -> Tensor:
        """Component means, ``(K, D)`` float64."""
        return self._means.clone()

    @property
    def stds(self) -> Tensor:
        """Component standard deviations, ``(K,)`` float64."""
        return self._stds.clone()

    def mean(self) -> Tensor:
        """The mixture mean ``sum_k w_k m_k``, ``(D,)`` float64."""
        return self._weights @ self._means

    # --- sampling ------------------------------------------------------------------------------
    def sample_with_components(
        self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> tuple[Tensor, Tensor]:
        """Draw ``n`` points and the index of the component each came from: ``(n, D)`` and ``(n,)``.

        Raises:
            ValueError: if ``n`` is negative.
        """
        if n < 0:
            raise ValueError(f"cannot draw a negative number of points ({n})")
        k = torch.multinomial(self._weights, n, replacement=True, generator=generator) if n else torch.zeros(0).long()
        noise = torch.randn(n, self.event_shape[0], generator=generator, dtype=torch.float64)
        x = self._means[k] + self._stds[k, None] * noise
        return x.to(dtype), k

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return self.sample_with_components(n, generator=generator, dtype=dtype)[0]

    # --- densities -----------------------------------------------------------------------------
    def _flat(self, x: Tensor) -> Tensor:
        d = self.event_shape[0]
        if x.ndim != 2 or x.shape[1] != d:
            raise ValueError(f"expected points of shape (B, {d}), got {tuple(x.shape)}")
        return x

    def _component_terms(self, path: GaussianPath, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(log_joint, d, v, a)`` at states ``x`` ``(B, D)`` and times ``t`` ``(B,)``.

        ``log_joint[:, k] = log w_k + log N(x; alpha_t m_k, v_k I)`` ``(B, K)``; offsets
        ``d_k = x - alpha_t m_k`` ``(B, K, D)``; variances ``v_k`` ``(B, K)``; ``alpha_t`` ``(B,)``.
        """
        m = self._means.to(dtype=x.dtype, device=x.device)
        s2 = self._stds.to(dtype=x.dtype, device=x.device).pow(2)
        a = path.alpha(t)
        b = path.beta(t)
        v = a[:, None].pow(2) * s2[None, :] + b[:, None].pow(2)
        d = x[:, None, :] - a[:, None, None] * m[None, :, :]
        return self._log_joint(d, v), d, v, a

    def _log_joint(self, d: Tensor, v: Tensor) -> Tensor:
        """``log w_k + log N(d; 0, v_k I)`` for offsets ``d`` ``(B, K, D)`` and variances ``v`` ``(B, K)``."""
        dim = d.shape[-1]
        logw = self._weights.to(dtype=d.dtype, device=d.device).log()
        return logw[None, :] - 0.5 * d.pow(2).sum(-1) / v - 0.5 * dim * torch.log(2 * math.pi * v)

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact log-density of the mixture at ``x`` (``(B, D)``), in nats: ``(B,)``."""
        x = self._flat(x)
        m = self._means.to(dtype=x.dtype, device=x.device)
        v = self._stds.to(dtype=x.dtype, device=x.device).pow(2)[None, :].expand(x.shape[0], -1)
        return torch.logsumexp(self._log_joint(x[:, None, :] - m[None], v), dim=1)

    def marginal_log_prob(self, path: ProbabilityPath, x: Tensor, t: Tensor | float) -> Tensor:
        """Exact ``log p_t(x)`` of the mixture pushed along the Gaussian ``path``: ``(B,)``.

        Args:
            path: a :class:`~flowkit.path.GaussianPath`.
            x: states, ``(B, D)``.
            t: times, ``(B,)`` or a scalar, anywhere in ``[0, 1]``.

        Raises:
            IncompatibleComponentsError: if ``path`` is not Gaussian.
            ValueError: if ``x`` or ``t`` has the wrong shape.
        """
        gpath = require_gaussian(path, "the Gaussian-mixture marginals")
        x = self._flat(x)
        tt = batch_times(t, x)
        log_joint, _, _, _ = self._component_terms(gpath, x, tt)
        return torch.logsumexp(log_joint, dim=1)

    def posterior(self, path: ProbabilityPath, x: Tensor, t: Tensor | float) -> Tensor:
        """Responsibilities ``P(component k | x_t = x)``, ``(B, K)`` (rows sum to one)."""
        gpath = require_gaussian(path, "the Gaussian-mixture marginals")
        x = self._flat(x)
        log_joint, _, _, _ = self._component_terms(gpath, x, batch_times(t, x))
        return torch.softmax(log_joint, dim=1)

    # --- marginal quantities -------------------------------------------------------------------
    def marginal(self, path: ProbabilityPath, quantity: str, x: Tensor, t: Tensor | float) -> Tensor:
        """The exact marginal ``quantity`` (``velocity``, ``score``, ``epsilon`` or ``data``) at ``(x, t)``.

        Formulas in the module docstring. Finite for every ``t`` in ``[0, 1]`` at which ``alpha_t``
        and ``beta_t`` and their derivatives are finite.

        Args:
            path: a :class:`~flowkit.path.GaussianPath` (its schedule defines the marginals).
            quantity: what to return.
            x: states, ``(B, D)``; the answer has the same shape and dtype.
            t: times, ``(B,)`` or a scalar.

        Raises:
            IncompatibleComponentsError: if ``path`` is not Gaussian.
            ValueError: for an unknown quantity or a wrongly shaped ``x`` or ``t``.
        """
        q = check_quantity(quantity)
        gpath = require_gaussian(path, "the Gaussian-mixture marginals")
        x = self._flat(x)
        tt = batch_times(t, x)
        log_joint, d, v, a = self._component_terms(gpath, x, tt)
        r = torch.softmax(log_joint, dim=1)[:, :, None]
        unit = d / v[:, :, None]  # d_k / v_k
        if q == "score":
            return -(r * unit).sum(1)
        if q == "epsilon":
            return gpath.beta(tt)[:, None] * (r * unit).sum(1)
        m = self._means.to(dtype=x.dtype, device=x.device)[None]
        s2 = self._stds.to(dtype=x.dtype, device=x.device).pow(2)[None, :, None]
        if q == "data":
            return (r * (m + a[:, None, None] * s2 * unit)).sum(1)
        da = gpath.d_alpha(tt)[:, None, None]
        gain = da * a[:, None, None] * s2 + (gpath.d_beta(tt) * gpath.beta(tt))[:, None, None]
        return (r * (da * m + gain * unit)).sum(1)

    def marginal_velocity(self, path: ProbabilityPath, x: Tensor, t: Tensor | float) -> Tensor:
        """The exact marginal velocity ``u_t(x)``, ``(B, D)`` (see :meth:`marginal`)."""
        return self.marginal(path, "velocity", x, t)

    def marginal_score(self, path: ProbabilityPath, x: Tensor, t: Tensor | float) -> Tensor:
        """The exact marginal score ``grad_x log p_t(x)``, ``(B, D)`` (see :meth:`marginal`)."""
        return self.marginal(path, "score", x, t)

    def marginal_epsilon(self, path: ProbabilityPath, x: Tensor, t: Tensor | float) -> Tensor:
        """The exact ``E[eps | x_t = x]``, ``(B, D)`` (see :meth:`marginal`)."""
        return self.marginal(path, "epsilon", x, t)

    def marginal_data(self, path: ProbabilityPath, x: Tensor, t: Tensor | float) -> Tensor:
        """The exact ``E[z | x_t = x]``, ``(B, D)`` (see :meth:`marginal`)."""
        return self.marginal(path, "data", x, t)
