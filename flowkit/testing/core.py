"""The machinery every conformance check shares: the error, the probes and the checker.

* :class:`ConformanceError` is what every check raises; :func:`describe_component` is how its
  message names the component.
* :func:`probes` yields the cases a check runs its kind's rules on: every device (CPU, plus CUDA
  when available) times every dtype (float32, float64) times every event shape, each a
  :class:`Probe` that builds its seeded inputs and labels its messages (``[torch.float64, event
  (1, 3, 3), cpu]``).
* :class:`Checker` holds the helpers a check uses to turn an observation into a failure (naming
  the component in every message) and the *component rules* that hold for every kind: the kind's
  base class, a non-empty ``name`` without whitespace, a docstring, a ``Params`` model that
  rejects unknown keys and round-trips.
* :func:`one_thread` runs a check with one torch thread.

The kind-specific checks live in the sibling modules (:mod:`flowkit.testing.paths`, ...), and
:mod:`flowkit.testing.dispatch` picks one for a component class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import pydantic
import torch
from torch import Tensor

from flowkit.component import Component

DEFAULT_EVENT_SHAPES: tuple[tuple[int, ...], ...] = ((2,), (1, 3, 3))
"""Event shapes every check probes unless told otherwise: a 2D vector and a tiny one-channel image."""

DTYPES: tuple[torch.dtype, ...] = (torch.float32, torch.float64)
"""The dtypes every check probes: a component must keep each of them."""

UNKNOWN_PARAM = "conformance_unknown_param"
"""The key the component rules pass to check that ``Params`` rejects unknown keys."""

C = TypeVar("C", bound=Component)

P = ParamSpec("P")
R = TypeVar("R")


class ConformanceError(AssertionError):
    """A component breaks the contract of its kind.

    Attributes:
        component: who failed, e.g. ``"path 'trig' (my_plugin.paths.TrigPath)"``.
        check: the rule that broke, e.g. ``"shape"`` or ``"NFE"``.
        detail: what was observed.
    """

    def __init__(self, component: str, check: str, detail: str) -> None:
        self.component = component
        self.check = check
        self.detail = detail
        super().__init__(f"{component}: {check}: {detail}")


def describe_component(cls: type) -> str:
    """``"<kind> '<name>' (<module>.<qualname>)"``: how conformance messages name a component."""
    kind = getattr(cls, "kind", "component")
    name = getattr(cls, "name", "")
    return f"{kind} {name!r} ({cls.__module__}.{cls.__qualname__})"


def one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with one torch thread (restored afterwards).

    The checks use tiny tensors, for which thread start-up costs more than the work; on a busy
    machine two threads can make a check a hundred times slower.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper


# ------------------------------------------------------------------------------------------------
# Probes: the (device, dtype, event shape) cases


def devices() -> list[torch.device]:
    """The devices a check probes: the CPU, plus CUDA when it is available."""
    found = [torch.device("cpu")]
    if torch.cuda.is_available():
        found.append(torch.device("cuda"))
    return found


def seeded(seed: int, device: torch.device | None = None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` (default: the CPU) seeded with ``seed``."""
    return torch.Generator(device=device or "cpu").manual_seed(seed)


@dataclass(frozen=True)
class Probe:
    """One case a check runs its kind's rules on: a device, a dtype and an event shape.

    Attributes:
        device: where the inputs live and the outputs must stay.
        dtype: the inputs' dtype, which the outputs must keep.
        event_shape: the shape of one data point; a batch of ``n`` is ``(n, *event_shape)``.
    """

    device: torch.device
    dtype: torch.dtype
    event_shape: tuple[int, ...]

    @property
    def tag(self) -> str:
        """The probe in a message: ``[torch.float32, event (2,), cpu]``."""
        return self.tag_with()

    def tag_with(self, *extra: str) -> str:
        """:attr:`tag` with more parts inside the brackets (``network predicts score``)."""
        parts = [str(self.dtype), f"event {self.event_shape}", self.device.type, *extra]
        return f"[{', '.join(parts)}]"

    def batch(self, n: int) -> tuple[int, ...]:
        """The shape of a batch of ``n`` states: ``(n, *event_shape)``."""
        return (n, *self.event_shape)

    def generator(self, seed: int) -> torch.Generator:
        """A generator on the probe's device seeded with ``seed``."""
        return seeded(seed, self.device)

    def randn(self, n: int, seed: int) -> Tensor:
        """``n`` standard normal states of the probe's shape, dtype and device, drawn with ``seed``."""
        return torch.randn(self.batch(n), generator=self.generator(seed), dtype=self.dtype, device=self.device)


def probes(
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    *,
    dtypes: Sequence[torch.dtype] = DTYPES,
) -> Iterator[Probe]:
    """Every probe a check runs: each device of :func:`devices`, each dtype, each event shape.

    The order is device, then dtype, then event shape (the innermost), so a failure on the CPU
    is reported before one on CUDA.
    """
    for device in devices():
        for dtype in dtypes:
            for shape in event_shapes:
                yield Probe(device, dtype, tuple(shape))


# ------------------------------------------------------------------------------------------------
# The checker: names the component in every failure


