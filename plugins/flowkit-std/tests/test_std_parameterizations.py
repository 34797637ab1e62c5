"""The four parameterizations: exact conversions, and the Gaussian preconditioning."""

from __future__ import annotations

import itertools

import pytest
import torch
from pydantic import ValidationError
from torch import Tensor

from flowkit import GaussianPath, IncompatibleComponentsError, ProbabilityPath
from flowkit.path import QUANTITIES
from flowkit_std import CondOTPath, GaussianMixture, PolynomialPath, VEPath, VPPath
from flowkit_std.parameterizations import (
    PARAMETERIZATION_FOR,
    StdParameterization,
    gaussian_posterior,
    parameterization_for,
)

F64 = torch.float64
PATHS: dict[str, GaussianPath] = {
    "condot": CondOTPath(),
    "vp_linear": VPPath(),
    "vp_cosine": VPPath(schedule="cosine"),
    "ve": VEPath(),
    "poly_half": PolynomialPath(exponent=0.5),
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(params=list(PATHS), ids=list(PATHS))
def path(request: pytest.FixtureRequest) -> GaussianPath:
    return PATHS[request.param]


def _rel_err(a: Tensor, b: Tensor) -> float:
    return float(((a - b).abs() / (1.0 + b.abs())).max())


def test_names_and_quantities() -> None:
    assert {q: cls.name for q, cls in PARAMETERIZATION_FOR.items()} == {q: q for q in QUANTITIES}
    assert all(cls.predicts == q for q, cls in PARAMETERIZATION_FOR.items())
    assert parameterization_for("epsilon").params.preconditioning == "none"
    with pytest.raises(ValueError, match="unknown quantity"):
        parameterization_for("noise")
    with pytest.raises(ValidationError, match="data_std"):
        parameterization_for("data").__class__(preconditioning="gaussian", data_std=0.0)


def test_plain_output_is_the_prediction_and_converts_through_the_path(path: GaussianPath) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 2, generator=gen, dtype=F64)
    out = torch.randn(32, 2, generator=gen, dtype=F64)
    t = torch.linspace(0.05, 0.95, 32, dtype=F64)
    for source, target in itertools.product(QUANTITIES, QUANTITIES):
        got = parameterization_for(source).to_quantity(out, target, x, t, path)
        assert torch.equal(got, path.convert(out, source, target, x, t))


def test_gaussian_posterior_is_exact_for_gaussian_data(path: GaussianPath) -> None:
    """For z ~ N(0, s^2 I) the mean coefficient m_q gives E[q | x] exactly, so an output of 0 is
    the exact answer for every quantity."""
    s = 0.7
    gaussian = GaussianMixture(weights=[1.0], means=[[0.0, 0.0]], stds=[s])
    gen = torch.Generator().manual_seed(1)
    t0, t1 = path.time_range
    t = torch.cat([torch.tensor([t0, t1], dtype=F64), t0 + (t1 - t0) * torch.rand(30, generator=gen, dtype=F64)])
    x = 2.0 * torch.randn(32, 2, generator=gen, dtype=F64)
    zero = torch.zeros_like(x)
    for predicts in QUANTITIES:
        param = PARAMETERIZATION_FOR[predicts](preconditioning="gaussian", data_std=s)
        for q in QUANTITIES:
            assert _rel_err(param.to_quantity(zero, q, x, t, path), gaussian.marginal(path, q, x, t)) < 1e-9


def test_gaussian_posterior_std_is_the_spread_of_the_conditional_target(path: GaussianPath) -> None:
    """s_q^2 = E[(q_cond - E[q | x])^2] per coordinate for Gaussian data (Monte Carlo, 4 std errors)."""
    s = 1.3
    n = 200_000
    gen = torch.Generator().manual_seed(2)
    t = torch.full((n,), 0.4, dtype=F64)
    z = s * torch.randn(n, 1, generator=gen, dtype=F64)
    draw = path.sample(z, t, path.prior_std() * torch.randn(n, 1, generator=gen, dtype=F64))
    for q in QUANTITIES:
        mean, std = gaussian_posterior(path, q, t[:1], s)
        resid2 = (draw.target(q) - mean * draw.x).pow(2)
        assert abs(float(resid2.mean()) - float(std) ** 2) < 4 * float(resid2.std()) / n**0.5


