"""The SDE side of the solver room: Brownian increments drawn per sample or from a generator."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from flowkit.solver.noise import SampleNoise


def gaussian_increment(
    shape: Sequence[int],
    stream: int,
    like: Tensor,
    *,
    generator: torch.Generator | None,
    noise: SampleNoise | None,
) -> Tensor:
    """Standard normals of ``shape`` for SDE step ``stream - 1`` (stream 0 is the prior's).

    From ``noise`` (per-sample, batch-independent) when given, else from ``generator`` (drawn on
    the CPU and moved to ``like``'s device so a seeded CPU generator works for every device).
    """
    if noise is not None:
        return noise.normal(stream, tuple(shape[1:]), dtype=like.dtype, device=like.device)
    draw = torch.randn(tuple(shape), generator=generator, dtype=like.dtype, device="cpu")
    return draw.to(like.device)
