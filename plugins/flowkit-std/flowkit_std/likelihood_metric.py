"""The ``nll`` metric: the model's negative log-likelihood of held-out data."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor

from flowkit import IncompatibleComponentsError, Metric, ModelField, log_likelihood


class NegativeLogLikelihood(Metric):
    """Negative log-likelihood of the reference data under the model's probability-flow ODE (lower is better).

    ``-mean log p(x)`` over the reference points, in ``bits_per_dim`` (default), ``nats_per_dim`` or
    ``nats`` per point, computed with :func:`flowkit.likelihood.log_likelihood` (exact divergence, or
    Hutchinson's estimator with ``probes`` probes for large dimensions). The generated samples are
    not used. The noise floor is the data's exact entropy when the dataset has a ``log_prob`` method
    (e.g. the ``gmm`` dataset), else the model's value on an independent data set.
    """

    name: ClassVar[str] = "nll"
    needs_field: ClassVar[bool] = True

    class Params(Metric.Params):
        unit: Literal["bits_per_dim", "nats_per_dim", "nats"] = Field("bits_per_dim", description="Unit of the result.")
        divergence: Literal["exact", "hutchinson"] = Field("exact", description="How the divergence is computed.")
        probes: int = Field(8, ge=2, description="Hutchinson probes.")
        steps: int = Field(100, gt=0, description="RK4 steps of the reverse ODE.")
        max_points: int = Field(2000, gt=0, description="Reference points used (the first ones).")
        batch_size: int = Field(500, gt=0, description="Points integrated at once.")

    params: Params

    def _scale(self, dims: int) -> float:
        if self.params.unit == "bits_per_dim":
            return 1.0 / (dims * math.log(2.0))
        if self.params.unit == "nats_per_dim":
            return 1.0 / dims
        return 1.0

    def compute(
        self,
        samples: Tensor,
        reference: Tensor,
        *,
        generator: torch.Generator | None = None,
        field: ModelField | None = None,
    ) -> float:
        """``-mean log p(reference)`` in the chosen unit.

        Raises:
            IncompatibleComponentsError: no field was given.
        """
        if field is None:
            raise IncompatibleComponentsError("metric 'nll' needs the model's field")
        p = self.params
        points = reference[: p.max_points]
        total = 0.0
        for start in range(0, points.shape[0], p.batch_size):
            chunk = points[start : start + p.batch_size]
            result = log_likelihood(
                field, chunk, steps=p.steps, divergence=p.divergence, probes=p.probes, generator=generator
            )
            total += float(result.log_prob.sum())
        return -total / points.shape[0] * self._scale(points[0].numel())

    def ideal_value(self, reference: Tensor, dataset: object) -> float | None:
        log_prob = getattr(dataset, "log_prob", None)
        if not callable(log_prob):
            return None
        points = reference[: self.params.max_points]
        return -float(log_prob(points).mean()) * self._scale(points[0].numel())
