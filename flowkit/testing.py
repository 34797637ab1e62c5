"""Conformance checks: the contract of every component kind, runnable from any plugin's tests.

A plugin author calls one function per component class in the plugin's own test suite::

    from flowkit.testing import check_component, check_plugin
    from my_plugin import plugin
    from my_plugin.paths import MyPath

    def test_my_path_conforms():
        check_component(MyPath)          # or check_path(MyPath, {"param": 1.0})

    def test_plugin_registers_and_conforms():
        check_plugin(plugin)             # every class the plugin's hooks return

Each check builds the component (from its default params unless ``params`` is given), drives it
through the contract of its kind and raises :class:`ConformanceError` (an ``AssertionError``, so
pytest shows it as a test failure) whose message names the component, the rule that broke and
the numbers involved, e.g. ``solver 'ralston' (my_plugin.solvers.Ralston): NFE: solve() reported
40 evaluations but the network was called 41 times``.

What every check verifies first (the *component* rules): ``name`` is a non-empty word, the class
has a docstring (its first line is what ``flowkit plugins list`` shows), ``Params`` derives from
:class:`flowkit.Params` and rejects unknown keys, and the params round-trip
(``cls(**obj.params.model_dump())`` and the JSON form give equal params). Then the kind's rules:
output shapes ``(B, *event_shape)`` for a vector and an image-like event shape, ``float32`` and
``float64`` kept, the device kept (CPU, plus CUDA when available), finite values at both ends of
the declared ``time_range``, reproducibility with a seeded ``torch.Generator``, and the numeric
identities of the kind (see each function).

Time convention everywhere: ``t = 0`` is the prior (noise), ``t = 1`` is the data.

The reference components used as fixed partners (:class:`ReferencePath`,
:class:`ReferenceDataset`, :func:`reference_parameterization`, :class:`GaussianTarget`,
:class:`ExactVelocityNetwork`, :class:`TinyNetwork`) live here so the checks depend on nothing but
the core; plugin tests may use them too.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, ClassVar, ParamSpec, TypeVar, cast

import pydantic
import torch
from pydantic import Field as PydanticField
from torch import Tensor, nn

from flowkit.component import Component
from flowkit.coupling import Coupling
from flowkit.data import Dataset
from flowkit.errors import IncompatibleComponentsError, PluginError
from flowkit.field import Field
from flowkit.host.hookspecs import KIND_BASES, KIND_HOOKS, PLUGIN_API_VERSION
from flowkit.metric import Metric
from flowkit.model import Model, ModelContext
from flowkit.objective import Objective
from flowkit.parameterization import Parameterization
from flowkit.path import QUANTITIES, GaussianPath, ProbabilityPath, check_quantity
from flowkit.solver.base import Solver, SolveResult

__all__ = [
    "DEFAULT_EVENT_SHAPES",
    "ConformanceError",
    "ExactVelocityNetwork",
    "GaussianTarget",
    "ReferenceDataset",
    "ReferencePath",
    "TinyNetwork",
    "check_component",
    "check_coupling",
    "check_dataset",
    "check_gaussian_path",
    "check_metric",
    "check_model",
    "check_objective",
    "check_parameterization",
    "check_path",
    "check_plugin",
    "check_solver",
    "describe_component",
    "plugin_components",
    "reference_parameterization",
]

DEFAULT_EVENT_SHAPES: tuple[tuple[int, ...], ...] = ((2,), (1, 3, 3))
"""Event shapes every check probes unless told otherwise: a 2D vector and a tiny one-channel image."""

DTYPES: tuple[torch.dtype, ...] = (torch.float32, torch.float64)
UNKNOWN_PARAM = "conformance_unknown_param"

C = TypeVar("C", bound=Component)

P = ParamSpec("P")
R = TypeVar("R")


def _public_name(cls: type) -> str:
    """``flowkit.GaussianPath`` for a class of the public door, else ``module.QualName``."""
    import flowkit

    if getattr(flowkit, cls.__name__, None) is cls:
        return f"flowkit.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _one_thread(fn: Callable[P, R]) -> Callable[P, R]:
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


# ------------------------------------------------------------------------------------------------
# Reference components (fixed partners of the checks)


class ReferencePath(GaussianPath):
    """Reference linear path ``x_t = t z + (1 - t) eps`` on ``[t_eps, 1 - t_eps]`` (prior ``N(0, I)``).

    The margins keep every conversion finite: conversions from epsilon or score divide by
    ``alpha_t = t`` and those to the score by ``beta_t = 1 - t``.
    """

    name: ClassVar[str] = "reference-linear"

    class Params(GaussianPath.Params):
        t_eps: float = PydanticField(1e-3, gt=0.0, lt=0.5, description="Margin kept from both ends.")

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        return (self.params.t_eps, 1.0 - self.params.t_eps)

    def alpha(self, t: Tensor) -> Tensor:
        return t

    def beta(self, t: Tensor) -> Tensor:
        return 1.0 - t

    def d_alpha(self, t: Tensor) -> Tensor:
        return torch.ones_like(t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -torch.ones_like(t)


class ReferenceDataset(Dataset):
    """Reference data ``N(mean, std^2 I)`` with a configurable event shape."""

    name: ClassVar[str] = "reference-gaussian"

    class Params(Dataset.Params):
        event_shape: tuple[int, ...] = PydanticField((2,), min_length=1, description="Shape of one data point.")
        mean: float = PydanticField(0.5, description="Mean of every coordinate.")
        std: float = PydanticField(0.5, gt=0.0, description="Standard deviation of every coordinate.")

    params: Params

    @property
    def event_shape(self) -> tuple[int, ...]:
        return tuple(self.params.event_shape)

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        eps = torch.randn((n, *self.event_shape), generator=generator, dtype=dtype)
        return self.params.mean + self.params.std * eps


def reference_parameterization(quantity: str) -> Parameterization:
    """A parameterization whose network predicts ``quantity`` directly (no post-processing).

    Raises:
        ValueError: if ``quantity`` is not one of ``velocity``, ``score``, ``epsilon``, ``data``.
    """
    q = check_quantity(quantity)
    cls = type(
        f"Reference{q.title()}Parameterization",
        (Parameterization,),
        {"name": f"reference-{q}", "predicts": q, "__doc__": f"The network predicts {q} directly."},
    )
    instance: Parameterization = cls()
    return instance


class GaussianTarget:
    """Data ``N(mean, std^2 I)`` seen along :class:`ReferencePath`: the exact field and flow.

    Along ``x_t = t z + (1 - t) eps`` the marginal is ``N(t mean, s_t^2 I)`` with
    ``s_t^2 = t^2 std^2 + (1 - t)^2``, its velocity is
    ``u_t(x) = mean + (t std^2 - (1 - t)) / s_t^2 (x - t mean)``, and the flow is affine:
    ``x_b = b mean + (s_b / s_a) (x_a - a mean)``.
    """

    def __init__(self, mean: float = 0.5, std: float = 0.5) -> None:
        self.mean = mean
        self.std = std

    def variance(self, t: Tensor) -> Tensor:
        """``s_t^2`` for times ``t``."""
        return t**2 * self.std**2 + (1.0 - t) ** 2

    def velocity(self, x: Tensor, t: Tensor) -> Tensor:
        """The exact marginal velocity at ``x`` (``(B, *event)``) and times ``t`` (``(B,)``)."""
        tt = t.reshape(t.shape + (1,) * (x.ndim - t.ndim))
        rate = (tt * self.std**2 - (1.0 - tt)) / self.variance(tt)
        return self.mean + rate * (x - tt * self.mean)

    def flow(self, x: Tensor, start: float, end: float) -> Tensor:
        """Where the exact ODE takes states ``x`` at time ``start`` by time ``end``."""
        ratio = self.marginal_std(end) / self.marginal_std(start)
        return end * self.mean + ratio * (x - start * self.mean)

    def marginal_std(self, t: float) -> float:
        """``s_t``, the standard deviation of every coordinate of the marginal at ``t``."""
        return math.sqrt(t**2 * self.std**2 + (1.0 - t) ** 2)


class ExactVelocityNetwork:
    """A "network" returning :meth:`GaussianTarget.velocity`; ``calls`` counts its evaluations."""

    def __init__(self, target: GaussianTarget) -> None:
        self.target = target
        self.calls = 0

    def __call__(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        self.calls += 1
        return self.target.velocity(x, t)


class TinyNetwork(nn.Module):
    """A trainable linear map of ``[x, t]`` to the state's shape (for objective checks)."""

    def __init__(self, event_shape: Sequence[int]) -> None:
        super().__init__()
        dim = math.prod(event_shape)
        self.linear = nn.Linear(dim + 1, dim)

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        h = torch.cat([x.reshape(x.shape[0], -1), t.reshape(-1, 1).to(x.dtype)], dim=1)
        out: Tensor = self.linear(h)
        return out.reshape(x.shape)