def public_name(cls: type) -> str:
    """``flowkit.GaussianPath`` for a class of the public door, else ``module.QualName``."""
    import flowkit

    if getattr(flowkit, cls.__name__, None) is cls:
        return f"flowkit.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def first_line(exc: BaseException) -> str:
    """``"ValueError: <first line of the message>"``: an exception in a failure message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def rms(x: Tensor) -> float:
    """The root mean square of ``x`` (in float64), the scale tolerances are relative to."""
    return float(x.double().pow(2).mean().sqrt())


class Checker:
    """The helpers every check uses; each failure raises :class:`ConformanceError` naming ``cls``.

    Args:
        cls: the component class under check (named in every message by
            :func:`describe_component`).
    """

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.label = describe_component(cls)

    def fail(self, check: str, detail: str) -> ConformanceError:
        """The error for rule ``check`` with what was observed (to ``raise``)."""
        return ConformanceError(self.label, check, detail)

    def expect(self, condition: bool, check: str, detail: str) -> None:
        """Raise the failure of ``check`` unless ``condition`` holds."""
        if not condition:
            raise self.fail(check, detail)

    def call(self, check: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn``; an exception becomes a failure of ``check`` naming the exception."""
        try:
            return fn(*args, **kwargs)
        except ConformanceError:
            raise
        except Exception as exc:
            raise self.fail(check, f"raised {first_line(exc)}") from exc

    def tensor(
        self,
        what: str,
        value: Any,
        shape: Sequence[int],
        dtype: torch.dtype,
        device: torch.device,
        *,
        finite: bool = True,
    ) -> Tensor:
        """Check ``value`` is a tensor of ``shape``/``dtype`` on ``device`` (and finite)."""
        self.expect(isinstance(value, Tensor), "type", f"{what} returned {type(value).__name__}, expected a Tensor")
        t: Tensor = value
        self.expect(
            tuple(t.shape) == tuple(shape), "shape", f"{what} has shape {tuple(t.shape)}, expected {tuple(shape)}"
        )
        self.expect(t.dtype == dtype, "dtype", f"{what} has dtype {t.dtype}, expected {dtype}")
        self.expect(t.device.type == device.type, "device", f"{what} is on {t.device}, expected {device}")
        if finite:
            bad = int((~torch.isfinite(t)).sum())
            self.expect(bad == 0, "finite", f"{what} has {bad} non-finite value(s) out of {t.numel()}")
        return t

    def probed(self, what: str, value: Any, probe: Probe, n: int) -> Tensor:
        """:meth:`tensor` for a batch of ``n`` states of ``probe`` (shape, dtype and device)."""
        return self.tensor(what, value, probe.batch(n), probe.dtype, probe.device)

    def close(self, what: str, actual: Tensor, expected: Tensor, *, rtol: float, atol: float) -> None:
        """Check ``actual`` is within ``atol + rtol |expected|`` of ``expected`` everywhere."""
        err = (actual - expected).abs()
        bound = atol + rtol * expected.abs()
        if not bool((err <= bound).all()):
            worst = float((err - bound).max())
            raise self.fail(what, f"differs by up to {float(err.max()):.3g} (tolerance exceeded by {worst:.3g})")

    def base(self, base: type[Component]) -> None:
        """Check the class derives from ``base`` (rule ``kind``)."""
        self.expect(
            isinstance(self.cls, type) and issubclass(self.cls, base),
            "kind",
            f"is not a subclass of {public_name(base)}",
        )

    def identity(self, base: type[Component]) -> None:
        """The component rules that need no instance: kind, name, docstring, Params model."""
        self.base(base)
        cls: Any = self.cls
        name = getattr(cls, "name", "")
        self.expect(isinstance(name, str) and bool(name), "name", "the class attribute 'name' is empty")
        self.expect(
            not any(ch.isspace() for ch in name), "name", f"name {name!r} contains whitespace (specs refer to it)"
        )
        self.expect(cls.kind == base.kind, "kind", f"kind is {cls.kind!r}, expected {base.kind!r}")
        self.expect(
            bool((cls.__dict__.get("__doc__") or "").strip()),
            "docstring",
            "the class has no docstring (its first line is the summary `flowkit plugins list` shows)",
        )
        params_model: Any = getattr(cls, "Params", None)
        self.expect(
            isinstance(params_model, type) and issubclass(params_model, Component.Params),
            "params",
            "Params is not a subclass of flowkit.Params",
        )
        self.expect(
            params_model.model_config.get("extra") == "forbid",
            "params",
            "Params accepts unknown keys; it must keep model_config extra='forbid'",
        )

    def build(self, factory: Callable[..., C], params: Mapping[str, Any] | None) -> C:
        """Build the component from ``params`` and check the params rules on it."""
        p = dict(params or {})
        where = "with default params" if not p else f"with params {p}"
        obj: C = self.call("construction", factory, **p)
        model: Any = type(obj).Params
        self.expect(isinstance(obj.params, model), "params", f"self.params is not a {model.__qualname__}")
        again = self.call("params round-trip", factory, **obj.params.model_dump())
        self.expect(
            again.params == obj.params,
            "params round-trip",
            f"rebuilding from params.model_dump() gave {again.params!r}, expected {obj.params!r}",
        )
        from_json = self.call("params JSON round-trip", model.model_validate_json, obj.params.model_dump_json())
        self.expect(
            from_json == obj.params,
            "params JSON round-trip",
            f"params read back from JSON are {from_json!r}, expected {obj.params!r}",
        )
        try:
            factory(**p, **{UNKNOWN_PARAM: 1})
        except pydantic.ValidationError:
            pass
        except Exception as exc:
            raise self.fail(
                "unknown param", f"an unknown param raised {first_line(exc)} instead of a pydantic ValidationError"
            ) from exc
        else:
            raise self.fail("unknown param", f"an unknown param {UNKNOWN_PARAM!r} was accepted {where}")
        return obj

    def start(self, base: type[Component], factory: Callable[..., C], params: Mapping[str, Any] | None) -> C:
        """Every component rule: :meth:`identity` against ``base``, then :meth:`build` from ``params``."""
        self.identity(base)
        return self.build(factory, params)
