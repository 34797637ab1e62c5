"""Conformance check of solvers: :func:`check_solver`, on the exact field of Gaussian data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import torch
from torch import Tensor

from flowkit.field import ModelField
from flowkit.solver.base import Solver, SolveResult
from flowkit.testing.core import DEFAULT_EVENT_SHAPES, Checker, Probe, one_thread, probes, seeded
from flowkit.testing.reference import ExactVelocityNetwork, GaussianTarget, ReferencePath, reference_parameterization


@one_thread
def check_solver(
    cls: type[Solver],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    atol: float = 0.05,
) -> None:
    """Check a :class:`~flowkit.solver.Solver` subclass on an exact field.

    The field is the exact velocity of Gaussian data ``N(0.5, 0.25 I)`` along
    :class:`~flowkit.testing.ReferencePath` (:class:`~flowkit.testing.GaussianTarget`), served
    through a :class:`~flowkit.Field` with a velocity parameterization (score, epsilon and data
    come from the path's conversions, so SDE solvers can be checked too). Rules: the component
    rules; ``solve`` returns a :class:`~flowkit.solver.SolveResult` whose samples have ``x0``'s
    shape, dtype and device and are finite; the reported ``nfe`` equals the evaluations counted by
    the network itself (also when the field had been used before) and is positive;
    ``times``/``trajectory`` are ``None`` unless asked for; with ``trajectory=True``, ``times`` is
    ``(T,)`` increasing from ``t_min`` to ``t_max``, the trajectory is ``(T, *x0.shape)``, starts
    at ``x0`` and ends at the samples; a deterministic solver gives the same samples with and
    without a trajectory and lands within ``atol`` of the exact flow; a stochastic one
    (``stochastic = True``) reproduces its samples for the same seed and matches the exact
    marginal's mean and standard deviation within ``atol``.

    Raises:
        ConformanceError: naming the solver and the rule it broke.
    """
    ck = Checker(cls)
    solver = ck.start(Solver, cls, params)
    stochastic = cls.stochastic
    ck.expect(isinstance(stochastic, bool), "stochastic", f"stochastic must be a bool, got {stochastic!r}")
    target = GaussianTarget()
    path = ReferencePath()
    for probe in probes(event_shapes):
        _probe_solver(ck, solver, probe, target, path, stochastic=stochastic)

    # accuracy against the exact flow (deterministic) or the exact marginal (stochastic)
    t0, t1 = path.time_range
    field = ModelField(ExactVelocityNetwork(target), reference_parameterization("velocity"), path)
    m = 2000 if stochastic else 64
    x0 = path.sample_prior(m, (2,), generator=seeded(12), dtype=torch.float64)
    samples = ck.call("solve", solver.solve, field, x0, generator=seeded(13)).samples
    if not stochastic:
        err = float((samples - target.flow(x0, t0, t1)).abs().max())
        ck.expect(
            err <= atol,
            "accuracy",
            f"samples are up to {err:.3g} away from the exact flow of the reference field (allowed {atol:g}); "
            "does the solver integrate from t_min (prior) to t_max (data)?",
        )
    else:
        mean_err = abs(float(samples.mean()) - t1 * target.mean)
        std_err = abs(float(samples.std()) - target.marginal_std(t1))
        ck.expect(
            mean_err <= atol and std_err <= atol,
            "accuracy",
            f"samples have mean/std off by {mean_err:.3g}/{std_err:.3g} from the exact marginal at t_max "
            f"(allowed {atol:g}); does the solver integrate from t_min (prior) to t_max (data)?",
        )


def _probe_solver(
    ck: Checker, solver: Solver, probe: Probe, target: GaussianTarget, path: ReferencePath, *, stochastic: bool
) -> None:
    """The rules of :func:`check_solver` for one probe: result type, NFE, trajectory, repeatability."""
    n = 6
    tag, dtype, device = probe.tag, probe.dtype, probe.device
    t0, t1 = path.time_range
    net = ExactVelocityNetwork(target)
    field = ModelField(net, reference_parameterization("velocity"), path)
    x0 = path.sample_prior(n, probe.event_shape, generator=probe.generator(1), dtype=dtype, device=device)
    field.velocity(x0, t0)  # a field that has been used before: nfe must be a difference
    before = net.calls
    result = ck.call("solve", solver.solve, field, x0, generator=probe.generator(2))
    ck.expect(
        isinstance(result, SolveResult),
        "type",
        f"solve{tag} returned {type(result).__name__}, expected a SolveResult",
    )
    samples = ck.probed(f"solve(...).samples{tag}", result.samples, probe, n)
    counted = net.calls - before
    ck.expect(
        isinstance(result.nfe, int) and result.nfe == counted,
        "NFE",
        f"solve{tag} reported {result.nfe!r} evaluations but the network was called {counted} times",
    )
    ck.expect(counted > 0, "NFE", f"solve{tag} never evaluated the field")
    ck.expect(
        result.times is None and result.trajectory is None,
        "trajectory",
        f"solve{tag} returned a trajectory although none was asked for",
    )
    before = net.calls
    traj = ck.call("solve(trajectory=True)", solver.solve, field, x0, trajectory=True, generator=probe.generator(2))
    counted = net.calls - before
    ck.expect(
        traj.nfe == counted,
        "NFE",
        f"solve(trajectory=True){tag} reported {traj.nfe!r} evaluations but the network was called {counted} times",
    )
    times = traj.times
    ck.expect(
        isinstance(times, Tensor) and isinstance(traj.trajectory, Tensor),
        "trajectory",
        f"solve(trajectory=True){tag} returned no times or no trajectory",
    )
    times = cast(Tensor, times)
    ck.expect(
        times.ndim == 1 and times.shape[0] >= 2,
        "trajectory",
        f"times{tag} must be a (T,) tensor with T >= 2, got shape {tuple(getattr(times, 'shape', ()))}",
    )
    steps = times[1:] - times[:-1]
    ck.expect(bool((steps > 0).all()), "trajectory", f"times{tag} are not increasing")
    ends = (float(times[0]), float(times[-1]))
    ck.expect(
        abs(ends[0] - t0) < 1e-5 and abs(ends[1] - t1) < 1e-5,
        "trajectory",
        f"times{tag} run from {ends[0]:.6g} to {ends[1]:.6g}, expected {t0:.6g} to {t1:.6g}",
    )
    states = ck.tensor(f"trajectory{tag}", traj.trajectory, (times.shape[0], *probe.batch(n)), dtype, device)
    ck.close(f"trajectory[0]{tag} vs x0", states[0], x0, rtol=0.0, atol=1e-6)
    ck.close(f"trajectory[-1]{tag} vs samples", states[-1], traj.samples, rtol=0.0, atol=1e-6)
    if not stochastic:
        ck.close(f"samples with vs without trajectory{tag}", traj.samples, samples, rtol=1e-4, atol=1e-4)
    else:
        again = solver.solve(field, x0, generator=probe.generator(2))
        ck.expect(
            torch.equal(again.samples, samples),
            "reproducibility",
            f"solve{tag} gives different samples for the same seed",
        )
