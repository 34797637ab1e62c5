"""Log-likelihoods of a flow by the instantaneous change of variables.

For the probability-flow ODE ``dx/dt = u_t(x)`` (``t = 0`` prior, ``t = 1`` data) the density along a
trajectory obeys ``d log p_t(x_t) / dt = -div u_t(x_t)``, so

``log p_{t_max}(x) = log p_0(x_{t_min}) - integral_{t_min}^{t_max} div u_t(x_t) dt``,

where ``x_t`` is the trajectory through ``x`` at ``t_max``. :func:`log_likelihood` integrates the
augmented state ``(x_t, integral of div)`` backwards from ``t_max`` to ``t_min`` with an explicit
Runge-Kutta scheme of :mod:`flowkit.solver.runge_kutta` (RK4 by default) on any
:mod:`flowkit.solver.grids` grid; :func:`sample_with_log_prob` integrates it forwards from prior
draws, giving samples together with their log-density.

Divergence:

* ``exact``: ``div u = sum_i d u_i / d x_i`` by one backward pass per dimension (exact; cost grows
  with the dimension, so for small ``D``);
* ``hutchinson``: ``div u = E_v[v^T (du/dx) v]`` for probes ``v`` with ``E[v v^T] = I``
  (Rademacher or Gaussian), one backward pass per probe. Each probe is held fixed along the whole
  trajectory, so every probe gives an unbiased estimate of ``log p``; the result is their mean and
  its standard error ``std / sqrt(probes)``.

Units: ``log_prob`` is in nats per sample; ``bits_per_dim = -log_prob / (D ln 2)``. With
``create_graph=True`` the result is differentiable with respect to the network's parameters
(likelihood training); otherwise no graph is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from flowkit.field import ModelField
from flowkit.solver.grids import GridKind, GridParams, make_grid
from flowkit.solver.runge_kutta import SchemeName, rk_step, tableau

Divergence = Literal["exact", "hutchinson"]
ProbeKind = Literal["rademacher", "gaussian"]
Scheme = SchemeName


@dataclass
class LikelihoodResult:
    """Log-densities and what they cost.

    Attributes:
        log_prob: ``log p(x)`` in nats, ``(B,)`` (the mean over probes for Hutchinson).
        stderr: standard error of ``log_prob`` over the probes, ``(B,)``; ``None`` for the exact divergence.
        prior_log_prob: ``log p_0(x_{t_min})``, ``(B,)``.
        latent: the other end of the trajectory (``x_{t_min}`` for :func:`log_likelihood`, the samples
            for :func:`sample_with_log_prob`), ``(B, *event_shape)``.
        nfe: network evaluations spent.
        dims: the dimension ``D`` of one data point.
    """

    log_prob: Tensor
    stderr: Tensor | None
    prior_log_prob: Tensor
    latent: Tensor
    nfe: int
    dims: int

    @property
    def nats_per_dim(self) -> Tensor:
        """``-log_prob / D``: the negative log-likelihood in nats per dimension, ``(B,)``."""
        return -self.log_prob / self.dims

    @property
    def bits_per_dim(self) -> Tensor:
        """``-log_prob / (D ln 2)``: the negative log-likelihood in bits per dimension, ``(B,)``."""
        return -self.log_prob / (self.dims * math.log(2.0))

    @property
    def bits_per_dim_stderr(self) -> Tensor | None:
        """The standard error of :attr:`bits_per_dim` (``None`` for the exact divergence)."""
        return None if self.stderr is None else self.stderr / (self.dims * math.log(2.0))


def draw_probes(
    count: int,
    like: Tensor,
    kind: ProbeKind,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``count`` probes shaped like ``like``: ``(count, B, *event_shape)``, Rademacher (+-1) or standard normal.

    Drawn on the CPU from ``generator`` and moved to ``like``'s device.
    """
    shape = (count, *like.shape)
    if kind == "rademacher":
        bits = torch.randint(0, 2, shape, generator=generator, dtype=torch.int64)
        probes = (2 * bits - 1).to(like.dtype)
    elif kind == "gaussian":
        probes = torch.randn(shape, generator=generator, dtype=like.dtype)
    else:
        raise ValueError(f"unknown probe kind {kind!r}; expected rademacher or gaussian")
    return probes.to(like.device)


