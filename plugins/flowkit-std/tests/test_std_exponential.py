"""The exponential-integrator multistep solver against the exact Gaussian-mixture oracle (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowkit import ModelField
from flowkit.errors import IncompatibleComponentsError
from flowkit.path import GaussianPath
from flowkit.testing import VelocityOnlyPath
from flowkit_std import (
    CondOTPath,
    EulerSolver,
    ExponentialSolver,
    GaussianMixture,
    MidpointSolver,
    RK4Solver,
    VelocityParameterization,
    VEPath,
    VPPath,
    oracle_field,
)

WIDE = GaussianMixture()
# Narrow components: data concentrated near a few points, the regime of real diffusion models.
NARROW = GaussianMixture(stds=0.05)


def prior(path: GaussianPath, n: int, seed: int = 0) -> torch.Tensor:
    return path.sample_prior(n, (2,), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def endpoint_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out - ref).norm(dim=1).mean())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "mixture", "solver", "beats_midpoint"),
    [
        (VPPath(), NARROW, ExponentialSolver(steps=10, grid="logsnr"), True),
        (VPPath(), NARROW, ExponentialSolver(steps=10), True),
        (CondOTPath(), WIDE, ExponentialSolver(steps=10), True),
        # Narrow data on CondOT: the last lambda-step (t = 0.9 to 1 - 1e-5) is long and taken at
        # order 1; midpoint's evaluation at t = 0.95 wins there (0.024 against 0.036).
        (CondOTPath(), NARROW, ExponentialSolver(steps=10), False),
    ],
    ids=["vp-narrow-logsnr", "vp-narrow", "condot-wide", "condot-narrow"],
)
def test_ten_evaluations_beat_midpoint_and_rk4(
    path: GaussianPath, mixture: GaussianMixture, solver: ExponentialSolver, beats_midpoint: bool
) -> None:
    field = oracle_field(mixture, path)
    x0 = prior(path, 200)
    ref = RK4Solver(steps=400).solve(field, x0).samples
    ours = solver.solve(field, x0)
    assert ours.nfe == 10
    midpoint = MidpointSolver(steps=5).solve(field, x0)
    rk4 = RK4Solver(steps=2).solve(field, x0)  # 8 NFE: RK4 cannot spend exactly 10
    assert midpoint.nfe == 10 and rk4.nfe == 8
    err = endpoint_error(ours.samples, ref)
    assert err < endpoint_error(rk4.samples, ref)
    if beats_midpoint:
        assert err < endpoint_error(midpoint.samples, ref)


def test_first_order_is_euler_on_condot() -> None:
    # DDIM (the first-order exponential step) coincides with Euler on the CondOT path.
    path = CondOTPath()
    field = oracle_field(WIDE, path)
    x0 = prior(path, 32)
    ddim = ExponentialSolver(steps=12, order=1, corrector=False).solve(field, x0).samples
    euler = EulerSolver(steps=12).solve(field, x0).samples
    torch.testing.assert_close(ddim, euler, rtol=1e-10, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("order", "corrector", "expected"),
    [(1, False, 1.0), (2, False, 2.0), (1, True, 2.0), (2, True, 3.0), (3, False, 3.0)],
)
def test_order_of_convergence(order: int, corrector: bool, expected: float) -> None:
    path = VPPath()
    field = oracle_field(WIDE, path)
    x0 = prior(path, 32)
    ref = RK4Solver(steps=640).solve(field, x0).samples
    steps = (80, 160, 320)
    solvers = [ExponentialSolver(steps=n, order=order, corrector=corrector, grid="logsnr") for n in steps]
    errors = [float((s.solve(field, x0).samples - ref).norm(dim=1).median()) for s in solvers]
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    # On the log-SNR grid (uniform-t grids end with a lambda-step that does not shrink on VP) the
    # predictor has its order and the corrector adds one.
    assert abs(slope - expected) < 0.35, f"order {order} corrector {corrector}: slope {slope:.2f}, errors {errors}"


@pytest.mark.slow
@pytest.mark.parametrize("path", [CondOTPath(), VPPath(), VEPath(sigma_max=8.0)], ids=["condot", "vp", "ve"])
def test_every_parameterization_gives_the_same_solve(path: GaussianPath) -> None:
    x0 = prior(path, 64)
    solver = ExponentialSolver(steps=40)
    results = {
        q: solver.solve(oracle_field(WIDE, path, predicts=q), x0).samples
        for q in ("velocity", "score", "epsilon", "data")
    }
    for q in ("score", "epsilon", "data"):
        torch.testing.assert_close(results[q], results["velocity"], rtol=1e-7, atol=1e-7)
    ref = RK4Solver(steps=400).solve(oracle_field(WIDE, path), x0).samples
    assert endpoint_error(results["data"], ref) < 2e-2


def test_in_place_and_autograd_loops_agree() -> None:
    path = VPPath()
    field = oracle_field(WIDE, path)
    x0 = prior(path, 16)
    before = x0.clone()
    solver = ExponentialSolver(steps=9, order=3, grid="logsnr")
    with torch.no_grad():
        fast = solver.solve(field, x0, trajectory=True)
    with torch.enable_grad():
        slow = solver.solve(field, x0.clone().requires_grad_(True), trajectory=True)
    assert fast.nfe == 9
    assert fast.trajectory is not None and slow.trajectory is not None
    torch.testing.assert_close(fast.trajectory, slow.trajectory.detach(), rtol=0, atol=1e-12)
    assert torch.equal(x0, before)


def test_needs_a_gaussian_path() -> None:
    field = ModelField(lambda x, t: -x, VelocityParameterization(), VelocityOnlyPath())
    with pytest.raises(IncompatibleComponentsError, match="needs a Gaussian path"):
        ExponentialSolver(steps=4, grid="uniform").solve(field, torch.zeros(3, 2, dtype=torch.float64))
