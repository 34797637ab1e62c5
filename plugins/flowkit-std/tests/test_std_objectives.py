"""Objectives and time samplers: exact loss values, independence from the parameterization, and the
conditional-vs-marginal theorem checked numerically."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from torch import Tensor

from flowkit import IncompatibleComponentsError, ModelField, ProbabilityPath
from flowkit.path import PathSample
from flowkit_std import (
    CondOTPath,
    DataObjective,
    EpsilonObjective,
    FlowMatchingObjective,
    GaussianMixture,
    ScoreMatchingObjective,
    VelocityParameterization,
    VPPath,
    oracle_field,
)
from flowkit_std.objectives import RegressionObjective
from flowkit_std.parameterizations import parameterization_for
from flowkit_std.time_samplers import TimeSamplingParams, sample_times, time_window

F64 = torch.float64
MIXTURE = GaussianMixture(weights=[0.4, 0.6], means=[[-1.5, 0.0], [1.0, 1.0]], stds=[0.3, 0.5])


pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(n: int, seed: int) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    z = MIXTURE.sample(n, generator=gen, dtype=F64)
    return z, torch.randn(n, 2, generator=gen, dtype=F64)


def _zero_field(predicts: str, path: ProbabilityPath) -> ModelField:
    return ModelField(lambda x, t: torch.zeros_like(x), parameterization_for(predicts), path)


# --- time samplers ------------------------------------------------------------------------------


def test_uniform_times_fill_the_window() -> None:
    params = TimeSamplingParams(t_min=0.2, t_max=0.6)
    t = sample_times(100_000, params, (0.0, 1.0), generator=torch.Generator().manual_seed(0), dtype=F64)
    assert t.shape == (100_000,) and t.dtype == F64
    assert float(t.min()) >= 0.2 and float(t.max()) <= 0.6
    assert float(t.mean()) == pytest.approx(0.4, abs=4 * 0.4 / math.sqrt(12 * 100_000))
    # the path's own range narrows the window further
    assert time_window(params, (0.3, 0.5)) == (0.3, 0.5)
    again = sample_times(5, params, (0.0, 1.0), generator=torch.Generator().manual_seed(0), dtype=F64)
    assert torch.equal(again, t[:5])


def test_logit_normal_times_have_the_logit_normal_quantiles() -> None:
    params = TimeSamplingParams(time_sampler="logit_normal", logit_mean=0.5, logit_std=0.8)
    n = 100_000
    t = sample_times(n, params, (0.0, 1.0), generator=torch.Generator().manual_seed(1), dtype=F64)
    levels = torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9], dtype=F64)
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    expected = torch.sigmoid(0.5 + 0.8 * normal.icdf(levels))
    assert torch.allclose(torch.quantile(t, levels), expected, atol=0.01)
    windowed = sample_times(
        1000, TimeSamplingParams(time_sampler="logit_normal", t_min=0.1, t_max=0.3), (0.0, 1.0), dtype=F64
    )
    assert float(windowed.min()) >= 0.1 and float(windowed.max()) <= 0.3


def test_time_sampling_errors() -> None:
    with pytest.raises(ValidationError, match="t_max"):
        TimeSamplingParams(t_min=0.5, t_max=0.5)
    with pytest.raises(ValidationError, match="logit_std"):
        TimeSamplingParams(logit_std=0.0)
    with pytest.raises(ValueError, match="misses the path's safe range"):
        time_window(TimeSamplingParams(t_min=0.0, t_max=0.1), (0.2, 1.0))
    with pytest.raises(ValueError, match="negative"):
        sample_times(-1, TimeSamplingParams(), (0.0, 1.0))


# --- loss values --------------------------------------------------------------------------------


def _times(objective: RegressionObjective, field: ModelField, n: int, seed: int) -> Tensor:
    like = torch.zeros(0, dtype=F64)
    return objective.sample_times(n, field, like, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("objective", "predicts", "expected"),
    [
        (FlowMatchingObjective(), "velocity", lambda z, eps, beta: (z - eps).pow(2).mean(1)),
        (EpsilonObjective(), "epsilon", lambda z, eps, beta: eps.pow(2).mean(1)),
        (DataObjective(), "data", lambda z, eps, beta: z.pow(2).mean(1)),
        (ScoreMatchingObjective(form="ddpm"), "score", lambda z, eps, beta: eps.pow(2).mean(1)),
        (ScoreMatchingObjective(form="score", t_max=0.9), "score", lambda z, eps, beta: eps.pow(2).mean(1) / beta**2),
    ],
    ids=["flow_matching", "epsilon_mse", "data_mse", "score_ddpm", "score_plain"],
)
def test_loss_of_a_zero_network(objective: RegressionObjective, predicts: str, expected: Any) -> None:
    """A network that outputs 0 for its own quantity leaves the whole target as the residual; the
    loss is its squared value averaged over the event dimensions, then (weighted) over the batch."""
    path = CondOTPath()
    field = _zero_field(predicts, path)
    z, eps = _batch(256, 2)
    loss = objective.loss(field, z, eps, generator=torch.Generator().manual_seed(3))
    beta = path.beta(_times(objective, field, 256, 3))
    assert float(loss) == pytest.approx(float(expected(z, eps, beta).mean()), rel=1e-12)


@pytest.mark.parametrize(
    "objective",
    [
        FlowMatchingObjective(),
        ScoreMatchingObjective(),
        ScoreMatchingObjective(form="score"),
        EpsilonObjective(),
        DataObjective(),
    ],
    ids=["flow_matching", "score_ddpm", "score_plain", "epsilon_mse", "data_mse"],
)
def test_loss_is_independent_of_the_parameterization(objective: RegressionObjective) -> None:
    """The same exact field, predicting any of the four quantities, gives the same loss."""
    path = VPPath(schedule="cosine")
    z, eps = _batch(512, 4)
    losses = [
        float(objective.loss(oracle_field(MIXTURE, path, q), z, eps, generator=torch.Generator().manual_seed(5)))
        for q in ("velocity", "score", "epsilon", "data")
    ]
    assert losses == pytest.approx([losses[0]] * 4, rel=1e-9)
    shifted = ModelField(lambda x, t: MIXTURE.marginal_velocity(path, x, t) + 0.5, VelocityParameterization(), path)
    assert float(objective.loss(shifted, z, eps, generator=torch.Generator().manual_seed(5))) > losses[0]


OBJECTIVES = [
    (FlowMatchingObjective(), "velocity"),
    (ScoreMatchingObjective(), "score"),
    (ScoreMatchingObjective(form="score", t_max=0.9), "score"),
    (EpsilonObjective(), "epsilon"),
    (DataObjective(), "data"),
]
OBJECTIVE_IDS = ["flow_matching", "score_ddpm", "score_plain", "epsilon_mse", "data_mse"]


@pytest.mark.parametrize(("objective", "predicts"), OBJECTIVES, ids=OBJECTIVE_IDS)
def test_loss_is_a_per_dimension_mean_whatever_the_event_shape(objective: RegressionObjective, predicts: str) -> None:
    """The same 2-D points copied into events of shape (2,), (2, 8) and (2, 4, 4) give the same
    loss (so values and gradient-clip thresholds carry over between data shapes), and a 2-D loss
    is the mean of the squared residual over both dimensions."""
    path = CondOTPath()
    z, eps = _batch(256, 8)
    losses = []
    for extra in ((), (8,), (4, 4)):
        shape = (256, 2, *extra)
        zz = z.reshape(256, 2, *(1,) * len(extra)).expand(shape).contiguous()
        ee = eps.reshape(256, 2, *(1,) * len(extra)).expand(shape).contiguous()
        field = _zero_field(predicts, path)
        losses.append(float(objective.loss(field, zz, ee, generator=torch.Generator().manual_seed(9))))
    assert losses == pytest.approx([losses[0]] * 3, rel=1e-12)
    field = _zero_field(predicts, path)
    draw = path.sample(z, _times(objective, field, 256, 9), eps)
    residual = objective.residual(field, draw)
    weight = objective.weight(field, draw)
    per_sample = residual.pow(2).mean(1) if weight is None else weight * residual.pow(2).mean(1)
    assert losses[0] == pytest.approx(float(per_sample.mean()), rel=1e-12)


# --- conditional vs marginal losses ---------------------------------------------------------------


def _per_sample(objective: RegressionObjective, field: ModelField, draw: PathSample) -> Tensor:
    r = objective.residual(field, draw)
    per = r.pow(2).mean(1)
    w = objective.weight(field, draw)
    return per if w is None else w * per


@pytest.mark.parametrize(
    "objective",
    [
        FlowMatchingObjective(),
        ScoreMatchingObjective(form="ddpm"),
        ScoreMatchingObjective(form="score", t_max=0.95),
        EpsilonObjective(time_sampler="logit_normal"),
        DataObjective(t_min=0.1),
    ],
    ids=["flow_matching", "score_ddpm", "score_plain", "epsilon_mse", "data_mse"],
)
def test_conditional_and_marginal_losses_differ_by_a_constant(objective: RegressionObjective) -> None:
    """L_cond(f) - L_marg(f) is the same for two different fields f (Theorem 18 of the notes for
    flow matching). The marginal loss replaces (z, eps) in the targets by their posterior means
    E[z | x_t], E[eps | x_t], computed exactly for the mixture; the same comparison against the
    posterior means of a *different* mixture must fail, so the check has power."""
    path = CondOTPath()
    n = 100_000
    z, eps = _batch(n, 6)
    w1 = torch.tensor([[0.8, -0.4], [0.3, 1.1]], dtype=F64)
    quantity = objective.quantity

    def net1(x: Tensor, t: Tensor) -> Tensor:
        return torch.tanh(x @ w1) + t[:, None]

    def net2(x: Tensor, t: Tensor) -> Tensor:
        return 0.5 * MIXTURE.marginal(path, quantity, x, t) - x * t[:, None]

    wrong = GaussianMixture(weights=[0.5, 0.5], means=[[-1.0, 0.5], [1.0, 0.5]], stds=[0.4, 0.4])
    gaps: dict[str, list[Tensor]] = {"exact": [], "wrong": []}
    for net in (net1, net2):
        field = ModelField(net, parameterization_for(quantity), path)
        cond = objective.loss(field, z, eps, generator=torch.Generator().manual_seed(7))
        t = _times(objective, field, n, 7)
        draw = path.sample(z, t, eps)
        conditional = _per_sample(objective, field, draw)
        assert float(conditional.mean()) == pytest.approx(float(cond), rel=1e-12)
        for key, mixture in (("exact", MIXTURE), ("wrong", wrong)):
            posterior = PathSample(
                x=draw.x,
                t=t,
                z=mixture.marginal_data(path, draw.x, t),
                noise=path.prior_std() * mixture.marginal_epsilon(path, draw.x, t),
                path=path,
            )
            gaps[key].append(conditional - _per_sample(objective, field, posterior))
    diff = gaps["exact"][0] - gaps["exact"][1]
    stderr = float(diff.std()) / math.sqrt(n)
    wrong_diff = gaps["wrong"][0] - gaps["wrong"][1]
    assert abs(float(diff.mean())) < 4 * stderr
    assert abs(float(wrong_diff.mean())) > 10 * float(wrong_diff.std()) / math.sqrt(n)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("objective", [ScoreMatchingObjective(), EpsilonObjective(), DataObjective()])
def test_objectives_needing_a_gaussian_path_say_so(
    objective: RegressionObjective, velocity_only_path: ProbabilityPath
) -> None:
    field = _zero_field("velocity", velocity_only_path)
    z = torch.zeros(4, 2)
    with pytest.raises(IncompatibleComponentsError, match=f"regresses '{objective.quantity}'"):
        objective.loss(field, z, z)
    assert float(FlowMatchingObjective().loss(field, z + 1.0, z)) == pytest.approx(1.0)


def test_mismatched_batches_are_refused() -> None:
    field = _zero_field("velocity", CondOTPath())
    with pytest.raises(ValueError, match="same shape"):
        FlowMatchingObjective().loss(field, torch.zeros(4, 2), torch.zeros(3, 2))
