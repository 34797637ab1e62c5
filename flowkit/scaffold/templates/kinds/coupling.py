"""The ``$name`` coupling: how data points and prior draws are paired in a batch."""

from __future__ import annotations

from typing import ClassVar

import torch
from flowkit import Coupling
from torch import Tensor


class ${camel}Coupling(Coupling):
    """Pairs data and noise by their order along a random direction (a cheap minibatch OT).

    Both batches are projected on one direction drawn uniformly on the sphere (from
    ``generator``), and the k-th smallest data projection is paired with the k-th smallest noise
    projection. For one-dimensional data this is the exact optimal transport pairing; in more
    dimensions it straightens the pairs at a cost of ``O(B log B)``. Returns ``(z, noise[perm])``.
    """

    name: ClassVar[str] = "$name"

    def pair(self, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        if z.shape != noise.shape:
            raise ValueError(f"z and noise must have the same shape, got {tuple(z.shape)} and {tuple(noise.shape)}")
        flat_z = z.reshape(z.shape[0], -1)
        flat_noise = noise.reshape(noise.shape[0], -1)
        device = generator.device if generator is not None else z.device
        direction = torch.randn(flat_z.shape[1], generator=generator, dtype=torch.float64, device=device)
        direction = (direction / direction.norm()).to(device=z.device, dtype=z.dtype)
        z_order = torch.argsort(flat_z @ direction)
        noise_order = torch.argsort(flat_noise @ direction)
        perm = torch.empty_like(z_order)
        perm[z_order] = noise_order
        return z, noise[perm]
