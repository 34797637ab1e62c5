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
