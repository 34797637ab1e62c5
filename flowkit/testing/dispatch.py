"""Checks by kind: :func:`check_component` for one class, :func:`check_plugin` for a plugin module.

Both read the kinds table :data:`flowkit.host.kinds.KINDS`: a class's kind is the first kind
whose base it derives from (:func:`~flowkit.host.kinds.kind_of_class`), a plugin's components are
what its kinds' hooks return, and :data:`CHECKS` maps each kind's name to its check. Adding a kind
means adding its check module and one entry to :data:`CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from flowkit.component import Component
from flowkit.errors import PluginError
from flowkit.host.hookspecs import PLUGIN_API_VERSION
from flowkit.host.kinds import KINDS, kind_of_class
from flowkit.testing.core import ConformanceError, describe_component, one_thread
from flowkit.testing.couplings import check_coupling
from flowkit.testing.datasets import check_dataset
from flowkit.testing.metrics import check_metric
from flowkit.testing.models import check_model
from flowkit.testing.objectives import check_objective
from flowkit.testing.parameterizations import check_parameterization
from flowkit.testing.paths import check_path
from flowkit.testing.solvers import check_solver

CHECKS: dict[str, Callable[..., None]] = {
    "path": check_path,
    "parameterization": check_parameterization,
    "objective": check_objective,
    "coupling": check_coupling,
    "solver": check_solver,
    "dataset": check_dataset,
    "model": check_model,
    "metric": check_metric,
}
"""The check of each kind, by the kind's name in :data:`~flowkit.host.kinds.KINDS`.

A path's check is :func:`~flowkit.testing.check_path`, which runs the rules of
:func:`~flowkit.testing.check_gaussian_path` as well when the path is Gaussian.
"""


@one_thread
def check_component(cls: type[Component], params: Mapping[str, Any] | None = None, **options: Any) -> None:
    """Run the check of ``cls``'s kind (found from its base class) with ``params`` and ``options``.

    A :class:`~flowkit.path.GaussianPath` gets :func:`~flowkit.testing.check_gaussian_path`; other
    kinds get :func:`~flowkit.testing.check_path`, :func:`~flowkit.testing.check_parameterization`,
    :func:`~flowkit.testing.check_objective`, :func:`~flowkit.testing.check_coupling`,
    :func:`~flowkit.testing.check_solver`, :func:`~flowkit.testing.check_dataset`,
    :func:`~flowkit.testing.check_model` or :func:`~flowkit.testing.check_metric` (see
    :data:`CHECKS`). ``options`` are passed on (e.g. ``contexts=`` for a model).

    Raises:
        ConformanceError: if ``cls`` derives from no component kind, or breaks its kind's contract.
    """
    kind = kind_of_class(cls)
    if kind is None:
        kinds = ", ".join(k.base.__qualname__ for k in KINDS)
        raise ConformanceError(describe_component(cls), "kind", f"derives from none of the component bases ({kinds})")
    check = CHECKS.get(kind.name)
    if check is None:
        raise ConformanceError(describe_component(cls), "kind", f"flowkit.testing has no check for {kind.plural}")
    check(cls, params, **options)


def components_of(module: ModuleType) -> list[tuple[str, type[Component]]]:
    """``(kind name, class)`` for every class the module's hooks return, in the order of the kinds.

    Raises:
        ConformanceError: if a hook returns something other than a list.
    """
    out: list[tuple[str, type[Component]]] = []
    for kind in KINDS:
        fn = getattr(module, kind.hook, None)
        if fn is None:
            continue
        result = fn()
        if not isinstance(result, (list, tuple)):
            raise ConformanceError(
                f"plugin module {module.__name__!r}",
                "hook",
                f"{kind.hook} returned {type(result).__name__}, not a list",
            )
        out.extend((kind.name, cls) for cls in result)
    return out


def plugin_components(module: ModuleType) -> list[type[Component]]:
    """Every component class a plugin module's hooks return, in hook order.

    Calls the module's ``flowkit_*`` hook functions directly (no host involved), so a
    parametrized test over this list covers components added to the plugin later automatically.

    Raises:
        ConformanceError: if a hook returns something other than a list.
    """
    return [cls for _, cls in components_of(module)]


@one_thread
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
    components = components_of(module)
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
