"""flowkit.testing: each conformance check passes a correct component and catches a broken one,
naming the component and the rule in its message."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import torch
from pydantic import ConfigDict, field_validator
from torch import Tensor, nn

from flowkit import (
    PLUGIN_API_VERSION,
    Coupling,
    Field,
    IncompatibleComponentsError,
    Metric,
    Model,
    ModelContext,
    Objective,
    Parameterization,
    PathSample,
    ProbabilityPath,
    Solver,
)
from flowkit.host.kinds import KIND_BY_NAME, KINDS
from flowkit.testing import (
    ConformanceError,
    ExactVelocityNetwork,
    GaussianTarget,
    ReferenceDataset,
    ReferencePath,
    TinyNetwork,
    VelocityOnlyPath,
    check_component,
    check_coupling,
    check_dataset,
    check_gaussian_path,
    check_metric,
    check_model,
    check_objective,
    check_parameterization,
    check_path,
    check_plugin,
    check_solver,
    fake_plugin,
    plugin_components,
    reference_parameterization,
)
from flowkit.testing.core import devices, probes
from flowkit.testing.dispatch import CHECKS


def _raises(rule: str, *fragments: str) -> Any:
    """``pytest.raises`` for a ConformanceError whose message holds ``rule`` and every fragment."""
    return pytest.raises(ConformanceError, match=".*".join(re.escape(text) for text in (rule, *fragments)))


# ------------------------------------------------------------------------------------------------
# Reference components and the error type


def test_reference_components_conform() -> None:
    check_gaussian_path(ReferencePath)
    check_dataset(ReferenceDataset, {"event_shape": (1, 2, 2)})
    check_parameterization(type(reference_parameterization("epsilon")))


def test_the_velocity_only_path_conforms_and_gives_nothing_but_the_velocity() -> None:
    check_path(VelocityOnlyPath)
    draw = VelocityOnlyPath().sample(torch.ones(3, 2), torch.tensor(0.5), torch.zeros(3, 2))
    assert torch.equal(draw.x, torch.full((3, 2), 0.5))
    assert torch.equal(draw.target("velocity"), torch.ones(3, 2))
    with pytest.raises(IncompatibleComponentsError, match="only provides velocity, not 'score'"):
        draw.target("score")


def test_fake_plugin_hooks_return_or_raise_their_results() -> None:
    module = fake_plugin("fake_hooks", flowkit_paths=[ReferencePath], flowkit_solvers=RuntimeError("no GPU"))
    assert module.__name__ == "fake_hooks"
    assert module.FLOWKIT_PLUGIN_API == PLUGIN_API_VERSION
    assert module.flowkit_paths() == [ReferencePath]
    with pytest.raises(RuntimeError, match="no GPU"):
        module.flowkit_solvers()
    assert not hasattr(fake_plugin("fake_undeclared", api=None), "FLOWKIT_PLUGIN_API")


def test_gaussian_target_flow_solves_its_velocity_ode() -> None:
    target = GaussianTarget(mean=0.3, std=0.7)
    x0 = torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    t, h = 0.4, 1e-6
    state = target.flow(x0, 0.1, t)
    derivative = (target.flow(x0, 0.1, t + h) - target.flow(x0, 0.1, t - h)) / (2 * h)
    torch.testing.assert_close(derivative, target.velocity(state, torch.full((5,), t, dtype=torch.float64)))
    torch.testing.assert_close(target.flow(state, t, 0.1), x0)
    assert target.marginal_std(1.0) == pytest.approx(0.7)


def test_exact_velocity_network_counts_its_calls() -> None:
    net = ExactVelocityNetwork(GaussianTarget())
    field = Field(net, reference_parameterization("velocity"), ReferencePath())
    field.velocity(torch.zeros(3, 2), 0.5)
    field.score(torch.zeros(3, 2), 0.5)
    assert net.calls == 2 == field.nfe


def test_conformance_error_is_an_assertion_naming_component_rule_and_detail() -> None:
    err = ConformanceError("path 'x' (m.X)", "shape", "got (2,)")
    assert isinstance(err, AssertionError)
    assert str(err) == "path 'x' (m.X): shape: got (2,)"
    assert (err.component, err.check, err.detail) == ("path 'x' (m.X)", "shape", "got (2,)")


def test_checks_restore_the_torch_thread_count() -> None:
    before = torch.get_num_threads()
    check_dataset(ReferenceDataset)
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------------------------------------
# Component rules (every kind)


class NoDocstringDataset(ReferenceDataset):
    name: ClassVar[str] = "no-doc"


class OpenParamsDataset(ReferenceDataset):
    """Accepts any key (a Params model without extra='forbid')."""

    name: ClassVar[str] = "open-params"

    class Params(ReferenceDataset.Params):
        model_config = ConfigDict(extra="allow", frozen=True)


class DriftingParamsDataset(ReferenceDataset):
    """Its params change every time they are validated, so they do not round-trip."""

    name: ClassVar[str] = "drifting"

    class Params(ReferenceDataset.Params):
        @field_validator("mean")
        @classmethod
        def _shift(cls, value: float) -> float:
            return value + 1.0


class SpacedNameDataset(ReferenceDataset):
    """A name a spec cannot refer to."""

    name: ClassVar[str] = "two words"


def test_component_rules_catch_docstring_params_and_name_problems() -> None:
    with _raises("docstring", "no docstring"):
        check_dataset(NoDocstringDataset)
    with _raises("params", "extra='forbid'"):
        check_dataset(OpenParamsDataset)
    with _raises("params round-trip"):
        check_dataset(DriftingParamsDataset)
    with _raises("name", "whitespace"):
        check_dataset(SpacedNameDataset)


def test_invalid_params_are_reported_as_a_construction_failure() -> None:
    with _raises("dataset 'reference-gaussian'", "construction", "ValidationError"):
        check_dataset(ReferenceDataset, {"std": -1.0})


def test_probes_cover_every_device_dtype_and_event_shape_in_order() -> None:
    cases = list(probes(((2,), (1, 3, 3))))
    assert len(cases) == len(devices()) * 2 * 2
    first, second = cases[0], cases[1]
    assert (first.device.type, first.dtype, first.event_shape) == ("cpu", torch.float32, (2,))
    assert (second.dtype, second.event_shape) == (torch.float32, (1, 3, 3))
    assert first.tag == "[torch.float32, event (2,), cpu]"
    assert second.tag_with("network predicts score") == "[torch.float32, event (1, 3, 3), cpu, network predicts score]"
    assert torch.equal(second.randn(3, 1), second.randn(3, 1))
    assert second.randn(3, 1).shape == second.batch(3) == (3, 1, 3, 3)


def test_every_kind_of_the_kinds_table_has_its_check() -> None:
    assert set(CHECKS) == set(KIND_BY_NAME)
    for kind in KINDS:
        assert CHECKS[kind.name].__name__ == f"check_{kind.name}", kind.name


def test_check_component_dispatches_on_the_base_class() -> None:
    check_component(ReferencePath)
    with _raises("kind", "derives from none of the component bases"):
        check_component(TinyNetwork)  # type: ignore[arg-type]
    with _raises("kind", "not a subclass of flowkit.GaussianPath"):
        check_gaussian_path(ReferenceDataset)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Paths


class WrongDerivativePath(ReferencePath):
    """d_alpha off by a factor of two."""

    name: ClassVar[str] = "wrong-derivative"

    def d_alpha(self, t: Tensor) -> Tensor:
        return 2.0 * torch.ones_like(t)


class Float32Path(ReferencePath):
    """Always answers in float32."""

    name: ClassVar[str] = "float32-only"

    def sample(self, z: Tensor, t: Tensor, noise: Tensor) -> PathSample:
        s = super().sample(z, t, noise)
        s.x = s.x.float()
        return s


class LateStartPath(ReferencePath):
    """Starts from the noise scaled by 3 instead of the noise itself."""

    name: ClassVar[str] = "late-start"

    def beta(self, t: Tensor) -> Tensor:
        return 3.0 * (1.0 - t)

    def d_beta(self, t: Tensor) -> Tensor:
        return -3.0 * torch.ones_like(t)

    def prior_std(self) -> float:
        return 1.0


class ShuffledPath(VelocityOnlyPath):
    """A non-Gaussian path whose velocity target is not the time derivative of its samples."""

    name: ClassVar[str] = "shuffled"

    def conditional_target(self, quantity: str, sample: PathSample) -> Tensor:
        return sample.noise - sample.z  # the sign is wrong


def test_path_check_catches_wrong_derivatives_dtype_and_endpoints() -> None:
    with _raises("path 'wrong-derivative'", "conditional velocity vs d/dt x_t", "differs by up to 1.37"):
        check_path(WrongDerivativePath)
    with _raises("dtype", "float64"):
        check_path(Float32Path)
    with _raises("endpoint t_min", "prior draws"):
        check_path(LateStartPath)


def test_path_check_verifies_the_velocity_of_non_gaussian_paths() -> None:
    check_path(VelocityOnlyPath)
    with _raises("path 'shuffled'", "conditional velocity vs d/dt x_t"):
        check_path(ShuffledPath)


# ------------------------------------------------------------------------------------------------
# Parameterizations and objectives


class DoublingParameterization(Parameterization):
    """Claims to predict velocity but converts as if its output were twice the velocity."""

    name: ClassVar[str] = "doubling"
    predicts: ClassVar[Any] = "velocity"

    def to_quantity(self, output: Tensor, quantity: str, x: Tensor, t: Tensor, path: ProbabilityPath) -> Tensor:
        return super().to_quantity(2.0 * output, quantity, x, t, path)


def test_parameterization_check_catches_an_inconsistent_conversion() -> None:
    with _raises("parameterization 'doubling'", "vs the path's conversion"):
        check_parameterization(DoublingParameterization)


class BypassObjective(Objective):
    """Calls the network directly instead of reading it through the field."""

    name: ClassVar[str] = "bypass"

    def loss(self, field: Field, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        t = torch.full((z.shape[0],), 0.5, dtype=z.dtype)
        out = field.network(z, t)
        return (out - noise).pow(2).mean()


class DetachedObjective(Objective):
    """Returns a loss with no gradient path to the network."""

    name: ClassVar[str] = "detached"

    def loss(self, field: Field, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        pred = field.velocity(z, 0.5).detach()
        return (pred - noise).pow(2).mean().requires_grad_()


def test_objective_check_catches_bypassing_the_field_and_missing_gradients() -> None:
    with _raises("objective 'bypass'", "field", "never evaluated the network through the field"):
        check_objective(BypassObjective)
    with _raises("objective 'detached'", "gradient"):
        check_objective(DetachedObjective)


class JitterCoupling(Coupling):
    """Adds jitter to the noise, so its rows are no longer the prior draws it was given."""

    name: ClassVar[str] = "jitter"

    def pair(self, z: Tensor, noise: Tensor, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        return z, noise + 0.01


def test_coupling_check_catches_rows_that_are_not_input_rows() -> None:
    with _raises("coupling 'jitter'", "pairing", "not rows of its input"):
        check_coupling(JitterCoupling)


# ------------------------------------------------------------------------------------------------
# Solvers


class GoodEuler(Solver):
    """Euler steps on a uniform grid of ``steps`` intervals."""

    name: ClassVar[str] = "good-euler"
    steps: ClassVar[int] = 200

    def integrate(
        self, field: Field, x0: Tensor, t0: float, t1: float, *, trajectory: bool, generator: Any, **_: Any
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        grid = torch.linspace(t0, t1, self.steps + 1, dtype=x0.dtype)
        x, states = x0, [x0]
        for i in range(self.steps):
            x = x + (grid[i + 1] - grid[i]) * field.velocity(x, grid[i])
            states.append(x)
        return (x, grid, torch.stack(states)) if trajectory else (x, None, None)


class MiscountingSolver(GoodEuler):
    """Reports one evaluation fewer than it spent."""

    name: ClassVar[str] = "miscounting"

    def solve(self, field: Field, x0: Tensor, **kwargs: Any) -> Any:
        result = super().solve(field, x0, **kwargs)
        result.nfe -= 1
        return result


class BackwardSolver(GoodEuler):
    """Integrates from t_max to t_min (the opposite of flowkit's time convention)."""

    name: ClassVar[str] = "backward"

    def integrate(
        self, field: Field, x0: Tensor, t0: float, t1: float, *, trajectory: bool, generator: Any, **_: Any
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        x, _, _ = super().integrate(field, x0, t1, t0, trajectory=False, generator=generator)
        grid = torch.linspace(t0, t1, 2, dtype=x0.dtype)
        return (x, grid, torch.stack([x0, x])) if trajectory else (x, None, None)


class Float32Solver(GoodEuler):
    """Casts its samples to float32."""

    name: ClassVar[str] = "float32-solver"

    def integrate(
        self, field: Field, x0: Tensor, t0: float, t1: float, *, trajectory: bool, generator: Any, **_: Any
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        x, times, states = super().integrate(field, x0, t0, t1, trajectory=trajectory, generator=generator)
        return x.float(), times, states


def test_solver_check_passes_a_correct_solver() -> None:
    check_solver(GoodEuler)


def test_solver_check_catches_nfe_direction_and_dtype_problems() -> None:
    with _raises("solver 'miscounting'", "NFE", "the network was called"):
        check_solver(MiscountingSolver)
    with _raises("solver 'backward'", "accuracy", "from t_min"):
        check_solver(BackwardSolver)
    with _raises("solver 'float32-solver'", "dtype"):
        check_solver(Float32Solver)


# ------------------------------------------------------------------------------------------------
# Datasets, models and metrics


class ForgetfulDataset(ReferenceDataset):
    """Ignores the generator it is given."""

    name: ClassVar[str] = "forgetful"

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return super().sample(n, generator=None, dtype=dtype)


class BadLabelsDataset(ReferenceDataset):
    """Claims 3 classes but returns labels up to 3."""

    name: ClassVar[str] = "bad-labels"

    @property
    def num_classes(self) -> int:
        return 3

    def sample_labeled(
        self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> tuple[Tensor, Tensor | None]:
        return self.sample(n, generator=generator, dtype=dtype), torch.arange(n) % 4


def test_dataset_check_catches_ignored_generators_and_bad_labels() -> None:
    with _raises("dataset 'forgetful'", "reproducibility", "same seed"):
        check_dataset(ForgetfulDataset)
    with _raises("dataset 'bad-labels'", "sample_labeled", "[0, 3)"):
        check_dataset(BadLabelsDataset)


class FlatModel(Model):
    """A linear map of the flattened state that forgets to reshape its output."""

    name: ClassVar[str] = "flat"

    def __init__(self, event_shape: Any, *, num_classes: int | None = None, **params: Any) -> None:
        super().__init__(event_shape, num_classes=num_classes, **params)
        dim = math.prod(self.event_shape)
        self.linear = nn.Linear(dim, dim)

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        out: Tensor = self.linear(x.reshape(x.shape[0], -1))
        return out


class ShapedModel(FlatModel):
    """The same map, reshaped to the state's shape, with an optional label embedding."""

    name: ClassVar[str] = "shaped"

    def __init__(self, event_shape: Any, *, num_classes: int | None = None, **params: Any) -> None:
        super().__init__(event_shape, num_classes=num_classes, **params)
        dim = math.prod(self.event_shape)
        self.labels = nn.Embedding(num_classes + 1, dim) if num_classes else None

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        out = super().forward(x, t) * t[:, None].to(x.dtype)
        if self.labels is not None and condition is not None:
            out = out + self.labels(condition)
        return out.reshape(x.shape)


class LabelBlindModel(ShapedModel):
    """Keeps num_classes (so it claims to be conditional) but breaks when given labels."""

    name: ClassVar[str] = "label-blind"

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        if condition is not None:
            raise RuntimeError("labels are not supported")
        return super().forward(x, t)


def test_model_check_passes_a_correct_model_and_catches_shape_and_label_problems() -> None:
    check_model(ShapedModel)
    with _raises("model 'flat'", "shape", "expected (4, 1, 8, 8)"):
        check_model(FlatModel)
    with _raises("model 'label-blind'", "forward", "labels are not supported"):
        check_model(LabelBlindModel)


class VectorOnlyModel(ShapedModel):
    """Refuses anything but vectors, at construction."""

    name: ClassVar[str] = "vector-only"

    def __init__(self, event_shape: Any, *, num_classes: int | None = None, **params: Any) -> None:
        if len(tuple(event_shape)) != 1:
            raise ValueError(f"vector-only takes vectors, got event shape {tuple(event_shape)}")
        super().__init__(event_shape, num_classes=num_classes, **params)


def test_a_model_may_refuse_some_contexts_but_not_all() -> None:
    check_model(VectorOnlyModel)
    image = ModelContext((1, 4, 4), None, ReferenceDataset(event_shape=(1, 4, 4)), ReferencePath())
    with _raises("refused every probe context", "(1, 4, 4): ValueError: vector-only takes vectors"):
        check_model(VectorOnlyModel, contexts=[image])


class MeanGapMetric(Metric):
    """Distance between the means: zero for identical inputs, larger for shifted ones."""

    name: ClassVar[str] = "mean-gap"

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        return float((samples.double().mean(dim=0) - reference.double().mean(dim=0)).norm())


class OffsetMetric(MeanGapMetric):
    """Adds a constant, so identical inputs do not score 0."""

    name: ClassVar[str] = "offset"

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        return super().compute(samples, reference) + 1.0


class TensorMetric(MeanGapMetric):
    """Returns a tensor instead of a float."""

    name: ClassVar[str] = "tensor-valued"

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> Any:
        return torch.tensor(super().compute(samples, reference))


class RewardMetric(MeanGapMetric):
    """Higher is better, against the metric contract."""

    name: ClassVar[str] = "reward"

    def compute(self, samples: Tensor, reference: Tensor, *, generator: torch.Generator | None = None) -> float:
        return -super().compute(samples, reference)


def test_metric_check_catches_offsets_types_and_ordering() -> None:
    check_metric(MeanGapMetric)
    with _raises("metric 'offset'", "identical inputs", "score 1"):
        check_metric(OffsetMetric)
    check_metric(OffsetMetric, zero_for_identical=False)
    with _raises("metric 'tensor-valued'", "type", "expected a float"):
        check_metric(TensorMetric)
    with _raises("metric 'reward'", "ordering", "not worse"):
        check_metric(RewardMetric)


# ------------------------------------------------------------------------------------------------
# Whole plugins


def test_plugin_components_and_check_plugin_cover_every_hook() -> None:
    module = fake_plugin("fake_ok", flowkit_paths=[ReferencePath], flowkit_datasets=[ReferenceDataset])
    assert plugin_components(module) == [ReferencePath, ReferenceDataset]
    assert check_plugin(module) == [ReferencePath, ReferenceDataset]


def test_check_plugin_reports_the_api_version_registration_and_failing_components() -> None:
    with _raises("plugin module 'fake_old'", "plugin API", "FLOWKIT_PLUGIN_API is 0", "plugin API 1"):
        check_plugin(fake_plugin("fake_old", api=0, flowkit_paths=[ReferencePath]))
    with _raises("plugin module 'fake_none'", "plugin API", "None"):
        check_plugin(fake_plugin("fake_none", api=None, flowkit_paths=[ReferencePath]))
    with _raises("registration", "not a Solver subclass"):
        check_plugin(fake_plugin("fake_wrong", flowkit_solvers=[ReferencePath]))
    with _raises("solver 'miscounting'", "NFE"):
        check_plugin(fake_plugin("fake_bad", flowkit_solvers=[MiscountingSolver]))


def test_check_plugin_passes_options_per_component() -> None:
    module = fake_plugin("fake_opts", flowkit_metrics=[OffsetMetric])
    with _raises("identical inputs"):
        check_plugin(module)
    options: dict[str, dict[str, Any]] = {"metric:offset": {"zero_for_identical": False}}
    assert check_plugin(module, options=options) == [OffsetMetric]


def test_check_functions_share_one_signature_shape() -> None:
    checks: list[Callable[..., None]] = [
        check_path,
        check_gaussian_path,
        check_parameterization,
        check_objective,
        check_coupling,
        check_solver,
        check_dataset,
        check_model,
        check_metric,
    ]
    for check in checks:
        assert check.__doc__ and "ConformanceError" in check.__doc__, check.__name__