# ------------------------------------------------------------------------------------------------
# The checker: names the component in every failure


def _devices() -> list[torch.device]:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    return devices


def _gen(seed: int, device: torch.device | None = None) -> torch.Generator:
    return torch.Generator(device=device or "cpu").manual_seed(seed)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class _Checker:
    """Collects the helpers every check uses; each failure raises :class:`ConformanceError`."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.label = describe_component(cls)

    def fail(self, check: str, detail: str) -> ConformanceError:
        return ConformanceError(self.label, check, detail)

    def expect(self, condition: bool, check: str, detail: str) -> None:
        if not condition:
            raise self.fail(check, detail)

    def call(self, check: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn``; an exception becomes a failure of ``check`` naming the exception."""
        try:
            return fn(*args, **kwargs)
        except ConformanceError:
            raise
        except Exception as exc:
            raise self.fail(check, f"raised {_first_line(exc)}") from exc

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

    def close(self, what: str, actual: Tensor, expected: Tensor, *, rtol: float, atol: float) -> None:
        """Check ``actual`` is within ``atol + rtol |expected|`` of ``expected`` everywhere."""
        err = (actual - expected).abs()
        bound = atol + rtol * expected.abs()
        if not bool((err <= bound).all()):
            worst = float((err - bound).max())
            raise self.fail(what, f"differs by up to {float(err.max()):.3g} (tolerance exceeded by {worst:.3g})")

    def base(self, base: type[Component]) -> None:
        self.expect(
            isinstance(self.cls, type) and issubclass(self.cls, base),
            "kind",
            f"is not a subclass of {_public_name(base)}",
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
                "unknown param", f"an unknown param raised {_first_line(exc)} instead of a pydantic ValidationError"
            ) from exc
        else:
            raise self.fail("unknown param", f"an unknown param {UNKNOWN_PARAM!r} was accepted {where}")
        return obj


def _components_of(module: ModuleType) -> list[tuple[str, type[Component]]]:
    out: list[tuple[str, type[Component]]] = []
    for kind, hook in KIND_HOOKS.items():
        fn = getattr(module, hook, None)
        if fn is None:
            continue
        result = fn()
        if not isinstance(result, (list, tuple)):
            raise ConformanceError(
                f"plugin module {module.__name__!r}", "hook", f"{hook} returned {type(result).__name__}, not a list"
            )
        out.extend((kind, cls) for cls in result)
    return out


def plugin_components(module: ModuleType) -> list[type[Component]]:
    """Every component class a plugin module's hooks return, in hook order.

    Calls the module's ``flowkit_*`` hook functions directly (no host involved), so a
    parametrized test over this list covers components added to the plugin later automatically.

    Raises:
        ConformanceError: if a hook returns something other than a list.
    """
    return [cls for _, cls in _components_of(module)]


# ------------------------------------------------------------------------------------------------
# Paths


def _rms(x: Tensor) -> float:
    return float(x.double().pow(2).mean().sqrt())


