"""The ``$name`` network: ``(x, t[, labels]) -> output`` of ``x``'s shape."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from flowkit import Model
from pydantic import Field
from torch import Tensor, nn


class ${camel}Model(Model):
    """A residual MLP on the flattened state with Fourier features of the time.

    The time features are ``sin(2^k pi t)`` and ``cos(2^k pi t)`` for ``k < frequencies``; with
    ``num_classes`` set, a learned label embedding (index ``num_classes`` is "no label") is added
    to them. Each of the ``blocks`` residual blocks is ``h + Linear(SiLU(Linear(LayerNorm(h))))``.
    """

    name: ClassVar[str] = "$name"

    class Params(Model.Params):
        width: int = Field(128, gt=0, description="Units of the hidden layers.")
        blocks: int = Field(2, gt=0, description="Number of residual blocks.")
        frequencies: int = Field(6, gt=0, description="Number of sine/cosine pairs of time features.")

    params: Params
    freqs: Tensor

    def __init__(self, event_shape: Sequence[int], *, num_classes: int | None = None, **params: Any) -> None:
        super().__init__(event_shape, num_classes=num_classes, **params)
        p = self.params
        dim = math.prod(self.event_shape)
        features = 2 * p.frequencies
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(p.frequencies, dtype=torch.float32))
        self.inp = nn.Linear(dim + features, p.width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(p.width), nn.Linear(p.width, p.width), nn.SiLU(), nn.Linear(p.width, p.width))
            for _ in range(p.blocks)
        )
        self.out = nn.Linear(p.width, dim)
        self.labels = nn.Embedding(num_classes + 1, features) if num_classes else None

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        args = t.to(x.dtype)[:, None] * self.freqs.to(x.dtype)[None, :]
        emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
        if self.labels is not None:
            if condition is None:
                condition = torch.full((x.shape[0],), self.labels.num_embeddings - 1, device=x.device)
            emb = emb + self.labels(condition.long())
        h = self.inp(torch.cat([x.reshape(x.shape[0], -1), emb], dim=1))
        for block in self.blocks:
            h = h + block(h)
        out: Tensor = self.out(h)
        return out.reshape(x.shape)
