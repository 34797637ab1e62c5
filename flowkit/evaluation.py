"""Evaluation: compare samples with fresh data, and report the data-vs-data noise floor."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from flowkit.data import Dataset
from flowkit.errors import IncompatibleComponentsError
from flowkit.field import Field
from flowkit.metric import Metric


@dataclass
class MetricResult:
    """A metric's value on samples vs data, and on two independent data sets of the same size.

    ``noise_floor`` is what a perfect model would score with this many samples; ``ratio`` is
    ``value / noise_floor`` (1 is as good as it gets).
    """

    name: str
    value: float
    noise_floor: float
    params: dict[str, Any]
    num_samples: int
    seed: int

    @property
    def ratio(self) -> float:
        return self.value / self.noise_floor if self.noise_floor > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "noise_floor": self.noise_floor,
            "ratio": self.ratio,
            "params": self.params,
            "num_samples": self.num_samples,
            "seed": self.seed,
        }


def evaluate(
    samples: Tensor,
    dataset: Dataset,
    metrics: list[Metric],
    *,
    seed: int = 0,
    field: Field | None = None,
) -> dict[str, MetricResult]:
    """Score ``samples`` against fresh data with every metric, plus each metric's noise floor.

    Two independent data sets of ``len(samples)`` points are drawn from a generator seeded with
    ``seed``: the first is the reference for the samples, and the floor compares the two.

    A metric with ``needs_field`` (e.g. ``nll``) gets the model's ``field``; its floor is
    :meth:`Metric.ideal_value` when the dataset knows it (e.g. the exact entropy of a mixture),
    else its value on the second data set.

    Raises:
        IncompatibleComponentsError: a metric needs the field and none was given.
    """
    n = samples.shape[0]
    data_gen = torch.Generator().manual_seed(seed + 1)
    reference = dataset.sample(n, generator=data_gen, dtype=samples.dtype)
    second = dataset.sample(n, generator=data_gen, dtype=samples.dtype)
    results: dict[str, MetricResult] = {}
    for metric in metrics:
        if metric.needs_field:
            if field is None:
                raise IncompatibleComponentsError(f"metric {metric.name!r} needs the model's field")
            compute: Any = metric.compute
            value = compute(samples, reference, generator=torch.Generator().manual_seed(seed + 2), field=field)
            ideal = metric.ideal_value(reference, dataset)
            floor = (
                ideal
                if ideal is not None
                else compute(samples, second, generator=torch.Generator().manual_seed(seed + 2), field=field)
            )
        else:
            value = metric.compute(samples, reference, generator=torch.Generator().manual_seed(seed + 2))
            floor = metric.compute(second, reference, generator=torch.Generator().manual_seed(seed + 2))
        key = metric.name if metric.name not in results else f"{metric.name}_{len(results)}"
        results[key] = MetricResult(metric.name, value, floor, metric.params.model_dump(), n, seed)
    return results
