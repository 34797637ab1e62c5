"""Conformance check of objectives: :func:`check_objective`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from flowkit.field import ModelField
from flowkit.objective import Objective
from flowkit.path import QUANTITIES
from flowkit.testing.core import DEFAULT_EVENT_SHAPES, Checker, one_thread, probes
from flowkit.testing.reference import ReferencePath, TinyNetwork, reference_parameterization


@one_thread
def check_objective(
    cls: type[Objective],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
) -> None:
    """Check an :class:`~flowkit.objective.Objective` subclass.

    The objective trains a :class:`~flowkit.testing.TinyNetwork` through a :class:`~flowkit.Field`
    on :class:`~flowkit.testing.ReferencePath`, once for each parameterization quantity. Rules:
    the component rules; ``loss`` returns a finite 0-d tensor of the batch's dtype and device; it
    reads the network through the field (``field.nfe`` grows); the same seeded generator gives the
    same loss; and ``loss.backward()`` gives finite gradients, not all zero, to the network's
    parameters.

    Raises:
        ConformanceError: naming the objective and the rule it broke.
    """
    ck = Checker(cls)
    objective = ck.start(Objective, cls, params)
    path = ReferencePath()
    n = 8
    for probe in probes(event_shapes):
        for quantity in QUANTITIES:
            tag = probe.tag_with(f"network predicts {quantity}")
            torch.manual_seed(0)
            net = TinyNetwork(probe.event_shape).to(device=probe.device, dtype=probe.dtype)
            field = ModelField(net, reference_parameterization(quantity), path)
            z = 0.5 + 0.5 * probe.randn(n, 1)
            noise = path.sample_prior(
                n, probe.event_shape, generator=probe.generator(2), dtype=probe.dtype, device=probe.device
            )
            loss = ck.call("loss", objective.loss, field, z, noise, generator=probe.generator(3))
            ck.tensor(f"loss{tag}", loss, (), probe.dtype, probe.device)
            ck.expect(field.nfe > 0, "field", f"loss{tag} never evaluated the network through the field")
            first = loss.detach()
            again = objective.loss(field, z, noise, generator=probe.generator(3)).detach()
            ck.expect(
                torch.equal(first, again),
                "reproducibility",
                f"loss{tag} is {float(first):.6g} then {float(again):.6g} for the same seed",
            )
            ck.call("loss.backward", loss.backward)
            grads = [p.grad for p in net.parameters()]
            ck.expect(all(g is not None for g in grads), "gradient", f"loss{tag} gives no gradient to the network")
            flat = torch.cat([g.reshape(-1) for g in grads if g is not None])
            ck.expect(bool(torch.isfinite(flat).all()), "gradient", f"loss{tag} gives non-finite gradients")
            ck.expect(bool((flat != 0).any()), "gradient", f"loss{tag} gives an all-zero gradient")
