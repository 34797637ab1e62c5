"""Class-conditional training with label dropout, and classifier-free guidance at sampling time."""

from __future__ import annotations

from typing import ClassVar

import pytest
import torch
from torch import Tensor

from flowkit import Dataset, ModelField, Trainer, sample
from flowkit_nets import MLP
from flowkit_std import (
    CondOTPath,
    DataParameterization,
    EpsilonParameterization,
    FlowMatchingObjective,
    ScoreParameterization,
    VelocityParameterization,
    VPPath,
)
from flowkit_std.solvers import EulerSolver, MidpointSolver

CENTRES = torch.tensor([[-2.0, 0.0], [2.0, 0.0]])


class TwoClasses(Dataset):
    """Class 0 around (-2, 0), class 1 around (2, 0), std 0.3, equally likely."""

    name: ClassVar[str] = "two_classes_test"

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def num_classes(self) -> int | None:
        return 2

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return self.sample_labeled(n, generator=generator, dtype=dtype)[0]

    def sample_labeled(
        self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> tuple[Tensor, Tensor | None]:
        labels = torch.randint(0, 2, (n,), generator=generator)
        points = CENTRES[labels] + 0.3 * torch.randn(n, 2, generator=generator)
        return points.to(dtype), labels


@pytest.fixture(scope="module")
def trained() -> tuple[MLP, ModelField]:
    torch.manual_seed(0)
    path = CondOTPath(t_eps=1e-3)
    parameterization = VelocityParameterization()
    model = MLP((2,), num_classes=2, width=64, depth=3)
    trainer = Trainer(
        model, path, parameterization, FlowMatchingObjective(), TwoClasses(), batch_size=256, lr=3e-3, label_dropout=0.2
    )
    trainer.fit(400)
    return model, ModelField(model, parameterization, path)


@pytest.mark.parametrize("solver", [EulerSolver(steps=30), MidpointSolver(steps=15)], ids=["euler", "midpoint"])
def test_each_label_draws_its_own_class(trained: tuple[MLP, ModelField], solver: EulerSolver) -> None:
    _model, field = trained
    for label, sign in ((0, -1.0), (1, 1.0)):
        labels = torch.full((400,), label)
        drawn = sample(field, solver, 400, (2,), labels=labels, null_label=2, seed=1).samples
        assert (torch.sign(drawn[:, 0]) == sign).float().mean() > 0.95
        assert torch.allclose(drawn.mean(0), CENTRES[label], atol=0.35)


def test_guidance_sharpens_the_conditional_and_null_label_gives_both_classes(trained: tuple[MLP, ModelField]) -> None:
    _model, field = trained
    solver = MidpointSolver(steps=15)
    labels = torch.zeros(600, dtype=torch.long)
    plain = sample(field, solver, 600, (2,), labels=labels, null_label=2, seed=2)
    field.guidance_scale = 3.0
    try:
        guided = sample(field, solver, 600, (2,), labels=labels, null_label=2, seed=2)
    finally:
        field.guidance_scale = 1.0
    wrong_plain = (plain.samples[:, 0] > 0).float().mean()
    wrong_guided = (guided.samples[:, 0] > 0).float().mean()
    assert wrong_guided <= wrong_plain
    assert (guided.samples[:, 0] < 0).float().mean() > 0.98
    # one batched network call per step, whatever the guidance
    assert guided.nfe == plain.nfe == 30
    unconditional = sample(field, solver, 600, (2,), labels=torch.full((600,), 2), seed=3).samples
    left = (unconditional[:, 0] < 0).float().mean()
    assert 0.35 < left < 0.65


def test_guidance_without_the_null_label_is_refused(trained: tuple[MLP, ModelField]) -> None:
    model, field = trained
    guided = ModelField(
        model, field.parameterization, field.path, condition=torch.zeros(4, dtype=torch.long), guidance_scale=2.0
    )
    with pytest.raises(ValueError, match="null condition"):
        guided.velocity(torch.zeros(4, 2), 0.5)


@pytest.mark.parametrize(
    "parameterization",
    [VelocityParameterization(), ScoreParameterization(), EpsilonParameterization(), DataParameterization()],
    ids=lambda p: p.name,
)
@pytest.mark.parametrize("quantity", ["velocity", "score", "epsilon", "data"])
def test_guiding_the_output_guides_every_quantity_for_every_parameterization(
    parameterization: VelocityParameterization, quantity: str
) -> None:
    """out_null + w (out_cond - out_null), read as any quantity, equals the same mix of that quantity."""
    torch.manual_seed(1)
    weight = torch.randn(2, 2, dtype=torch.float64)
    label_shift = torch.randn(3, 2, dtype=torch.float64)

    def network(x: Tensor, t: Tensor, condition: Tensor) -> Tensor:
        return x @ weight + t[:, None] * label_shift[condition]

    path = VPPath()
    x = torch.randn(5, 2, dtype=torch.float64)
    t = torch.full((5,), 0.4, dtype=torch.float64)
    cond, null = torch.tensor([0, 1, 0, 1, 0]), torch.full((5,), 2)
    w = 2.5
    guided = ModelField(network, parameterization, path, cond, guidance_scale=w, null_condition=null)
    conditional = ModelField(network, parameterization, path, cond)
    unconditional = ModelField(network, parameterization, path, null)
    expected = unconditional.predict(quantity, x, t) + w * (
        conditional.predict(quantity, x, t) - unconditional.predict(quantity, x, t)
    )
    torch.testing.assert_close(guided.predict(quantity, x, t), expected, rtol=1e-12, atol=1e-12)
    assert guided.nfe == 1
