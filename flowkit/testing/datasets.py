"""Conformance check of datasets: :func:`check_dataset`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from flowkit.data import Dataset
from flowkit.testing.core import DTYPES, Checker, one_thread, seeded


@one_thread
def check_dataset(cls: type[Dataset], params: Mapping[str, Any] | None = None) -> None:
    """Check a :class:`~flowkit.data.Dataset` subclass.

    Rules: the component rules; ``event_shape`` is a non-empty tuple of positive ints;
    ``sample(n)`` gives ``(n, *event_shape)`` float32 by default and float64 when asked, on the
    CPU, finite; the same seeded generator gives the same points and another seed other points;
    ``num_classes`` is ``None`` or a positive int and ``sample_labeled`` returns ``None`` labels for
    unlabelled data, else ``(n,)`` ``torch.long`` labels in ``[0, num_classes)``.

    A dataset lives on the CPU and its event shape is its own, so the probes here are the dtypes
    and two batch sizes rather than :func:`~flowkit.testing.core.probes`.

    Raises:
        ConformanceError: naming the dataset and the rule it broke.
    """
    ck = Checker(cls)
    dataset = ck.start(Dataset, cls, params)
    shape = ck.call("event_shape", lambda: dataset.event_shape)
    ck.expect(
        isinstance(shape, tuple) and len(shape) > 0 and all(isinstance(d, int) and d > 0 for d in shape),
        "event_shape",
        f"event_shape must be a non-empty tuple of positive ints, got {shape!r}",
    )
    cpu = torch.device("cpu")
    for n in (1, 7):
        default = ck.call("sample", dataset.sample, n, generator=seeded(1))
        ck.tensor(f"sample({n}) with the default dtype", default, (n, *shape), torch.float32, cpu)
        for dtype in DTYPES:
            points = ck.call("sample", dataset.sample, n, generator=seeded(1), dtype=dtype)
            ck.tensor(f"sample({n}, dtype={dtype})", points, (n, *shape), dtype, cpu)
    a = dataset.sample(64, generator=seeded(2))
    b = dataset.sample(64, generator=seeded(2))
    c = dataset.sample(64, generator=seeded(3))
    ck.expect(torch.equal(a, b), "reproducibility", "sample gives different points for the same seed")
    ck.expect(not torch.equal(a, c), "reproducibility", "sample gives the same points for different seeds")
    classes = ck.call("num_classes", lambda: dataset.num_classes)
    ck.expect(
        classes is None or (isinstance(classes, int) and classes > 0),
        "num_classes",
        f"num_classes must be None or a positive int, got {classes!r}",
    )
    out = ck.call("sample_labeled", dataset.sample_labeled, 9, generator=seeded(4))
    ck.expect(isinstance(out, tuple) and len(out) == 2, "sample_labeled", "sample_labeled must return (points, labels)")
    ck.tensor("sample_labeled(9) points", out[0], (9, *shape), torch.float32, cpu)
    labels = out[1]
    if classes is None:
        ck.expect(labels is None, "sample_labeled", "an unlabelled dataset (num_classes None) returned labels")
    else:
        ck.tensor("sample_labeled(9) labels", labels, (9,), torch.long, cpu)
        ck.expect(
            bool(((labels >= 0) & (labels < classes)).all()),
            "sample_labeled",
            f"labels must lie in [0, {classes}), got min {int(labels.min())} and max {int(labels.max())}",
        )
