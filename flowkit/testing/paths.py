"""Conformance checks of probability paths: :func:`check_path` and :func:`check_gaussian_path`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from flowkit.path import QUANTITIES, GaussianPath, ProbabilityPath
from flowkit.testing.core import DEFAULT_EVENT_SHAPES, DTYPES, Checker, one_thread, probes, rms, seeded


@one_thread
def check_path(
    cls: type[ProbabilityPath],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    endpoint_tol: float = 0.1,
) -> None:
    """Check a :class:`~flowkit.path.ProbabilityPath` subclass (and, for a Gaussian path, the
    rules of :func:`check_gaussian_path` as well).

    Rules: the component rules; ``time_range`` is ``(t_min, t_max)`` with
    ``0 <= t_min < t_max <= 1``; ``quantities`` contains ``"velocity"`` and only known
    quantities; ``sample_prior`` gives ``(n, *event_shape)`` of the requested dtype and device,
    finite, the same draws for the same seed; ``prior_log_prob`` gives finite ``(n,)``;
    ``sample(z, t, noise)`` gives ``x`` and ``t`` of the right shapes, dtype and device, finite at
    both ends of ``time_range``, and accepts a 0-d time; every conditional target in
    ``quantities`` has the state's shape, dtype and device and is finite at both ends; the
    conditional velocity equals the time derivative of ``x_t`` for fixed ``(z, noise)`` (central
    differences in float64); and the endpoints: ``x_{t_min}`` is within
    ``endpoint_tol * rms(noise)`` of its prior draw and ``x_{t_max}`` within that of its data.

    Args:
        cls: the path class.
        params: params to build it with (default: its defaults).
        event_shapes: event shapes probed.
        endpoint_tol: relative tolerance of the endpoint rule.

    Raises:
        ConformanceError: naming the path and the rule it broke.
    """
    ck = Checker(cls)
    path = ck.start(ProbabilityPath, cls, params)
    tr = ck.call("time_range", lambda: path.time_range)
    ck.expect(
        isinstance(tr, tuple) and len(tr) == 2 and all(isinstance(v, (int, float)) for v in tr),
        "time_range",
        f"time_range must be a (t_min, t_max) tuple of floats, got {tr!r}",
    )
    t0, t1 = float(tr[0]), float(tr[1])
    ck.expect(0.0 <= t0 < t1 <= 1.0, "time_range", f"time_range {tr!r} must satisfy 0 <= t_min < t_max <= 1")
    quantities = tuple(cls.quantities)
    unknown = [q for q in quantities if q not in QUANTITIES]
    ck.expect(not unknown, "quantities", f"unknown quantities {unknown}; known: {', '.join(QUANTITIES)}")
    ck.expect("velocity" in quantities, "quantities", "every path must provide the conditional velocity")

    n = 5
    for probe in probes(event_shapes):
        dtype, device, shape, tag = probe.dtype, probe.device, probe.event_shape, probe.tag
        prior = ck.call(
            "sample_prior", path.sample_prior, n, shape, generator=probe.generator(1), dtype=dtype, device=device
        )
        noise = ck.probed(f"sample_prior{tag}", prior, probe, n)
        again = path.sample_prior(n, shape, generator=probe.generator(1), dtype=dtype, device=device)
        ck.expect(torch.equal(noise, again), "reproducibility", f"sample_prior{tag} differs for the same seed")
        logp = ck.call("prior_log_prob", path.prior_log_prob, noise)
        ck.tensor(f"prior_log_prob{tag}", logp, (n,), dtype, device)
        z = probe.randn(n, 2)
        t = torch.linspace(t0, t1, n, dtype=dtype, device=device)
        s = ck.call("sample", path.sample, z, t, noise)
        ck.probed(f"sample(...).x{tag} (times from t_min to t_max)", s.x, probe, n)
        ck.tensor(f"sample(...).t{tag}", s.t, (n,), dtype, device)
        for q in quantities:
            target = ck.call(f"conditional target {q!r}", s.target, q)
            ck.probed(f"conditional {q} target{tag} at times from t_min to t_max", target, probe, n)
        mid = torch.tensor(0.5 * (t0 + t1), dtype=dtype, device=device)
        s0 = ck.call("sample with a 0-d time", path.sample, z, mid, noise)
        ck.probed(f"sample(...).x{tag} with a 0-d time", s0.x, probe, n)

    # the conditional velocity is the time derivative of x_t for fixed (z, noise)
    shape = tuple(event_shapes[0])
    z = torch.randn((3, *shape), generator=seeded(3), dtype=torch.float64)
    noise = path.sample_prior(3, shape, generator=seeded(4), dtype=torch.float64)
    t = t0 + (t1 - t0) * torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    h = 1e-5 * (t1 - t0)
    fd = (path.sample(z, t + h, noise).x - path.sample(z, t - h, noise).x) / (2 * h)
    velocity = path.sample(z, t, noise).target("velocity")
    ck.close(
        "conditional velocity vs d/dt x_t (central differences, float64)",
        velocity,
        fd,
        rtol=1e-4,
        atol=1e-5 * (1.0 + rms(fd)),
    )

    # endpoints: the path starts at its prior draws and ends at its data
    n_end = 256
    z = torch.randn((n_end, *shape), generator=seeded(5), dtype=torch.float64)
    noise = path.sample_prior(n_end, shape, generator=seeded(6), dtype=torch.float64)
    start = path.sample(z, torch.full((n_end,), t0, dtype=torch.float64), noise).x
    end = path.sample(z, torch.full((n_end,), t1, dtype=torch.float64), noise).x
    scale = rms(noise)
    gap0, gap1 = rms(start - noise), rms(end - z)
    ck.expect(
        gap0 <= endpoint_tol * scale,
        "endpoint t_min",
        f"x at t_min={t0:g} is {gap0:.3g} (rms) away from the prior draws it was built from "
        f"(allowed {endpoint_tol:g} x {scale:.3g}); sample(z, t, noise) must start at noise",
    )
    ck.expect(
        gap1 <= endpoint_tol * scale,
        "endpoint t_max",
        f"x at t_max={t1:g} is {gap1:.3g} (rms) away from the data (allowed {endpoint_tol:g} x {scale:.3g})",
    )

    if isinstance(path, GaussianPath):
        _check_gaussian(ck, path, (t0, t1), event_shapes)


@one_thread
def check_gaussian_path(
    cls: type[GaussianPath],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    endpoint_tol: float = 0.1,
) -> None:
    """Check a :class:`~flowkit.path.GaussianPath` subclass: every rule of :func:`check_path`, plus

    * ``alpha``, ``beta``, ``d_alpha``, ``d_beta`` map ``(B,)`` to finite ``(B,)`` of the same
      dtype on ``time_range`` (endpoints included), with ``beta > 0``;
    * ``d_alpha`` and ``d_beta`` match central differences of ``alpha`` and ``beta`` (float64);
    * ``log_snr`` is strictly increasing inside ``time_range``;
    * the prior: ``prior_log_prob`` equals the log-density of ``N(0, prior_std()^2 I)``
      (``torch.distributions.Normal``) and ``sample_prior`` has that standard deviation;
    * conversions: converting the conditional target of any quantity gives the conditional target
      of any other (the rule is exact for one ``(z, eps)``), and every conversion is finite at both
      ends of ``time_range`` for float32 and float64.

    Raises:
        ConformanceError: naming the path and the rule it broke (also when ``cls`` is not a
            Gaussian path).
    """
    Checker(cls).base(GaussianPath)
    check_path(cls, params, event_shapes=event_shapes, endpoint_tol=endpoint_tol)


def _check_gaussian(
    ck: Checker, path: GaussianPath, time_range: tuple[float, float], event_shapes: Sequence[Sequence[int]]
) -> None:
    """The rules of :func:`check_gaussian_path` beyond :func:`check_path` (float64 on the CPU, and
    the coefficients and conversions at the ends of ``time_range`` in each dtype)."""
    t0, t1 = time_range
    for dtype in DTYPES:
        grid = torch.linspace(t0, t1, 33, dtype=dtype)
        for coef in ("alpha", "beta", "d_alpha", "d_beta"):
            values = ck.call(coef, getattr(path, coef), grid)
            ck.tensor(f"{coef}(t) [{dtype}] on time_range", values, grid.shape, dtype, grid.device)
        beta = path.beta(grid)
        ck.expect(
            bool((beta > 0).all()),
            "beta",
            f"beta_t must be > 0 on time_range, got min {float(beta.min()):.3g} [{dtype}]",
        )

    inner = t0 + (t1 - t0) * torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    h = 1e-6 * (t1 - t0)
    for coef in ("alpha", "beta"):
        fn = getattr(path, coef)
        fd = (fn(inner + h) - fn(inner - h)) / (2 * h)
        exact = getattr(path, f"d_{coef}")(inner)
        ck.close(
            f"d_{coef} vs central differences of {coef} (float64)", exact, fd, rtol=1e-5, atol=1e-6 * (1 + rms(fd))
        )

    strictly_inside = torch.linspace(t0, t1, 65, dtype=torch.float64)[1:-1]
    lam = ck.call("log_snr", path.log_snr, strictly_inside)
    ck.expect(bool(torch.isfinite(lam).all()), "log_snr", "log_snr is not finite strictly inside time_range")
    steps = lam[1:] - lam[:-1]
    ck.expect(
        bool((steps > 0).all()),
        "log_snr",
        f"log(alpha/beta) must increase strictly in t (the conversions divide by its rate); "
        f"it does not near t={float(strictly_inside[int(steps.argmin())]):.4g}",
    )

    shape = tuple(event_shapes[0])
    std = ck.call("prior_std", path.prior_std)
    ck.expect(
        isinstance(std, float) and std > 0 and math.isfinite(std), "prior", f"prior_std() = {std!r}, expected > 0"
    )
    draws = path.sample_prior(4000, shape, generator=seeded(7), dtype=torch.float64)
    spread = float(draws.std())
    ck.expect(
        abs(spread / std - 1.0) < 0.05,
        "prior",
        f"sample_prior draws have standard deviation {spread:.4g}, but prior_std() is {std:.4g}",
    )
    x = draws[:16]
    normal: Any = torch.distributions.Normal(
        torch.zeros((), dtype=torch.float64), torch.tensor(std, dtype=torch.float64)
    )
    expected = normal.log_prob(x).reshape(16, -1).sum(dim=1)
    ck.close("prior_log_prob vs torch.distributions.Normal", path.prior_log_prob(x), expected, rtol=1e-9, atol=1e-9)

    z = torch.randn((3, *shape), generator=seeded(8), dtype=torch.float64)
    noise = torch.randn((3, *shape), generator=seeded(9), dtype=torch.float64)
    t = t0 + (t1 - t0) * torch.tensor([0.3, 0.5, 0.7], dtype=torch.float64)
    s = path.sample(z, t, noise)
    for source in QUANTITIES:
        for target in QUANTITIES:
            got = ck.call(f"convert {source} -> {target}", path.convert, s.target(source), source, target, s.x, s.t)
            want = s.target(target)
            ck.close(
                f"convert {source} -> {target} of the conditional target (float64)",
                got,
                want,
                rtol=1e-6,
                atol=1e-8 * (1.0 + rms(want)),
            )
    for dtype in DTYPES:
        ends = torch.tensor([t0, t1], dtype=dtype)
        x = torch.randn((2, *shape), generator=seeded(10), dtype=dtype)
        value = torch.randn((2, *shape), generator=seeded(11), dtype=dtype)
        for source in QUANTITIES:
            for target in QUANTITIES:
                out = ck.call(f"convert {source} -> {target}", path.convert, value, source, target, x, ends)
                ck.tensor(f"convert {source} -> {target} at t_min and t_max [{dtype}]", out, x.shape, dtype, x.device)
