"""Conformance check of couplings: :func:`check_coupling`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from flowkit.coupling import Coupling
from flowkit.testing.core import DEFAULT_EVENT_SHAPES, Checker, one_thread, probes


@one_thread
def check_coupling(
    cls: type[Coupling],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
) -> None:
    """Check a :class:`~flowkit.coupling.Coupling` subclass.

    Rules: the component rules; ``pair(z, noise)`` returns two tensors of the inputs' shape, dtype
    and device; every returned row is one of the input rows (a permutation or resampling of each
    batch); the same seeded generator gives the same pairing.

    Raises:
        ConformanceError: naming the coupling and the rule it broke.
    """
    ck = Checker(cls)
    coupling = ck.start(Coupling, cls, params)
    n = 16
    for probe in probes(event_shapes):
        tag = probe.tag
        z = probe.randn(n, 1)
        noise = probe.randn(n, 2)
        out = ck.call("pair", coupling.pair, z, noise, generator=probe.generator(3))
        ck.expect(
            isinstance(out, tuple) and len(out) == 2,
            "type",
            f"pair{tag} must return a (z, noise) tuple, got {type(out).__name__}",
        )
        z2 = ck.probed(f"pair(...)[0]{tag}", out[0], probe, n)
        n2 = ck.probed(f"pair(...)[1]{tag}", out[1], probe, n)
        for what, got, src in (("data", z2, z), ("noise", n2, noise)):
            a, b = got.reshape(n, -1), src.reshape(n, -1)
            found = torch.isclose(a[:, None, :], b[None, :, :], rtol=1e-6, atol=1e-7).all(-1).any(-1)
            ck.expect(
                bool(found.all()),
                "pairing",
                f"pair{tag} returned {int((~found).sum())} {what} row(s) that are not rows of its input",
            )
        z3, n3 = coupling.pair(z, noise, generator=probe.generator(3))
        ck.expect(
            torch.equal(z2, z3) and torch.equal(n2, n3),
            "reproducibility",
            f"pair{tag} pairs differently for the same seed",
        )
