"""Native ODE solvers against the exact Gaussian-mixture oracle (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from flowkit import FixedStepSolver, Solver
from flowkit.path import GaussianPath
from flowkit_std import (
    CondOTPath,
    EulerSolver,
    GaussianMixture,
    HeunSolver,
    MidpointSolver,
    RK4Solver,
    VPPath,
    oracle_field,
)

MIXTURE = GaussianMixture()
PATHS = {"condot": CondOTPath(), "vp": VPPath()}

# (solver class, theoretical order, step counts in the asymptotic regime, NFE per step)
ORDERS = [
    (EulerSolver, 1.0, (25, 50, 100), 1),
    (MidpointSolver, 2.0, (40, 80, 160), 2),
    (HeunSolver, 2.0, (40, 80, 160), 2),
    (RK4Solver, 4.0, (20, 40, 80), 4),
]


def prior(path: GaussianPath, n: int = 64, seed: int = 0) -> torch.Tensor:
    return path.sample_prior(n, (2,), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.fixture(scope="module")
def references() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    out = {}
    for name, path in PATHS.items():
        x0 = prior(path)
        out[name] = (x0, RK4Solver(steps=320).solve(oracle_field(MIXTURE, path), x0).samples)
    return out


@pytest.mark.parametrize("path_name", sorted(PATHS))
@pytest.mark.parametrize(("cls", "order", "steps", "per_step"), ORDERS, ids=[c[0].name for c in ORDERS])
def test_measured_order_of_convergence(
    references: dict[str, tuple[torch.Tensor, torch.Tensor]],
    path_name: str,
    cls: type[FixedStepSolver],
    order: float,
    steps: tuple[int, ...],
    per_step: int,
) -> None:
    path = PATHS[path_name]
    field = oracle_field(MIXTURE, path)
    x0, ref = references[path_name]
    errors = []
    for n in steps:
        result = cls(steps=n).solve(field, x0)
        assert result.nfe == per_step * n
        assert result.samples.dtype == torch.float64
        # The median per-sample endpoint error: robust to the rare trajectory on a mode boundary.
        errors.append(float((result.samples - ref).norm(dim=1).median()))
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.3, f"{cls.name} on {path_name}: measured order {slope:.2f}, errors {errors}"


def test_schedule_aware_grids_converge(references: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
    field = oracle_field(MIXTURE, PATHS["vp"])
    x0, ref = references["vp"]
    for grid in ("logsnr", "edm"):
        coarse = (RK4Solver(steps=20, grid=grid).solve(field, x0).samples - ref).norm(dim=1).median()
        fine = (RK4Solver(steps=80, grid=grid).solve(field, x0).samples - ref).norm(dim=1).median()
        assert fine < 1e-3
        assert fine < coarse / 20


def test_custom_grid_is_the_grid_that_is_stepped() -> None:
    path = PATHS["condot"]
    field = oracle_field(MIXTURE, path)
    x0 = prior(path, 8)
    t0, t1 = path.time_range
    result = EulerSolver(grid="custom", times=(0.25, 0.5)).solve(field, x0, trajectory=True)
    assert result.nfe == 3
    assert result.times is not None and result.trajectory is not None
    assert torch.allclose(result.times, torch.tensor([t0, 0.25, 0.5, t1], dtype=torch.float64))
    x = x0.clone()
    for a, b in [(t0, 0.25), (0.25, 0.5), (0.5, t1)]:
        x = x + (b - a) * MIXTURE.marginal_velocity(path, x, a)
    torch.testing.assert_close(result.samples, x, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(result.trajectory[-1], result.samples)


def test_save_at_records_the_state_at_the_requested_times() -> None:
    path = PATHS["condot"]
    field = oracle_field(MIXTURE, path)
    x0 = prior(path, 16)
    exact = RK4Solver(steps=400).solve(field, x0, save_at=[0.3, 0.7])
    assert exact.times is not None and exact.trajectory is not None
    assert exact.trajectory.shape == (2, 16, 2)
    assert torch.allclose(exact.times, torch.tensor([0.3, 0.7], dtype=torch.float64))
    # The state saved at 0.3 is the flow of x0 to 0.3: integrate there on its own and compare.
    t0 = path.time_range[0]
    to_03 = RK4Solver(grid="custom", times=(t0, *np.linspace(t0, 0.3, 200)[1:-1].tolist(), 0.3))
    manual = to_03.integrate(field, x0, t0, 0.3, trajectory=False, generator=None)[0]
    torch.testing.assert_close(exact.trajectory[0], manual, rtol=1e-8, atol=1e-8)
    # A saved time off the grid is added to it (one more step) without changing the endpoint much.
    coarse = RK4Solver(steps=10).solve(field, x0)
    split = RK4Solver(steps=10).solve(field, x0, save_at=[0.33])
    assert split.nfe == coarse.nfe + 4
    assert float((split.samples - coarse.samples).abs().max()) < 1e-2


def test_save_at_outside_the_range_is_refused() -> None:
    field = oracle_field(MIXTURE, PATHS["condot"])
    with pytest.raises(ValueError, match="save_at"):
        EulerSolver(steps=4).solve(field, prior(PATHS["condot"], 2), save_at=[0.5, 0.2])
    with pytest.raises(ValueError, match="inside the time range"):
        EulerSolver(steps=4).solve(field, prior(PATHS["condot"], 2), save_at=[1.5])


@pytest.mark.parametrize("cls", [EulerSolver, MidpointSolver, HeunSolver, RK4Solver])
def test_in_place_loop_matches_the_autograd_loop_and_leaves_x0_alone(cls: type[Solver]) -> None:
    path = PATHS["vp"]
    field = oracle_field(MIXTURE, path)
    x0 = prior(path, 32)
    before = x0.clone()
    solver = cls(steps=7)
    with torch.no_grad():
        fast = solver.solve(field, x0, trajectory=True)
    x_req = x0.clone().requires_grad_(True)
    with torch.enable_grad():
        slow = solver.solve(field, x_req, trajectory=True)
        # Differentiable: d(sum of samples)/d(x0) exists and is finite.
        (grad,) = torch.autograd.grad(slow.samples.sum(), x_req)
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(fast.samples, slow.samples.detach(), rtol=0, atol=1e-13)
    assert fast.trajectory is not None and slow.trajectory is not None
    torch.testing.assert_close(fast.trajectory, slow.trajectory.detach(), rtol=0, atol=1e-13)
    assert torch.equal(x0, before)
    # The recorded states are snapshots, not views of the state being updated.
    assert not torch.equal(fast.trajectory[1], fast.trajectory[-1])


def test_network_returning_its_input_is_safe() -> None:
    from flowkit import ModelField
    from flowkit_std import VelocityParameterization

    # u(x) = x: the flow is x0 * exp(t1 - t0).
    field = ModelField(lambda x, t: x, VelocityParameterization(), PATHS["condot"])
    x0 = prior(PATHS["condot"], 4)
    t0, t1 = PATHS["condot"].time_range
    out = RK4Solver(steps=50).solve(field, x0).samples
    torch.testing.assert_close(out, x0 * math.exp(t1 - t0), rtol=1e-7, atol=1e-12)
