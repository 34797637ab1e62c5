"""Probability paths: the interpolation from the prior (t=0) to the data (t=1).

Time convention everywhere in flowkit: ``t = 0`` is the prior (noise), ``t = 1`` is the data.

Shapes: data and states are ``(B, *event_shape)``; times are ``(B,)`` (a scalar or 0-d tensor
is broadcast to the batch). Coefficients computed from ``t`` are reshaped to
``(B, 1, ..., 1)`` so they broadcast against the state.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, get_args

import torch
from torch import Tensor

from flowkit.component import Component

Quantity = Literal["velocity", "score", "epsilon", "data"]
"""What a network may predict, and what an objective may regress.

* ``velocity``: the marginal velocity ``u_t(x)`` of the probability path;
* ``score``: ``grad_x log p_t(x)``;
* ``epsilon``: the expected noise ``E[eps | x_t = x]``;
* ``data``: the expected data point ``E[z | x_t = x]``.
"""

QUANTITIES: tuple[Quantity, ...] = get_args(Quantity)


def check_quantity(quantity: str) -> Quantity:
    """Return ``quantity`` if it names a known quantity, else raise ``ValueError`` listing them."""
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; expected one of {', '.join(QUANTITIES)}")
    return quantity


def batch_times(t: Tensor | float, x: Tensor) -> Tensor:
    """Return ``t`` as a ``(B,)`` tensor on ``x``'s device and dtype (a scalar is broadcast)."""
    tt = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if tt.ndim == 0:
        return tt.expand(x.shape[0])
    if tt.shape != (x.shape[0],):
        raise ValueError(f"times must have shape ({x.shape[0]},) to match x, got {tuple(tt.shape)}")
    return tt


def expand_like(coef: Tensor, x: Tensor) -> Tensor:
    """Reshape a ``(B,)`` coefficient to ``(B, 1, ..., 1)`` so it broadcasts against ``x``."""
    return coef.reshape(coef.shape + (1,) * (x.ndim - coef.ndim))


@dataclass
class PathSample:
    """A draw ``x_t ~ p_t(. | z)`` together with what produced it.

    Attributes:
        x: the state ``x_t``, shape ``(B, *event_shape)``.
        t: the times, shape ``(B,)``.
        z: the data points the draw is conditioned on, shape ``(B, *event_shape)``.
        noise: the prior draws used, shape ``(B, *event_shape)``.
        path: the path that made the draw; it computes the conditional targets.
    """

    x: Tensor
    t: Tensor
    z: Tensor
    noise: Tensor
    path: ProbabilityPath
    _targets: dict[str, Tensor] = field(default_factory=dict, repr=False)

    def target(self, quantity: Quantity) -> Tensor:
        """The conditional target of ``quantity`` (e.g. ``u_t(x | z)`` for ``"velocity"``)."""
        if quantity not in self._targets:
            self._targets[quantity] = self.path.conditional_target(quantity, self)
        return self._targets[quantity]


class ProbabilityPath(Component):
    """A conditional probability path ``p_t(x | z)`` from the prior ``p_0`` to ``delta_z`` (or close).

    Contract:

    * ``sample_prior(n, event_shape)`` draws ``x_0 ~ p_0``; ``prior_log_prob(x)`` is its
      log-density, summed over the event dimensions (shape ``(B,)``, nats).
    * ``sample(z, t, noise)`` maps data ``z``, times ``t`` and prior draws ``noise`` to
      ``x_t ~ p_t(. | z)`` (a :class:`PathSample`); ``conditional_target`` gives the regression
      targets (at least the conditional velocity ``u_t(x_t | z)``).
    * ``time_range = (t_min, t_max)`` is the closed interval inside ``[0, 1]`` where the path and its
      conversions are finite. Objectives draw training times inside it and solvers integrate across it.
    """

    kind: ClassVar[str] = "path"
    quantities: ClassVar[tuple[str, ...]] = ("velocity",)
    """The conditional targets this path can give (and hence the quantities a model may predict)."""

    @property
    def time_range(self) -> tuple[float, float]:
        """The interval ``[t_min, t_max]`` where the path is numerically safe."""
        return (0.0, 1.0)

    @abstractmethod
    def sample_prior(
        self,
        n: int,
        event_shape: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> Tensor:
        """Draw ``n`` samples of the prior ``p_0``; shape ``(n, *event_shape)``."""

    @abstractmethod
    def prior_log_prob(self, x: Tensor) -> Tensor:
        """Log-density of the prior at ``x`` (``(B, *event_shape)``), summed per sample: ``(B,)``."""

    @abstractmethod
    def sample(self, z: Tensor, t: Tensor, noise: Tensor) -> PathSample:
        """Return ``x_t ~ p_t(. | z)`` built from ``noise ~ p_0`` (shapes as in the module docstring)."""

    @abstractmethod
    def conditional_target(self, quantity: Quantity, sample: PathSample) -> Tensor:
        """The conditional target of ``quantity`` at ``sample`` (raise ``IncompatibleComponentsError``
        for a quantity this path cannot give)."""