def velocity_and_divergence(
    field: ModelField,
    x: Tensor,
    t: Tensor,
    probes: Tensor | None,
    *,
    create_graph: bool = False,
) -> tuple[Tensor, Tensor]:
    """``(u_t(x), div u_t(x))`` from one network evaluation plus backward passes.

    Args:
        field: the model's field.
        x: states, ``(B, *event_shape)``.
        t: the time (0-d tensor or ``(B,)``).
        probes: ``None`` for the exact divergence, else ``(K, B, *event_shape)`` Hutchinson probes.
        create_graph: keep the graph of the result (for gradients of the log-likelihood).

    Returns:
        The velocity ``(B, *event_shape)`` and the divergence: ``(1, B)`` exact or ``(K, B)`` estimates.
    """
    with torch.enable_grad():
        xg = x if (create_graph and x.requires_grad) else x.detach().requires_grad_(True)
        v = field.velocity(xg, t)
        flat_v = v.reshape(v.shape[0], -1)
        if probes is None:
            d = flat_v.shape[1]
            div = torch.zeros(v.shape[0], dtype=v.dtype, device=v.device)
            for i in range(d):
                (g,) = torch.autograd.grad(flat_v[:, i].sum(), xg, create_graph=create_graph, retain_graph=True)
                div = div + g.reshape(g.shape[0], -1)[:, i]
            divs = div[None]
        else:
            rows = []
            for k in range(probes.shape[0]):
                (g,) = torch.autograd.grad(
                    (v * probes[k]).sum(), xg, create_graph=create_graph, retain_graph=k + 1 < probes.shape[0]
                )
                rows.append((g * probes[k]).reshape(g.shape[0], -1).sum(1))
            divs = torch.stack(rows)
    if not create_graph:
        return v.detach(), divs.detach()
    return v, divs


def _integrate(
    field: ModelField,
    x: Tensor,
    times: Tensor,
    probes: Tensor | None,
    scheme: Scheme,
    create_graph: bool,
) -> tuple[Tensor, Tensor]:
    """Integrate ``(x, L)`` with ``dx/dt = u``, ``dL/dt = div u`` along ``times`` (either direction),
    one :func:`~flowkit.solver.runge_kutta.rk_step` of ``scheme`` per interval.

    The divergence is computed only at the stages whose weight is not zero (midpoint's first stage
    needs the velocity alone). Returns ``(x_end, L_end)`` with ``L`` of shape ``(K, B)`` (``K = 1``
    for the exact divergence).
    """

    def rhs(state: Tensor, t: Tensor, needed: bool) -> tuple[Tensor, Tensor | None]:
        if not needed:
            with torch.set_grad_enabled(create_graph):
                return field.velocity(state, t), None
        return velocity_and_divergence(field, state, t, probes, create_graph=create_graph)

    total = torch.zeros(1 if probes is None else probes.shape[0], x.shape[0], dtype=x.dtype, device=x.device)
    tab = tableau(scheme)
    for i in range(times.shape[0] - 1):
        x, total = rk_step(rhs, x, total, times[i], times[i + 1] - times[i], tab)
        if not create_graph:
            x, total = x.detach(), total.detach()
    return x, total


def _grid(field: ModelField, steps: int, grid: GridKind, times: tuple[float, ...] | None, like: Tensor) -> Tensor:
    params = GridParams(steps=steps, grid=grid, times=times)
    t0, t1 = field.time_range
    return make_grid(params, field.path, t0, t1).to(dtype=like.dtype, device=like.device)


