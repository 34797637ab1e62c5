"""A small U-Net for images ``(C, H, W)``, with time and optional class conditioning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from flowkit import IncompatibleComponentsError, Model, ModelContext
from flowkit_nets.embedding import sinusoidal_embedding


class ResBlock(nn.Module):
    """``x + F(x, emb)``: two 3x3 convolutions with GroupNorm and SiLU; the embedding scales and shifts
    the second normalisation (``norm(h) * (1 + scale) + shift``). A 1x1 convolution matches channels on
    the skip path when ``in_channels != out_channels``."""

    def __init__(self, in_channels: int, out_channels: int, emb_dim: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip: nn.Module = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        out: Tensor = self.skip(x) + h
        return out


class SelfAttention(nn.Module):
    """Multi-head self-attention over the ``H * W`` positions, with a residual connection."""

    def __init__(self, channels: int, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = (part.transpose(-1, -2) for part in qkv.unbind(dim=1))  # each (B, heads, HW, C / heads)
        out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(-1, -2).reshape(b, c, h, w)
        result: Tensor = x + self.proj(out)
        return result


class Downsample(nn.Module):
    """Halve the resolution with a stride-2 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.conv(x)
        return out


class Upsample(nn.Module):
    """Double the resolution (nearest neighbour), then a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return out


class UNet(Model):
    """A U-Net for images ``(C, H, W)``: the output has the input's shape.

    Levels: level ``i`` works at resolution ``(H, W) / 2^i`` with ``channels * channel_mult[i]``
    channels and ``num_res_blocks`` residual blocks; between levels a stride-2 convolution halves
    the resolution on the way down and a nearest-neighbour upsampling doubles it on the way up,
    with skip connections from every block of the way down. The middle (lowest resolution) runs
    residual block, self-attention (if ``attention``), residual block. So ``H`` and ``W`` must be
    divisible by ``2^(len(channel_mult) - 1)``.

    Time ``t`` (``(B,)`` in ``[0, 1]``) enters through sinusoidal features of size ``time_dim`` and
    a two-layer MLP to an embedding of ``4 * channels`` that scales and shifts every residual
    block. With ``num_classes = K`` a learned class embedding (``K + 1`` rows) is added to it;
    ``condition`` holds labels in ``[0, K]``, ``K`` being the "no label" token used when
    ``condition`` is ``None`` and for classifier-free guidance.

    Raises:
        IncompatibleComponentsError: (at construction) if ``event_shape`` is not ``(C, H, W)`` or
            ``H``/``W`` cannot be halved ``len(channel_mult) - 1`` times.
        ValueError: (in ``forward``) if a condition is given to a model built without classes.
    """

    name: ClassVar[str] = "unet"

    class Params(Model.Params):
        channels: int = Field(32, gt=0, description="Channels of the first (full-resolution) level.")
        channel_mult: tuple[Annotated[int, Field(gt=0)], ...] = Field(
            (1, 2), min_length=1, description="Channels of each level as multiples of channels; one level per entry."
        )
        num_res_blocks: int = Field(1, ge=1, description="Residual blocks per level (on the way down).")
        attention: bool = Field(True, description="Self-attention in the middle, at the lowest resolution.")
        attention_heads: int = Field(4, gt=0, description="Heads of the self-attention.")
        dropout: float = Field(0.0, ge=0, lt=1, description="Dropout inside the residual blocks.")
        groups: int = Field(8, gt=0, description="GroupNorm groups; must divide every level's channel count.")
        time_dim: int = Field(64, gt=0, multiple_of=2, description="Size of the sinusoidal time features.")

        @model_validator(mode="after")
        def _divisible(self) -> UNet.Params:
            widths = sorted({self.channels * m for m in self.channel_mult})
            bad = [w for w in widths if w % self.groups]
            if bad:
                raise ValueError(f"groups {self.groups} must divide every level's channel count, not {bad}")
            lowest = self.channels * self.channel_mult[-1]
            if self.attention and lowest % self.attention_heads:
                raise ValueError(
                    f"attention_heads {self.attention_heads} must divide the lowest level's {lowest} channels"
                )
            return self

    params: Params

    def __init__(self, event_shape: Sequence[int], *, num_classes: int | None = None, **params: Any) -> None:
        super().__init__(event_shape, num_classes=num_classes, **params)
        p = self.params
        problem = self.shape_problem(self.event_shape, len(p.channel_mult))
        if problem:
            raise IncompatibleComponentsError(f"model 'unet': {problem}")
        if num_classes is not None and num_classes <= 0:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        in_channels = self.event_shape[0]
        emb_dim = 4 * p.channels
        self.time_mlp = nn.Sequential(nn.Linear(p.time_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label_embedding = nn.Embedding(num_classes + 1, emb_dim) if num_classes else None
        self.conv_in = nn.Conv2d(in_channels, p.channels, 3, padding=1)

        def block(cin: int, cout: int) -> ResBlock:
            return ResBlock(cin, cout, emb_dim, p.groups, p.dropout)

        levels = len(p.channel_mult)
        self.down = nn.ModuleList()
        skip_channels = [p.channels]
        ch = p.channels
        for level, mult in enumerate(p.channel_mult):
            for _ in range(p.num_res_blocks):
                self.down.append(block(ch, p.channels * mult))
                ch = p.channels * mult
                skip_channels.append(ch)
            if level < levels - 1:
                self.down.append(Downsample(ch))
                skip_channels.append(ch)
        self.mid1 = block(ch, ch)
        self.mid_attention: nn.Module = SelfAttention(ch, p.attention_heads, p.groups) if p.attention else nn.Identity()
        self.mid2 = block(ch, ch)
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(p.channel_mult))):
            for _ in range(p.num_res_blocks + 1):
                self.up.append(block(ch + skip_channels.pop(), p.channels * mult))
                ch = p.channels * mult
            if level > 0:
                self.up.append(Upsample(ch))
        self.norm_out = nn.GroupNorm(p.groups, ch)
        self.conv_out = nn.Conv2d(ch, in_channels, 3, padding=1)

    @staticmethod
    def shape_problem(event_shape: Sequence[int], levels: int) -> str | None:
        """Why a U-Net with ``levels`` levels cannot take ``event_shape``, or ``None`` if it can."""
        shape = tuple(event_shape)
        if len(shape) != 3:
            return f"needs images of shape (C, H, W), got event shape {shape}"
        factor = 2 ** (levels - 1)
        _, height, width = shape
        if height % factor or width % factor:
            return (
                f"spatial size {height}x{width} cannot be halved {levels - 1} times ({levels} levels in "
                f"channel_mult); use sizes divisible by {factor} or fewer levels"
            )
        return None

    @classmethod
    def from_context(cls, context: ModelContext, params: dict[str, Any]) -> Model:
        """Build for the run's data; a shape problem names the dataset."""
        try:
            return super().from_context(context, params)
        except IncompatibleComponentsError as exc:
            if context.dataset is None:
                raise
            raise IncompatibleComponentsError(f"{exc} (data from dataset {context.dataset.name!r})") from exc

    def embed(self, t: Tensor, condition: Tensor | None, dtype: torch.dtype) -> Tensor:
        """The ``(B, 4 * channels)`` embedding of times ``t`` and labels ``condition``."""
        emb: Tensor = self.time_mlp(sinusoidal_embedding(t.to(dtype), self.params.time_dim))
        if self.label_embedding is None:
            if condition is not None:
                raise ValueError("model 'unet' was built without classes (num_classes is None) but got a condition")
            return emb
        if condition is None:
            condition = torch.full((t.shape[0],), self.label_embedding.num_embeddings - 1, device=t.device)
        label: Tensor = self.label_embedding(condition.long())
        return emb + label

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        """Network output for images ``x`` ``(B, C, H, W)`` at times ``t`` ``(B,)``; shape and dtype of ``x``."""
        emb = self.embed(t, condition, x.dtype)
        h = self.conv_in(x)
        skips = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            skips.append(h)
        h = self.mid2(self.mid_attention(self.mid1(h, emb)), emb)
        for layer in self.up:
            h = layer(torch.cat([h, skips.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
        out: Tensor = self.conv_out(F.silu(self.norm_out(h)))
        return out
