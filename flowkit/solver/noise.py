"""Per-sample random streams: a sample's noise depends only on ``(seed, its global index, stream)``.

Drawing noise for a batch from one ``torch.Generator`` ties every sample's noise to the batch it
happened to be in: change the batch size or the number of samples and every sample changes. A
:class:`SampleNoise` instead derives each number from a counter-based hash of
``(seed, stream, sample index, element index)``, so sample ``i`` gets the same prior draw and the
same SDE increments whether it is drawn alone, in a batch of 7 or in a batch of 10,000, on any
device.

The hash is SplitMix64's finaliser applied to 64-bit integer tensors (wrapping arithmetic);
uniforms take the top 53 bits and standard normals use the Box-Muller transform. The numbers are
good for Monte Carlo and SDE sampling, not for cryptography.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from flowkit.path import GaussianPath, ProbabilityPath

_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def _srl(x: Tensor, shift: int) -> Tensor:
    """Logical right shift of int64 values (as if they were unsigned)."""
    return (x >> shift) & ((1 << (64 - shift)) - 1)


def _mix(x: Tensor) -> Tensor:
    """SplitMix64's finaliser on an int64 tensor (wrapping arithmetic)."""
    x = x ^ _srl(x, 30)
    x = x * _signed(_MUL1)
    x = x ^ _srl(x, 27)
    x = x * _signed(_MUL2)
    return x ^ _srl(x, 31)


def _mix_int(x: int) -> int:
    x &= _MASK64
    x ^= x >> 30
    x = (x * _MUL1) & _MASK64
    x ^= x >> 27
    x = (x * _MUL2) & _MASK64
    return x ^ (x >> 31)


class SampleNoise:
    """Counter-based standard normals for a batch of samples with known global indices.

    Args:
        seed: the run's seed.
        indices: the global index of every sample in the batch, shape ``(B,)`` (integers).

    ``normal(stream, event_shape)`` returns a ``(B, *event_shape)`` tensor of independent standard
    normals; the row of sample ``i`` depends only on ``(seed, stream, i)``. Streams separate the
    uses: by convention stream 0 is the prior draw and stream ``k + 1`` is the Brownian increment
    of SDE step ``k``. :meth:`subset` keeps the streams of some rows.
    """

    def __init__(self, seed: int, indices: Tensor | Sequence[int]) -> None:
        idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
        if idx.numel() > 0 and int(idx.min()) < 0:
            raise ValueError("sample indices must be non-negative")
        self.seed = int(seed)
        self.indices = idx.cpu()
        self._seed_key = _signed(_mix_int(_mix_int(self.seed) + _GOLDEN))

    @classmethod
    def range(cls, seed: int, start: int, count: int) -> SampleNoise:
        """Noise for samples ``start, ..., start + count - 1``."""
        if start < 0 or count < 0:
            raise ValueError(f"start and count must be non-negative, got {start} and {count}")
        return cls(seed, torch.arange(start, start + count, dtype=torch.int64))

    def __len__(self) -> int:
        return int(self.indices.numel())

    def subset(self, rows: Tensor | slice) -> SampleNoise:
        """The streams of the selected rows (same global indices, same numbers)."""
        return SampleNoise(self.seed, self.indices[rows])

    def bits(self, stream: int, count: int, device: torch.device | str = "cpu") -> Tensor:
        """``(B, count)`` int64 hashes of ``(seed, stream, index, element)``."""
        if stream < 0:
            raise ValueError(f"stream must be non-negative, got {stream}")
        key = _signed(_mix_int((self._seed_key & _MASK64) ^ _mix_int(stream * _GOLDEN + 1)))
        idx = self.indices.to(device)
        row = _mix(idx * _signed(_GOLDEN) + key)
        col = torch.arange(count, dtype=torch.int64, device=device) * _signed(_MUL2)
        return _mix(_mix(row[:, None] + col[None, :]) ^ key)

    def uniform(self, stream: int, count: int, device: torch.device | str = "cpu") -> Tensor:
        """``(B, count)`` float64 uniforms in the open interval ``(0, 1)``."""
        top = _srl(self.bits(stream, count, device), 11).to(torch.float64)
        return (top + 0.5) * 2.0**-53

    def normal(
        self,
        stream: int,
        event_shape: Sequence[int],
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> Tensor:
        """``(B, *event_shape)`` independent standard normals (Box-Muller on two uniforms per number)."""
        d = math.prod(event_shape)
        u = self.uniform(stream, 2 * d, device)
        radius = torch.sqrt(-2.0 * torch.log(u[:, :d]))
        z = radius * torch.cos((2.0 * math.pi) * u[:, d:])
        return z.to(dtype).reshape(len(self), *event_shape)


def prior_from_noise(
    path: ProbabilityPath,
    noise: SampleNoise,
    event_shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> Tensor:
    """Prior draws ``x0 ~ p_0`` whose row ``i`` depends only on ``(noise.seed, noise.indices[i])``.

    A :class:`~flowkit.path.GaussianPath` that keeps the base prior gets ``beta_0 * normal(stream 0)``;
    any other path draws each row with :meth:`ProbabilityPath.sample_prior` from its own generator,
    seeded from the row's stream-0 hash. Shape ``(len(noise), *event_shape)``.
    """
    if isinstance(path, GaussianPath) and type(path).sample_prior is GaussianPath.sample_prior:
        return path.prior_std() * noise.normal(0, event_shape, dtype=dtype, device=device)
    seeds = _srl(noise.bits(0, 1)[:, 0], 1).tolist()
    rows = [
        path.sample_prior(1, event_shape, generator=torch.Generator().manual_seed(int(s)), dtype=dtype) for s in seeds
    ]
    if not rows:
        return torch.empty((0, *event_shape), dtype=dtype, device=device)
    return torch.cat(rows).to(device)
