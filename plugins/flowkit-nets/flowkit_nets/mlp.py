"""A multilayer perceptron with a sinusoidal time embedding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from flowkit import Model
from flowkit_nets.embedding import sinusoidal_embedding

ACTIVATIONS: dict[str, type[nn.Module]] = {"silu": nn.SiLU, "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


class MLP(Model):
    """An MLP on the flattened state, with the time embedding concatenated to its input.

    ``out = Linear(act(... act(Linear([x, emb(t)]))))`` with ``depth`` hidden layers of ``width``
    units. Any event shape works: images ``(C, H, W)`` are flattened on the way in and the output
    is reshaped to the state's shape. With ``num_classes`` set, a learned class embedding (index
    ``num_classes`` is the "no label" token, used when ``condition`` is ``None``) is added to the
    time features.

    Raises:
        ValueError: (in ``forward``) if a condition is given to a model built without classes.
    """

    name: ClassVar[str] = "mlp"

    class Params(Model.Params):
        width: int = Field(256, gt=0, description="Units per hidden layer.")
        depth: int = Field(4, gt=0, description="Number of hidden layers.")
        time_dim: int = Field(64, gt=0, multiple_of=2, description="Size of the sinusoidal time embedding.")
        activation: Literal["silu", "relu", "gelu", "tanh"] = "silu"

    params: Params

    def __init__(self, event_shape: Sequence[int], *, num_classes: int | None = None, **params: Any) -> None:
        super().__init__(event_shape, num_classes=num_classes, **params)
        p = self.params
        dim = math.prod(self.event_shape)
        act = ACTIVATIONS[p.activation]
        layers: list[nn.Module] = [nn.Linear(dim + p.time_dim, p.width), act()]
        for _ in range(p.depth - 1):
            layers += [nn.Linear(p.width, p.width), act()]
        layers.append(nn.Linear(p.width, dim))
        self.net = nn.Sequential(*layers)
        self.label_embedding = nn.Embedding(num_classes + 1, p.time_dim) if num_classes else None

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        emb = sinusoidal_embedding(t.to(x.dtype), self.params.time_dim)
        if self.label_embedding is None and condition is not None:
            raise ValueError("model 'mlp' was built without classes (num_classes is None) but got a condition")
        if self.label_embedding is not None:
            if condition is None:
                condition = torch.full((x.shape[0],), self.label_embedding.num_embeddings - 1, device=x.device)
            emb = emb + self.label_embedding(condition.long())
        h = torch.cat([x.reshape(x.shape[0], -1), emb], dim=1)
        out: Tensor = self.net(h)
        return out.reshape(x.shape)