def _check(divergence: str, probes: int, scheme: str) -> None:
    if divergence not in ("exact", "hutchinson"):
        raise ValueError(f"unknown divergence {divergence!r}; expected exact or hutchinson")
    if divergence == "hutchinson" and probes < 2:
        raise ValueError(f"hutchinson needs at least 2 probes to report a standard error, got {probes}")
    tableau(scheme)  # raises for an unknown scheme


def _finish(
    field: ModelField, x0: Tensor, other: Tensor, logp_per_probe: Tensor, divergence: str, start_nfe: int
) -> LikelihoodResult:
    prior = field.path.prior_log_prob(x0)
    logp = prior[None] + logp_per_probe
    mean = logp.mean(0)
    stderr = logp.std(0, unbiased=True) / math.sqrt(logp.shape[0]) if divergence == "hutchinson" else None
    return LikelihoodResult(mean, stderr, prior, other, field.nfe - start_nfe, x0[0].numel())


def log_likelihood(
    field: ModelField,
    x: Tensor,
    *,
    steps: int = 100,
    grid: GridKind = "uniform",
    times: tuple[float, ...] | None = None,
    scheme: Scheme = "rk4",
    divergence: Divergence = "exact",
    probes: int = 8,
    probe_kind: ProbeKind = "rademacher",
    generator: torch.Generator | None = None,
    create_graph: bool = False,
) -> LikelihoodResult:
    """``log p_{t_max}(x)`` under the model's probability-flow ODE.

    Integrates ``(x_t, integral of div u)`` from ``t_max`` back to ``t_min`` on the grid
    (``steps``/``grid``/``times`` as in :class:`~flowkit.grids.GridParams`) with ``scheme``, then
    ``log p(x) = log p_0(x_{t_min}) - integral_{t_min}^{t_max} div u_t(x_t) dt``.

    Args:
        field: the model's field.
        x: data points, ``(B, *event_shape)``.
        divergence: ``exact`` or ``hutchinson`` (with ``probes`` probes of ``probe_kind``, drawn from
            ``generator`` once and held fixed along the trajectory).
        create_graph: keep the graph so the result can be differentiated (e.g. for NLL training).

    Returns:
        A :class:`LikelihoodResult` (nats; ``stderr`` for Hutchinson).

    Raises:
        ValueError: an unknown divergence, scheme or probe kind, fewer than two Hutchinson probes,
            or an invalid grid.
    """
    _check(divergence, probes, scheme)
    start = field.nfe
    grid_t = _grid(field, steps, grid, times, x).flip(0)
    probe = draw_probes(probes, x, probe_kind, generator) if divergence == "hutchinson" else None
    x0, backward = _integrate(field, x, grid_t, probe, scheme, create_graph)
    # backward = integral from t_max to t_min of div = -(integral from t_min to t_max).
    return _finish(field, x0, x0, backward, divergence, start)


def sample_with_log_prob(
    field: ModelField,
    x0: Tensor,
    *,
    steps: int = 100,
    grid: GridKind = "uniform",
    times: tuple[float, ...] | None = None,
    scheme: Scheme = "rk4",
    divergence: Divergence = "exact",
    probes: int = 8,
    probe_kind: ProbeKind = "rademacher",
    generator: torch.Generator | None = None,
    create_graph: bool = False,
) -> LikelihoodResult:
    """Integrate prior draws ``x0`` to samples and their log-density in one forward pass.

    ``log p_{t_max}(x_{t_max}) = log p_0(x0) - integral_{t_min}^{t_max} div u_t(x_t) dt``. The samples are
    ``result.latent``; arguments and errors as in :func:`log_likelihood`.
    """
    _check(divergence, probes, scheme)
    start = field.nfe
    grid_t = _grid(field, steps, grid, times, x0)
    probe = draw_probes(probes, x0, probe_kind, generator) if divergence == "hutchinson" else None
    x1, forward = _integrate(field, x0, grid_t, probe, scheme, create_graph)
    return _finish(field, x0, x1, -forward, divergence, start)
