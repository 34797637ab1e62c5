"""Solvers: integrate a field from the prior (``t = 0``) to the data (``t = 1``).

* :mod:`flowkit.solver.base`: the :class:`Solver` contract and :class:`SolveResult`;
* :mod:`flowkit.solver.fixed_step`: :class:`FixedStepSolver`, the one marching loop over a
  precomputed :class:`Grid` with a :class:`Workspace` of reused buffers;
* :mod:`flowkit.solver.runge_kutta`: explicit Runge-Kutta schemes as Butcher tableaux and
  :class:`RungeKuttaSolver`, which marches any of them;
* :mod:`flowkit.solver.sde`: the SDE base, its noise schedules and Brownian increments;
* :mod:`flowkit.solver.grids`: time grids (uniform, log-SNR, EDM, custom);
* :mod:`flowkit.solver.noise`: per-sample random streams (:class:`SampleNoise`);
* :mod:`flowkit.solver.likelihood`: log-likelihoods by the instantaneous change of variables.
"""

from flowkit.solver.base import Solver, SolveResult
from flowkit.solver.fixed_step import FixedStepSolver, Grid, Recorder, Workspace
from flowkit.solver.grids import (
    GridKind,
    GridParams,
    custom_grid,
    edm_grid,
    logsnr_grid,
    make_grid,
    merge_times,
    uniform_grid,
)
from flowkit.solver.noise import SampleNoise, prior_from_noise
from flowkit.solver.runge_kutta import TABLEAUS, ButcherTableau, RungeKuttaSolver, rk_step
from flowkit.solver.sde import gaussian_increment

__all__ = [
    "TABLEAUS",
    "ButcherTableau",
    "FixedStepSolver",
    "Grid",
    "GridKind",
    "GridParams",
    "Recorder",
    "RungeKuttaSolver",
    "SampleNoise",
    "SolveResult",
    "Solver",
    "Workspace",
    "custom_grid",
    "edm_grid",
    "gaussian_increment",
    "logsnr_grid",
    "make_grid",
    "merge_times",
    "prior_from_noise",
    "rk_step",
    "uniform_grid",
]