def test_preconditioned_output_reads_every_quantity_exactly(path: GaussianPath) -> None:
    """Feeding F = (q - m_q x) / s_q for the exact q of a mixture returns every exact quantity."""
    mixture = GaussianMixture(weights=[0.4, 0.6], means=[[-1.0, 0.5], [1.0, -0.5]], stds=[0.3, 0.5])
    gen = torch.Generator().manual_seed(3)
    t = torch.linspace(0.02, 0.98, 64, dtype=F64)
    x = 1.5 * torch.randn(64, 2, generator=gen, dtype=F64)
    exact = {q: mixture.marginal(path, q, x, t) for q in QUANTITIES}
    for predicts in QUANTITIES:
        param = PARAMETERIZATION_FOR[predicts](preconditioning="gaussian", data_std=1.2)
        mean, std = gaussian_posterior(path, predicts, t, 1.2)
        output = (exact[predicts] - mean[:, None] * x) / std[:, None]
        for q in QUANTITIES:
            assert _rel_err(param.to_quantity(output, q, x, t, path), exact[q]) < 1e-9, (predicts, q)


@pytest.mark.parametrize("predicts", QUANTITIES)
def test_preconditioning_bounds_the_gain_on_the_output(path: GaussianPath, predicts: str) -> None:
    """How much a unit error in the output moves velocity, data and epsilon, over the whole safe
    time range: bounded with preconditioning, while the plain epsilon/score/data outputs reach the
    1 / alpha_t or 1 / beta_t singularities at the ends."""
    t0, t1 = path.time_range
    t = torch.cat([torch.tensor([t0, t1], dtype=F64), torch.linspace(t0, t1, 201, dtype=F64)])
    x = torch.zeros(t.shape[0], 1, dtype=F64)
    unit = torch.ones_like(x)
    plain = parameterization_for(predicts)
    pre = PARAMETERIZATION_FOR[predicts](preconditioning="gaussian")
    worst_plain = 0.0
    for q in ("velocity", "data", "epsilon"):
        gain = pre.to_quantity(unit, q, x, t, path).abs().max()
        scale = path.prior_std() * (1.0 + path.d_beta(t).abs().max() + path.d_alpha(t).abs().max())
        assert float(gain) < 2.0 * float(scale), (q, float(gain))
        worst_plain = max(worst_plain, float(plain.to_quantity(unit, q, x, t, path).abs().max()))
    if predicts != "velocity" and path.name != "ve":
        assert worst_plain > 100.0


def test_non_gaussian_paths_allow_only_the_plain_velocity(velocity_only_path: ProbabilityPath) -> None:
    path = velocity_only_path
    x = torch.zeros(2, 2)
    t = torch.full((2,), 0.5)
    out = torch.ones(2, 2)
    velocity: StdParameterization = parameterization_for("velocity")  # type: ignore[assignment]
    assert torch.equal(velocity.to_quantity(out, "velocity", x, t, path), out)
    with pytest.raises(IncompatibleComponentsError, match="conversions need a Gaussian path"):
        velocity.to_quantity(out, "score", x, t, path)
    with pytest.raises(IncompatibleComponentsError, match="gaussian preconditioning needs a Gaussian path"):
        PARAMETERIZATION_FOR["velocity"](preconditioning="gaussian").to_quantity(out, "velocity", x, t, path)
    with pytest.raises(IncompatibleComponentsError, match="only provides velocity"):
        parameterization_for("epsilon").check_path(path)
