"""Geometry, masses and reproducibility of the toy datasets."""

from __future__ import annotations

import math

import pydantic
import pytest
import torch

import flowkit_data.plugin
from flowkit import Dataset, PluginHost
from flowkit_data import (
    CheckerboardDataset,
    CirclesDataset,
    DigitsDataset,
    EightGaussiansDataset,
    MoonsDataset,
    SpiralsDataset,
    TwoPointsDataset,
)

N = 20_000


def draw(dataset: Dataset, n: int = N, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return dataset.sample(n, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_plugin_registers_every_dataset() -> None:
    host = PluginHost(autoload=False)
    host.register(flowkit_data.plugin, "data")
    names = set(host.registry.names("dataset"))
    assert {"checkerboard", "moons", "8gaussians", "circles", "spirals", "two_points", "digits", "file"} <= names


def test_checkerboard_points_lie_on_dark_squares_evenly() -> None:
    x = draw(CheckerboardDataset())
    assert x.shape == (N, 2)
    assert bool((x >= -2).all()) and bool((x < 2).all())
    col, row = torch.floor(x[:, 0]), torch.floor(x[:, 1])
    assert bool(((col + row).remainder(2) == 0).all())
    squares = (col + 2) * 4 + (row + 2)
    counts = torch.bincount(squares.long(), minlength=16)
    dark = counts[counts > 0]
    assert dark.numel() == 8
    assert bool(((dark / N - 1 / 8).abs() < 0.015).all())


def test_moons_lie_on_two_half_circles() -> None:
    x = draw(MoonsDataset(noise=0.0))
    upper_dist = (x - torch.tensor([-0.5, -0.25], dtype=x.dtype)).norm(dim=1)
    lower_dist = (x - torch.tensor([0.5, 0.25], dtype=x.dtype)).norm(dim=1)
    upper = ((upper_dist - 1).abs() < 1e-9) & (x[:, 1] >= -0.25 - 1e-9)
    lower = ((lower_dist - 1).abs() < 1e-9) & (x[:, 1] <= 0.25 + 1e-9)
    assert bool((upper | lower).all())
    assert abs(upper.double().mean().item() - 0.5) < 0.015


def test_eight_gaussians_centres_and_masses() -> None:
    x = draw(EightGaussiansDataset(radius=3.0, std=0.01))
    angles = 2 * math.pi * torch.arange(8, dtype=x.dtype) / 8
    centres = 3.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    dist = torch.cdist(x, centres)
    nearest = dist.argmin(dim=1)
    assert float(dist.min(dim=1).values.max()) < 0.06
    counts = torch.bincount(nearest, minlength=8).double() / N
    assert bool(((counts - 1 / 8).abs() < 0.015).all())


def test_circles_radii_and_masses() -> None:
    x = draw(CirclesDataset(radius=2.0, factor=0.25, noise=0.0, scale=3.0))
    r = x.norm(dim=1)
    outer = (r - 6.0).abs() < 1e-9
    inner = (r - 1.5).abs() < 1e-9
    assert bool((outer | inner).all())
    assert abs(inner.double().mean().item() - 0.5) < 0.015
    # angles are uniform: each quadrant holds a quarter of the points
    quadrant = (x[:, 0] > 0).long() * 2 + (x[:, 1] > 0).long()
    assert bool(((torch.bincount(quadrant, minlength=4).double() / N - 0.25).abs() < 0.015).all())


def test_circles_noise_spreads_radii() -> None:
    r = draw(CirclesDataset(radius=2.0, factor=0.5, noise=0.1)).norm(dim=1)
    outer = r[r > 1.5]
    assert abs(outer.mean().item() - 2.0) < 0.02
    assert 0.07 < outer.std().item() < 0.13


@pytest.mark.parametrize("turns", [0.75, 1.5, 2.0])
def test_spirals_have_two_arms(turns: float) -> None:
    radius = 2.0
    x = draw(SpiralsDataset(radius=radius, turns=turns, noise=0.0))
    r = x.norm(dim=1)
    assert float(r.max()) <= radius + 1e-9
    theta = r / radius * 2 * math.pi * turns  # the arm parameter a point at radius r must have
    polar = torch.atan2(x[:, 1], x[:, 0])

    def on_arm(offset: float) -> torch.Tensor:
        diff = torch.remainder(polar - theta - offset + math.pi, 2 * math.pi) - math.pi
        return (diff.abs() < 1e-6) | (r < 1e-6)

    arm0, arm1 = on_arm(0.0), on_arm(math.pi)
    assert bool((arm0 | arm1).all())
    away = r > 0.05
    assert abs(arm0[away].double().mean().item() - 0.5) < 0.015
    # the arms are distinct curves: a point of one arm is not on the other (away from the centre)
    assert not bool((arm0 & arm1)[away].any())


def test_two_points_values_and_masses() -> None:
    x = draw(TwoPointsDataset())
    assert x.shape == (N, 1)
    assert x.dtype == torch.float64
    assert TwoPointsDataset().event_shape == (1,)
    assert set(x.flatten().tolist()) == {-2.0, 2.0}
    assert abs((x > 0).double().mean().item() - 0.5) < 0.015
    assert set(draw(TwoPointsDataset(location=0.5), n=100).flatten().tolist()) == {-0.5, 0.5}


TOYS: list[Dataset] = [
    CheckerboardDataset(),
    MoonsDataset(),
    EightGaussiansDataset(),
    CirclesDataset(),
    SpiralsDataset(),
    TwoPointsDataset(),
]


@pytest.mark.parametrize("dataset", [*TOYS, DigitsDataset()], ids=lambda d: d.name)
def test_seeded_draws_are_reproducible(dataset: Dataset) -> None:
    a = draw(dataset, n=256, seed=7, dtype=torch.float32)
    b = draw(dataset, n=256, seed=7, dtype=torch.float32)
    c = draw(dataset, n=256, seed=8, dtype=torch.float32)
    assert a.dtype == torch.float32
    assert a.shape == (256, *dataset.event_shape)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("dataset", TOYS, ids=lambda d: d.name)
def test_toys_are_unlabelled(dataset: Dataset) -> None:
    points, labels = dataset.sample_labeled(8, generator=torch.Generator().manual_seed(0))
    assert labels is None and dataset.num_classes is None
    assert torch.equal(points, dataset.sample(8, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (CirclesDataset, {"factor": 1.0}),
        (CirclesDataset, {"noise": -0.1}),
        (SpiralsDataset, {"turns": 0}),
        (TwoPointsDataset, {"location": -2}),
        (TwoPointsDataset, {"scale": 2}),
    ],
)
def test_bad_params_are_refused(cls: type[Dataset], params: dict[str, float]) -> None:
    with pytest.raises(pydantic.ValidationError):
        cls(**params)