@_one_thread
def check_path(
    cls: type[ProbabilityPath],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    endpoint_tol: float = 0.1,
) -> None:
    """Check a :class:`~flowkit.path.ProbabilityPath` subclass (and, for a Gaussian path, the
    rules of :func:`check_gaussian_path` as well).

    Rules: the component rules; ``time_range`` is ``(t_min, t_max)`` with
    ``0 <= t_min < t_max <= 1``; ``quantities`` contains ``"velocity"`` and only known
    quantities; ``sample_prior`` gives ``(n, *event_shape)`` of the requested dtype and device,
    finite, the same draws for the same seed; ``prior_log_prob`` gives finite ``(n,)``;
    ``sample(z, t, noise)`` gives ``x`` and ``t`` of the right shapes, dtype and device, finite at
    both ends of ``time_range``, and accepts a 0-d time; every conditional target in
    ``quantities`` has the state's shape, dtype and device and is finite at both ends; the
    conditional velocity equals the time derivative of ``x_t`` for fixed ``(z, noise)`` (central
    differences in float64); and the endpoints: ``x_{t_min}`` is within
    ``endpoint_tol * rms(noise)`` of its prior draw and ``x_{t_max}`` within that of its data.

    Args:
        cls: the path class.
        params: params to build it with (default: its defaults).
        event_shapes: event shapes probed.
        endpoint_tol: relative tolerance of the endpoint rule.

    Raises:
        ConformanceError: naming the path and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(ProbabilityPath)
    path = ck.build(cls, params)
    tr = ck.call("time_range", lambda: path.time_range)
    ck.expect(
        isinstance(tr, tuple) and len(tr) == 2 and all(isinstance(v, (int, float)) for v in tr),
        "time_range",
        f"time_range must be a (t_min, t_max) tuple of floats, got {tr!r}",
    )
    t0, t1 = float(tr[0]), float(tr[1])
    ck.expect(0.0 <= t0 < t1 <= 1.0, "time_range", f"time_range {tr!r} must satisfy 0 <= t_min < t_max <= 1")
    quantities = tuple(cls.quantities)
    unknown = [q for q in quantities if q not in QUANTITIES]
    ck.expect(not unknown, "quantities", f"unknown quantities {unknown}; known: {', '.join(QUANTITIES)}")
    ck.expect("velocity" in quantities, "quantities", "every path must provide the conditional velocity")

    n = 5
    for device in _devices():
        for dtype in DTYPES:
            for shape in event_shapes:
                shape = tuple(shape)
                full = (n, *shape)
                tag = f"[{dtype}, event {shape}, {device.type}]"
                prior = ck.call(
                    "sample_prior",
                    path.sample_prior,
                    n,
                    shape,
                    generator=_gen(1, device),
                    dtype=dtype,
                    device=device,
                )
                noise = ck.tensor(f"sample_prior{tag}", prior, full, dtype, device)
                again = path.sample_prior(n, shape, generator=_gen(1, device), dtype=dtype, device=device)
                ck.expect(torch.equal(noise, again), "reproducibility", f"sample_prior{tag} differs for the same seed")
                logp = ck.call("prior_log_prob", path.prior_log_prob, noise)
                ck.tensor(f"prior_log_prob{tag}", logp, (n,), dtype, device)
                z = torch.randn(full, generator=_gen(2, device), dtype=dtype, device=device)
                t = torch.linspace(t0, t1, n, dtype=dtype, device=device)
                s = ck.call("sample", path.sample, z, t, noise)
                ck.tensor(f"sample(...).x{tag} (times from t_min to t_max)", s.x, full, dtype, device)
                ck.tensor(f"sample(...).t{tag}", s.t, (n,), dtype, device)
                for q in quantities:
                    target = ck.call(f"conditional target {q!r}", s.target, q)
                    ck.tensor(f"conditional {q} target{tag} at times from t_min to t_max", target, full, dtype, device)
                mid = torch.tensor(0.5 * (t0 + t1), dtype=dtype, device=device)
                s0 = ck.call("sample with a 0-d time", path.sample, z, mid, noise)
                ck.tensor(f"sample(...).x{tag} with a 0-d time", s0.x, full, dtype, device)

    # the conditional velocity is the time derivative of x_t for fixed (z, noise)
    shape = tuple(event_shapes[0])
    z = torch.randn((3, *shape), generator=_gen(3), dtype=torch.float64)
    noise = path.sample_prior(3, shape, generator=_gen(4), dtype=torch.float64)
    t = t0 + (t1 - t0) * torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    h = 1e-5 * (t1 - t0)
    fd = (path.sample(z, t + h, noise).x - path.sample(z, t - h, noise).x) / (2 * h)
    velocity = path.sample(z, t, noise).target("velocity")
    ck.close(
        "conditional velocity vs d/dt x_t (central differences, float64)",
        velocity,
        fd,
        rtol=1e-4,
        atol=1e-5 * (1.0 + _rms(fd)),
    )

    # endpoints: the path starts at its prior draws and ends at its data
    n_end = 256
    z = torch.randn((n_end, *shape), generator=_gen(5), dtype=torch.float64)
    noise = path.sample_prior(n_end, shape, generator=_gen(6), dtype=torch.float64)
    start = path.sample(z, torch.full((n_end,), t0, dtype=torch.float64), noise).x
    end = path.sample(z, torch.full((n_end,), t1, dtype=torch.float64), noise).x
    scale = _rms(noise)
    gap0, gap1 = _rms(start - noise), _rms(end - z)
    ck.expect(
        gap0 <= endpoint_tol * scale,
        "endpoint t_min",
        f"x at t_min={t0:g} is {gap0:.3g} (rms) away from the prior draws it was built from "
        f"(allowed {endpoint_tol:g} x {scale:.3g}); sample(z, t, noise) must start at noise",
    )
    ck.expect(
        gap1 <= endpoint_tol * scale,
        "endpoint t_max",
        f"x at t_max={t1:g} is {gap1:.3g} (rms) away from the data (allowed {endpoint_tol:g} x {scale:.3g})",
    )

    if isinstance(path, GaussianPath):
        _check_gaussian(ck, path, (t0, t1), event_shapes)


@_one_thread
def check_gaussian_path(
    cls: type[GaussianPath],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    endpoint_tol: float = 0.1,
) -> None:
    """Check a :class:`~flowkit.path.GaussianPath` subclass: every rule of :func:`check_path`, plus

    * ``alpha``, ``beta``, ``d_alpha``, ``d_beta`` map ``(B,)`` to finite ``(B,)`` of the same
      dtype on ``time_range`` (endpoints included), with ``beta > 0``;
    * ``d_alpha`` and ``d_beta`` match central differences of ``alpha`` and ``beta`` (float64);
    * ``log_snr`` is strictly increasing inside ``time_range``;
    * the prior: ``prior_log_prob`` equals the log-density of ``N(0, prior_std()^2 I)``
      (``torch.distributions.Normal``) and ``sample_prior`` has that standard deviation;
    * conversions: converting the conditional target of any quantity gives the conditional target
      of any other (the rule is exact for one ``(z, eps)``), and every conversion is finite at both
      ends of ``time_range`` for float32 and float64.

    Raises:
        ConformanceError: naming the path and the rule it broke (also when ``cls`` is not a
            Gaussian path).
    """
    _Checker(cls).base(GaussianPath)
    check_path(cls, params, event_shapes=event_shapes, endpoint_tol=endpoint_tol)


def _check_gaussian(
    ck: _Checker, path: GaussianPath, time_range: tuple[float, float], event_shapes: Sequence[Sequence[int]]
) -> None:
    t0, t1 = time_range
    for dtype in DTYPES:
        grid = torch.linspace(t0, t1, 33, dtype=dtype)
        for coef in ("alpha", "beta", "d_alpha", "d_beta"):
            values = ck.call(coef, getattr(path, coef), grid)
            ck.tensor(f"{coef}(t) [{dtype}] on time_range", values, grid.shape, dtype, grid.device)
        beta = path.beta(grid)
        ck.expect(
            bool((beta > 0).all()),
            "beta",
            f"beta_t must be > 0 on time_range, got min {float(beta.min()):.3g} [{dtype}]",
        )

    inner = t0 + (t1 - t0) * torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    h = 1e-6 * (t1 - t0)
    for coef in ("alpha", "beta"):
        fn = getattr(path, coef)
        fd = (fn(inner + h) - fn(inner - h)) / (2 * h)
        exact = getattr(path, f"d_{coef}")(inner)
        ck.close(
            f"d_{coef} vs central differences of {coef} (float64)", exact, fd, rtol=1e-5, atol=1e-6 * (1 + _rms(fd))
        )

    strictly_inside = torch.linspace(t0, t1, 65, dtype=torch.float64)[1:-1]
    lam = ck.call("log_snr", path.log_snr, strictly_inside)
    ck.expect(bool(torch.isfinite(lam).all()), "log_snr", "log_snr is not finite strictly inside time_range")
    steps = lam[1:] - lam[:-1]
    ck.expect(
        bool((steps > 0).all()),
        "log_snr",
        f"log(alpha/beta) must increase strictly in t (the conversions divide by its rate); "
        f"it does not near t={float(strictly_inside[int(steps.argmin())]):.4g}",
    )

    shape = tuple(event_shapes[0])
    std = ck.call("prior_std", path.prior_std)
    ck.expect(
        isinstance(std, float) and std > 0 and math.isfinite(std), "prior", f"prior_std() = {std!r}, expected > 0"
    )
    draws = path.sample_prior(4000, shape, generator=_gen(7), dtype=torch.float64)
    spread = float(draws.std())
    ck.expect(
        abs(spread / std - 1.0) < 0.05,
        "prior",
        f"sample_prior draws have standard deviation {spread:.4g}, but prior_std() is {std:.4g}",
    )
    x = draws[:16]
    normal: Any = torch.distributions.Normal(
        torch.zeros((), dtype=torch.float64), torch.tensor(std, dtype=torch.float64)
    )
    expected = normal.log_prob(x).reshape(16, -1).sum(dim=1)
    ck.close("prior_log_prob vs torch.distributions.Normal", path.prior_log_prob(x), expected, rtol=1e-9, atol=1e-9)

    z = torch.randn((3, *shape), generator=_gen(8), dtype=torch.float64)
    noise = torch.randn((3, *shape), generator=_gen(9), dtype=torch.float64)
    t = t0 + (t1 - t0) * torch.tensor([0.3, 0.5, 0.7], dtype=torch.float64)
    s = path.sample(z, t, noise)
    for source in QUANTITIES:
        for target in QUANTITIES:
            got = ck.call(f"convert {source} -> {target}", path.convert, s.target(source), source, target, s.x, s.t)
            want = s.target(target)
            ck.close(
                f"convert {source} -> {target} of the conditional target (float64)",
                got,
                want,
                rtol=1e-6,
                atol=1e-8 * (1.0 + _rms(want)),
            )
    for dtype in DTYPES:
        ends = torch.tensor([t0, t1], dtype=dtype)
        x = torch.randn((2, *shape), generator=_gen(10), dtype=dtype)
        value = torch.randn((2, *shape), generator=_gen(11), dtype=dtype)
        for source in QUANTITIES:
            for target in QUANTITIES:
                out = ck.call(f"convert {source} -> {target}", path.convert, value, source, target, x, ends)
                ck.tensor(f"convert {source} -> {target} at t_min and t_max [{dtype}]", out, x.shape, dtype, x.device)


# ------------------------------------------------------------------------------------------------
# Parameterizations and objectives


@_one_thread
def check_parameterization(
    cls: type[Parameterization],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
) -> None:
    """Check a :class:`~flowkit.parameterization.Parameterization` subclass.

    Rules: the component rules; ``predicts`` is a known quantity; it accepts
    :class:`ReferencePath` (a Gaussian path provides every quantity); ``prediction(output, x, t)``
    and ``to_quantity(output, q, x, t, path)`` for every quantity keep the state's shape, dtype and
    device and are finite at both ends of the path's time range; ``to_quantity`` of ``predicts``
    is the prediction itself, and of any other quantity is the path's conversion of the
    prediction.

    Raises:
        ConformanceError: naming the parameterization and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(Parameterization)
    param = ck.build(cls, params)
    ck.expect(
        cls.predicts in QUANTITIES, "predicts", f"predicts {cls.predicts!r} is not one of {', '.join(QUANTITIES)}"
    )
    path = ReferencePath()
    ck.call("check_path on a Gaussian path", param.check_path, path)
    t0, t1 = path.time_range
    n = 4
    for device in _devices():
        for dtype in DTYPES:
            for shape in event_shapes:
                full = (n, *tuple(shape))
                tag = f"[{dtype}, event {tuple(shape)}, {device.type}]"
                x = torch.randn(full, generator=_gen(1, device), dtype=dtype, device=device)
                output = torch.randn(full, generator=_gen(2, device), dtype=dtype, device=device)
                t = torch.tensor([t0, 0.3, 0.7, t1], dtype=dtype, device=device)
                pred = ck.tensor(
                    f"prediction{tag}", ck.call("prediction", param.prediction, output, x, t), full, dtype, device
                )
                for q in QUANTITIES:
                    got = ck.call(f"to_quantity {q!r}", param.to_quantity, output, q, x, t, path)
                    ck.tensor(f"to_quantity({q!r}){tag}", got, full, dtype, device)
                    want = pred if q == cls.predicts else path.convert(pred, cls.predicts, q, x, t)
                    tol = 1e-5 if dtype == torch.float32 else 1e-10
                    ck.close(
                        f"to_quantity({q!r}){tag} vs the path's conversion of the prediction",
                        got,
                        want,
                        rtol=tol,
                        atol=tol * (1.0 + _rms(want)),
                    )


