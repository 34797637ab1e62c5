"""Training: draw data, pair it with prior noise, minimise the objective with AdamW.

Everything a step depends on is part of the trainer's state (weights, EMA weights, optimiser
moments, step, random-number generators), so :meth:`Trainer.state` / :meth:`Trainer.load_state`
let a stopped run continue to exactly the weights an uninterrupted run would reach.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.engine.ema import DEFAULT_EMA_DECAY, EMA
from flowkit.engine.progress import progress_bar
from flowkit.errors import CheckpointError, DivergedError, IncompatibleComponentsError
from flowkit.field import ModelField
from flowkit.model import Model
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import ProbabilityPath

LogRecord = dict[str, Any]
Schedule = Literal["constant", "cosine"]
Precision = Literal["float32", "bf16", "fp16"]


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


def learning_rate_factor(
    step: int, *, warmup_steps: int, total_steps: int, schedule: Schedule, min_ratio: float
) -> float:
    """Multiplier of the peak learning rate at optimiser step ``step`` (0-based).

    Linear warm-up from ``1 / warmup_steps`` to 1 over ``warmup_steps`` steps, then constant, or a
    cosine decay from 1 to ``min_ratio`` at ``total_steps``.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant" or total_steps <= warmup_steps:
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class Trainer:
    """Trains a model for a path, parameterization and objective on a dataset.

    The model is a :class:`~flowkit.model.Model` or any ``torch.nn.Module`` with its call
    signature, ``module(x, t)`` (and ``module(x, t, condition)`` when class-conditional). A plain
    module is trained like an unconditional model unless it has an integer ``num_classes``
    attribute, as a :class:`~flowkit.model.Model` does.

    Each optimiser step draws ``grad_accum`` micro-batches of ``batch_size`` data points (with
    labels when the model is class-conditional) and as many prior draws, pairs them with the
    coupling, and accumulates ``objective.loss``; then it clips, steps AdamW at the scheduled
    learning rate and updates the EMA of the weights (decay ``ema_decay``, by default
    :data:`~flowkit.engine.ema.DEFAULT_EMA_DECAY` as in run specs; ``None`` keeps none), which
    :meth:`sampling_model` returns. With ``label_dropout > 0`` a label is replaced by the
    "no label" token ``num_classes`` with that probability, which trains the unconditional model
    used by classifier-free guidance.

    All randomness comes from a generator seeded with ``seed`` (and torch's global generator for
    layers such as dropout, which is saved in the state), so the same arguments give the same
    weights on CPU. ``fit`` may be called repeatedly; training continues from where it stopped.

    Every training step runs with the model in train mode (dropout active, normalisation
    statistics updated), and ``train_step`` and ``fit`` then give the model and each of its
    submodules back the mode it had before: a new module stays in train mode, one the caller put
    in eval mode stays in eval mode. Sample with :meth:`sampling_model` (the EMA copy is always in
    eval mode) or call ``model.eval()`` first.

    Raises:
        TypeError: if ``model`` is not a ``torch.nn.Module``.
        ValueError: for invalid settings.
        IncompatibleComponentsError: ``fp16`` on a device without it, labels on an unlabelled dataset.
    """

    def __init__(
        self,
        model: nn.Module,
        path: ProbabilityPath,
        parameterization: Parameterization,
        objective: Objective,
        dataset: Dataset,
        coupling: Coupling | None = None,
        *,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        grad_clip: float | None = None,
        grad_accum: int = 1,
        warmup_steps: int = 0,
        schedule: Schedule = "constant",
        total_steps: int | None = None,
        min_lr_ratio: float = 0.0,
        ema_decay: float | None = DEFAULT_EMA_DECAY,
        label_dropout: float = 0.0,
        precision: Precision = "float32",
        compile: bool = False,
        seed: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(
                "Trainer needs a torch.nn.Module called as module(x, t) or module(x, t, condition) "
                f"(a flowkit.Model or any module with that signature), got {type(model).__name__}"
            )
        num_classes = getattr(model, "num_classes", None)
        if num_classes is not None and not isinstance(num_classes, int):
            raise TypeError(f"model num_classes must be an int or None, got {num_classes!r}")
        if batch_size <= 0 or grad_accum <= 0:
            raise ValueError(f"batch_size and grad_accum must be positive, got {batch_size} and {grad_accum}")
        if not 0.0 <= label_dropout < 1.0:
            raise ValueError(f"label_dropout must be in [0, 1), got {label_dropout}")
        first = next(model.parameters(), None)
        if device is not None:
            self.device = torch.device(device)
        else:
            self.device = first.device if first is not None else torch.device("cpu")
        self.dtype = dtype or (first.dtype if first is not None else torch.float32)
        self.model = model
        self.path = path
        self.parameterization = parameterization
        self.objective = objective
        self.dataset = dataset
        self.coupling = coupling
        self.batch_size = batch_size
        self.grad_clip = grad_clip
        self.grad_accum = grad_accum
        self.warmup_steps = warmup_steps
        self.schedule: Schedule = schedule
        self.total_steps = total_steps or 0
        self.min_lr_ratio = min_lr_ratio
        self.label_dropout = label_dropout
        self.model_name: str = getattr(model, "name", "") or type(model).__name__
        self.num_classes: int | None = num_classes
        self.conditional = num_classes is not None
        if self.conditional and dataset.num_classes is None:
            raise IncompatibleComponentsError(
                f"model {self.model_name!r} is class-conditional but dataset {dataset.name!r} has no labels"
            )
        self.precision: Precision = precision
        self._autocast_dtype = _autocast_dtype(precision, self.device)
        self.generator = torch.Generator(device="cpu").manual_seed(seed)
        network: Any = torch.compile(model) if compile else model
        self.field = ModelField(network, parameterization, path)
        params = [p for p in model.parameters() if p.requires_grad]
        self.peak_lr = lr
        self.optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=betas) if params else None
        self.ema = EMA(model, ema_decay) if ema_decay is not None else None
        self.step = 0

    # --- one step ------------------------------------------------------------------------------
    @property
    def examples_per_step(self) -> int:
        """Data points per optimiser step (``batch_size * grad_accum``)."""
        return self.batch_size * self.grad_accum

    def current_lr(self) -> float:
        """The learning rate of the next optimiser step."""
        factor = learning_rate_factor(
            self.step,
            warmup_steps=self.warmup_steps,
            total_steps=self.total_steps,
            schedule=self.schedule,
            min_ratio=self.min_lr_ratio,
        )
        return self.peak_lr * factor

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self._autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._autocast_dtype)

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        n = self.batch_size
        if self.conditional:
            z, labels = self.dataset.sample_labeled(n, generator=self.generator, dtype=self.dtype)
            if labels is None:
                raise IncompatibleComponentsError(f"dataset {self.dataset.name!r} returned no labels")
            if self.label_dropout > 0:
                drop = torch.rand(n, generator=self.generator) < self.label_dropout
                labels = torch.where(drop, torch.full_like(labels, self.num_classes or 0), labels)
            labels = labels.to(self.device)
        else:
            z, labels = self.dataset.sample(n, generator=self.generator, dtype=self.dtype), None
        z = z.to(self.device)
        noise = self.path.sample_prior(n, z.shape[1:], generator=self.generator, dtype=self.dtype).to(self.device)
        if self.coupling is not None:
            z, noise = self.coupling.pair(z, noise, generator=self.generator)
        return z, noise, labels

    def train_step(self) -> float:
        """One optimisation step (``grad_accum`` micro-batches); returns the mean micro-batch loss.

        The step runs in train mode; afterwards the model is back in the mode it had before.
        """
        if self.optimizer is None:
            raise ValueError(f"model {self.model_name!r} has no trainable parameters")
        with _train_mode(self.model):
            return self._step(self.optimizer)

    def _step(self, optimizer: torch.optim.Optimizer) -> float:
        lr = self.current_lr()
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=self.device)
        for _ in range(self.grad_accum):
            z, noise, labels = self._batch()
            self.field.condition = labels
            with self._autocast():
                loss = self.objective.loss(self.field, z, noise, generator=self.generator)
            (loss / self.grad_accum).backward()  # type: ignore[no-untyped-call]
            total += loss.detach().float()
        self.field.condition = None
        value = float(total) / self.grad_accum
        if not math.isfinite(value):
            optimizer.zero_grad(set_to_none=True)  # the update is not applied: the weights stay those of the last step
            raise DivergedError(
                f"training diverged at step {self.step + 1}: the loss is {value} (learning rate {lr:.3g}); "
                "lower train.lr, set train.grad_clip, or check the data's scale"
            )
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        optimizer.step()
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        return value

    # --- the loop ------------------------------------------------------------------------------
    def fit(
        self,
        steps: int,
        *,
        log_every: int = 100,
        on_log: Callable[[LogRecord], None] | None = None,
        checkpoint_every: int | None = None,
        on_checkpoint: Callable[[Trainer], None] | None = None,
        progress: bool = False,
    ) -> TrainResult:
        """Train ``steps`` more steps.

        Every step runs in train mode. When ``fit`` returns (or raises), the model and each of its
        submodules are back in the mode they had when it was called, so a new module is left in
        train mode; the callbacks see the model in train mode.

        Ctrl-C (SIGINT, in the main thread) stops training between two steps with
        ``KeyboardInterrupt``, so the trainer's state is that of a whole step and can be saved; a
        second Ctrl-C interrupts at once. A non-finite loss raises :class:`~flowkit.DivergedError`
        before its update is applied.

        ``on_checkpoint`` is called whenever the step count is a multiple of ``checkpoint_every``;
        then a log record is made if it is a multiple of ``log_every`` or the last step (so a log
        callback that stops training at a checkpointed step can resume from that very step).
        """
        result = TrainResult()
        start = time.perf_counter()
        window: list[float] = []
        window_start = start
        bar = progress_bar(total=steps, desc="train", enabled=progress)
        with _train_mode(self.model), contextlib.closing(bar), _interrupt_between_steps() as interrupted:
            for i in range(steps):
                if interrupted():
                    raise KeyboardInterrupt
                window.append(self.train_step())
                bar.update(1)
                if checkpoint_every and on_checkpoint is not None and self.step % checkpoint_every == 0:
                    on_checkpoint(self)
                if self.step % log_every == 0 or i + 1 == steps:
                    now = time.perf_counter()
                    record: LogRecord = {
                        "step": self.step,
                        "loss": sum(window) / len(window),
                        "lr": self.optimizer.param_groups[0]["lr"] if self.optimizer else 0.0,
                        "samples_per_s": len(window)
                        * self.batch_size
                        * self.grad_accum
                        / max(now - window_start, 1e-9),
                        "elapsed_s": now - start,
                    }
                    result.history.append(record)
                    bar.set_postfix(loss=f"{record['loss']:.4f}")
                    if on_log is not None:
                        on_log(record)
                    result.final_loss = record["loss"]
                    window, window_start = [], now
        result.seconds = time.perf_counter() - start
        result.samples_per_s = steps * self.examples_per_step / max(result.seconds, 1e-9)
        return result

    def sampling_model(self) -> Model:
        """The weights to sample with: the EMA copy (in eval mode) when there is one, else the model.

        A plain ``torch.nn.Module`` given to the trainer comes back as such (or as its EMA copy).
        """
        module = self.ema.module if self.ema is not None else self.model
        return module  # type: ignore[return-value]

    # --- state ---------------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Everything needed to continue: ``(tensors, plain data)`` with no pickled objects."""
        tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        meta: dict[str, Any] = {"step": self.step, "optimizer": None, "ema_updates": None}
        if self.ema is not None:
            tensors.update({f"ema.{k}": v for k, v in self.ema.module.state_dict().items()})
            meta["ema_updates"] = self.ema.updates
        if self.optimizer is not None:
            opt = self.optimizer.state_dict()
            scalars: dict[str, dict[str, Any]] = {}
            for idx, entry in opt["state"].items():
                for key, value in entry.items():
                    if isinstance(value, torch.Tensor):
                        tensors[f"optimizer.{idx}.{key}"] = value
                    else:
                        scalars.setdefault(str(idx), {})[key] = value
            meta["optimizer"] = {"param_groups": opt["param_groups"], "scalars": scalars}
        tensors["rng.trainer"] = self.generator.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        return tensors, meta

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Restore a state made by :meth:`state` (raises :class:`CheckpointError` on a mismatch)."""
        try:
            self.model.load_state_dict(_strip(tensors, "model."))
            if self.ema is not None:
                if meta.get("ema_updates") is None:
                    raise CheckpointError("the checkpoint has no EMA weights, but EMA is enabled")
                self.ema.module.load_state_dict(_strip(tensors, "ema."))
                self.ema.updates = int(meta["ema_updates"])
            if self.optimizer is not None:
                opt_meta = meta.get("optimizer")
                if opt_meta is None:
                    raise CheckpointError("the checkpoint has no optimizer state")
                state: dict[int, dict[str, Any]] = {}
                for key, value in _strip(tensors, "optimizer.").items():
                    idx, name = key.split(".", 1)
                    state.setdefault(int(idx), {})[name] = value
                for idx, entries in opt_meta.get("scalars", {}).items():
                    state.setdefault(int(idx), {}).update(entries)
                self.optimizer.load_state_dict({"state": state, "param_groups": opt_meta["param_groups"]})
            self.generator.set_state(tensors["rng.trainer"])
            torch.set_rng_state(tensors["rng.torch"])
            self.step = int(meta["step"])
        except CheckpointError:
            raise
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint does not match this run: {exc}") from exc


@contextlib.contextmanager
def _interrupt_between_steps() -> Iterator[Callable[[], bool]]:
    """Defer the first SIGINT to the next step boundary; yields ``interrupted()``."""
    import signal
    import threading

    flag = {"set": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum: int, frame: object) -> None:
        if flag["set"]:
            raise KeyboardInterrupt
        flag["set"] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag["set"]
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _train_mode(module: nn.Module) -> Iterator[None]:
    """Run the block with ``module`` in train mode, then restore each submodule's own mode."""
    modes = [(m, m.training) for m in module.modules()]
    module.train()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _strip(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _autocast_dtype(precision: Precision, device: torch.device) -> torch.dtype | None:
    if precision == "float32":
        return None
    if precision == "fp16" and device.type == "cpu":
        raise IncompatibleComponentsError("precision 'fp16' needs a GPU; use 'bf16' or 'float32' on the CPU")
    return torch.bfloat16 if precision == "bf16" else torch.float16
