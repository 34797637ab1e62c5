"""Hook implementations of the ``example`` plugin.

flowkit finds this module through the entry point ``example = "flowkit_example.plugin"`` in the
``flowkit.plugins`` group (see ``pyproject.toml``). Each hook returns the component classes of one
kind; a plugin implements only the hooks it needs.
"""

from __future__ import annotations

from flowkit import Dataset, ProbabilityPath, Solver, hookimpl
from flowkit_example.datasets import PinwheelDataset
from flowkit_example.paths import TrigPath
from flowkit_example.solvers import RalstonSolver

FLOWKIT_PLUGIN_API = 1
"""The flowkit plugin API this plugin was written for; a flowkit with another one refuses it."""


@hookimpl
def flowkit_paths() -> list[type[ProbabilityPath]]:
    return [TrigPath]


@hookimpl
def flowkit_solvers() -> list[type[Solver]]:
    return [RalstonSolver]


@hookimpl
def flowkit_datasets() -> list[type[Dataset]]:
    return [PinwheelDataset]
