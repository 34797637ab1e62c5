"""Training: draw data, pair it with prior noise, minimise the objective with AdamW."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.field import Field
from flowkit.model import Model
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath
from flowkit.progress import progress_bar

LogRecord = dict[str, Any]


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    Attributes:
        history: the log records (``step``, ``loss``, ``lr``, ``samples_per_s``, ``elapsed_s``).
        final_loss: mean loss over the last logging window (``nan`` when nothing was trained).
        seconds: wall-clock training time.
        samples_per_s: data points processed per second.
    """

    history: list[LogRecord] = field(default_factory=list)
    final_loss: float = float("nan")
    seconds: float = 0.0
    samples_per_s: float = 0.0


class Trainer:
    """Trains a model for a path, parameterization and objective on a dataset.

    Each step draws ``batch_size`` data points and as many prior draws, pairs them with the
    coupling, and takes one AdamW step on ``objective.loss``. All randomness comes from a
    generator seeded with ``seed``, so the same arguments give the same weights on CPU.
    ``fit`` may be called repeatedly; training continues from where it stopped.
    """

    def __init__(
        self,
        model: Model,
        path: ProbabilityPath,
        parameterization: Parameterization,
        objective: Objective,
        dataset: Dataset,
        coupling: Coupling | None = None,
        *,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        grad_clip: float | None = None,
        seed: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        first = next(model.parameters(), None)
        self.device = (
            torch.device(device) if device is not None else (first.device if first is not None else torch.device("cpu"))
        )
        self.dtype = dtype or (first.dtype if first is not None else torch.float32)
        self.model = model
        self.path = path
        self.parameterization = parameterization
        self.objective = objective
        self.dataset = dataset
        self.coupling = coupling
        self.batch_size = batch_size
        self.grad_clip = grad_clip
        self.generator = torch.Generator(device="cpu").manual_seed(seed)
        self.field = Field(model, parameterization, path)
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay) if params else None
        self.step = 0

    def train_step(self) -> float:
        """One optimisation step; returns the batch loss."""
        if self.optimizer is None:
            raise ValueError(f"model {self.model.name!r} has no trainable parameters")
        z = self.dataset.sample(self.batch_size, generator=self.generator, dtype=self.dtype).to(self.device)
        noise = self.path.sample_prior(self.batch_size, z.shape[1:], generator=self.generator, dtype=self.dtype).to(
            self.device
        )
        if self.coupling is not None:
            z, noise = self.coupling.pair(z, noise, generator=self.generator)
        loss = self.objective.loss(self.field, z, noise, generator=self.generator)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.step += 1
        return float(loss.detach())

    def fit(
        self,
        steps: int,
        *,
        log_every: int = 100,
        on_log: Callable[[LogRecord], None] | None = None,
        progress: bool = False,
    ) -> TrainResult:
        """Train ``steps`` more steps, logging every ``log_every`` steps (and at the last one)."""
        result = TrainResult()
        self.model.train()
        start = time.perf_counter()
        window: list[float] = []
        window_start = start
        bar = progress_bar(total=steps, desc="train", enabled=progress)
        try:
            for i in range(steps):
                window.append(self.train_step())
                bar.update(1)
                if (i + 1) % log_every == 0 or i + 1 == steps:
                    now = time.perf_counter()
                    record: LogRecord = {
                        "step": self.step,
                        "loss": sum(window) / len(window),
                        "lr": self.optimizer.param_groups[0]["lr"] if self.optimizer else 0.0,
                        "samples_per_s": len(window) * self.batch_size / max(now - window_start, 1e-9),
                        "elapsed_s": now - start,
                    }
                    result.history.append(record)
                    bar.set_postfix(loss=f"{record['loss']:.4f}")
                    if on_log is not None:
                        on_log(record)
                    result.final_loss = record["loss"]
                    window, window_start = [], now
        finally:
            bar.close()
            self.model.eval()
        result.seconds = time.perf_counter() - start
        result.samples_per_s = steps * self.batch_size / max(result.seconds, 1e-9)
        return result
