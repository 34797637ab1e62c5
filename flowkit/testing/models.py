"""Conformance check of models: :func:`check_model`, over the contexts a model is built for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
import torch
from torch import Tensor

from flowkit.errors import IncompatibleComponentsError
from flowkit.model import Model, ModelContext
from flowkit.testing.core import Checker, first_line, one_thread, probes
from flowkit.testing.reference import ReferenceDataset, ReferencePath


def default_contexts() -> list[ModelContext]:
    """The contexts :func:`check_model` builds a model for unless told otherwise: a 2D vector and
    a ``(1, 8, 8)`` image, each with a :class:`~flowkit.testing.ReferenceDataset` of that shape and
    :class:`~flowkit.testing.ReferencePath`."""
    return [
        ModelContext(tuple(shape), None, ReferenceDataset(event_shape=tuple(shape)), ReferencePath())
        for shape in ((2,), (1, 8, 8))
    ]


@one_thread
def check_model(
    cls: type[Model],
    params: Mapping[str, Any] | None = None,
    *,
    contexts: Sequence[ModelContext] | None = None,
) -> None:
    """Check a :class:`~flowkit.model.Model` subclass.

    The model is built with :meth:`~flowkit.model.Model.from_context` for each context in
    ``contexts`` (default: a 2D vector and a ``(1, 8, 8)`` image, each with a
    :class:`~flowkit.testing.ReferenceDataset` of that shape and
    :class:`~flowkit.testing.ReferencePath`). A model may refuse a context at construction with
    ``ValueError`` or :class:`~flowkit.errors.IncompatibleComponentsError` (e.g. an image network
    given vectors), but it must accept at least one; pass ``contexts`` for a model that needs a
    particular dataset.

    Rules, for each accepted context: the component rules; ``forward(x, t)`` with ``t`` spanning
    the context path's ``time_range`` (``[0, 1]`` without a path; both ends included) returns
    ``x``'s shape, dtype (float32, and float64 after ``.double()``) and device, finite, and the
    same output twice in eval mode; a trainable model gets finite, not all-zero gradients; built
    with ``num_classes=3``, a model that keeps ``num_classes`` (it claims to be conditional)
    accepts ``condition`` labels ``(B,)`` in ``[0, 3]`` (3 is the "no label" token) and
    ``condition=None`` alike.

    Raises:
        ConformanceError: naming the model and the rule it broke.
    """
    ck = Checker(cls)
    ck.identity(Model)
    trainable = cls.trainable
    ck.expect(isinstance(trainable, bool), "trainable", f"trainable must be a bool, got {trainable!r}")
    refused: list[str] = []
    accepted = 0
    for context in contexts if contexts is not None else default_contexts():
        shape = tuple(context.event_shape)
        try:
            cls.from_context(context, dict(params or {}))
        except (ValueError, IncompatibleComponentsError) as exc:
            if isinstance(exc, pydantic.ValidationError):
                raise ck.fail("construction", f"params rejected: {first_line(exc)}") from exc
            refused.append(f"{shape}: {first_line(exc)}")
            continue
        except Exception as exc:
            raise ck.fail(
                "construction",
                f"from_context for event shape {shape} raised {first_line(exc)} "
                "(refuse an unsupported context with ValueError or IncompatibleComponentsError)",
            ) from exc
        accepted += 1

        def factory(**p: Any) -> Model:
            return cls.from_context(context, p)  # noqa: B023 (used within this iteration)

        torch.manual_seed(0)
        model = ck.build(factory, params)
        span = context.path.time_range if context.path is not None else (0.0, 1.0)
        _probe_model(ck, model, shape, trainable, span)
        labelled = ModelContext(shape, 3, context.dataset, context.path)
        try:
            conditional = cls.from_context(labelled, dict(params or {}))
        except (ValueError, IncompatibleComponentsError):
            continue
        if conditional.num_classes == 3:
            _probe_model(ck, conditional, shape, trainable, span, num_classes=3)
    ck.expect(
        accepted > 0,
        "construction",
        "refused every probe context (" + "; ".join(refused) + "); pass contexts= with one it accepts",
    )


def _probe_model(
    ck: Checker,
    model: Model,
    shape: tuple[int, ...],
    trainable: bool,
    span: tuple[float, float],
    num_classes: int | None = None,
) -> None:
    """Forward, determinism and (float64 on the CPU) gradients of ``model`` for each probe of ``shape``."""
    n = 4
    for probe in probes((shape,)):
        dtype, device, tag = probe.dtype, probe.device, probe.tag
        net = model.to(device=device, dtype=dtype)
        net.eval()
        x = probe.randn(n, 1)
        t = torch.linspace(span[0], span[1], n, dtype=dtype, device=device)
        conditions: list[Tensor | None] = [None]
        if num_classes is not None:
            conditions.append(torch.tensor([0, 1, 2, num_classes], device=device))
        for condition in conditions:
            what = f"forward{tag}" + ("" if condition is None else f" with condition labels {condition.tolist()}")
            with torch.no_grad():
                out = ck.call("forward", net, x, t, condition)
                again = net(x, t, condition)
            ck.tensor(what, out, x.shape, dtype, device)
            ck.expect(torch.equal(out, again), "determinism", f"{what} differs between two calls in eval mode")
        if trainable and device.type == "cpu" and dtype == torch.float64:
            net.train()
            net.zero_grad()
            out = net(x, t, conditions[-1])
            ck.call("backward", out.pow(2).sum().backward)
            grads = [p.grad.reshape(-1) for p in net.parameters() if p.requires_grad and p.grad is not None]
            ck.expect(bool(grads), "gradient", f"forward{tag} gives no gradient to any parameter")
            flat = torch.cat(grads)
            ck.expect(bool(torch.isfinite(flat).all()), "gradient", f"forward{tag} gives non-finite gradients")
            ck.expect(bool((flat != 0).any()), "gradient", f"forward{tag} gives all-zero gradients")
            net.zero_grad()
    model.to(device="cpu", dtype=torch.float32)
