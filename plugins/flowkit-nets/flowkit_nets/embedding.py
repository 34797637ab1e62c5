"""Time embeddings."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def sinusoidal_embedding(t: Tensor, dim: int, max_period: float = 10000.0, scale: float = 1000.0) -> Tensor:
    """Sinusoidal features of times ``t`` (``(B,)``, in ``[0, 1]``): shape ``(B, dim)``.

    Feature ``k < dim/2`` is ``cos(scale t / max_period^(k / (dim/2)))`` and feature ``dim/2 + k``
    is the matching sine; ``scale`` stretches ``[0, 1]`` so that the fastest frequency resolves
    small time differences. ``dim`` must be even.
    """
    if dim % 2:
        raise ValueError(f"embedding dimension must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=t.dtype, device=t.device) / half)
    args = (scale * t)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)
