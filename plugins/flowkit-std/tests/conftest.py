"""Shared fixtures of the std plugin's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from flowkit.path import ProbabilityPath
from flowkit.testing import VelocityOnlyPath


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run the test with one intra-op thread (small tensors: no hand-off cost; bitwise repeatable)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def velocity_only_path() -> ProbabilityPath:
    """A non-Gaussian path that only provides the velocity target (for incompatibility errors):
    :class:`flowkit.testing.VelocityOnlyPath`."""
    return VelocityOnlyPath()
