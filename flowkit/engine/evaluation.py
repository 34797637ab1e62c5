"""Evaluation: compare samples with fresh data, and report the data-vs-data noise floor."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from flowkit.data import Dataset
from flowkit.errors import DivergedError, IncompatibleComponentsError
from flowkit.field import ModelField
from flowkit.metric import Metric

DEFAULT_REFERENCES = 5
"""Independent data sets a metric and its noise floor are averaged over unless a spec says otherwise."""

DEFAULT_MAX_POINTS = 50_000
"""Samples a metric sees at most (the first ones: samples are independent, so a prefix is a fair
subsample); it bounds the memory of evaluation, which holds ``2 * references`` data sets of that size."""


@dataclass
class MetricResult:
    """A metric's value on samples vs data, and its noise floor on independent data of the same size.

    ``value`` is the metric between the samples and a fresh data set, averaged over
    ``references`` independent data sets; ``noise_floor`` is what a perfect model would score: the
    metric between two independent data sets of that size, averaged the same way, with
    ``noise_floor_std`` the spread of its single draws (``0`` when there is one, or when the floor
    is exact). ``ratio`` is ``value / noise_floor`` (about 1 is as good as it gets).
    """

    name: str
    value: float
    noise_floor: float
    params: dict[str, Any]
    num_samples: int
    seed: int
    references: int = 1
    noise_floor_std: float = 0.0
    drawn: int | None = None
    """How many samples there were when only the first ``num_samples`` of them were scored."""

    @property
    def ratio(self) -> float:
        return self.value / self.noise_floor if self.noise_floor > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "noise_floor": self.noise_floor,
            "noise_floor_std": self.noise_floor_std,
            "ratio": self.ratio,
            "params": self.params,
            "num_samples": self.num_samples,
            "references": self.references,
            "seed": self.seed,
            "drawn": self.drawn if self.drawn is not None else self.num_samples,
        }


def evaluate(
    samples: Tensor,
    dataset: Dataset,
    metrics: list[Metric],
    *,
    seed: int = 0,
    field: ModelField | None = None,
    references: int = DEFAULT_REFERENCES,
    max_points: int = DEFAULT_MAX_POINTS,
) -> dict[str, MetricResult]:
    """Score ``samples`` against fresh data with every metric, plus each metric's noise floor.

    ``references`` pairs of independent data sets of ``len(samples)`` points are drawn from a
    generator seeded with ``seed + 1`` (reference 1, second 1, reference 2, ...). A metric's
    value is the mean over the pairs of ``metric(samples, reference_k)`` and its floor the mean of
    ``metric(second_k, reference_k)``. A sample-based distance between two finite sets
    fluctuates with the sets: on a mixture, the share of points per mode alone moves a
    2000-point sliced W2 by a third of its size, so one floor draw can be several times too low
    or too high. Averaging over several references makes the ratio a stable number.

    A metric with ``needs_field`` (e.g. ``nll``) gets the model's ``field`` and is computed once,
    on the first reference; its floor is :meth:`Metric.ideal_value` when the dataset knows it
    (e.g. the exact entropy of a mixture), else its value on the first second set.

    At most ``max_points`` samples are scored (the first ones; ``drawn`` in each result says how
    many there were), so memory stays bounded for any number of samples. Metrics without
    ``needs_field`` run without autograd.

    Raises:
        IncompatibleComponentsError: a metric needs the field and none was given.
        ValueError: ``references`` or ``max_points`` is below 1.
        DivergedError: the samples are not all finite (diverged training or an unstable solver:
            such samples are never scored).
    """
    if references < 1:
        raise ValueError(f"references must be at least 1, got {references}")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    flat = samples.reshape(samples.shape[0], -1)
    bad = int((~torch.isfinite(flat).all(dim=1)).sum())
    if bad:
        raise DivergedError(
            f"{bad} of {samples.shape[0]} samples hold NaN or infinite values (did training diverge, or is the "
            "solver unstable with these steps?); they are not scored"
        )
    drawn = samples.shape[0]
    samples = samples[:max_points]
    n = samples.shape[0]
    data_gen = torch.Generator().manual_seed(seed + 1)
    pairs: list[tuple[Tensor, Tensor]] = []
    for _ in range(references):
        reference = dataset.sample(n, generator=data_gen, dtype=samples.dtype)
        second = dataset.sample(n, generator=data_gen, dtype=samples.dtype)
        pairs.append((reference, second))
    results: dict[str, MetricResult] = {}
    for metric in metrics:
        used = 1
        floor_std = 0.0
        if metric.needs_field:
            if field is None:
                raise IncompatibleComponentsError(f"metric {metric.name!r} needs the model's field")
            compute: Any = metric.compute
            reference, second = pairs[0]
            value = compute(samples, reference, generator=torch.Generator().manual_seed(seed + 2), field=field)
            ideal = metric.ideal_value(reference, dataset)
            floor = (
                ideal
                if ideal is not None
                else compute(samples, second, generator=torch.Generator().manual_seed(seed + 2), field=field)
            )
        else:
            values = []
            floors = []
            with torch.no_grad():
                for reference, second in pairs:
                    # The same projection/subsampling seed for value and floor, so they differ by data only.
                    gen_v, gen_f = torch.Generator().manual_seed(seed + 2), torch.Generator().manual_seed(seed + 2)
                    values.append(metric.compute(samples, reference, generator=gen_v))
                    floors.append(metric.compute(second, reference, generator=gen_f))
            used = len(pairs)
            value = statistics.fmean(values)
            floor = statistics.fmean(floors)
            floor_std = statistics.stdev(floors) if used > 1 else 0.0
        key = metric.name if metric.name not in results else f"{metric.name}_{len(results)}"
        results[key] = MetricResult(
            metric.name,
            value,
            floor,
            metric.params.model_dump(),
            n,
            seed,
            references=used,
            noise_floor_std=floor_std,
            drawn=drawn if drawn > n else None,
        )
    return results
