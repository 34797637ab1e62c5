"""Exponential moving average (EMA) of a model's weights."""

from __future__ import annotations

import copy

import torch
from torch import nn

DEFAULT_EMA_DECAY = 0.999
"""The EMA decay used unless one is given: by :class:`~flowkit.engine.train.Trainer` and run specs."""


class EMA:
    """Keeps ``ema = decay_k * ema + (1 - decay_k) * weights`` after every optimiser step ``k``.

    The decay warms up as ``decay_k = min(decay, (1 + k) / (10 + k))`` so that a short run's EMA is
    not dominated by the random initial weights. Buffers (e.g. normalisation statistics) are
    copied, not averaged. ``module`` is a frozen copy of the model in eval mode, usable for
    sampling like the model itself.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    def current_decay(self) -> float:
        """The decay used by the next update."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights."""
        weight = 1.0 - self.current_decay()
        ema_params: list[torch.Tensor] = list(self.module.parameters())
        params = [p.detach() for p in model.parameters()]
        if ema_params:
            torch._foreach_lerp_(ema_params, params, weight)
        for b_ema, b in zip(self.module.buffers(), model.buffers(), strict=True):
            b_ema.copy_(b)
        self.updates += 1
