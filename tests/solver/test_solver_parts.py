"""Core solver parts: increments, the caller's own starting points, the Gaussian algebra of the spine."""

from __future__ import annotations

import pytest
import torch

import flowkit
from flowkit import SampleNoise, gaussian_increment
from flowkit.testing import ReferencePath


def test_an_increment_asked_for_with_only_the_event_shape_is_refused() -> None:
    like = torch.zeros(4, 2)
    with pytest.raises(ValueError, match=r"whole shape \(batch, \*event_shape\) \(4, 2\), got \(2,\)"):
        gaussian_increment((2,), 1, like, generator=None, noise=SampleNoise.range(0, 0, 4))
    with pytest.raises(ValueError, match="whole shape"):
        gaussian_increment((2,), 1, like, generator=torch.Generator().manual_seed(0), noise=None)
    assert gaussian_increment((4, 2), 1, like, generator=None, noise=SampleNoise.range(0, 0, 4)).shape == (4, 2)


def test_d_log_snr_and_the_velocity_determinant_are_the_derivatives_they_claim() -> None:
    path = ReferencePath()
    t = torch.linspace(0.1, 0.9, 9, dtype=torch.float64)
    h = 1e-6
    numeric = (path.log_snr(t + h) - path.log_snr(t - h)) / (2 * h)
    torch.testing.assert_close(path.d_log_snr(t), numeric, rtol=1e-7, atol=1e-7)
    det = path.determinant("velocity", t)
    torch.testing.assert_close(det, path.alpha(t) * path.beta(t) * path.d_log_snr(t), rtol=1e-12, atol=1e-12)
    # the score's determinant is alpha / beta: the conversion to the score divides by it
    torch.testing.assert_close(path.determinant("score", t), path.alpha(t) / path.beta(t), rtol=1e-12, atol=1e-12)


def test_sample_starts_from_the_callers_own_noise() -> None:
    flowkit_std = pytest.importorskip("flowkit_std")
    from flowkit.testing import ExactVelocityNetwork, GaussianTarget, reference_parameterization

    path = ReferencePath()
    field = flowkit.ModelField(ExactVelocityNetwork(GaussianTarget()), reference_parameterization("velocity"), path)
    solver = flowkit_std.EulerSolver(steps=5)
    x0 = torch.randn(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    drawn = flowkit.sample(field, solver, 7, (2,), batch_size=3, dtype=torch.float64, x0=x0)
    with torch.no_grad():
        direct = solver.solve(field, x0).samples
    torch.testing.assert_close(drawn.samples, direct, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"x0 must have shape \(7, 2\)"):
        flowkit.sample(field, solver, 7, (2,), x0=x0[:3])


def test_solve_in_chunks_gives_the_whole_batch_and_counts_every_evaluation() -> None:
    flowkit_std = pytest.importorskip("flowkit_std")
    from flowkit.testing import ExactVelocityNetwork, GaussianTarget, reference_parameterization

    path = ReferencePath()
    field = flowkit.ModelField(ExactVelocityNetwork(GaussianTarget()), reference_parameterization("velocity"), path)
    x0 = torch.randn(10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = flowkit_std.MidpointSolver(steps=4).solve(field, x0, trajectory=True)
        chunked = flowkit_std.MidpointSolver(steps=4).solve(field, x0, trajectory=True, batch_size=4)
    torch.testing.assert_close(chunked.samples, whole.samples, rtol=1e-12, atol=1e-12)
    assert chunked.trajectory is not None and chunked.trajectory.shape == (5, 10, 2)
    assert whole.nfe == 8 and chunked.nfe == 24  # three chunks of four steps of two evaluations
    sde = flowkit_std.EulerMaruyamaSolver(steps=6, sigma="constant", sigma_scale=0.3)
    noise = SampleNoise.range(5, 0, 10)
    with torch.no_grad():
        one = sde.solve(field, x0, noise=noise).samples
        three = sde.solve(field, x0, noise=noise, batch_size=3).samples
    torch.testing.assert_close(three, one, rtol=1e-12, atol=1e-12)
