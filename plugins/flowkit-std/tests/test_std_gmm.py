"""The Gaussian-mixture dataset and the oracle model: exact marginals, checked without any training."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError

from flowkit import (
    GaussianPath,
    IncompatibleComponentsError,
    build_components,
    load_spec,
    run,
    validate_spec,
)
from flowkit.testing import VelocityOnlyPath
from flowkit_std import (
    CondOTPath,
    GaussianMixture,
    MidpointSolver,
    OracleModel,
    PolynomialPath,
    VEPath,
    VPPath,
    oracle_field,
)

F64 = torch.float64

PATHS: dict[str, GaussianPath] = {
    "condot": CondOTPath(),
    "condot_sigma_min": CondOTPath(sigma_min=0.05),
    "vp_linear": VPPath(),
    "vp_cosine": VPPath(schedule="cosine"),
    "ve": VEPath(sigma_min=0.01, sigma_max=10.0),
    "poly_2": PolynomialPath(exponent=2.0),
}

MIXTURE = GaussianMixture(
    weights=[0.2, 0.5, 0.3],
    means=[[-1.0, 0.0, 0.5], [1.0, 1.0, -0.5], [0.0, -1.5, 0.0]],
    stds=[0.3, 0.6, 0.45],
)
"""A 3-D mixture with overlapping components (so responsibilities matter)."""

SEPARATED = GaussianMixture(weights=[0.5, 0.3, 0.2], means=[[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]], stds=[0.5, 0.4, 0.3])
"""A 2-D mixture whose components are at least 6 standard deviations apart."""


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(params=list(PATHS), ids=list(PATHS))
def path(request: pytest.FixtureRequest) -> GaussianPath:
    return PATHS[request.param]


# --- the dataset --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"weights": [0.5, 0.5], "means": [[0.0, 0.0]], "stds": 1.0}, "2 weights but 1 means"),
        ({"weights": [1.0, 1.0], "means": [[0.0], [0.0, 1.0]], "stds": 1.0}, "same positive dimension"),
        ({"weights": [1.0], "means": [[]], "stds": 1.0}, "same positive dimension"),
        ({"weights": [1.0, 0.0], "means": [[0.0], [1.0]], "stds": 1.0}, "weights must be positive"),
        ({"weights": [1.0, 1.0], "means": [[0.0], [1.0]], "stds": [1.0]}, "2 components but 1 stds"),
        ({"weights": [1.0], "means": [[0.0]], "stds": -1.0}, "stds must be positive"),
        ({"weights": [1.0], "means": [[float("nan")]], "stds": 1.0}, r"means.0.0\n  Input should be a finite number"),
        ({"scale": 2.0}, "scale"),
    ],
)
def test_invalid_mixtures_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        GaussianMixture(**params)


def test_weights_are_normalised_and_a_scalar_std_is_shared() -> None:
    g = GaussianMixture(weights=[1.0, 3.0], means=[[0.0], [2.0]], stds=0.5)
    assert g.weights.tolist() == [0.25, 0.75]
    assert g.stds.tolist() == [0.5, 0.5]
    assert g.event_shape == (1,) and g.num_components == 2
    assert g.mean().tolist() == [1.5]


def test_samples_follow_the_mixture() -> None:
    n = 40_000
    x, k = MIXTURE.sample_with_components(n, generator=torch.Generator().manual_seed(0), dtype=F64)
    assert x.shape == (n, 3) and x.dtype == F64
    for j in range(3):
        w = float(MIXTURE.weights[j])
        frac = float((k == j).double().mean())
        assert abs(frac - w) < 4 * math.sqrt(w * (1 - w) / n)
        pts = x[k == j]
        s = float(MIXTURE.stds[j])
        assert float((pts.mean(0) - MIXTURE.means[j]).abs().max()) < 4 * s / math.sqrt(len(pts))
        assert abs(float(pts.std(0).mean()) - s) < 0.05 * s
    same = MIXTURE.sample(10, generator=torch.Generator().manual_seed(5))
    again = MIXTURE.sample(10, generator=torch.Generator().manual_seed(5))
    assert torch.equal(same, again) and same.dtype == torch.float32


def test_log_prob_is_the_mixture_density() -> None:
    x = 1.5 * torch.randn(50, 3, generator=torch.Generator().manual_seed(1), dtype=F64)
    components = torch.distributions.Independent(
        torch.distributions.Normal(MIXTURE.means, MIXTURE.stds[:, None].expand(3, 3)), 1
    )
    reference = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(MIXTURE.weights), components)
    assert torch.allclose(MIXTURE.log_prob(x), reference.log_prob(x), rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match=r"expected points of shape \(B, 3\)"):
        MIXTURE.log_prob(torch.zeros(4, 2, dtype=F64))


def test_marginal_log_prob_at_the_ends(path: GaussianPath) -> None:
    """At t = 1 (alpha = 1, beta = sigma_min or 0) the marginal is the data blurred by beta_1; at the
    prior end of a path with alpha_0 = 0 it is the prior."""
    x = torch.randn(20, 3, generator=torch.Generator().manual_seed(2), dtype=F64)
    one = torch.ones(20, dtype=F64)
    b1 = float(path.beta(one[:1]))
    blurred = GaussianMixture(
        weights=MIXTURE.params.weights,
        means=MIXTURE.params.means,
        stds=[math.sqrt(s**2 + b1**2) for s in MIXTURE.stds.tolist()],
    )
    assert float(path.alpha(one[:1])) == pytest.approx(1.0, abs=1e-15)
    assert torch.allclose(path_log_prob := MIXTURE.marginal_log_prob(path, x, one), blurred.log_prob(x), atol=1e-12)
    assert bool(torch.isfinite(path_log_prob).all())
    if float(path.alpha(torch.zeros(1, dtype=F64))) < 1e-12:
        zero = torch.zeros(20, dtype=F64)
        assert torch.allclose(MIXTURE.marginal_log_prob(path, x, zero), path.prior_log_prob(x), atol=1e-12)


def test_oracle_score_is_the_gradient_of_the_marginal_log_density(path: GaussianPath) -> None:
    gen = torch.Generator().manual_seed(3)
    t = torch.cat([torch.tensor([0.0, 1.0], dtype=F64), torch.rand(62, generator=gen, dtype=F64)])
    x = (2.0 * torch.randn(64, 3, generator=gen, dtype=F64)).requires_grad_(True)
    (grad,) = torch.autograd.grad(MIXTURE.marginal_log_prob(path, x, t).sum(), x)
    score = MIXTURE.marginal_score(path, x.detach(), t)
    assert torch.allclose(score, grad, rtol=1e-10, atol=1e-10)


def test_oracle_velocity_satisfies_the_continuity_equation(path: GaussianPath) -> None:
    """d p_t / dt = -div(p_t u_t), i.e. d log p_t / dt = -div u_t - u_t . grad log p_t, with every
    derivative taken by central finite differences."""
    gen = torch.Generator().manual_seed(4)
    n, d, h = 48, 3, 1e-5
    t = 0.05 + 0.9 * torch.rand(n, generator=gen, dtype=F64)
    x = 1.5 * torch.randn(n, d, generator=gen, dtype=F64)
    dlogp_dt = (MIXTURE.marginal_log_prob(path, x, t + h) - MIXTURE.marginal_log_prob(path, x, t - h)) / (2 * h)
    u = MIXTURE.marginal_velocity(path, x, t)
    div = torch.zeros(n, dtype=F64)
    grad_logp = torch.zeros(n, d, dtype=F64)
    for i in range(d):
        e = torch.zeros(d, dtype=F64)
        e[i] = h
        div += (MIXTURE.marginal_velocity(path, x + e, t)[:, i] - MIXTURE.marginal_velocity(path, x - e, t)[:, i]) / (
            2 * h
        )
        grad_logp[:, i] = (MIXTURE.marginal_log_prob(path, x + e, t) - MIXTURE.marginal_log_prob(path, x - e, t)) / (
            2 * h
        )
    residual = dlogp_dt + div + (u * grad_logp).sum(1)
    scale = 1.0 + dlogp_dt.abs() + div.abs()
    assert float((residual / scale).abs().max()) < 1e-6


def test_marginals_are_consistent_and_finite_at_the_ends(path: GaussianPath) -> None:
    """x = alpha E[z|x] + beta E[eps|x] and u = alpha' E[z|x] + beta' E[eps|x] hold exactly, and
    every marginal is finite at t = 0 and t = 1 (even where the path's conversions are not)."""
    gen = torch.Generator().manual_seed(5)
    t0, t1 = path.time_range
    t = torch.cat([torch.tensor([t0, t1], dtype=F64), torch.rand(30, generator=gen, dtype=F64)])
    x = 2.0 * torch.randn(32, 3, generator=gen, dtype=F64)
    data = MIXTURE.marginal_data(path, x, t)
    eps = MIXTURE.marginal_epsilon(path, x, t)
    a, b = path.alpha(t)[:, None], path.beta(t)[:, None]
    assert torch.allclose(a * data + b * eps, x, rtol=1e-11, atol=1e-11)
    u = MIXTURE.marginal_velocity(path, x, t)
    assert torch.allclose(path.d_alpha(t)[:, None] * data + path.d_beta(t)[:, None] * eps, u, rtol=1e-9, atol=1e-9)
    ends = torch.tensor([0.0, 1.0], dtype=F64)
    if path.time_range == (0.0, 1.0):
        for q in ("velocity", "score", "epsilon", "data"):
            assert bool(torch.isfinite(MIXTURE.marginal(path, q, x[:2], ends)).all())
    else:
        assert bool(torch.isfinite(MIXTURE.marginal(path, "data", x[:2], ends)).all())
    posterior = MIXTURE.posterior(path, x, t)
    assert torch.allclose(posterior.sum(1), torch.ones(32, dtype=F64))


def test_marginals_need_a_gaussian_path() -> None:
    x = torch.zeros(2, 3, dtype=F64)
    with pytest.raises(IncompatibleComponentsError, match="needs a Gaussian path"):
        MIXTURE.marginal_velocity(VelocityOnlyPath(), x, 0.5)
    with pytest.raises(IncompatibleComponentsError, match="needs a Gaussian path"):
        OracleModel(MIXTURE, VelocityOnlyPath())
    with pytest.raises(ValueError, match="unknown quantity"):
        MIXTURE.marginal(CondOTPath(), "noise", x, 0.5)


# --- the oracle model ---------------------------------------------------------------------------


@pytest.mark.parametrize("predicts", ["velocity", "score", "epsilon", "data"])
def test_oracle_field_serves_every_quantity(predicts: str) -> None:
    path = VPPath(schedule="cosine")
    field = oracle_field(MIXTURE, path, predicts)
    gen = torch.Generator().manual_seed(6)
    t = 0.05 + 0.9 * torch.rand(16, generator=gen, dtype=F64)
    x = torch.randn(16, 3, generator=gen, dtype=F64)
    for q in ("velocity", "score", "epsilon", "data"):
        assert torch.allclose(field.predict(q, x, t), MIXTURE.marginal(path, q, x, t), rtol=1e-9, atol=1e-9)
    assert field.nfe == 4
    model = field.network
    assert isinstance(model, OracleModel) and not model.trainable
    assert sum(p.numel() for p in model.parameters()) == 0
    with pytest.raises(ValueError, match="unconditional"):
        model(x, t, torch.zeros(16))


@pytest.mark.parametrize("path_name", ["condot", "vp_cosine", "ve"])
def test_integrating_the_oracle_reproduces_the_mixture(path_name: str) -> None:
    """Prior draws pushed through the exact ODE land on the mixture: component masses, means and
    spreads within sampling error."""
    path = VEPath(sigma_min=0.01, sigma_max=30.0) if path_name == "ve" else PATHS[path_name]
    n = 4000
    x0 = path.sample_prior(n, (2,), generator=torch.Generator().manual_seed(7), dtype=F64)
    result = MidpointSolver(steps=200).solve(oracle_field(SEPARATED, path), x0)
    x = result.samples
    assert result.nfe == 400
    label = torch.cdist(x, SEPARATED.means).argmin(1)
    for j in range(3):
        w = float(SEPARATED.weights[j])
        frac = float((label == j).double().mean())
        assert abs(frac - w) < 4 * math.sqrt(w * (1 - w) / n), (j, frac, w)
        pts = x[label == j]
        s = float(SEPARATED.stds[j])
        assert float((pts.mean(0) - SEPARATED.means[j]).abs().max()) < 4 * s / math.sqrt(len(pts))
        assert abs(float(pts.std(0).mean()) - s) < 0.1 * s


def test_the_oracle_fails_clearly_without_a_mixture() -> None:
    with pytest.raises(IncompatibleComponentsError, match="needs the 'gmm' dataset"):
        OracleModel(CondOTPath(), CondOTPath())  # type: ignore[arg-type]


def _oracle_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "oracle",
        "seed": 0,
        "dtype": "float64",
        "data": {"name": "gmm", "params": SEPARATED.params.model_dump()},
        "model": {"name": "oracle"},
        "path": {"name": "condot"},
        "sample": {"solver": {"name": "midpoint", "params": {"steps": 50}}, "num_samples": 1000},
        "evaluate": {"metrics": [{"name": "sliced_w2", "params": {"num_projections": 64}}]},
        "output": {"plots": False},
    }
    spec.update(overrides)
    return spec


