"""Shared fixtures of the std plugin's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import Tensor

from flowkit.path import PathSample, ProbabilityPath


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run the test with one intra-op thread (small tensors: no hand-off cost; bitwise repeatable)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class VelocityOnlyPath(ProbabilityPath):
    """A non-Gaussian path that only provides the velocity target (for incompatibility errors)."""

    name = "velocity_only"

    def sample_prior(self, n: int, event_shape: Any, **kwargs: Any) -> Tensor:
        return torch.zeros(n, *event_shape)

    def prior_log_prob(self, x: Tensor) -> Tensor:
        return torch.zeros(x.shape[0])

    def sample(self, z: Tensor, t: Tensor, noise: Tensor) -> PathSample:
        return PathSample(x=z, t=t, z=z, noise=noise, path=self)

    def conditional_target(self, quantity: str, sample: PathSample) -> Tensor:
        return sample.z - sample.noise


@pytest.fixture
def velocity_only_path() -> ProbabilityPath:
    """A :class:`VelocityOnlyPath`."""
    return VelocityOnlyPath()
