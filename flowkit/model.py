"""Models: the networks ``(x, t[, condition]) -> output`` that a parameterization interprets."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor, nn

from flowkit.component import Component
from flowkit.data import Dataset
from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath


@dataclass(frozen=True)
class ModelContext:
    """What a model may need to know about the run it is built for."""

    event_shape: tuple[int, ...]
    num_classes: int | None = None
    dataset: Dataset | None = None
    path: ProbabilityPath | None = None
    parameterization: Parameterization | None = None


class Model(Component, nn.Module):
    """A network mapping states ``x`` (``(B, *event_shape)``) and times ``t`` (``(B,)``, in
    ``[0, 1]``) to an output of ``x``'s shape.

    Construct from Python as ``SomeModel(event_shape, **params)``; a run builds it with
    :meth:`from_context`, which a model that needs more of the run (e.g. the dataset) overrides.
    ``trainable = False`` marks models that serve a fixed field and need no training.
    """

    kind: ClassVar[str] = "model"
    trainable: ClassVar[bool] = True

    def __init__(self, event_shape: Sequence[int], *, num_classes: int | None = None, **params: Any) -> None:
        nn.Module.__init__(self)
        Component.__init__(self, **params)
        self.event_shape = tuple(int(s) for s in event_shape)
        self.num_classes = num_classes

    @classmethod
    def from_context(cls, context: ModelContext, params: dict[str, Any]) -> Model:
        """Build the model for a run described by ``context``."""
        return cls(context.event_shape, num_classes=context.num_classes, **params)

    @abstractmethod
    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        """Return the network output for states ``x`` at times ``t`` (optionally conditioned)."""

    __repr__ = nn.Module.__repr__
