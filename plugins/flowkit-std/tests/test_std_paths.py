"""The built-in Gaussian paths and the single conversion rule, checked in float64 against exact answers."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from pydantic import ValidationError

from flowkit import GaussianPath
from flowkit.path import QUANTITIES
from flowkit_std import CondOTPath, GaussianMixture, PolynomialPath, VEPath, VPPath

F64 = torch.float64

PATHS: dict[str, GaussianPath] = {
    "condot": CondOTPath(),
    "condot_sigma_min": CondOTPath(sigma_min=0.01),
    "vp_linear": VPPath(),
    "vp_cosine": VPPath(schedule="cosine"),
    "vp_trig": VPPath(schedule="cosine", cosine_offset=0.0),
    "ve": VEPath(sigma_min=0.01, sigma_max=10.0),
    "poly_2": PolynomialPath(exponent=2.0),
    "poly_half": PolynomialPath(exponent=0.5, sigma_min=0.05),
}
PAIRS = list(itertools.permutations(QUANTITIES, 2))


@pytest.fixture(params=list(PATHS), ids=list(PATHS))
def path(request: pytest.FixtureRequest) -> GaussianPath:
    return PATHS[request.param]


def _rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / (1.0 + b.abs())).max())


# --- schedules ----------------------------------------------------------------------------------


def test_derivatives_match_finite_differences(path: GaussianPath) -> None:
    t = torch.linspace(0.02, 0.98, 49, dtype=F64)
    h = 1e-6
    d_alpha = (path.alpha(t + h) - path.alpha(t - h)) / (2 * h)
    d_beta = (path.beta(t + h) - path.beta(t - h)) / (2 * h)
    assert _rel_err(path.d_alpha(t), d_alpha) < 1e-7
    assert _rel_err(path.d_beta(t), d_beta) < 1e-7


def test_log_snr_increases_and_its_inverse_is_exact(path: GaussianPath) -> None:
    t0, t1 = path.time_range
    t = torch.linspace(t0, t1, 201, dtype=F64)
    lam = path.log_snr(t)
    assert bool((lam[1:] > lam[:-1]).all())
    closed = path.time_at_log_snr(lam)
    bisected = GaussianPath.time_at_log_snr(path, lam)  # the generic bisection of the base class
    assert float((closed - t).abs().max()) < 1e-12
    assert float((bisected - t).abs().max()) < 1e-12
    # beyond the range: the nearest end
    outside = path.time_at_log_snr(torch.tensor([-1e3, 1e3], dtype=F64))
    assert outside.tolist() == pytest.approx([t0, t1], abs=1e-12)


def test_closed_form_schedules() -> None:
    t = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=F64)
    ot = CondOTPath(sigma_min=0.1)
    assert ot.alpha(t).tolist() == pytest.approx([0.0, 0.25, 0.5, 1.0])
    assert ot.beta(t).tolist() == pytest.approx([1.0, 0.775, 0.55, 0.1])
    vp = VPPath(beta_min=0.1, beta_max=20.0)
    big_b = 0.1 * 0.5 + 0.5 * 19.9 * 0.25  # integrated rate at s = 1 - t = 0.5
    assert float(vp.alpha(t[2:3])) == pytest.approx(math.exp(-0.5 * big_b), rel=1e-14)
    assert float(vp.beta(t[2:3])) == pytest.approx(math.sqrt(1 - math.exp(-big_b)), rel=1e-14)
    assert float(vp.alpha(t[3:])) == 1.0 and float(vp.beta(t[3:])) == 0.0
    trig = VPPath(schedule="cosine", cosine_offset=0.0)
    assert trig.alpha(t).tolist() == pytest.approx([math.sin(math.pi * s / 2) for s in t.tolist()], abs=1e-15)
    assert trig.beta(t).tolist() == pytest.approx([math.cos(math.pi * s / 2) for s in t.tolist()], abs=1e-15)
    cos = VPPath(schedule="cosine")
    tt = torch.linspace(0, 1, 11, dtype=F64)
    assert float((cos.alpha(tt).pow(2) + cos.beta(tt).pow(2) - 1).abs().max()) < 1e-14
    ve = VEPath(sigma_min=0.01, sigma_max=10.0)
    assert ve.beta(torch.tensor([0.0, 1.0], dtype=F64)).tolist() == pytest.approx([10.0, 0.01], rel=1e-14)
    assert ve.prior_std() == pytest.approx(10.0)
    poly = PolynomialPath(exponent=3.0)
    assert poly.alpha(t).tolist() == pytest.approx([0.0, 0.25**3, 0.125, 1.0])


def test_prior_log_prob_is_the_gaussian_density(path: GaussianPath) -> None:
    x = path.sample_prior(7, (3,), generator=torch.Generator().manual_seed(0), dtype=F64)
    std = torch.tensor(path.prior_std(), dtype=F64)
    expected = torch.distributions.Normal(torch.zeros((), dtype=F64), std).log_prob(x).sum(dim=1)
    assert torch.allclose(path.prior_log_prob(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (VPPath, {"beta_min": 5.0, "beta_max": 1.0}, "beta_max"),
        (VPPath, {"schedule": "sigmoid"}, "schedule"),
        (VEPath, {"sigma_min": 1.0, "sigma_max": 0.5}, "sigma_max"),
        (PolynomialPath, {"exponent": 0.0}, "exponent"),
        (CondOTPath, {"sigma_min": 1.0}, "sigma_min"),
        (CondOTPath, {"t_eps": 0.7}, "t_eps"),
        (CondOTPath, {"bogus": 1}, "bogus"),
    ],
)
def test_invalid_params_are_refused(cls: type[GaussianPath], params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        cls(**params)


# --- the conversion rule ------------------------------------------------------------------------


def test_every_conversion_round_trips(path: GaussianPath) -> None:
    gen = torch.Generator().manual_seed(1)
    t = torch.linspace(0.01, 0.99, 99, dtype=F64)
    x = torch.randn(99, 3, generator=gen, dtype=F64)
    q = torch.randn(99, 3, generator=gen, dtype=F64)
    for source, target in PAIRS:
        there = path.convert(q, source, target, x, t)
        back = path.convert(there, target, source, x, t)
        assert _rel_err(back, q) < 1e-10, (source, target)


def test_conversions_are_finite_at_and_near_the_endpoints(path: GaussianPath) -> None:
    t0, t1 = path.time_range
    t = torch.tensor([0.0, t0, t0 + 1e-9, 0.5, t1 - 1e-9, t1, 1.0], dtype=F64)
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(2), dtype=F64)
    for source, target in PAIRS:
        out = path.convert(x.flip(0), source, target, x, t)
        assert bool(torch.isfinite(out).all()), (source, target)
        c_x, c_q = path.conversion_coefficients(source, target, t)
        assert bool(torch.isfinite(c_x).all() and torch.isfinite(c_q).all())
    # outside the range, the coefficients are those of the nearest safe time
    c_out = path.conversion_coefficients("score", "velocity", torch.tensor([0.0, 1.0], dtype=F64))
    c_in = path.conversion_coefficients("score", "velocity", torch.tensor([t0, t1], dtype=F64))
    assert torch.equal(c_out[0], c_in[0]) and torch.equal(c_out[1], c_in[1])


def test_conversions_map_conditional_targets_to_each_other(path: GaussianPath) -> None:
    """For a single (z, eps), every quantity is an exact linear function of the others: a sign or
    factor error in any coefficient shows up here."""
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(64, 2, generator=gen, dtype=F64)
    eps = torch.randn(64, 2, generator=gen, dtype=F64)
    t = torch.linspace(0.02, 0.98, 64, dtype=F64)
    draw = path.sample(z, t, path.prior_std() * eps)  # sample() takes prior draws, N(0, beta_0^2 I)
    assert torch.allclose(draw.x, path.alpha(t)[:, None] * z + path.beta(t)[:, None] * eps, rtol=1e-15, atol=1e-15)
    assert torch.equal(draw.target("data"), z)
    assert torch.allclose(draw.target("epsilon"), eps, rtol=1e-15, atol=0)
    assert torch.allclose(draw.target("score"), -(draw.x - path.alpha(t)[:, None] * z) / path.beta(t)[:, None] ** 2)
    for source, target in PAIRS:
        converted = path.convert(draw.target(source), source, target, draw.x, t)
        assert _rel_err(converted, draw.target(target)) < 1e-9, (source, target)


def test_conversions_map_exact_marginals_to_each_other(path: GaussianPath) -> None:
    """The marginals of a Gaussian mixture, computed in closed form without the conversion rule,
    convert into each other exactly (Proposition 1 of the notes and its siblings)."""
    mixture = GaussianMixture(weights=[0.3, 0.7], means=[[-1.0, 0.5], [1.5, -0.5]], stds=[0.4, 0.8])
    gen = torch.Generator().manual_seed(4)
    t = torch.linspace(0.02, 0.98, 128, dtype=F64)
    x = 2.0 * torch.randn(128, 2, generator=gen, dtype=F64)
    exact = {q: mixture.marginal(path, q, x, t) for q in QUANTITIES}
    for source, target in PAIRS:
        assert _rel_err(path.convert(exact[source], source, target, x, t), exact[target]) < 1e-9, (source, target)
    # Proposition 1 written out: u = (beta^2 alpha'/alpha - beta' beta) s + (alpha'/alpha) x
    a, b, da, db = path.alpha(t)[:, None], path.beta(t)[:, None], path.d_alpha(t)[:, None], path.d_beta(t)[:, None]
    velocity = (b**2 * da / a - db * b) * exact["score"] + (da / a) * x
    assert _rel_err(velocity, exact["velocity"]) < 1e-9


def test_unknown_quantity_is_refused() -> None:
    x = torch.zeros(2, 2, dtype=F64)
    with pytest.raises(ValueError, match="unknown quantity 'noise'"):
        CondOTPath().convert(x, "velocity", "noise", x, 0.5)
