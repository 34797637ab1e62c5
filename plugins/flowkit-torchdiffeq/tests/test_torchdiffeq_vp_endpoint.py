"""Adaptive torchdiffeq methods must not step past the path's time range (VP is undefined beyond t_max)."""

from __future__ import annotations

import pytest
import torch

from flowkit_std import GaussianMixture, RK4Solver, VPPath, oracle_field
from flowkit_torchdiffeq import TorchDiffEqSolver

SHARP = GaussianMixture(weights=[0.5, 0.5], means=[[-2.0, 0.0], [2.0, 0.0]], stds=[0.05, 0.05])


@pytest.mark.parametrize("method", ["dopri5", "bosh3", "adaptive_heun"])
def test_adaptive_methods_reach_the_data_end_of_a_vp_path(method: str) -> None:
    field = oracle_field(SHARP, VPPath())
    x0 = VPPath().sample_prior(100, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    reference = RK4Solver(steps=400).solve(field, x0).samples
    solved = TorchDiffEqSolver(method=method, rtol=1e-6, atol=1e-6).solve(field, x0)
    assert torch.isfinite(solved.samples).all()
    assert (solved.samples - reference).norm(dim=1).mean() < 1e-2
