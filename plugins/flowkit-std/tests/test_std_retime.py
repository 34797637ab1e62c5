"""Swapping a model's schedule after training, checked exactly on the oracle."""

from __future__ import annotations

import pytest
import torch

from flowkit import GaussianPath, IncompatibleComponentsError, ModelField, ProbabilityPath
from flowkit.path import QUANTITIES
from flowkit_std import (
    CondOTPath,
    GaussianMixture,
    MidpointSolver,
    PolynomialPath,
    VelocityParameterization,
    VEPath,
    VPPath,
    oracle_field,
    retime,
)
from flowkit_std.retime import RetimedNetwork, log_snr_range

F64 = torch.float64
MIXTURE = GaussianMixture(weights=[0.3, 0.7], means=[[-1.5, 0.5], [1.0, -0.5]], stds=[0.4, 0.6])

# (trained-on path A, target path B): B's log-SNR range lies inside A's
PAIRS: dict[str, tuple[GaussianPath, GaussianPath]] = {
    "condot->vp_linear": (CondOTPath(), VPPath()),
    "condot->vp_cosine": (CondOTPath(), VPPath(schedule="cosine", t_eps=1e-3)),
    "vp_cosine->ve": (VPPath(schedule="cosine"), VEPath(sigma_min=0.01, sigma_max=10.0)),
    "poly->condot": (PolynomialPath(exponent=2.0), CondOTPath(t_eps=1e-3)),
    "vp_linear->poly": (VPPath(), PolynomialPath(exponent=0.5, t_eps=0.05)),
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("pair", list(PAIRS), ids=list(PAIRS))
@pytest.mark.parametrize("predicts", QUANTITIES)
def test_retimed_oracle_equals_the_oracle_on_the_new_path(pair: str, predicts: str) -> None:
    source_path, target_path = PAIRS[pair]
    retimed = retime(oracle_field(MIXTURE, source_path, predicts), target_path)
    assert retimed.path is target_path and retimed.parameterization.predicts == predicts
    t0, t1 = target_path.time_range
    r = torch.linspace(t0, t1, 97, dtype=F64)
    x = 2.0 * torch.randn(97, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    for q in QUANTITIES:
        exact = MIXTURE.marginal(target_path, q, x, r)
        err = ((retimed.predict(q, x, r) - exact).abs() / (1.0 + exact.abs())).max()
        assert float(err) < 1e-8, (q, float(err))


def test_sampling_a_retimed_model_matches_sampling_the_new_path() -> None:
    source, target = CondOTPath(), VPPath(schedule="cosine", t_eps=1e-3)
    x0 = target.sample_prior(256, (2,), generator=torch.Generator().manual_seed(1), dtype=F64)
    original = oracle_field(MIXTURE, source)
    retimed = retime(original, target)
    solver = MidpointSolver(steps=40)
    got = solver.solve(retimed, x0)
    want = solver.solve(oracle_field(MIXTURE, target), x0)
    assert torch.allclose(got.samples, want.samples, rtol=1e-8, atol=1e-8)
    assert got.nfe == 80 and original.nfe == 80


def test_snr_ranges_are_checked() -> None:
    source, target = VPPath(), CondOTPath()  # condot reaches higher and lower SNR than VP-linear
    lo_a, hi_a = log_snr_range(source)
    lo_b, hi_b = log_snr_range(target)
    assert lo_b < lo_a and hi_b > hi_a
    with pytest.raises(ValueError, match="beyond the range"):
        retime(oracle_field(MIXTURE, source), target)
    clamped = retime(oracle_field(MIXTURE, source), target, strict=False)
    r = torch.tensor([0.0, target.time_range[0], 0.5, target.time_range[1], 1.0], dtype=F64)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(2), dtype=F64)
    for q in QUANTITIES:
        assert bool(torch.isfinite(clamped.predict(q, x, r)).all())
    # inside both ranges the clamped model is still exact
    mid = torch.full((5,), 0.5, dtype=F64)
    exact = MIXTURE.marginal_velocity(target, x, mid)
    assert torch.allclose(clamped.velocity(x, mid), exact, rtol=1e-8, atol=1e-8)


def test_retime_needs_gaussian_paths(velocity_only_path: ProbabilityPath) -> None:
    field = oracle_field(MIXTURE, CondOTPath())
    with pytest.raises(IncompatibleComponentsError, match="needs a Gaussian path"):
        retime(field, velocity_only_path)  # type: ignore[arg-type]
    network = RetimedNetwork(field, VPPath())
    assert network.quantity == "velocity"
    plain = ModelField(lambda x, t: x, VelocityParameterization(), VPPath())
    assert retime(plain, VPPath()).parameterization.predicts == "velocity"
