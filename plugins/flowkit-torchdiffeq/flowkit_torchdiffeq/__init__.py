"""torchdiffeq-backed ODE solvers for flowkit (the ``torchdiffeq`` plugin)."""

from flowkit_torchdiffeq.solver import ADAPTIVE_METHODS, FIXED_GRID_METHODS, TorchDiffEqSolver

__all__ = ["ADAPTIVE_METHODS", "FIXED_GRID_METHODS", "TorchDiffEqSolver"]