@_one_thread
def check_objective(
    cls: type[Objective],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
) -> None:
    """Check an :class:`~flowkit.objective.Objective` subclass.

    The objective trains a :class:`TinyNetwork` through a :class:`~flowkit.Field` on
    :class:`ReferencePath`, once for each parameterization quantity. Rules: the component rules;
    ``loss`` returns a finite 0-d tensor of the batch's dtype and device; it reads the network
    through the field (``field.nfe`` grows); the same seeded generator gives the same loss; and
    ``loss.backward()`` gives finite gradients, not all zero, to the network's parameters.

    Raises:
        ConformanceError: naming the objective and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(Objective)
    objective = ck.build(cls, params)
    path = ReferencePath()
    n = 8
    for device in _devices():
        for dtype in DTYPES:
            for shape in event_shapes:
                for quantity in QUANTITIES:
                    tag = f"[{dtype}, event {tuple(shape)}, {device.type}, network predicts {quantity}]"
                    torch.manual_seed(0)
                    net = TinyNetwork(shape).to(device=device, dtype=dtype)
                    field = Field(net, reference_parameterization(quantity), path)
                    full = (n, *tuple(shape))
                    z = 0.5 + 0.5 * torch.randn(full, generator=_gen(1, device), dtype=dtype, device=device)
                    noise = path.sample_prior(n, tuple(shape), generator=_gen(2, device), dtype=dtype, device=device)
                    loss = ck.call("loss", objective.loss, field, z, noise, generator=_gen(3, device))
                    ck.tensor(f"loss{tag}", loss, (), dtype, device)
                    ck.expect(field.nfe > 0, "field", f"loss{tag} never evaluated the network through the field")
                    first = loss.detach()
                    again = objective.loss(field, z, noise, generator=_gen(3, device)).detach()
                    ck.expect(
                        torch.equal(first, again),
                        "reproducibility",
                        f"loss{tag} is {float(first):.6g} then {float(again):.6g} for the same seed",
                    )
                    ck.call("loss.backward", loss.backward)
                    grads = [p.grad for p in net.parameters()]
                    ck.expect(
                        all(g is not None for g in grads), "gradient", f"loss{tag} gives no gradient to the network"
                    )
                    flat = torch.cat([g.reshape(-1) for g in grads if g is not None])
                    ck.expect(bool(torch.isfinite(flat).all()), "gradient", f"loss{tag} gives non-finite gradients")
                    ck.expect(bool((flat != 0).any()), "gradient", f"loss{tag} gives an all-zero gradient")


@_one_thread
def check_coupling(
    cls: type[Coupling],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
) -> None:
    """Check a :class:`~flowkit.coupling.Coupling` subclass.

    Rules: the component rules; ``pair(z, noise)`` returns two tensors of the inputs' shape, dtype
    and device; every returned row is one of the input rows (a permutation or resampling of each
    batch); the same seeded generator gives the same pairing.

    Raises:
        ConformanceError: naming the coupling and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(Coupling)
    coupling = ck.build(cls, params)
    n = 16
    for device in _devices():
        for dtype in DTYPES:
            for shape in event_shapes:
                full = (n, *tuple(shape))
                tag = f"[{dtype}, event {tuple(shape)}, {device.type}]"
                z = torch.randn(full, generator=_gen(1, device), dtype=dtype, device=device)
                noise = torch.randn(full, generator=_gen(2, device), dtype=dtype, device=device)
                out = ck.call("pair", coupling.pair, z, noise, generator=_gen(3, device))
                ck.expect(
                    isinstance(out, tuple) and len(out) == 2,
                    "type",
                    f"pair{tag} must return a (z, noise) tuple, got {type(out).__name__}",
                )
                z2 = ck.tensor(f"pair(...)[0]{tag}", out[0], full, dtype, device)
                n2 = ck.tensor(f"pair(...)[1]{tag}", out[1], full, dtype, device)
                for what, got, src in (("data", z2, z), ("noise", n2, noise)):
                    a, b = got.reshape(n, -1), src.reshape(n, -1)
                    found = torch.isclose(a[:, None, :], b[None, :, :], rtol=1e-6, atol=1e-7).all(-1).any(-1)
                    ck.expect(
                        bool(found.all()),
                        "pairing",
                        f"pair{tag} returned {int((~found).sum())} {what} row(s) that are not rows of its input",
                    )
                z3, n3 = coupling.pair(z, noise, generator=_gen(3, device))
                ck.expect(
                    torch.equal(z2, z3) and torch.equal(n2, n3),
                    "reproducibility",
                    f"pair{tag} pairs differently for the same seed",
                )


