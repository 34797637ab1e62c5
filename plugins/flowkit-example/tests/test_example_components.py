"""What the ``example`` plugin's components promise, checked against exact answers."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError
from torch import Tensor

from flowkit import ModelField
from flowkit.testing import ExactVelocityNetwork, GaussianTarget, ReferencePath, reference_parameterization
from flowkit_example import PinwheelDataset, RalstonSolver, TrigPath


def test_trig_path_is_variance_preserving_with_the_right_derivatives() -> None:
    path = TrigPath()
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    torch.testing.assert_close(path.alpha(t) ** 2 + path.beta(t) ** 2, torch.ones_like(t))
    half = torch.tensor([0.5], dtype=torch.float64)
    torch.testing.assert_close(path.alpha(half), torch.tensor([math.sqrt(0.5)], dtype=torch.float64))
    torch.testing.assert_close(path.d_alpha(half), torch.tensor([math.pi / 2 * math.sqrt(0.5)], dtype=torch.float64))
    assert path.time_range == (1e-4, 1.0 - 1e-4)
    assert path.prior_std() == 1.0


def test_trig_path_inverts_its_log_snr_in_closed_form() -> None:
    path = TrigPath()
    t = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    torch.testing.assert_close(path.time_at_log_snr(path.log_snr(t)), t)
    far = torch.tensor([-100.0, 100.0], dtype=torch.float64)
    assert path.time_at_log_snr(far).tolist() == list(path.time_range)


def test_trig_path_rejects_a_margin_outside_its_range() -> None:
    with pytest.raises(ValidationError, match="t_eps"):
        TrigPath(t_eps=0.5)


def _exact_field() -> tuple[ModelField, GaussianTarget, ReferencePath]:
    target, path = GaussianTarget(), ReferencePath()
    return ModelField(ExactVelocityNetwork(target), reference_parameterization("velocity"), path), target, path


def test_ralston_converges_at_second_order_with_two_evaluations_per_step() -> None:
    _, target, path = _exact_field()
    t0, t1 = path.time_range
    x0 = path.sample_prior(64, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    exact = target.flow(x0, t0, t1)
    errors = []
    for steps in (20, 40, 80):
        field, _, _ = _exact_field()
        result = RalstonSolver(steps=steps).solve(field, x0)
        assert result.nfe == 2 * steps
        errors.append(float((result.samples - exact).abs().max()))
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(1.8 < order < 2.2 for order in orders), orders


def test_ralston_integrates_a_velocity_quadratic_in_time_exactly() -> None:
    # dx/dt = 3 t^2 has x(t1) = x(t0) + t1^3 - t0^3; Ralston's weights (1/4 at t, 3/4 at t + 2h/3)
    # integrate quadratics exactly, so one step is enough. The midpoint rule would be off by h^3 / 4.
    def velocity(x: Tensor, t: Tensor) -> Tensor:
        return 3.0 * t[:, None] ** 2 * torch.ones_like(x)

    path = ReferencePath()
    t0, t1 = path.time_range
    field = ModelField(velocity, reference_parameterization("velocity"), path)
    x0 = torch.zeros(4, 2, dtype=torch.float64)
    result = RalstonSolver(steps=1).solve(field, x0)
    torch.testing.assert_close(result.samples, torch.full_like(x0, t1**3 - t0**3), rtol=0, atol=1e-14)
    assert result.nfe == 2


def test_pinwheel_arms_are_rotations_of_each_other() -> None:
    data = PinwheelDataset(arms=4)
    points, labels = data.sample_labeled(20000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert data.num_classes == 4
    counts = torch.bincount(labels, minlength=4)
    assert int(counts.min()) > 4600
    # the mean direction of arm k is that of arm 0 turned by 2 pi k / 4
    means = torch.stack([points[labels == k].mean(dim=0) for k in range(4)])
    angles = torch.atan2(means[:, 1], means[:, 0])
    turned = torch.remainder(angles - angles[0], 2 * math.pi)
    torch.testing.assert_close(
        turned, torch.tensor([0.0, 0.5, 1.0, 1.5], dtype=torch.float64) * math.pi, atol=0.03, rtol=0
    )


def test_pinwheel_scale_and_straight_arms() -> None:
    data = PinwheelDataset(arms=2, rate=0.0, tangential_std=0.0, radial_std=0.0, scale=3.0)
    points, labels = data.sample_labeled(100, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    # with no spread and no turning, arm 0 is the point (3, 0) and arm 1 the point (-3, 0)
    expected = torch.where(labels[:, None] == 0, torch.tensor([3.0, 0.0]), torch.tensor([-3.0, 0.0])).double()
    torch.testing.assert_close(points, expected, atol=1e-12, rtol=0)
    assert torch.equal(data.sample(100, generator=torch.Generator().manual_seed(1), dtype=torch.float64), points)
