"""Time grids for fixed-step, multistep and SDE solvers.

A grid is an increasing sequence ``t_min = tau_0 < tau_1 < ... < tau_N = t_max`` across the field's
``time_range`` (``t = 0`` is the prior, ``t = 1`` the data). Four kinds exist:

* ``uniform``: ``tau_i = t_min + i (t_max - t_min) / N``.
* ``logsnr``: uniform in the half log signal-to-noise ratio ``lambda_t = log(alpha_t / beta_t)`` of
  a :class:`~flowkit.path.GaussianPath`: ``lambda(tau_i)`` is evenly spaced between
  ``lambda(t_min)`` and ``lambda(t_max)``. Steps crowd where the SNR changes fast.
* ``edm``: the rho-schedule of Karras et al. on the noise-to-signal ratio ``sigma_t = beta_t / alpha_t``:
  ``sigma_i = (sigma_max^(1/rho) + i/N (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho``, mapped back to
  times through the path (``rho = 7`` is the usual choice; ``rho = 1`` is uniform in ``sigma``).
* ``custom``: user times, strictly increasing inside ``[t_min, t_max]``; ``t_min`` and ``t_max`` are
  added when missing, so the solve still starts at the prior and ends at the data end.

Every grid is computed once per solve, in float64 on the host, and then moved to the state's
device and dtype, so solver loops index a precomputed tensor and never synchronise.

Times to record a trajectory at (``save_at``) are merged into the grid with :func:`merge_times`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import torch
from pydantic import Field, field_validator, model_validator
from torch import Tensor

from flowkit.component import Component
from flowkit.path import GaussianPath, ProbabilityPath, require_gaussian

GridKind = Literal["uniform", "logsnr", "edm", "custom"]
"""The kinds of time grid (see the module docstring)."""

GRID_KINDS: tuple[str, ...] = ("uniform", "logsnr", "edm", "custom")

_MERGE_TOL = 1e-12


class GridParams(Component.Params):
    """The grid options every fixed-step, multistep and SDE solver takes through its ``Params``.

    Attributes:
        steps: number of grid intervals (ignored by ``grid="custom"``, whose intervals are given).
        grid: the grid kind (``uniform``, ``logsnr``, ``edm``, ``custom``).
        rho: the exponent of the ``edm`` grid.
        times: the interior (or full) times of a ``custom`` grid.

    Raises:
        pydantic.ValidationError: ``grid="custom"`` without ``times``, ``times`` with another grid,
            or ``times`` that are not strictly increasing inside ``[0, 1]``.
    """

    steps: int = Field(100, gt=0, description="Number of grid intervals from t_min to t_max.")
    grid: GridKind = Field(
        "uniform", description="Time grid: uniform, logsnr (uniform in log-SNR), edm (Karras rho-schedule), custom."
    )
    rho: float = Field(7.0, gt=0, description="Exponent of the edm grid.")
    times: tuple[float, ...] | None = Field(
        None, description="Times of a custom grid (strictly increasing, inside the path's time range)."
    )

    @field_validator("times")
    @classmethod
    def _check_times(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if len(value) == 0:
            raise ValueError("times must not be empty")
        check_increasing(value, "times")
        if value[0] < 0.0 or value[-1] > 1.0:
            raise ValueError(f"times must lie inside [0, 1], got {value[0]} .. {value[-1]}")
        return value

    @model_validator(mode="after")
    def _times_iff_custom(self) -> GridParams:
        if self.grid == "custom" and self.times is None:
            raise ValueError("grid 'custom' needs times (a strictly increasing list)")
        if self.times is not None and self.grid != "custom":
            raise ValueError(f"times are only used by grid 'custom', not {self.grid!r}")
        return self


def check_increasing(values: Sequence[float], what: str) -> None:
    """Raise ``ValueError`` unless ``values`` are finite and strictly increasing."""
    for v in values:
        if not math.isfinite(v):
            raise ValueError(f"{what} must be finite, got {v}")
    for a, b in itertools.pairwise(values):
        if not b > a:
            raise ValueError(f"{what} must be strictly increasing, got {a} then {b}")


def uniform_grid(t0: float, t1: float, steps: int) -> Tensor:
    """``steps + 1`` evenly spaced float64 times from ``t0`` to ``t1`` (both included)."""
    _check_range(t0, t1)
    _check_steps(steps)
    grid = torch.linspace(t0, t1, steps + 1, dtype=torch.float64)
    grid[0], grid[-1] = t0, t1
    return grid


def logsnr_grid(path: ProbabilityPath, t0: float, t1: float, steps: int) -> Tensor:
    """Times whose log-SNR ``lambda_t = log(alpha_t / beta_t)`` is evenly spaced from ``t0`` to ``t1``.

    Raises:
        IncompatibleComponentsError: the path is not Gaussian.
        ValueError: ``lambda_t`` is not finite and strictly increasing at the ends of ``[t0, t1]``.
    """
    gp = require_gaussian(path, "the logsnr grid")
    _check_range(t0, t1)
    _check_steps(steps)
    lo, hi = _log_snr_bounds(gp, t0, t1)
    targets = torch.linspace(lo, hi, steps + 1, dtype=torch.float64)
    return _invert_log_snr(gp, targets, t0, t1)


def edm_grid(path: ProbabilityPath, t0: float, t1: float, steps: int, rho: float = 7.0) -> Tensor:
    """Times of the Karras rho-schedule on ``sigma_t = beta_t / alpha_t`` (from ``sigma(t0)`` down to ``sigma(t1)``).

    ``sigma_i^(1/rho)`` is evenly spaced, so for ``rho > 1`` the steps in ``sigma`` crowd near small ``sigma``.

    Raises:
        IncompatibleComponentsError: the path is not Gaussian.
        ValueError: ``rho <= 0`` or the log-SNR is not finite and increasing across ``[t0, t1]``.
    """
    if not rho > 0:
        raise ValueError(f"rho must be positive, got {rho}")
    gp = require_gaussian(path, "the edm grid")
    _check_range(t0, t1)
    _check_steps(steps)
    lo, hi = _log_snr_bounds(gp, t0, t1)
    # sigma = exp(-lambda); interpolate sigma^(1/rho) linearly, then go back to lambda.
    inv_rho = 1.0 / rho
    s_max, s_min = math.exp(-lo * inv_rho), math.exp(-hi * inv_rho)
    ramp = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    sig = s_max + ramp * (s_min - s_max)
    targets = -rho * torch.log(sig)
    targets[0], targets[-1] = lo, hi
    return _invert_log_snr(gp, targets, t0, t1)


def custom_grid(times: Sequence[float], t0: float, t1: float) -> Tensor:
    """The user's ``times`` with ``t0`` and ``t1`` added when missing.

    Raises:
        ValueError: the times are not strictly increasing or leave ``[t0, t1]``.
    """
    _check_range(t0, t1)
    ts = [float(t) for t in times]
    check_increasing(ts, "times")
    tol = _MERGE_TOL * max(1.0, abs(t1 - t0))
    if ts[0] < t0 - tol or ts[-1] > t1 + tol:
        raise ValueError(f"custom times must lie inside the time range [{t0}, {t1}], got {ts[0]} .. {ts[-1]}")
    inner = [t for t in ts if t0 + tol < t < t1 - tol]
    return torch.tensor([t0, *inner, t1], dtype=torch.float64)


def make_grid(params: GridParams, path: ProbabilityPath, t0: float, t1: float) -> Tensor:
    """The float64 grid described by ``params`` across ``[t0, t1]`` for ``path`` (shape ``(N + 1,)``)."""
    if params.grid == "uniform":
        return uniform_grid(t0, t1, params.steps)
    if params.grid == "logsnr":
        return logsnr_grid(path, t0, t1, params.steps)
    if params.grid == "edm":
        return edm_grid(path, t0, t1, params.steps, params.rho)
    if params.times is None:  # excluded by GridParams' validation; kept for direct callers
        raise ValueError("grid 'custom' needs times")
    return custom_grid(params.times, t0, t1)


def merge_times(grid: Tensor, save_at: Sequence[float] | None) -> tuple[Tensor, list[int]]:
    """Add the ``save_at`` times to ``grid`` and return ``(merged, indices)``.

    ``merged[indices[k]] == save_at[k]`` (a time closer than ``1e-12`` to a grid point reuses that
    point). ``save_at`` must be strictly increasing and inside ``[grid[0], grid[-1]]``.

    Raises:
        ValueError: ``save_at`` is empty, unordered or outside the grid.
    """
    if save_at is None:
        return grid, []
    ts = [float(t) for t in save_at]
    if not ts:
        raise ValueError("save_at must name at least one time")
    check_increasing(ts, "save_at")
    lo, hi = float(grid[0]), float(grid[-1])
    tol = _MERGE_TOL * max(1.0, abs(hi - lo))
    if ts[0] < lo - tol or ts[-1] > hi + tol:
        raise ValueError(f"save_at times must lie inside the time range [{lo}, {hi}], got {ts[0]} .. {ts[-1]}")
    points = grid.tolist()
    for t in ts:
        if min(abs(t - p) for p in points) > tol:
            points.append(t)
    points.sort()
    merged = torch.tensor(points, dtype=torch.float64)
    indices = [int(torch.argmin((merged - t).abs())) for t in ts]
    return merged, indices


def _check_range(t0: float, t1: float) -> None:
    if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
        raise ValueError(f"a time grid needs t0 < t1, got [{t0}, {t1}]")


def _check_steps(steps: int) -> None:
    if steps < 1:
        raise ValueError(f"a time grid needs at least one step, got {steps}")


def _log_snr(path: GaussianPath, t: Tensor) -> Tensor:
    return path.log_snr(t.to(torch.float64))


def _log_snr_bounds(path: GaussianPath, t0: float, t1: float) -> tuple[float, float]:
    ends = _log_snr(path, torch.tensor([t0, t1], dtype=torch.float64))
    lo, hi = float(ends[0]), float(ends[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(
            f"the log-SNR of path {path.name!r} is not finite at the ends of [{t0}, {t1}] "
            f"({lo}, {hi}); use a time range that excludes alpha = 0 and beta = 0"
        )
    if not hi > lo:
        raise ValueError(f"the log-SNR of path {path.name!r} must increase from t={t0} to t={t1}, got {lo} -> {hi}")
    return lo, hi


def _invert_log_snr(path: GaussianPath, targets: Tensor, t0: float, t1: float) -> Tensor:
    """The times with ``lambda(t) = target`` (through :meth:`GaussianPath.time_at_log_snr`), ends pinned."""
    times = path.time_at_log_snr(targets).to(torch.float64).clamp(min=t0, max=t1)
    times[0], times[-1] = t0, t1
    if not bool((times[1:] > times[:-1]).all()):
        raise ValueError(
            f"the grid collapsed: path {path.name!r} has a log-SNR that is not strictly increasing on [{t0}, {t1}]"
        )
    return times
