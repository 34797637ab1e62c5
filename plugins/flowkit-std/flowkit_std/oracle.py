"""The oracle model: the exact marginal field of a Gaussian mixture, served with no training.

In a spec, ``"model": {"name": "oracle"}`` with ``"data": {"name": "gmm", ...}`` and any Gaussian
path gives a run whose "network" returns the exact marginal quantity, so the samples are limited
only by the solver. The oracle's ``predicts`` param must name the quantity the run's
parameterization expects (``velocity`` by default, matching the default parameterization).

From Python::

    mixture = GaussianMixture(weights=[0.5, 0.5], means=[[-2.0, 0.0], [2.0, 0.0]], stds=[0.3, 0.3])
    field = oracle_field(mixture, CondOTPath())  # a flowkit.ModelField
    v = field.velocity(x, t)
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field
from torch import Tensor

from flowkit import (
    GaussianPath,
    IncompatibleComponentsError,
    Model,
    ModelContext,
    ModelField,
    ProbabilityPath,
    Quantity,
)
from flowkit_std.gmm import GaussianMixture
from flowkit_std.parameterizations import parameterization_for


class OracleModel(Model):
    """Returns the exact marginal ``predicts`` of a Gaussian-mixture dataset along a Gaussian path.

    ``forward(x, t)`` is :meth:`GaussianMixture.marginal` for ``(x, t)`` (``(B, D)``, ``(B,)``); it has
    no parameters and is never trained (``trainable = False``). Build it from Python with
    ``OracleModel(mixture, path, predicts="velocity")`` or from a run with :meth:`from_context`.

    Raises:
        IncompatibleComponentsError: if the dataset is not a :class:`GaussianMixture` or the path
            is not a :class:`~flowkit.path.GaussianPath`.
    """

    name: ClassVar[str] = "oracle"
    trainable: ClassVar[bool] = False

    class Params(Model.Params):
        predicts: Quantity | None = Field(
            None,
            description="Quantity returned (velocity, score, epsilon, data); default: what the run's "
            "parameterization predicts (velocity outside a run).",
        )

    params: Params

    def __init__(self, mixture: GaussianMixture, path: ProbabilityPath, **params: Any) -> None:
        if not isinstance(mixture, GaussianMixture):
            raise IncompatibleComponentsError(
                f"the oracle model needs the 'gmm' dataset, got {getattr(mixture, 'name', type(mixture).__name__)!r}"
            )
        if not isinstance(path, GaussianPath):
            raise IncompatibleComponentsError(
                f"the oracle model needs a Gaussian path, but path {getattr(path, 'name', path)!r} is not one"
            )
        super().__init__(mixture.event_shape, **params)
        self.mixture = mixture
        self.path = path

    @classmethod
    def from_context(cls, context: ModelContext, params: dict[str, Any]) -> Model:
        """Build the oracle from the run's dataset (must be ``gmm``) and path (must be Gaussian)."""
        if context.dataset is None or context.path is None:
            raise IncompatibleComponentsError("the oracle model needs the run's dataset and path")
        if not isinstance(context.dataset, GaussianMixture):
            raise IncompatibleComponentsError(
                f"the oracle model serves the exact field of the 'gmm' dataset, but the run's dataset is "
                f"{context.dataset.name!r}"
            )
        param = context.parameterization
        if param is not None:
            if getattr(param.params, "preconditioning", "none") != "none":
                raise IncompatibleComponentsError(
                    f"the oracle returns the exact {param.predicts} itself; use parameterization "
                    f"{param.name!r} without preconditioning"
                )
            wanted = params.get("predicts")
            if wanted is None:
                params = {**params, "predicts": param.predicts}
            elif wanted != param.predicts:
                raise IncompatibleComponentsError(
                    f"the oracle predicts {wanted!r}, but the run's parameterization {param.name!r} "
                    f"expects {param.predicts!r}"
                )
        return cls(context.dataset, context.path, **params)

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        """The exact marginal ``predicts`` at ``(x, t)``; ``condition`` must be ``None``.

        Raises:
            ValueError: if a condition is given (the oracle is unconditional).
        """
        if condition is not None:
            raise ValueError("the oracle model is unconditional; got a condition")
        return self.mixture.marginal(self.path, self.params.predicts or "velocity", x, t)


def oracle_field(mixture: GaussianMixture, path: ProbabilityPath, predicts: str = "velocity") -> ModelField:
    """A :class:`flowkit.ModelField` serving the exact marginal field of ``mixture`` along ``path``.

    The oracle predicts ``predicts`` and the field converts it through the path like any trained
    model, so ``predicts`` selects which conversion is exercised. Raises like :class:`OracleModel`.
    """
    model = OracleModel(mixture, path, predicts=predicts)
    return ModelField(model, parameterization_for(model.params.predicts or "velocity"), path)
