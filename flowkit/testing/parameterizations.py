"""Conformance check of parameterizations: :func:`check_parameterization`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from flowkit.parameterization import Parameterization
from flowkit.path import QUANTITIES
from flowkit.testing.core import DEFAULT_EVENT_SHAPES, Checker, one_thread, probes, rms
from flowkit.testing.reference import ReferencePath


@one_thread
def check_parameterization(
    cls: type[Parameterization],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
) -> None:
    """Check a :class:`~flowkit.parameterization.Parameterization` subclass.

    Rules: the component rules; ``predicts`` is a known quantity; it accepts
    :class:`~flowkit.testing.ReferencePath` (a Gaussian path provides every quantity);
    ``prediction(output, x, t)`` and ``to_quantity(output, q, x, t, path)`` for every quantity keep
    the state's shape, dtype and device and are finite at both ends of the path's time range;
    ``to_quantity`` of ``predicts`` is the prediction itself, and of any other quantity is the
    path's conversion of the prediction.

    Raises:
        ConformanceError: naming the parameterization and the rule it broke.
    """
    ck = Checker(cls)
    param = ck.start(Parameterization, cls, params)
    ck.expect(
        cls.predicts in QUANTITIES, "predicts", f"predicts {cls.predicts!r} is not one of {', '.join(QUANTITIES)}"
    )
    path = ReferencePath()
    ck.call("check_path on a Gaussian path", param.check_path, path)
    t0, t1 = path.time_range
    n = 4
    for probe in probes(event_shapes):
        dtype, tag = probe.dtype, probe.tag
        x = probe.randn(n, 1)
        output = probe.randn(n, 2)
        t = torch.tensor([t0, 0.3, 0.7, t1], dtype=dtype, device=probe.device)
        pred = ck.probed(f"prediction{tag}", ck.call("prediction", param.prediction, output, x, t), probe, n)
        for q in QUANTITIES:
            got = ck.call(f"to_quantity {q!r}", param.to_quantity, output, q, x, t, path)
            ck.probed(f"to_quantity({q!r}){tag}", got, probe, n)
            want = pred if q == cls.predicts else path.convert(pred, cls.predicts, q, x, t)
            tol = 1e-5 if dtype == torch.float32 else 1e-10
            ck.close(
                f"to_quantity({q!r}){tag} vs the path's conversion of the prediction",
                got,
                want,
                rtol=tol,
                atol=tol * (1.0 + rms(want)),
            )