# ------------------------------------------------------------------------------------------------
# Solvers


@_one_thread
def check_solver(
    cls: type[Solver],
    params: Mapping[str, Any] | None = None,
    *,
    event_shapes: Sequence[Sequence[int]] = DEFAULT_EVENT_SHAPES,
    atol: float = 0.05,
) -> None:
    """Check a :class:`~flowkit.solver.Solver` subclass on an exact field.

    The field is the exact velocity of Gaussian data ``N(0.5, 0.25 I)`` along
    :class:`ReferencePath` (:class:`GaussianTarget`), served through a :class:`~flowkit.Field`
    with a velocity parameterization (score, epsilon and data come from the path's conversions,
    so SDE solvers can be checked too). Rules: the component rules; ``solve`` returns a
    :class:`~flowkit.solver.SolveResult` whose samples have ``x0``'s shape, dtype and device and
    are finite; the reported ``nfe`` equals the evaluations counted by the network itself (also
    when the field had been used before) and is positive; ``times``/``trajectory`` are ``None``
    unless asked for; with ``trajectory=True``, ``times`` is ``(T,)`` increasing from ``t_min``
    to ``t_max``, the trajectory is ``(T, *x0.shape)``, starts at ``x0`` and ends at the samples;
    a deterministic solver gives the same samples with and without a trajectory and lands within
    ``atol`` of the exact flow; a stochastic one (``stochastic = True``) reproduces its samples for
    the same seed and matches the exact marginal's mean and standard deviation within ``atol``.

    Raises:
        ConformanceError: naming the solver and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(Solver)
    solver = ck.build(cls, params)
    stochastic = cls.stochastic
    ck.expect(isinstance(stochastic, bool), "stochastic", f"stochastic must be a bool, got {stochastic!r}")
    target = GaussianTarget()
    path = ReferencePath()
    t0, t1 = path.time_range
    n = 6
    for device in _devices():
        for dtype in DTYPES:
            for shape in event_shapes:
                full = (n, *tuple(shape))
                tag = f"[{dtype}, event {tuple(shape)}, {device.type}]"
                net = ExactVelocityNetwork(target)
                field = Field(net, reference_parameterization("velocity"), path)
                x0 = path.sample_prior(n, tuple(shape), generator=_gen(1, device), dtype=dtype, device=device)
                field.velocity(x0, t0)  # a field that has been used before: nfe must be a difference
                before = net.calls
                result = ck.call("solve", solver.solve, field, x0, generator=_gen(2, device))
                ck.expect(
                    isinstance(result, SolveResult),
                    "type",
                    f"solve{tag} returned {type(result).__name__}, expected a SolveResult",
                )
                samples = ck.tensor(f"solve(...).samples{tag}", result.samples, full, dtype, device)
                counted = net.calls - before
                ck.expect(
                    isinstance(result.nfe, int) and result.nfe == counted,
                    "NFE",
                    f"solve{tag} reported {result.nfe!r} evaluations but the network was called {counted} times",
                )
                ck.expect(counted > 0, "NFE", f"solve{tag} never evaluated the field")
                ck.expect(
                    result.times is None and result.trajectory is None,
                    "trajectory",
                    f"solve{tag} returned a trajectory although none was asked for",
                )
                before = net.calls
                traj = ck.call(
                    "solve(trajectory=True)", solver.solve, field, x0, trajectory=True, generator=_gen(2, device)
                )
                counted = net.calls - before
                ck.expect(
                    traj.nfe == counted,
                    "NFE",
                    f"solve(trajectory=True){tag} reported {traj.nfe!r} evaluations but the network was called "
                    f"{counted} times",
                )
                times = traj.times
                ck.expect(
                    isinstance(times, Tensor) and isinstance(traj.trajectory, Tensor),
                    "trajectory",
                    f"solve(trajectory=True){tag} returned no times or no trajectory",
                )
                times = cast(Tensor, times)
                ck.expect(
                    times.ndim == 1 and times.shape[0] >= 2,
                    "trajectory",
                    f"times{tag} must be a (T,) tensor with T >= 2, got shape {tuple(getattr(times, 'shape', ()))}",
                )
                steps = times[1:] - times[:-1]
                ck.expect(bool((steps > 0).all()), "trajectory", f"times{tag} are not increasing")
                ends = (float(times[0]), float(times[-1]))
                ck.expect(
                    abs(ends[0] - t0) < 1e-5 and abs(ends[1] - t1) < 1e-5,
                    "trajectory",
                    f"times{tag} run from {ends[0]:.6g} to {ends[1]:.6g}, expected {t0:.6g} to {t1:.6g}",
                )
                states = ck.tensor(
                    f"trajectory{tag}", traj.trajectory, (times.shape[0], *full), dtype, device, finite=True
                )
                ck.close(f"trajectory[0]{tag} vs x0", states[0], x0, rtol=0.0, atol=1e-6)
                ck.close(f"trajectory[-1]{tag} vs samples", states[-1], traj.samples, rtol=0.0, atol=1e-6)
                if not stochastic:
                    ck.close(
                        f"samples with vs without trajectory{tag}",
                        traj.samples,
                        samples,
                        rtol=1e-4,
                        atol=1e-4,
                    )
                else:
                    again = solver.solve(field, x0, generator=_gen(2, device))
                    ck.expect(
                        torch.equal(again.samples, samples),
                        "reproducibility",
                        f"solve{tag} gives different samples for the same seed",
                    )

    # accuracy against the exact flow (deterministic) or the exact marginal (stochastic)
    net = ExactVelocityNetwork(target)
    field = Field(net, reference_parameterization("velocity"), path)
    m = 2000 if stochastic else 64
    x0 = path.sample_prior(m, (2,), generator=_gen(12), dtype=torch.float64)
    samples = ck.call("solve", solver.solve, field, x0, generator=_gen(13)).samples
    if not stochastic:
        err = float((samples - target.flow(x0, t0, t1)).abs().max())
        ck.expect(
            err <= atol,
            "accuracy",
            f"samples are up to {err:.3g} away from the exact flow of the reference field (allowed {atol:g}); "
            "does the solver integrate from t_min (prior) to t_max (data)?",
        )
    else:
        mean_err = abs(float(samples.mean()) - t1 * target.mean)
        std_err = abs(float(samples.std()) - target.marginal_std(t1))
        ck.expect(
            mean_err <= atol and std_err <= atol,
            "accuracy",
            f"samples have mean/std off by {mean_err:.3g}/{std_err:.3g} from the exact marginal at t_max "
            f"(allowed {atol:g}); does the solver integrate from t_min (prior) to t_max (data)?",
        )


# ------------------------------------------------------------------------------------------------
# Datasets, models and metrics


@_one_thread
def check_dataset(cls: type[Dataset], params: Mapping[str, Any] | None = None) -> None:
    """Check a :class:`~flowkit.data.Dataset` subclass.

    Rules: the component rules; ``event_shape`` is a non-empty tuple of positive ints;
    ``sample(n)`` gives ``(n, *event_shape)`` float32 by default and float64 when asked, on the
    CPU, finite; the same seeded generator gives the same points and another seed other points;
    ``num_classes`` is ``None`` or a positive int and ``sample_labeled`` returns ``None`` labels for
    unlabelled data, else ``(n,)`` ``torch.long`` labels in ``[0, num_classes)``.

    Raises:
        ConformanceError: naming the dataset and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(Dataset)
    dataset = ck.build(cls, params)
    shape = ck.call("event_shape", lambda: dataset.event_shape)
    ck.expect(
        isinstance(shape, tuple) and len(shape) > 0 and all(isinstance(d, int) and d > 0 for d in shape),
        "event_shape",
        f"event_shape must be a non-empty tuple of positive ints, got {shape!r}",
    )
    cpu = torch.device("cpu")
    for n in (1, 7):
        default = ck.call("sample", dataset.sample, n, generator=_gen(1))
        ck.tensor(f"sample({n}) with the default dtype", default, (n, *shape), torch.float32, cpu)
        for dtype in DTYPES:
            points = ck.call("sample", dataset.sample, n, generator=_gen(1), dtype=dtype)
            ck.tensor(f"sample({n}, dtype={dtype})", points, (n, *shape), dtype, cpu)
    a = dataset.sample(64, generator=_gen(2))
    b = dataset.sample(64, generator=_gen(2))
    c = dataset.sample(64, generator=_gen(3))
    ck.expect(torch.equal(a, b), "reproducibility", "sample gives different points for the same seed")
    ck.expect(not torch.equal(a, c), "reproducibility", "sample gives the same points for different seeds")
    classes = ck.call("num_classes", lambda: dataset.num_classes)
    ck.expect(
        classes is None or (isinstance(classes, int) and classes > 0),
        "num_classes",
        f"num_classes must be None or a positive int, got {classes!r}",
    )
    out = ck.call("sample_labeled", dataset.sample_labeled, 9, generator=_gen(4))
    ck.expect(isinstance(out, tuple) and len(out) == 2, "sample_labeled", "sample_labeled must return (points, labels)")
    ck.tensor("sample_labeled(9) points", out[0], (9, *shape), torch.float32, cpu)
    labels = out[1]
    if classes is None:
        ck.expect(labels is None, "sample_labeled", "an unlabelled dataset (num_classes None) returned labels")
    else:
        ck.tensor("sample_labeled(9) labels", labels, (9,), torch.long, cpu)
        ck.expect(
            bool(((labels >= 0) & (labels < classes)).all()),
            "sample_labeled",
            f"labels must lie in [0, {classes}), got min {int(labels.min())} and max {int(labels.max())}",
        )


