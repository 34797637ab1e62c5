"""Scaffolding: write a new plugin package that installs and passes its own tests unchanged.

``flowkit plugins new NAME --kind path --kind solver`` (or :func:`create_plugin`) writes::

    flowkit-NAME/
        pyproject.toml          # the distribution, its "flowkit.plugins" entry point NAME
        README.md
        flowkit_NAME/
            __init__.py
            plugin.py           # the hook implementations, FLOWKIT_PLUGIN_API
            paths.py ...        # one module per kind asked for, each a real, working component
            py.typed
        tests/
            test_flowkit_NAME.py  # flowkit.testing conformance checks plus each component's own tests

Every component is named ``NAME`` (names are per kind, so a path and a solver may share one).
The templates are complete components, not stubs: a smoothstep Gaussian path, Heun's solver, a
ring dataset, a residual MLP, an energy-distance metric, logit-normal flow matching, a residual
data parameterization and a sliced (sorting) coupling. Edit them into what the plugin is for.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from string import Template

from flowkit.errors import FlowkitError
from flowkit.host.hookspecs import ENTRY_POINT_GROUP, KIND_HOOKS, PLUGIN_API_VERSION

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_KINDS: tuple[str, ...] = ("path",)


class ScaffoldError(FlowkitError, ValueError):
    """A plugin package cannot be written: a bad name, an unknown kind, or an occupied target."""


@dataclass(frozen=True)
class KindTemplate:
    """What one component kind contributes to a generated package.

    Attributes:
        module: the module file name inside the package (without ``.py``).
        suffix: appended to the CamelCase plugin name to name the class.
        base_module, base: where the kind's base class lives (for the hook's return type).
        source: the module's source (a :class:`string.Template`).
        tests: test functions for the component, appended to the generated test file.
        test_imports: what those tests import: ``"module"`` for ``import module``, or
            ``"module:Name,Other"`` for ``from module import Name, Other`` (merged and sorted into
            the test file's header).
        summary: one line for the README.
    """

    module: str
    suffix: str
    base_module: str
    base: str
    source: str
    tests: str
    test_imports: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class ScaffoldResult:
    """A written plugin package."""

    root: Path
    distribution: str
    package: str
    name: str
    kinds: tuple[str, ...]
    files: tuple[Path, ...]


# ------------------------------------------------------------------------------------------------
# Templates. Placeholders: $name (plugin and component name), $camel (CamelCase name),
# $package (import name), $distribution (pip name).

_PATH = KindTemplate(
    module="paths",
    suffix="Path",
    base_module="flowkit.path",
    base="ProbabilityPath",
    summary="path `$name`: a smoothstep Gaussian path, `x_t = s(t) z + (1 - s(t)) eps`",
    source='''\
"""The ``$name`` probability path (t = 0 noise, t = 1 data)."""

from __future__ import annotations

from typing import ClassVar

from flowkit import GaussianPath
from pydantic import Field
from torch import Tensor


class ${camel}Path(GaussianPath):
    """Smoothstep path: ``x_t = s(t) z + (1 - s(t)) eps`` with ``s(t) = 3 t^2 - 2 t^3``.

    ``alpha_t = s(t)`` and ``beta_t = 1 - s(t)``, so ``d_alpha = 6 t (1 - t) = -d_beta``. The path
    leaves both ends slowly, so it spends more time near the prior and near the data than the
    straight path does. The prior is ``N(0, I)``. Conversions from the velocity divide by
    ``s'(t)``, which vanishes at both ends, so the safe time range is ``[t_eps, 1 - t_eps]``.
    """

    name: ClassVar[str] = "$name"

    class Params(GaussianPath.Params):
        t_eps: float = Field(1e-3, gt=0.0, lt=0.5, description="Margin kept from both ends, where s'(t) = 0.")

    params: Params

    @property
    def time_range(self) -> tuple[float, float]:
        return (self.params.t_eps, 1.0 - self.params.t_eps)

    def alpha(self, t: Tensor) -> Tensor:
        return t * t * (3.0 - 2.0 * t)

    def beta(self, t: Tensor) -> Tensor:
        return 1.0 - self.alpha(t)

    def d_alpha(self, t: Tensor) -> Tensor:
        return 6.0 * t * (1.0 - t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -self.d_alpha(t)
''',
    test_imports=("torch", "$package.paths:${camel}Path"),
    tests="""\
def test_path_schedule_runs_from_noise_to_data() -> None:
    path = ${camel}Path()
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    assert path.alpha(t).tolist() == [0.0, 0.5, 1.0]
    assert path.beta(t).tolist() == [1.0, 0.5, 0.0]
    assert path.d_alpha(t).tolist() == [0.0, 1.5, 0.0]
    assert path.time_range == (1e-3, 1.0 - 1e-3)
""",
)

_SOLVER = KindTemplate(
    module="solvers",
    suffix="Solver",
    base_module="flowkit.solver",
    base="Solver",
    summary="solver `$name`: Heun's method (explicit trapezoidal rule), order 2, two evaluations per step",
    source='''\
"""The ``$name`` solver: integrates ``dx/dt = u_t(x)`` from the prior (t_min) to the data (t_max)."""

from __future__ import annotations

from typing import ClassVar

from flowkit import Field, FixedStepSolver
from flowkit.solver import Workspace
from torch import Tensor


class ${camel}Solver(FixedStepSolver):
    """Heun's method: ``k1 = u(x, t)``, ``k2 = u(x + h k1, t + h)``, ``x + h (k1 + k2) / 2``.

    Order 2, two evaluations per step. The time grid (``steps``, ``grid``, ...) comes from
    :class:`flowkit.FixedStepSolver`'s params.
    """

    name: ClassVar[str] = "$name"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: Field, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        k1 = field.velocity(x, t)
        k2 = field.velocity(x + dt * k1, t + dt)
        return x + 0.5 * dt * (k1 + k2)
''',
    test_imports=(
        "math",
        "torch",
        "flowkit:Field",
        "flowkit.testing:ExactVelocityNetwork,GaussianTarget,ReferencePath,reference_parameterization",
        "$package.solvers:${camel}Solver",
    ),
    tests="""\
def test_solver_converges_at_second_order_with_two_evaluations_per_step() -> None:
    target, path = GaussianTarget(), ReferencePath()
    t0, t1 = path.time_range
    x0 = path.sample_prior(64, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    exact = target.flow(x0, t0, t1)
    errors = []
    for steps in (20, 40, 80):
        field = Field(ExactVelocityNetwork(target), reference_parameterization("velocity"), path)
        result = ${camel}Solver(steps=steps).solve(field, x0)
        assert result.nfe == 2 * steps
        errors.append(float((result.samples - exact).abs().max()))
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(1.8 < order < 2.3 for order in orders), orders
""",
)

_DATASET = KindTemplate(
    module="datasets",
    suffix="Dataset",
    base_module="flowkit.data",
    base="Dataset",
    summary="dataset `$name`: 2D points on a ring with Gaussian radial jitter",
    source='''\
"""The ``$name`` dataset: two-dimensional points, drawn fresh on every call."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from flowkit import Dataset
from pydantic import Field
from torch import Tensor


class ${camel}Dataset(Dataset):
    """Points on a ring: a uniform angle and a radius ``radius + noise * N(0, 1)``."""

    name: ClassVar[str] = "$name"

    class Params(Dataset.Params):
        radius: float = Field(2.0, gt=0.0, description="Radius of the ring.")
        noise: float = Field(0.1, ge=0.0, description="Standard deviation of the radial jitter.")

    params: Params

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (2,)

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        angle = 2.0 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        jitter = torch.randn(n, generator=generator, dtype=torch.float64)
        radius = self.params.radius + self.params.noise * jitter
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1).to(dtype)
''',
    test_imports=("torch", "$package.datasets:${camel}Dataset"),
    tests="""\
def test_dataset_points_lie_on_the_ring() -> None:
    points = ${camel}Dataset(radius=3.0, noise=0.2).sample(4000, generator=torch.Generator().manual_seed(0))
    radii = points.double().norm(dim=1)
    assert abs(float(radii.mean()) - 3.0) < 0.02
    assert abs(float(radii.std()) - 0.2) < 0.02
""",
)

_MODEL = KindTemplate(
    module="models",
    suffix="Model",
    base_module="flowkit.model",
    base="Model",
    summary="model `$name`: a residual MLP with Fourier time features and optional class labels",
    source='''\
"""The ``$name`` network: ``(x, t[, labels]) -> output`` of ``x``'s shape."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from flowkit import Model
from pydantic import Field
from torch import Tensor, nn


class ${camel}Model(Model):
    """A residual MLP on the flattened state with Fourier features of the time.

    The time features are ``sin(2^k pi t)`` and ``cos(2^k pi t)`` for ``k < frequencies``; with
    ``num_classes`` set, a learned label embedding (index ``num_classes`` is "no label") is added
    to them. Each of the ``blocks`` residual blocks is ``h + Linear(SiLU(Linear(LayerNorm(h))))``.
    """

    name: ClassVar[str] = "$name"

    class Params(Model.Params):
        width: int = Field(128, gt=0, description="Units of the hidden layers.")
        blocks: int = Field(2, gt=0, description="Number of residual blocks.")
        frequencies: int = Field(6, gt=0, description="Number of sine/cosine pairs of time features.")

    params: Params
    freqs: Tensor

    def __init__(self, event_shape: Sequence[int], *, num_classes: int | None = None, **params: Any) -> None:
        super().__init__(event_shape, num_classes=num_classes, **params)
        p = self.params
        dim = math.prod(self.event_shape)
        features = 2 * p.frequencies
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(p.frequencies, dtype=torch.float32))
        self.inp = nn.Linear(dim + features, p.width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(p.width), nn.Linear(p.width, p.width), nn.SiLU(), nn.Linear(p.width, p.width))
            for _ in range(p.blocks)
        )
        self.out = nn.Linear(p.width, dim)
        self.labels = nn.Embedding(num_classes + 1, features) if num_classes else None

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        args = t.to(x.dtype)[:, None] * self.freqs.to(x.dtype)[None, :]
        emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
        if self.labels is not None:
            if condition is None:
                condition = torch.full((x.shape[0],), self.labels.num_embeddings - 1, device=x.device)
            emb = emb + self.labels(condition.long())
        h = self.inp(torch.cat([x.reshape(x.shape[0], -1), emb], dim=1))
        for block in self.blocks:
            h = h + block(h)
        out: Tensor = self.out(h)
        return out.reshape(x.shape)
''',
    test_imports=("torch", "$package.models:${camel}Model"),
    tests="""\
def test_model_learns_a_fixed_regression_target() -> None:
    torch.manual_seed(0)
    model = ${camel}Model((2,), width=32)
    x = torch.randn(64, 2)
    t = torch.rand(64)
    target = torch.stack([x[:, 1], -x[:, 0]], dim=1) * t[:, None]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = (model(x, t) - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.2 * losses[0]
""",
)

_METRIC = KindTemplate(
    module="metrics",
    suffix="Metric",
    base_module="flowkit.metric",
    base="Metric",
    summary="metric `$name`: the energy distance between samples and data",
    source='''\
"""The ``$name`` metric: how far generated samples are from data (lower is better)."""

from __future__ import annotations

from typing import ClassVar

import torch
from flowkit import Metric
from pydantic import Field
from torch import Tensor


def _subset(x: Tensor, limit: int, generator: torch.Generator | None) -> Tensor:
    flat = x.detach().reshape(x.shape[0], -1).to(device="cpu", dtype=torch.float64)
    if flat.shape[0] <= limit:
        return flat
    return flat[torch.randperm(flat.shape[0], generator=generator)[:limit]]


class ${camel}Metric(Metric):
    """Energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` between samples and reference data.

    It is zero exactly when the two distributions agree (and non-negative otherwise). It is
    estimated on the flattened points, in float64, with every pair of at most ``max_points``
    points per set (a random subset, drawn with ``generator``, when a set is larger).
    """

    name: ClassVar[str] = "$name"

    class Params(Metric.Params):
        max_points: int = Field(2000, gt=1, description="Points of each set used at most (pairs cost memory).")

    params: Params

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        x = _subset(samples, self.params.max_points, generator)
        y = _subset(reference, self.params.max_points, generator)
        if x.shape[1] != y.shape[1]:
            raise ValueError(f"cannot compare points of dimension {x.shape[1]} with {y.shape[1]}")
        cross = torch.cdist(x, y).mean()
        within = torch.cdist(x, x).mean() + torch.cdist(y, y).mean()
        return float(2.0 * cross - within)
''',
    test_imports=("math", "torch", "$package.metrics:${camel}Metric"),
    tests="""\
def test_metric_matches_the_closed_form_for_shifted_gaussians() -> None:
    # In 1D, for X ~ N(0, 1) and Y ~ N(m, 1): E|X - Y| = 2 phi(m / s) s + m (1 - 2 Phi(-m / s)) with
    # s = sqrt(2), and E|X - X'| = E|Y - Y'| = 2 / sqrt(pi).
    m, s = 3.0, math.sqrt(2.0)
    phi = math.exp(-0.5 * (m / s) ** 2) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + math.erf(-m / s / math.sqrt(2.0)))
    expected = 2.0 * (2.0 * s * phi + m * (1.0 - 2.0 * cdf)) - 4.0 / math.sqrt(math.pi)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 1, generator=gen, dtype=torch.float64)
    y = m + torch.randn(2000, 1, generator=gen, dtype=torch.float64)
    assert abs(${camel}Metric().compute(x, y) - expected) < 0.1
""",
)

_OBJECTIVE = KindTemplate(
    module="objectives",
    suffix="Objective",
    base_module="flowkit.objective",
    base="Objective",
    summary="objective `$name`: flow matching with logit-normal training times",
    source='''\
"""The ``$name`` objective: the loss of one training batch."""

from __future__ import annotations

from typing import ClassVar

import torch
from flowkit import Field, Objective
from pydantic import Field as ParamField
from torch import Tensor


class ${camel}Objective(Objective):
    """Flow matching with logit-normal times: ``E || v_theta(x_t, t) - u_t(x_t | z) ||^2``.

    Training times are ``t_min + (t_max - t_min) sigmoid(location + scale n)`` with
    ``n ~ N(0, 1)`` and ``[t_min, t_max]`` the path's time range, so with ``location = 0`` the
    middle of the path gets the most weight. The squared error is summed over the event
    dimensions and averaged over the batch; the network is read through the field, so any
    parameterization the path can convert works.
    """

    name: ClassVar[str] = "$name"

    class Params(Objective.Params):
        location: float = ParamField(0.0, description="Mean of the normal variable before the sigmoid.")
        scale: float = ParamField(1.0, gt=0.0, description="Standard deviation of that normal variable.")

    params: Params

    def sample_times(self, n: int, field: Field, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """``n`` logit-normal times inside the field's time range, on ``like``'s device and dtype."""
        device = generator.device if generator is not None else like.device
        normal = torch.randn(n, generator=generator, dtype=like.dtype, device=device).to(like.device)
        lo, hi = field.time_range
        return lo + (hi - lo) * torch.sigmoid(self.params.location + self.params.scale * normal)

    def loss(self, field: Field, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        t = self.sample_times(z.shape[0], field, z, generator)
        draw = field.path.sample(z, t, noise)
        err = (field.velocity(draw.x, draw.t) - draw.target("velocity")).pow(2)
        return err.reshape(err.shape[0], -1).sum(dim=1).mean()
''',
    test_imports=(
        "math",
        "torch",
        "flowkit:Field",
        "flowkit.testing:ExactVelocityNetwork,GaussianTarget,ReferencePath,reference_parameterization",
        "$package.objectives:${camel}Objective",
    ),
    tests="""\
def test_objective_times_are_logit_normal_and_the_exact_field_scores_best() -> None:
    target, path = GaussianTarget(), ReferencePath()
    exact = Field(ExactVelocityNetwork(target), reference_parameterization("velocity"), path)
    objective = ${camel}Objective(location=1.0)
    gen = torch.Generator().manual_seed(0)
    times = objective.sample_times(20000, exact, torch.zeros(1, dtype=torch.float64), gen)
    lo, hi = path.time_range
    assert abs(float(times.median()) - (lo + (hi - lo) / (1.0 + math.exp(-1.0)))) < 0.01

    def zero_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    zero = Field(zero_velocity, reference_parameterization("velocity"), path)
    z = target.mean + target.std * torch.randn(4096, 2, generator=gen, dtype=torch.float64)
    noise = torch.randn(4096, 2, generator=gen, dtype=torch.float64)
    best = objective.loss(exact, z, noise, generator=torch.Generator().manual_seed(1))
    worse = objective.loss(zero, z, noise, generator=torch.Generator().manual_seed(1))
    assert float(best) < float(worse)
""",
)

_PARAMETERIZATION = KindTemplate(
    module="parameterizations",
    suffix="Parameterization",
    base_module="flowkit.parameterization",
    base="Parameterization",
    summary="parameterization `$name`: the network predicts the residual `z - x_t` (data prediction `x_t + output`)",
    source='''\
"""The ``$name`` parameterization: what the network's output means."""

from __future__ import annotations

from typing import ClassVar

from flowkit import Parameterization
from flowkit.path import Quantity
from torch import Tensor


class ${camel}Parameterization(Parameterization):
    """The network predicts the residual ``z - x_t``; the data prediction is ``x_t + output``.

    Near the data end ``x_t`` is already close to ``z``, so the network only learns a small
    correction there. Every other quantity comes from the path's conversion of the data
    prediction (a Gaussian path is needed for those).
    """

    name: ClassVar[str] = "$name"
    predicts: ClassVar[Quantity] = "data"

    def prediction(self, output: Tensor, x: Tensor, t: Tensor) -> Tensor:
        return x + output
''',
    test_imports=("torch", "flowkit.testing:ReferencePath", "$package.parameterizations:${camel}Parameterization"),
    tests="""\
def test_parameterization_reads_the_conditional_velocity_from_the_exact_residual() -> None:
    path = ReferencePath()
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(8, 2, generator=gen, dtype=torch.float64)
    noise = torch.randn(8, 2, generator=gen, dtype=torch.float64)
    draw = path.sample(z, torch.linspace(0.1, 0.9, 8, dtype=torch.float64), noise)
    velocity = ${camel}Parameterization().to_quantity(z - draw.x, "velocity", draw.x, draw.t, path)
    torch.testing.assert_close(velocity, draw.target("velocity"))
""",
)

_COUPLING = KindTemplate(
    module="couplings",
    suffix="Coupling",
    base_module="flowkit.coupling",
    base="Coupling",
    summary="coupling `$name`: pairs data and noise by their order along a random direction",
    source='''\
"""The ``$name`` coupling: how data points and prior draws are paired in a batch."""

from __future__ import annotations

from typing import ClassVar

import torch
from flowkit import Coupling
from torch import Tensor


class ${camel}Coupling(Coupling):
    """Pairs data and noise by their order along a random direction (a cheap minibatch OT).

    Both batches are projected on one direction drawn uniformly on the sphere (from
    ``generator``), and the k-th smallest data projection is paired with the k-th smallest noise
    projection. For one-dimensional data this is the exact optimal transport pairing; in more
    dimensions it straightens the pairs at a cost of ``O(B log B)``. Returns ``(z, noise[perm])``.
    """

    name: ClassVar[str] = "$name"

    def pair(self, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        if z.shape != noise.shape:
            raise ValueError(f"z and noise must have the same shape, got {tuple(z.shape)} and {tuple(noise.shape)}")
        flat_z = z.reshape(z.shape[0], -1)
        flat_noise = noise.reshape(noise.shape[0], -1)
        device = generator.device if generator is not None else z.device
        direction = torch.randn(flat_z.shape[1], generator=generator, dtype=torch.float64, device=device)
        direction = (direction / direction.norm()).to(device=z.device, dtype=z.dtype)
        z_order = torch.argsort(flat_z @ direction)
        noise_order = torch.argsort(flat_noise @ direction)
        perm = torch.empty_like(z_order)
        perm[z_order] = noise_order
        return z, noise[perm]
''',
    test_imports=("torch", "$package.couplings:${camel}Coupling"),
    tests="""\
def test_coupling_pairs_one_dimensional_data_in_order() -> None:
    gen = torch.Generator().manual_seed(0)
    z = 3.0 + torch.randn(32, 1, generator=gen)
    noise = torch.randn(32, 1, generator=gen)
    paired_z, paired_noise = ${camel}Coupling().pair(z, noise, generator=gen)
    assert paired_z is z
    assert torch.equal(torch.sort(paired_noise[:, 0]).values, torch.sort(noise[:, 0]).values)
    assert torch.equal(torch.argsort(paired_z[:, 0]), torch.argsort(paired_noise[:, 0]))
""",
)

TEMPLATES: dict[str, KindTemplate] = {
    "path": _PATH,
    "parameterization": _PARAMETERIZATION,
    "objective": _OBJECTIVE,
    "coupling": _COUPLING,
    "solver": _SOLVER,
    "dataset": _DATASET,
    "model": _MODEL,
    "metric": _METRIC,
}
"""The template of every component kind (the keys are the kinds of :data:`flowkit.hookspecs.KIND_HOOKS`)."""

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "A flowkit plugin: $kinds_text."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["$flowkit_requirement", "torch>=2.2"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points."$group"]
$name = "$package.plugin"

[tool.setuptools]
packages = ["$package"]

[tool.setuptools.package-data]
$package = ["py.typed"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--import-mode=importlib --strict-markers"
filterwarnings = ["error"]

[tool.ruff]
line-length = 120
target-version = "py310"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "UP", "B", "SIM", "RUF"]

[tool.ruff.lint.isort]
known-first-party = ["$package"]
"""

_README = """\
# $distribution

A [flowkit](https://pypi.org/project/flowkit-gm/) plugin. It registers the entry point `$name` in
the `$group` group and provides:

$component_list

Every component is named `$name` in run specs (names are per kind).

## Install and test

```bash
pip install -e .
pytest
```

The tests run flowkit's conformance checks (`flowkit.testing`) on every component the plugin
registers, plus each component's own behaviour.

## Check that flowkit sees it

```bash
flowkit plugins list
$show_commands
```

## Use it in a run spec

```json
$spec_snippet
```

## Layout

* `$package/plugin.py`: the hook implementations (`FLOWKIT_PLUGIN_API = $api`, the plugin API
  version this package was written for; an incompatible flowkit refuses it with a message).
$module_list
* `tests/test_$package.py`: the tests.
"""

_SPEC_FIELDS: dict[str, str] = {
    "path": '"path": {"name": "$name"}',
    "parameterization": '"parameterization": {"name": "$name"}',
    "objective": '"objective": {"name": "$name"}',
    "coupling": '"coupling": {"name": "$name"}',
    "solver": '"sample": {"solver": {"name": "$name", "params": {"steps": 50}}}',
    "dataset": '"data": {"name": "$name"}',
    "model": '"model": {"name": "$name"}',
    "metric": '"evaluate": {"metrics": [{"name": "$name"}]}',
}

_INIT = '''\
"""The ``$name`` flowkit plugin.

It provides $kinds_text.
"""

$imports

__all__ = $exports
'''

_PLUGIN = '''\
"""Hook implementations of the ``$name`` plugin: each hook returns the classes of one kind."""

from __future__ import annotations

$imports

FLOWKIT_PLUGIN_API = $api
"""The flowkit plugin API this plugin was written for."""
$hooks'''

_HOOK = """

@hookimpl
def $hook() -> list[type[$base]]:
    return [$cls]
"""

_TESTS = '''\
"""Tests of the ``$name`` plugin: flowkit's conformance checks, then each component's own behaviour."""

from __future__ import annotations

$imports

COMPONENTS = plugin_components(plugin)


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda cls: f"{cls.kind}:{cls.name}")
def test_component_passes_the_conformance_checks(cls: type[Component]) -> None:
    check_component(cls)


def test_plugin_registers_cleanly_under_its_api_version() -> None:
    checked = check_plugin(plugin, "$name")
    assert [(cls.kind, cls.name) for cls in checked] == $expected


def test_installed_entry_point_gives_flowkit_the_components() -> None:
    entry_points = [ep for ep in metadata.entry_points(group="$group") if ep.name == "$name"]
    assert [ep.value for ep in entry_points] == ["$package.plugin"]
    host = PluginHost(strict=False, disabled=[], only=["$name"], trace=False)
    for cls in COMPONENTS:
        assert host.get(cls.kind, cls.name) is cls
$tests'''


# ------------------------------------------------------------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def _flowkit_requirement() -> str:
    try:
        version = metadata.version("flowkit-gm")
    except metadata.PackageNotFoundError:
        return "flowkit-gm"
    parts = version.split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return "flowkit-gm"
    major, minor = int(parts[0]), int(parts[1])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"flowkit-gm>={major}.{minor},<{upper}"


def check_name(name: str) -> str:
    """Return ``name`` if it can name a plugin, else raise :class:`ScaffoldError` saying why."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use lowercase letters, digits and underscores, starting with a letter "
            "(e.g. 'my_paths')"
        )
    return name


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Deduplicate ``kinds`` (keeping flowkit's kind order) or raise :class:`ScaffoldError` for an unknown one."""
    wanted = list(kinds) or list(DEFAULT_KINDS)
    unknown = [k for k in wanted if k not in TEMPLATES]
    if unknown:
        raise ScaffoldError(f"unknown kind {unknown[0]!r}; kinds are: {', '.join(KIND_HOOKS)}")
    return tuple(k for k in KIND_HOOKS if k in wanted)


def render_plugin(name: str, kinds: Sequence[str] = DEFAULT_KINDS) -> dict[str, str]:
    """The files of a new plugin package, as ``{relative path: text}`` (nothing is written).

    Raises:
        ScaffoldError: for an invalid name or an unknown kind.
    """
    check_name(name)
    chosen = check_kinds(kinds)
    package = f"flowkit_{name}"
    distribution = f"flowkit-{name.replace('_', '-')}"
    camel = _camel(name)
    values = {
        "name": name,
        "camel": camel,
        "package": package,
        "distribution": distribution,
        "group": ENTRY_POINT_GROUP,
        "api": str(PLUGIN_API_VERSION),
        "flowkit_requirement": _flowkit_requirement(),
        "kinds_text": _kinds_text(chosen),
    }

    def fill(text: str, **extra: str) -> str:
        return Template(text).substitute({**values, **extra})

    templates = [(kind, TEMPLATES[kind]) for kind in chosen]
    files: dict[str, str] = {}
    for _, tpl in templates:
        files[f"{package}/{tpl.module}.py"] = fill(tpl.source)

    classes = [f"{camel}{tpl.suffix}" for _, tpl in templates]
    init_imports = "\n".join(
        f"from {package}.{tpl.module} import {camel}{tpl.suffix}"
        for _, tpl in sorted(templates, key=lambda kt: kt[1].module)
    )
    files[f"{package}/__init__.py"] = fill(
        _INIT, imports=init_imports, exports=_list([f'"{c}"' for c in sorted(classes)])
    )

    base_imports = sorted({f"from {tpl.base_module} import {tpl.base}" for _, tpl in templates})
    own_imports = sorted(f"from {package}.{tpl.module} import {camel}{tpl.suffix}" for _, tpl in templates)
    plugin_imports = "\n".join(["from flowkit import hookimpl", *base_imports, "", *own_imports])
    hooks = "".join(
        fill(_HOOK, hook=KIND_HOOKS[kind], base=tpl.base, cls=f"{camel}{tpl.suffix}") for kind, tpl in templates
    )
    files[f"{package}/plugin.py"] = fill(_PLUGIN, imports=plugin_imports, hooks=hooks)
    files[f"{package}/py.typed"] = ""

    test_imports = [
        "importlib:metadata",
        "pytest",
        "flowkit:Component,PluginHost",
        "flowkit.testing:check_component,check_plugin,plugin_components",
        f"{package}:plugin",
    ]
    for _, tpl in templates:
        test_imports.extend(fill(spec) for spec in tpl.test_imports)
    files[f"tests/test_{package}.py"] = fill(
        _TESTS,
        imports=_import_block(test_imports, package),
        expected=_list([f'("{kind}", "{name}")' for kind, _ in templates], indent="    "),
        tests="".join("\n\n" + fill(tpl.tests) for _, tpl in templates),
    )

    files["pyproject.toml"] = fill(_PYPROJECT)
    snippet = "{\n  " + ",\n  ".join(fill(_SPEC_FIELDS[kind]) for kind, _ in templates) + "\n}"
    files["README.md"] = fill(
        _README,
        component_list="\n".join(f"* {fill(tpl.summary)} (`{camel}{tpl.suffix}`)" for _, tpl in templates),
        show_commands="\n".join(f"flowkit plugins show {kind} {name}" for kind, _ in templates),
        spec_snippet=snippet,
        module_list="\n".join(
            f"* `{package}/{tpl.module}.py`: `{camel}{tpl.suffix}`, the {kind}." for kind, tpl in templates
        ),
    )
    return files


def _kinds_text(kinds: Sequence[str]) -> str:
    """``"a path"``, ``"a path and a solver"``, ``"a path, an objective and a solver"``."""
    words = [("an " if kind[0] in "aeiou" else "a ") + kind for kind in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _list(items: Sequence[str], indent: str = "") -> str:
    """A list literal, one item per line with a trailing comma (the layout ``ruff format`` keeps)."""
    body = "".join(f"{indent}    {item},\n" for item in items)
    return f"[\n{body}{indent}]"


_STDLIB = frozenset({"math", "importlib", "typing", "collections", "pathlib"})


def _import_block(specs: Iterable[str], package: str) -> str:
    """Merge import specs (see :class:`KindTemplate`) into sorted sections, like isort does:
    standard library, third party, then the plugin's own package; within a section ``import x``
    lines come first, then ``from x import ...`` lines, each sorted by module."""
    plain: set[str] = set()
    names: dict[str, set[str]] = {}
    for spec in specs:
        module, _, listed = spec.partition(":")
        if listed:
            names.setdefault(module, set()).update(listed.split(","))
        else:
            plain.add(module)

    def section(module: str) -> int:
        top = module.split(".")[0]
        return 2 if top == package else (0 if top in _STDLIB else 1)

    sections: list[list[str]] = [[], [], []]
    for module in sorted(plain):
        sections[section(module)].append(f"import {module}")
    for module in sorted(names):
        members = sorted(names[module], key=lambda n: (not n[:1].isupper(), n))
        line = f"from {module} import {', '.join(members)}"
        if len(line) > 120:
            line = f"from {module} import (\n" + "".join(f"    {m},\n" for m in members) + ")"
        sections[section(module)].append(line)
    return "\n\n".join("\n".join(lines) for lines in sections if lines)


def create_plugin(
    name: str,
    kinds: Sequence[str] = DEFAULT_KINDS,
    output: str | Path = ".",
    *,
    check_installed: bool = True,
) -> ScaffoldResult:
    """Write a new plugin package ``<output>/flowkit-<name>`` (see the module docstring).

    Args:
        name: the plugin's name: entry point, component names and package suffix.
        kinds: the component kinds to include (default: a path).
        output: the directory to create the package in.
        check_installed: refuse a name an installed plugin or package already uses.

    Raises:
        ScaffoldError: for an invalid name, an unknown kind, a name already installed, or a target
            directory that exists and is not empty.
    """
    files = render_plugin(name, kinds)
    package = f"flowkit_{name}"
    distribution = f"flowkit-{name.replace('_', '-')}"
    if check_installed:
        taken = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if taken:
            raise ScaffoldError(f"a plugin named {name!r} is already installed ({taken[0].value}); choose another name")
        if importlib.util.find_spec(package) is not None:
            raise ScaffoldError(f"a package named {package!r} is already importable; choose another name")
    root = Path(output) / distribution
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ScaffoldError(f"{root} already exists and is not empty")
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return ScaffoldResult(root, distribution, package, name, check_kinds(kinds), tuple(written))
