"""Trainer pieces: learning-rate schedule, EMA, precision, label handling, and their errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from flowkit import IncompatibleComponentsError, Model, Trainer
from flowkit.engine.ema import DEFAULT_EMA_DECAY, EMA
from flowkit.engine.train import learning_rate_factor
from flowkit.runs.spec import TrainSpec
from flowkit_data import MoonsDataset
from flowkit_nets import MLP
from flowkit_std import CondOTPath, FlowMatchingObjective, VelocityParameterization


def _trainer(**kwargs: object) -> Trainer:
    torch.manual_seed(0)
    model = kwargs.pop("model", None) or MLP((2,), width=32, depth=2)
    return Trainer(
        model,  # type: ignore[arg-type]
        CondOTPath(),
        VelocityParameterization(),
        FlowMatchingObjective(),
        MoonsDataset(),
        batch_size=64,
        **kwargs,  # type: ignore[arg-type]
    )


def test_warmup_then_cosine_schedule_values() -> None:
    f = lambda step: learning_rate_factor(  # noqa: E731
        step, warmup_steps=10, total_steps=110, schedule="cosine", min_ratio=0.1
    )
    assert f(0) == pytest.approx(0.1)
    assert f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(110) == pytest.approx(0.1)
    assert learning_rate_factor(500, warmup_steps=0, total_steps=10, schedule="constant", min_ratio=0.0) == 1.0


def test_the_optimizer_follows_the_schedule() -> None:
    trainer = _trainer(lr=0.01, warmup_steps=4, schedule="cosine", total_steps=8)
    seen = []
    for _ in range(8):
        trainer.train_step()
        seen.append(trainer.optimizer.param_groups[0]["lr"])  # type: ignore[union-attr]
    assert seen[:4] == pytest.approx([0.0025, 0.005, 0.0075, 0.01])
    assert seen[4] == pytest.approx(0.01)
    assert seen[-1] < seen[4]


def test_ema_tracks_the_weights_with_a_warmed_up_decay() -> None:
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)  # decay min(0.9, 1/10) = 0.1: the average moves 90% of the way
    assert float(ema.module.weight) == pytest.approx(0.9)
    ema.update(model)  # decay min(0.9, 2/11)
    assert float(ema.module.weight) == pytest.approx(1 - 0.1 * 2 / 11)
    assert not any(p.requires_grad for p in ema.module.parameters())
    with pytest.raises(ValueError, match="EMA decay"):
        EMA(model, decay=1.0)


def test_training_is_reproducible_and_ema_is_used_for_sampling() -> None:
    a, b = _trainer(ema_decay=0.99), _trainer(ema_decay=0.99)
    a.fit(5)
    b.fit(5)
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert a.sampling_model() is a.ema.module  # type: ignore[union-attr]
    plain = _trainer(ema_decay=None)
    assert plain.ema is None and plain.sampling_model() is plain.model


def test_python_and_run_specs_share_one_ema_default() -> None:
    """A Trainer built from Python keeps the same EMA a run spec does, and samples with it."""
    trainer = _trainer()
    assert trainer.ema is not None
    assert trainer.ema.decay == DEFAULT_EMA_DECAY == TrainSpec().ema_decay
    trainer.fit(3)
    assert trainer.sampling_model() is trainer.ema.module
    assert not trainer.sampling_model().training


def test_bf16_autocast_trains_on_the_cpu_and_fp16_is_refused_with_a_clear_error() -> None:
    trainer = _trainer(precision="bf16")
    losses = [trainer.train_step() for _ in range(30)]
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-5:]) < sum(losses[:5])
    with pytest.raises(IncompatibleComponentsError, match="'fp16' needs a GPU"):
        _trainer(precision="fp16")


def test_gradient_accumulation_counts_every_micro_batch() -> None:
    trainer = _trainer(grad_accum=3)
    result = trainer.fit(2, log_every=1)
    assert trainer.examples_per_step == 192
    assert len(result.history) == 2 and trainer.step == 2


def test_a_class_conditional_model_needs_a_labelled_dataset() -> None:
    with pytest.raises(IncompatibleComponentsError, match="class-conditional but dataset 'moons' has no labels"):
        _trainer(model=MLP((2,), num_classes=3, width=8, depth=1))


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="batch_size and grad_accum must be positive"):
        _trainer(grad_accum=0)
    with pytest.raises(ValueError, match="label_dropout"):
        _trainer(label_dropout=1.0)


class _ModeRecorder(Model):
    """A linear velocity network that records ``self.training`` at every call, with a submodule."""

    def __init__(self) -> None:
        super().__init__((2,))
        self.linear = torch.nn.Linear(3, 2)
        self.dropout = torch.nn.Dropout(0.5)
        self.modes: list[bool] = []

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        self.modes.append(self.training)
        return self.dropout(self.linear(torch.cat([x, t[:, None]], dim=1)))


def test_every_training_step_runs_in_train_mode() -> None:
    model = _ModeRecorder()
    trainer = _trainer(model=model)
    trainer.fit(3)
    trainer.train_step()  # a step after fit still trains with dropout on
    model.eval()
    trainer.train_step()  # and so does one after the user switched to eval mode
    trainer.fit(2)
    assert model.modes == [True] * 7


def test_fit_and_train_step_leave_the_model_in_the_mode_they_found_it_in() -> None:
    model = _ModeRecorder()
    trainer = _trainer(model=model)
    trainer.fit(2)
    assert model.training and model.dropout.training  # a new module stays in train mode
    model.eval()
    trainer.fit(2)
    assert not model.training and not model.dropout.training  # the user's eval mode is kept
    trainer.train_step()
    assert not model.training and not model.dropout.training
    model.train()
    model.dropout.eval()  # a submodule set apart by the user comes back as it was
    trainer.fit(1)
    assert model.training and model.linear.training and not model.dropout.training


class _PlainNetwork(torch.nn.Module):
    """A plain torch module with the model call signature, not a flowkit Model."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.SiLU(), torch.nn.Linear(32, 2))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return self.net(torch.cat([x, t[:, None]], dim=1))


def test_a_plain_torch_module_trains_as_an_unconditional_model() -> None:
    torch.manual_seed(0)
    network = _PlainNetwork()
    trainer = _trainer(model=network, lr=1e-2)
    assert not trainer.conditional
    before = [p.detach().clone() for p in network.parameters()]
    result = trainer.fit(40, log_every=10)
    assert trainer.step == 40 and math.isfinite(result.final_loss)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert any(not torch.equal(p, q) for p, q in zip(network.parameters(), before, strict=True))
    assert isinstance(trainer.sampling_model(), _PlainNetwork)
    tensors, meta = trainer.state()
    trainer.load_state(tensors, meta)


def test_what_is_not_a_torch_module_is_refused_with_what_is_needed() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Module called as module\(x, t\)"):
        _trainer(model=lambda x, t: x)
    with pytest.raises(ValueError, match="model 'Identity' has no trainable parameters"):
        _trainer(model=torch.nn.Identity()).train_step()


def test_a_plain_module_with_num_classes_is_class_conditional() -> None:
    network = _PlainNetwork()
    network.num_classes = 3  # type: ignore[assignment]
    with pytest.raises(IncompatibleComponentsError, match="'_PlainNetwork' is class-conditional but dataset 'moons'"):
        _trainer(model=network)
    network.num_classes = "3"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="num_classes must be an int or None"):
        _trainer(model=network)
