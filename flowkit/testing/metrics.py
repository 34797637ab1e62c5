"""Conformance check of metrics: :func:`check_metric`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from flowkit.field import ModelField
from flowkit.metric import Metric
from flowkit.testing.core import DTYPES, Checker, one_thread, seeded
from flowkit.testing.reference import GaussianTarget, ReferencePath, reference_parameterization


@one_thread
def check_metric(
    cls: type[Metric],
    params: Mapping[str, Any] | None = None,
    *,
    event_shape: Sequence[int] = (2,),
    zero_for_identical: bool = True,
    zero_tol: float = 1e-6,
) -> None:
    """Check a :class:`~flowkit.metric.Metric` subclass on samples of ``event_shape``.

    Rules: the component rules; ``compute`` returns a finite Python ``float`` for float32 and
    float64 inputs and for sample sets of different sizes; the same seeded generator gives the
    same value; a shifted distribution scores worse (higher) than a fresh draw of the same
    distribution; and, when ``zero_for_identical``, identical inputs score near 0: within
    ``zero_tol``, or within 5% of the shifted distribution's score (an unbiased estimator, such as
    a U-statistic, is off by ``O(1/N)`` even for identical inputs). A metric with ``needs_field``
    is given the exact field of ``N(0.5, 0.5^2)`` data, and the identical-inputs rule is skipped.

    Metrics take samples on the CPU, so the probes here are the dtypes (for one event shape)
    rather than :func:`~flowkit.testing.core.probes`.

    Raises:
        ConformanceError: naming the metric and the rule it broke.
    """
    ck = Checker(cls)
    metric = ck.start(Metric, cls, params)
    shape = tuple(event_shape)
    extra: dict[str, Any] = {}
    if metric.needs_field:
        # A metric of the model itself scores the reference data under the exact field of
        # N(0.5, 0.5^2) data: data closer to that distribution must score better.
        target = GaussianTarget()
        extra["field"] = ModelField(target.velocity, reference_parameterization("velocity"), ReferencePath())
        zero_for_identical = False

    def value(what: str, a: Tensor, b: Tensor, seed: int = 0) -> float:
        v = ck.call("compute", metric.compute, a, b, generator=seeded(seed), **extra)
        ck.expect(isinstance(v, float), "type", f"compute({what}) returned {type(v).__name__}, expected a float")
        ck.expect(math.isfinite(v), "finite", f"compute({what}) returned {v!r}")
        result: float = v
        return result

    for dtype in DTYPES:
        x = torch.randn((256, *shape), generator=seeded(1), dtype=dtype)
        fresh = torch.randn((384, *shape), generator=seeded(2), dtype=dtype)
        shifted = torch.randn((384, *shape), generator=seeded(3), dtype=dtype) + 3.0
        same = value(f"a fresh draw of the same distribution, sizes 256 and 384, {dtype}", x, fresh)
        far = value(f"a distribution shifted by 3, {dtype}", x, shifted)
        ck.expect(
            far > same,
            "ordering",
            f"a distribution shifted by 3 scores {far:.4g}, not worse than a fresh draw of the same one ({same:.4g})",
        )
        repeat = value("the same inputs again", x, fresh)
        ck.expect(same == repeat, "reproducibility", f"compute gives {same!r} then {repeat!r} for the same seed")
        if zero_for_identical:
            zero = value(f"identical inputs, {dtype}", x, x.clone())
            allowed = max(zero_tol, 0.05 * abs(far))
            ck.expect(
                abs(zero) <= allowed,
                "identical inputs",
                f"identical inputs score {zero:.3g}, expected 0 within {allowed:.3g} "
                "(pass zero_for_identical=False for a metric where that does not hold)",
            )
