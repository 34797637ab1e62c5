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

This package is a door: everything above is importable from ``flowkit.testing``, and is defined
in one module of it by kind:

* :mod:`flowkit.testing.core`: :class:`ConformanceError`, the probes (device x dtype x event
  shape) and the checker holding the component rules;
* :mod:`flowkit.testing.dispatch`: :func:`check_component` and :func:`check_plugin`, which pick
  a check by the kinds table :data:`flowkit.host.kinds.KINDS`, and :func:`plugin_components`;
* :mod:`flowkit.testing.paths`, :mod:`~flowkit.testing.parameterizations`,
  :mod:`~flowkit.testing.objectives`, :mod:`~flowkit.testing.couplings`,
  :mod:`~flowkit.testing.solvers`, :mod:`~flowkit.testing.datasets`,
  :mod:`~flowkit.testing.models`, :mod:`~flowkit.testing.metrics`: the check of each kind;
* :mod:`flowkit.testing.reference`: the reference components used as fixed partners
  (:class:`ReferencePath`, :class:`VelocityOnlyPath`, :class:`ReferenceDataset`,
  :func:`reference_parameterization`, :class:`GaussianTarget`, :class:`ExactVelocityNetwork`,
  :class:`TinyNetwork`) and :func:`fake_plugin`; they depend on nothing but the core, and
  plugin tests may use them too.
"""

from __future__ import annotations

from flowkit.testing.core import DEFAULT_EVENT_SHAPES, ConformanceError, describe_component
from flowkit.testing.core import DTYPES as DTYPES
from flowkit.testing.core import UNKNOWN_PARAM as UNKNOWN_PARAM
from flowkit.testing.couplings import check_coupling
from flowkit.testing.datasets import check_dataset
from flowkit.testing.dispatch import check_component, check_plugin, plugin_components
from flowkit.testing.metrics import check_metric
from flowkit.testing.models import check_model
from flowkit.testing.objectives import check_objective
from flowkit.testing.parameterizations import check_parameterization
from flowkit.testing.paths import check_gaussian_path, check_path
from flowkit.testing.reference import (
    ExactVelocityNetwork,
    GaussianTarget,
    ReferenceDataset,
    ReferencePath,
    TinyNetwork,
    VelocityOnlyPath,
    fake_plugin,
    reference_parameterization,
)
from flowkit.testing.solvers import check_solver

__all__ = [
    "DEFAULT_EVENT_SHAPES",
    "ConformanceError",
    "ExactVelocityNetwork",
    "GaussianTarget",
    "ReferenceDataset",
    "ReferencePath",
    "TinyNetwork",
    "VelocityOnlyPath",
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
    "fake_plugin",
    "plugin_components",
    "reference_parameterization",
]
