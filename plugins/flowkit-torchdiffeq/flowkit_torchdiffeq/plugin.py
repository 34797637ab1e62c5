"""Hook implementations of the ``torchdiffeq`` plugin."""

from __future__ import annotations

from flowkit import Solver, hookimpl
from flowkit_torchdiffeq.solver import TorchDiffEqSolver

FLOWKIT_PLUGIN_API = 1


@hookimpl
def flowkit_solvers() -> list[type[Solver]]:
    return [TorchDiffEqSolver]
