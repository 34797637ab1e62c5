"""A trained model seen as a time-dependent field: velocity, score, epsilon and data prediction.

:class:`ModelField` was called ``Field`` before; ``flowkit.Field`` and ``flowkit.field.Field`` remain as
deprecated aliases of it for this release (the old name collides with ``pydantic.Field``, which every
component's ``Params`` model uses).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath, Quantity, batch_times

Network = Callable[..., Tensor]


class ModelField:
    """Wraps ``network + parameterization + path`` so any solver can drive any model.

    ``network(x, t)`` (or ``network(x, t, condition)`` when ``condition`` is given) maps states
    ``(B, *event_shape)`` and times ``(B,)`` to an output of the state's shape; the
    parameterization says what that output is, and the path converts it to what a caller asks for.

    **Classifier-free guidance.** With a ``condition`` (e.g. class labels, ``(B,)``), a
    ``guidance_scale`` ``w != 1`` and the ``null_condition`` the network was trained with for
    "no label", the output is ``out_null + w (out_cond - out_null)``. Every conversion is affine
    in the output with an ``x`` term that does not depend on it, so guiding the raw output is the
    same as guiding the velocity, score, epsilon or data prediction: guidance works with every
    parameterization and solver. The two branches run as one batched call (counted as one
    evaluation).

    ``nfe`` counts network evaluations; solvers report the difference across a solve.
    """

    def __init__(
        self,
        network: Network,
        parameterization: Parameterization,
        path: ProbabilityPath,
        condition: Tensor | None = None,
        *,
        guidance_scale: float = 1.0,
        null_condition: Tensor | None = None,
    ) -> None:
        parameterization.check_path(path)
        self.network = network
        self.parameterization = parameterization
        self.path = path
        self.condition = condition
        self.guidance_scale = guidance_scale
        self.null_condition = null_condition
        self.nfe = 0

    @property
    def time_range(self) -> tuple[float, float]:
        """Where the field is finite: the path's ``time_range``."""
        return self.path.time_range

    def output(self, x: Tensor, t: Tensor | float) -> Tensor:
        """The raw network output at ``(x, t)``; counts one evaluation."""
        tt = batch_times(t, x)
        self.nfe += 1
        if self.condition is None:
            return self.network(x, tt)
        if self.guidance_scale == 1.0:
            return self.network(x, tt, self.condition)
        if self.null_condition is None:
            raise ValueError("classifier-free guidance needs the null condition (the 'no label' token)")
        both = self.network(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([self.condition, self.null_condition]))
        cond, null = both.chunk(2)
        return null + self.guidance_scale * (cond - null)

    def predict(self, quantity: Quantity, x: Tensor, t: Tensor | float) -> Tensor:
        """The model's prediction of ``quantity`` (``velocity``, ``score``, ``epsilon``, ``data``)."""
        tt = batch_times(t, x)
        return self.parameterization.to_quantity(self.output(x, tt), quantity, x, tt, self.path)

    def velocity(self, x: Tensor, t: Tensor | float) -> Tensor:
        """The marginal velocity ``u_t(x)``."""
        return self.predict("velocity", x, t)

    def score(self, x: Tensor, t: Tensor | float) -> Tensor:
        """The marginal score ``grad_x log p_t(x)``."""
        return self.predict("score", x, t)

    def epsilon(self, x: Tensor, t: Tensor | float) -> Tensor:
        """The expected noise ``E[eps | x_t = x]``."""
        return self.predict("epsilon", x, t)

    def data(self, x: Tensor, t: Tensor | float) -> Tensor:
        """The expected data point ``E[z | x_t = x]``."""
        return self.predict("data", x, t)

    def __call__(self, x: Tensor, t: Tensor | float) -> Tensor:
        """Shorthand for :meth:`velocity` (the ODE right-hand side)."""
        return self.velocity(x, t)


Field = ModelField
"""Deprecated alias of :class:`ModelField` (the name before it stopped colliding with ``pydantic.Field``)."""
