"""Time grids: uniform, log-SNR-uniform, EDM rho-schedule, custom, and merging saved times."""

from __future__ import annotations

import math

import pydantic
import pytest
import torch

from flowkit.errors import IncompatibleComponentsError
from flowkit.solver.grids import GridParams, custom_grid, edm_grid, logsnr_grid, make_grid, merge_times, uniform_grid
from flowkit.testing import ReferencePath, VelocityOnlyPath

PATH = ReferencePath()
"""alpha = t, beta = 1 - t on [1e-3, 1 - 1e-3] (CondOT's schedule, so the core tests need no plugin)."""
T0, T1 = PATH.time_range


def test_uniform_grid_spans_the_range_evenly() -> None:
    grid = uniform_grid(T0, T1, 8)
    assert grid.dtype == torch.float64 and grid.shape == (9,)
    assert grid[0] == T0 and grid[-1] == T1
    torch.testing.assert_close(grid.diff(), torch.full((8,), (T1 - T0) / 8, dtype=torch.float64))


def test_logsnr_grid_is_evenly_spaced_in_log_snr() -> None:
    grid = logsnr_grid(PATH, T0, T1, 10)
    lam = torch.log(grid / (1 - grid))
    assert grid[0] == T0 and grid[-1] == T1
    torch.testing.assert_close(lam.diff(), torch.full((10,), float(lam[-1] - lam[0]) / 10, dtype=torch.float64))


def test_edm_grid_is_evenly_spaced_in_sigma_to_the_one_over_rho() -> None:
    rho = 7.0
    grid = edm_grid(PATH, T0, T1, 12, rho)
    sigma = (1 - grid) / grid  # beta / alpha
    ramp = sigma.pow(1 / rho)
    torch.testing.assert_close(ramp.diff(), torch.full((12,), float(ramp[-1] - ramp[0]) / 12, dtype=torch.float64))
    assert bool((grid.diff() > 0).all())
    assert grid[0] == T0 and grid[-1] == T1


def test_custom_grid_adds_the_ends() -> None:
    grid = custom_grid([0.2, 0.6], T0, T1)
    assert grid.tolist() == [T0, 0.2, 0.6, T1]
    assert custom_grid([T0, 0.5, T1], T0, T1).tolist() == [T0, 0.5, T1]
    with pytest.raises(ValueError, match="inside the time range"):
        custom_grid([0.0005, 0.5], T0, T1)
    with pytest.raises(ValueError, match="strictly increasing"):
        custom_grid([0.5, 0.5], T0, T1)


def test_make_grid_follows_the_params() -> None:
    assert make_grid(GridParams(steps=4), PATH, T0, T1).shape == (5,)
    assert make_grid(GridParams(grid="custom", times=(0.5,)), PATH, T0, T1).tolist() == [T0, 0.5, T1]
    torch.testing.assert_close(
        make_grid(GridParams(steps=5, grid="logsnr"), PATH, T0, T1), logsnr_grid(PATH, T0, T1, 5)
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"grid": "custom"}, "needs times"),
        ({"times": (0.2, 0.5)}, "only used by grid 'custom'"),
        ({"grid": "custom", "times": (0.5, 0.2)}, "strictly increasing"),
        ({"grid": "custom", "times": (0.5, 1.5)}, r"inside \[0, 1\]"),
        ({"grid": "custom", "times": (0.5, math.nan)}, "finite"),
        ({"steps": 0}, "greater than 0"),
        ({"rho": 0}, "greater than 0"),
        ({"grid": "cosine"}, "Input should be"),
    ],
)
def test_grid_params_are_validated(params: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        GridParams(**params)


def test_schedule_aware_grids_need_a_gaussian_path() -> None:
    box = VelocityOnlyPath()
    with pytest.raises(IncompatibleComponentsError, match="needs a Gaussian path"):
        logsnr_grid(box, 0.0, 1.0, 4)
    with pytest.raises(IncompatibleComponentsError, match="needs a Gaussian path"):
        edm_grid(box, 0.0, 1.0, 4)
    assert make_grid(GridParams(steps=4), box, 0.0, 1.0).shape == (5,)


def test_logsnr_grid_refuses_an_infinite_log_snr() -> None:
    with pytest.raises(ValueError, match="not finite"):
        logsnr_grid(PATH, 0.0, 1.0, 4)


def test_merge_times_inserts_and_reuses_points() -> None:
    grid = uniform_grid(0.0, 1.0, 4)
    merged, idx = merge_times(grid, [0.3, 0.5, 1.0])
    assert merged.tolist() == [0.0, 0.25, 0.3, 0.5, 0.75, 1.0]
    assert idx == [2, 3, 5]
    assert merge_times(grid, None) == (grid, [])
    with pytest.raises(ValueError, match="inside the time range"):
        merge_times(grid, [1.2])
    with pytest.raises(ValueError, match="at least one"):
        merge_times(grid, [])
