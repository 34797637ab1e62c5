"""SDE samplers against the exact Gaussian-mixture oracle: marginals, the ODE limit, reproducibility."""

from __future__ import annotations

import pytest
import torch

import flowkit
from flowkit.path import GaussianPath
from flowkit.solver.noise import SampleNoise
from flowkit_std import (
    CondOTPath,
    EulerMaruyamaSolver,
    EulerSolver,
    GaussianMixture,
    HeunSolver,
    StochasticHeunSolver,
    VPPath,
    oracle_field,
)

MIXTURE = GaussianMixture()


def component_masses(mixture: GaussianMixture, x: torch.Tensor) -> torch.Tensor:
    """Fraction of points nearest to each component mean."""
    nearest = torch.cdist(x, mixture.means.to(x.dtype)).argmin(dim=1)
    return torch.bincount(nearest, minlength=mixture.num_components).to(torch.float64) / x.shape[0]


def exact_moments(mixture: GaussianMixture) -> tuple[torch.Tensor, torch.Tensor]:
    w, m, s = mixture.weights, mixture.means, mixture.stds
    mean = w @ m
    second = sum(w[k] * (torch.outer(m[k], m[k]) + s[k] ** 2 * torch.eye(2, dtype=torch.float64)) for k in range(3))
    return mean, second - torch.outer(mean, mean)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "solver"),
    [
        (VPPath(), EulerMaruyamaSolver(steps=200, sigma="beta", sigma_scale=1.0)),
        (VPPath(), StochasticHeunSolver(steps=60, sigma="diffusion", sigma_scale=1.0)),
        (CondOTPath(), StochasticHeunSolver(steps=60, sigma="beta", sigma_scale=2.0)),
        (CondOTPath(), EulerMaruyamaSolver(steps=200, sigma="constant", sigma_scale=0.5)),
    ],
    ids=["vp-em-beta", "vp-heun-diffusion", "condot-heun-2beta", "condot-em-constant"],
)
def test_sde_samples_match_the_mixture(path: GaussianPath, solver: flowkit.Solver) -> None:
    field = oracle_field(MIXTURE, path)
    n = 4000
    out = flowkit.sample(field, solver, n, (2,), seed=3, dtype=torch.float64)
    x = out.samples
    mean, cov = exact_moments(MIXTURE)
    # Tolerances: about 4 standard errors of the Monte Carlo estimate plus a small discretisation bias.
    assert float((x.mean(0) - mean).abs().max()) < 4 * float(cov.diag().max().sqrt()) / n**0.5 + 0.02
    torch.testing.assert_close(torch.cov(x.T), cov, rtol=0.0, atol=0.15)
    masses = component_masses(MIXTURE, x)
    assert float((masses - MIXTURE.weights).abs().max()) < 0.03, masses


def test_zero_noise_is_the_ode() -> None:
    path = VPPath()
    field = oracle_field(MIXTURE, path)
    x0 = path.sample_prior(32, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    em = EulerMaruyamaSolver(steps=20, sigma="zero").solve(field, x0, generator=torch.Generator().manual_seed(1))
    euler = EulerSolver(steps=20).solve(field, x0)
    torch.testing.assert_close(em.samples, euler.samples, rtol=1e-12, atol=1e-12)
    heun = StochasticHeunSolver(steps=20, sigma="constant", sigma_scale=0.0).solve(field, x0)
    torch.testing.assert_close(heun.samples, HeunSolver(steps=20).solve(field, x0).samples, rtol=1e-12, atol=1e-12)
    assert em.nfe == 20 and heun.nfe == 40


def test_one_evaluation_per_drift_and_optional_denoising() -> None:
    path = VPPath()
    field = oracle_field(MIXTURE, path)
    x0 = path.sample_prior(8, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    plain = EulerMaruyamaSolver(steps=10).solve(field, x0, generator=torch.Generator().manual_seed(5))
    denoised = EulerMaruyamaSolver(steps=10, denoise=True).solve(
        field, x0, generator=torch.Generator().manual_seed(5), trajectory=True
    )
    assert plain.nfe == 10 and denoised.nfe == 11
    t1 = path.time_range[1]
    torch.testing.assert_close(denoised.samples, MIXTURE.marginal_data(path, plain.samples, t1))
    assert denoised.trajectory is not None
    torch.testing.assert_close(denoised.trajectory[-1], denoised.samples)


def test_reproducible_for_a_seed() -> None:
    path = CondOTPath()
    field = oracle_field(MIXTURE, path)
    solver = StochasticHeunSolver(steps=10, sigma_scale=1.0)
    x0 = path.sample_prior(16, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = solver.solve(field, x0, generator=torch.Generator().manual_seed(7)).samples
    b = solver.solve(field, x0, generator=torch.Generator().manual_seed(7)).samples
    c = solver.solve(field, x0, generator=torch.Generator().manual_seed(8)).samples
    assert torch.equal(a, b) and not torch.equal(a, c)
    noise = SampleNoise.range(11, 0, 16)
    assert torch.equal(solver.solve(field, x0, noise=noise).samples, solver.solve(field, x0, noise=noise).samples)


@pytest.mark.parametrize(
    "solver",
    [StochasticHeunSolver(steps=8, sigma_scale=1.0), EulerSolver(steps=8)],
    ids=["sde_heun", "euler"],
)
def test_a_sample_does_not_depend_on_the_batch(solver: flowkit.Solver) -> None:
    path = VPPath()
    field = oracle_field(MIXTURE, path)

    def draw(num: int, batch: int) -> torch.Tensor:
        return flowkit.sample(field, solver, num, (2,), batch_size=batch, seed=42, dtype=torch.float64).samples

    reference = draw(100, 100)
    torch.testing.assert_close(draw(100, 7), reference, rtol=0, atol=1e-12)
    torch.testing.assert_close(draw(50, 100), reference[:50], rtol=0, atol=1e-12)
    torch.testing.assert_close(draw(50, 13), reference[:50], rtol=0, atol=1e-12)
    assert not torch.equal(draw(50, 50), flowkit.sample(field, solver, 50, (2,), seed=43, dtype=torch.float64).samples)


def test_sample_noise_streams_are_standard_normal_and_keyed_by_index() -> None:
    z = SampleNoise.range(0, 0, 20000).normal(1, (3,), dtype=torch.float64)
    assert abs(float(z.mean())) < 0.02
    assert abs(float(z.var()) - 1.0) < 0.03
    assert abs(float((z[:, 0] * z[:, 1]).mean())) < 0.03
    part = SampleNoise(0, [5, 19999]).normal(1, (3,), dtype=torch.float64)
    assert torch.equal(part, z[[5, 19999]])
    assert not torch.equal(SampleNoise.range(0, 0, 4).normal(2, (3,)), SampleNoise.range(0, 0, 4).normal(1, (3,)))
    with pytest.raises(ValueError, match="rows"):
        EulerMaruyamaSolver(steps=2).solve(
            oracle_field(MIXTURE, VPPath()), torch.zeros(3, 2, dtype=torch.float64), noise=SampleNoise.range(0, 0, 2)
        )