def _default_contexts() -> list[ModelContext]:
    return [
        ModelContext(tuple(shape), None, ReferenceDataset(event_shape=tuple(shape)), ReferencePath())
        for shape in ((2,), (1, 8, 8))
    ]


@_one_thread
def check_model(
    cls: type[Model],
    params: Mapping[str, Any] | None = None,
    *,
    contexts: Sequence[ModelContext] | None = None,
) -> None:
    """Check a :class:`~flowkit.model.Model` subclass.

    The model is built with :meth:`~flowkit.model.Model.from_context` for each context in
    ``contexts`` (default: a 2D vector and a ``(1, 8, 8)`` image, each with a
    :class:`ReferenceDataset` of that shape and :class:`ReferencePath`). A model may refuse a
    context at construction with ``ValueError`` or
    :class:`~flowkit.errors.IncompatibleComponentsError` (e.g. an image network given vectors),
    but it must accept at least one; pass ``contexts`` for a model that needs a particular dataset.

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
    ck = _Checker(cls)
    ck.identity(Model)
    trainable = cls.trainable
    ck.expect(isinstance(trainable, bool), "trainable", f"trainable must be a bool, got {trainable!r}")
    refused: list[str] = []
    accepted = 0
    for context in contexts if contexts is not None else _default_contexts():
        shape = tuple(context.event_shape)
        try:
            cls.from_context(context, dict(params or {}))
        except (ValueError, IncompatibleComponentsError) as exc:
            if isinstance(exc, pydantic.ValidationError):
                raise ck.fail("construction", f"params rejected: {_first_line(exc)}") from exc
            refused.append(f"{shape}: {_first_line(exc)}")
            continue
        except Exception as exc:
            raise ck.fail(
                "construction",
                f"from_context for event shape {shape} raised {_first_line(exc)} "
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
    ck: _Checker,
    model: Model,
    shape: tuple[int, ...],
    trainable: bool,
    span: tuple[float, float],
    num_classes: int | None = None,
) -> None:
    n = 4
    for device in _devices():
        for dtype in DTYPES:
            net = model.to(device=device, dtype=dtype)
            net.eval()
            tag = f"[{dtype}, event {shape}, {device.type}]"
            x = torch.randn((n, *shape), generator=_gen(1, device), dtype=dtype, device=device)
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


@_one_thread
def check_metric(
    cls: type[Metric],
    params: Mapping[str, Any] | None = None,
    *,
    event_shape: Sequence[int] = (2,),
    zero_for_identical: bool = True,
    zero_tol: float = 1e-6,
) -> None:
    """Check a :class:`~flowkit.metric.Metric` subclass on samples of ``event_shape``.

    Rules: the component rules; ``compute`` returns a finite Python ``float`` for float32 and
    float64 inputs and for sample sets of different sizes; the same seeded generator gives the
    same value; a shifted distribution scores worse (higher) than a fresh draw of the same
    distribution; and, when ``zero_for_identical``, identical inputs score near 0: within
    ``zero_tol``, or within 5% of the shifted distribution's score (an unbiased estimator, such as
    a U-statistic, is off by ``O(1/N)`` even for identical inputs). A metric with ``needs_field``
    is given the exact field of ``N(0.5, 0.5^2)`` data, and the identical-inputs rule is skipped.

    Raises:
        ConformanceError: naming the metric and the rule it broke.
    """
    ck = _Checker(cls)
    ck.identity(Metric)
    metric = ck.build(cls, params)
    shape = tuple(event_shape)
    extra: dict[str, Any] = {}
    if metric.needs_field:
        # A metric of the model itself scores the reference data under the exact field of
        # N(0.5, 0.5^2) data: data closer to that distribution must score better.
        target = GaussianTarget()
        extra["field"] = Field(target.velocity, reference_parameterization("velocity"), ReferencePath())
        zero_for_identical = False

    def value(what: str, a: Tensor, b: Tensor, seed: int = 0) -> float:
        v = ck.call("compute", metric.compute, a, b, generator=_gen(seed), **extra)
        ck.expect(isinstance(v, float), "type", f"compute({what}) returned {type(v).__name__}, expected a float")
        ck.expect(math.isfinite(v), "finite", f"compute({what}) returned {v!r}")
        result: float = v
        return result

    for dtype in DTYPES:
        x = torch.randn((256, *shape), generator=_gen(1), dtype=dtype)
        fresh = torch.randn((384, *shape), generator=_gen(2), dtype=dtype)
        shifted = torch.randn((384, *shape), generator=_gen(3), dtype=dtype) + 3.0
        same = value(f"a fresh draw of the same distribution, sizes 256 and 384, {dtype}", x, fresh)
        far = value(f"a distribution shifted by 3, {dtype}", x, shifted)
        ck.expect(
            far > same,
            "ordering",
            f"a distribution shifted by 3 scores {far:.4g}, not worse than a fresh draw of the same one ({same:.4g})",
        )
        repeat = value("the same inputs again", x, fresh)
        ck.expect(same == repeat, "reproducibility", f"compute gives {same!r} then {repeat!r} for the same seed")
        if zero_for_identical:
            zero = value(f"identical inputs, {dtype}", x, x.clone())
            allowed = max(zero_tol, 0.05 * abs(far))
            ck.expect(
                abs(zero) <= allowed,
                "identical inputs",
                f"identical inputs score {zero:.3g}, expected 0 within {allowed:.3g} "
                "(pass zero_for_identical=False for a metric where that does not hold)",
            )


# ------------------------------------------------------------------------------------------------
# Dispatch and whole plugins

_CHECKS: dict[str, Callable[..., None]] = {
    "path": check_path,
    "parameterization": check_parameterization,
    "objective": check_objective,
    "coupling": check_coupling,
    "solver": check_solver,
    "dataset": check_dataset,
    "model": check_model,
    "metric": check_metric,
}


@_one_thread
def check_component(cls: type[Component], params: Mapping[str, Any] | None = None, **options: Any) -> None:
    """Run the check of ``cls``'s kind (found from its base class) with ``params`` and ``options``.

    A :class:`~flowkit.path.GaussianPath` gets :func:`check_gaussian_path`; other kinds get
    :func:`check_path`, :func:`check_parameterization`, :func:`check_objective`,
    :func:`check_coupling`, :func:`check_solver`, :func:`check_dataset`, :func:`check_model` or
    :func:`check_metric`. ``options`` are passed on (e.g. ``contexts=`` for a model).

    Raises:
        ConformanceError: if ``cls`` derives from no component kind, or breaks its kind's contract.
    """
    if isinstance(cls, type) and issubclass(cls, GaussianPath):
        check_gaussian_path(cls, params, **options)
        return
    for kind, base in KIND_BASES.items():
        if isinstance(cls, type) and issubclass(cls, base):
            _CHECKS[kind](cls, params, **options)
            return
    kinds = ", ".join(f"{b.__qualname__}" for b in KIND_BASES.values())
    raise ConformanceError(describe_component(cls), "kind", f"derives from none of the component bases ({kinds})")


@_one_thread
def check_plugin(
    module: ModuleType,
    name: str | None = None,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[type[Component]]:
    """Check a whole plugin module: it declares the current plugin API, registers cleanly with a
    :class:`~flowkit.host.PluginHost`, and every component its hooks return conforms.

    Args:
        module: the plugin module (what the entry point names).
        name: the plugin name to register it under (default: the module name).
        options: per-component keyword arguments for :func:`check_component`, keyed
            ``"<kind>:<name>"`` (e.g. ``{"model:oracle": {"contexts": [...]}}``).

    Returns:
        The component classes checked.

    Raises:
        ConformanceError: naming the plugin or component and what failed.
    """
    from flowkit.host.manager import PluginHost

    label = f"plugin module {module.__name__!r}"
    api = getattr(module, "FLOWKIT_PLUGIN_API", None)
    if api != PLUGIN_API_VERSION:
        raise ConformanceError(
            label,
            "plugin API",
            f"FLOWKIT_PLUGIN_API is {api!r}; this flowkit provides plugin API {PLUGIN_API_VERSION} "
            "(declare it so an incompatible flowkit refuses the plugin with a clear message)",
        )
    host = PluginHost(autoload=False, strict=True, disabled=[], only=[], trace=False)
    try:
        host.register(module, name or module.__name__)
        registry = host.registry
    except PluginError as exc:
        raise ConformanceError(label, "registration", str(exc)) from exc
    components = _components_of(module)
    if not components:
        raise ConformanceError(label, "hooks", "the plugin's hooks provide no component")
    for kind, cls in components:
        registered = registry.get(kind, cls.name)
        if registered is not cls:
            raise ConformanceError(describe_component(cls), "registration", f"registered as {registered!r}")
        extra = dict((options or {}).get(f"{kind}:{cls.name}", {}))
        params = extra.pop("params", None)
        check_component(cls, params, **extra)
    return [cls for _, cls in components]
