"""Reference components: the fixed partners of the conformance checks, and fakes for tests.

The checks need partners whose behaviour is known exactly: a path to convert along, data with a
closed-form flow, a network that counts its calls. They live here, depending on nothing but the
core, and plugin tests may use them too:

* :class:`ReferencePath`: the linear Gaussian path ``x_t = t z + (1 - t) eps`` (prior ``N(0, I)``);
* :class:`VelocityOnlyPath`: the same interpolation as a plain, non-Gaussian path that gives only
  the conditional velocity (for "needs a Gaussian path" errors);
* :class:`ReferenceDataset`: data ``N(mean, std^2 I)`` of any event shape;
* :func:`reference_parameterization`: a parameterization whose network predicts one quantity;
* :class:`GaussianTarget` and :class:`ExactVelocityNetwork`: the exact field and flow of Gaussian
  data along :class:`ReferencePath`, and a "network" serving that field;
* :class:`TinyNetwork`: a small trainable network for objective checks;
* :func:`fake_plugin`: a plugin module made from hook results, for host and plugin checks.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from pydantic import Field
from torch import Tensor, nn

from flowkit.data import Dataset
from flowkit.errors import IncompatibleComponentsError
from flowkit.host.hookspecs import PLUGIN_API_VERSION, hookimpl
from flowkit.parameterization import Parameterization
from flowkit.path import GaussianPath, PathSample, ProbabilityPath, batch_times, check_quantity, expand_like

# ------------------------------------------------------------------------------------------------
# Paths


class ReferencePath(GaussianPath):
    """Reference linear path ``x_t = t z + (1 - t) eps`` on ``[t_eps, 1 - t_eps]`` (prior ``N(0, I)``).

    The margins keep every conversion finite: conversions from epsilon or score divide by
    ``alpha_t = t`` and those to the score by ``beta_t = 1 - t``.
    """

    name: ClassVar[str] = "reference-linear"

    class Params(GaussianPath.Params):
        t_eps: float = Field(1e-3, gt=0.0, lt=0.5, description="Margin kept from both ends.")

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


class VelocityOnlyPath(ProbabilityPath):
    """Reference non-Gaussian path: ``x_t = t z + (1 - t) eps`` (prior ``N(0, I)``) on ``[0, 1]``.

    The interpolation of :class:`ReferencePath`, but a plain
    :class:`~flowkit.path.ProbabilityPath`: no schedule, no conversions, and only the conditional
    velocity ``z - eps`` as a target (``quantities = ("velocity",)``; any other quantity raises
    :class:`~flowkit.errors.IncompatibleComponentsError`). A component that needs a Gaussian path
    (conversions between quantities, log-SNR grids, score objectives, ...) must refuse it with a
    clear error, and one that only needs the velocity must work with it. It passes
    :func:`~flowkit.testing.check_path`.
    """

    name: ClassVar[str] = "reference-velocity-only"

    def sample_prior(
        self,
        n: int,
        event_shape: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> Tensor:
        return torch.randn((n, *event_shape), generator=generator, dtype=dtype, device=device)

    def prior_log_prob(self, x: Tensor) -> Tensor:
        flat = x.reshape(x.shape[0], -1)
        return -0.5 * flat.pow(2).sum(dim=1) - 0.5 * flat.shape[1] * math.log(2.0 * math.pi)

    def sample(self, z: Tensor, t: Tensor, noise: Tensor) -> PathSample:
        tt = batch_times(t, z)
        w = expand_like(tt, z)
        return PathSample(x=w * z + (1.0 - w) * noise, t=tt, z=z, noise=noise, path=self)

    def conditional_target(self, quantity: str, sample: PathSample) -> Tensor:
        if quantity != "velocity":
            raise IncompatibleComponentsError(f"path {self.name!r} only provides velocity, not {quantity!r}")
        return sample.z - sample.noise


# ------------------------------------------------------------------------------------------------
# Data, parameterizations and the exact field


class ReferenceDataset(Dataset):
    """Reference data ``N(mean, std^2 I)`` with a configurable event shape."""

    name: ClassVar[str] = "reference-gaussian"

    class Params(Dataset.Params):
        event_shape: tuple[int, ...] = Field((2,), min_length=1, description="Shape of one data point.")
        mean: float = Field(0.5, description="Mean of every coordinate.")
        std: float = Field(0.5, gt=0.0, description="Standard deviation of every coordinate.")

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


# ------------------------------------------------------------------------------------------------
# Networks


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
# Plugin modules


def fake_plugin(name: str, *, api: int | None = PLUGIN_API_VERSION, **hooks: Any) -> types.ModuleType:
    """A plugin module named ``name`` whose hooks return the given results.

    ``fake_plugin("my_fake", flowkit_paths=[ReferencePath])`` gives a module whose
    ``flowkit_paths`` hook returns ``[ReferencePath]``, ready for ``PluginHost.register`` or
    :func:`~flowkit.testing.check_plugin`. A result that is an exception instance makes its hook
    raise it instead. Hook names are not checked, so a misspelt hook can be made too.

    Args:
        name: the module's ``__name__``.
        api: the ``FLOWKIT_PLUGIN_API`` the module declares (default: the current plugin API);
            ``None`` declares none.
        hooks: hook name -> what the hook returns (or raises).
    """
    module = types.ModuleType(name)
    for hook_name, result in hooks.items():
        setattr(module, hook_name, _hook(hook_name, result))
    if api is not None:
        module.FLOWKIT_PLUGIN_API = api  # type: ignore[attr-defined]
    return module


def _hook(hook_name: str, result: Any) -> Callable[[], Any]:
    def impl() -> Any:
        if isinstance(result, BaseException):
            raise result
        return result

    impl.__name__ = hook_name
    hooked: Callable[[], Any] = hookimpl(impl)
    return hooked