def test_oracle_spec_builds_from_the_run_context() -> None:
    components = build_components(validate_spec(_oracle_spec(path={"name": "vp", "params": {"schedule": "cosine"}})))
    model = components.model
    assert isinstance(model, OracleModel) and model.path is components.path
    x = torch.randn(8, 2, dtype=F64)
    t = torch.full((8,), 0.3, dtype=F64)
    assert torch.allclose(components.field().velocity(x, t), SEPARATED.marginal_velocity(components.path, x, t))
    with pytest.raises(IncompatibleComponentsError, match="'gmm' dataset, but the run's dataset is 'checkerboard'"):
        build_components(validate_spec(_oracle_spec(data={"name": "checkerboard"})))


@pytest.mark.parametrize("parameterization", ["score", "epsilon", "data"])
def test_oracle_follows_the_run_parameterization_and_refuses_a_mismatch(parameterization: str) -> None:
    spec = _oracle_spec(parameterization={"name": parameterization}, path={"name": "vp"})
    components = build_components(validate_spec(spec))
    assert components.model.params.predicts == parameterization  # type: ignore[attr-defined]
    x = torch.randn(8, 2, dtype=F64)
    t = torch.full((8,), 0.4, dtype=F64)
    expected = SEPARATED.marginal_velocity(components.path, x, t)
    assert torch.allclose(components.field().velocity(x, t), expected, atol=1e-8)
    wrong = _oracle_spec(
        parameterization={"name": parameterization}, model={"name": "oracle", "params": {"predicts": "velocity"}}
    )
    with pytest.raises(IncompatibleComponentsError, match=f"expects {parameterization!r}"):
        build_components(validate_spec(wrong))


def test_oracle_spec_runs_without_training(tmp_path: Path) -> None:
    result = run(validate_spec(_oracle_spec(train={"steps": 500})), tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["train"]["steps"] == 0 and summary["train"]["num_parameters"] == 0
    assert result.train.history == []
    ratio = summary["metrics"]["sliced_w2"]["ratio"]
    assert ratio < 2.0, ratio


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_example_oracle_spec_runs(tmp_path: Path) -> None:
    spec = load_spec(EXAMPLES / "gmm_oracle.json", ["sample.num_samples=600", "output.plots=false"])
    result = run(spec, tmp_path / "oracle")
    assert result.summary["train"]["steps"] == 0
    assert result.metrics["sliced_w2"].ratio < 2.0


def test_example_vp_epsilon_spec_builds() -> None:
    components = build_components(load_spec(EXAMPLES / "vp_epsilon.json"))
    assert components.path.name == "vp" and components.parameterization.name == "epsilon"
    assert components.objective.name == "epsilon_mse" and components.model.trainable
