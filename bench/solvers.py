"""Solver benchmark: accuracy against the exact Gaussian-mixture oracle, and solver overhead.

Run from the repository root::

    .venv/bin/python bench/solvers.py [--quick] [--out docs/solvers-benchmark.md] [--threads 1]

Part 1 (accuracy). For each probability path (CondOT, VP linear), dimension (2, 16) and mixture
width (a wide mixture with std 0.4, a sharp one with std 0.05), the oracle field (the exact
marginal velocity of the mixture, no network) is integrated in float64 from fixed prior draws by
every built-in ODE solver at several NFE budgets. The error of a solve is the mean Euclidean
distance between its endpoints and those of a tight reference solve of the same prior draws (RK4,
uniform grid, 2000 steps; its own error is estimated against 1000 steps and printed). torchdiffeq's
adaptive dopri5 is measured at several tolerances (its NFE is what the tolerance costs). A second
table compares the time grids at one budget. The SDE samplers have no pathwise target, so they are
scored by an unbiased squared MMD between their samples and the exact mixture (closed form for
Gaussian kernels), beside the same estimate for exact mixture samples (the noise floor).

Part 2 (speed). A flowkit Euler and RK4 solve of a small MLP (a ``ModelField`` with the velocity
parameterization) against a hand-written PyTorch loop doing the same steps on the same module; the
ratio of median wall-clock times (flowkit / plain) measures the framework's per-step overhead.

The result is written as Markdown to ``--out``. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from flowkit import ModelField
from flowkit.path import GaussianPath
from flowkit.solver import Solver
from flowkit_nets.mlp import MLP
from flowkit_std import (
    CondOTPath,
    EulerMaruyamaSolver,
    EulerSolver,
    ExponentialSolver,
    GaussianMixture,
    HeunSolver,
    MidpointSolver,
    RK4Solver,
    StochasticHeunSolver,
    VelocityParameterization,
    VPPath,
    oracle_field,
)
from flowkit_torchdiffeq import TorchDiffEqSolver

DTYPE = torch.float64
REFERENCE_STEPS = 2000
SDE_REFERENCE_STEPS = 200
WIDE_STD, SHARP_STD = 0.4, 0.05
WEIGHTS = [0.4, 0.3, 0.2, 0.1]
TOLERANCES = (1e-3, 1e-4, 1e-5, 1e-6, 1e-8)
GRIDS = ("uniform", "logsnr", "edm")


@dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run."""

    budgets: tuple[int, ...]
    sde_budgets: tuple[int, ...]
    grid_budget: int
    ode_points: int
    sde_points: int
    dims: tuple[int, ...]
    speed_batches: tuple[int, ...]
    speed_nfe: int
    repeats: int


FULL = Settings(
    budgets=(4, 8, 16, 32, 64),
    sde_budgets=(16, 32, 64, 128),
    grid_budget=12,
    ode_points=500,
    sde_points=3000,
    dims=(2, 16),
    speed_batches=(256, 4096),
    speed_nfe=100,
    repeats=9,
)
QUICK = Settings(
    budgets=(4, 8, 16),
    sde_budgets=(16, 32),
    grid_budget=12,
    ode_points=100,
    sde_points=1000,
    dims=(2,),
    speed_batches=(256,),
    speed_nfe=40,
    repeats=3,
)


# ------------------------------------------------------------------------------------------------
# Problems


@dataclass
class Problem:
    """One oracle problem: a mixture along a path, in some dimension."""

    path_name: str
    dim: int
    std: float
    path: GaussianPath
    mixture: GaussianMixture

    @property
    def label(self) -> str:
        width = "wide" if self.std == WIDE_STD else "sharp"
        return f"{self.path_name}, D={self.dim}, {width} mixture (std {self.std})"

    def field(self) -> ModelField:
        return oracle_field(self.mixture, self.path)

    def prior(self, n: int, seed: int) -> Tensor:
        return self.path.sample_prior(n, (self.dim,), generator=torch.Generator().manual_seed(seed), dtype=DTYPE)


def make_problems(dims: Sequence[int]) -> list[Problem]:
    """Four components with weights 0.4/0.3/0.2/0.1 and seeded means of scale 1.5, wide and sharp."""
    problems = []
    for dim in dims:
        means = (torch.randn(len(WEIGHTS), dim, generator=torch.Generator().manual_seed(1), dtype=DTYPE) * 1.5).tolist()
        for path_name, path in (("CondOT", CondOTPath()), ("VP", VPPath())):
            for std in (WIDE_STD, SHARP_STD):
                mixture = GaussianMixture(weights=WEIGHTS, means=means, stds=std)
                problems.append(Problem(path_name, dim, std, path, mixture))
    return problems


# ------------------------------------------------------------------------------------------------
# Part 1: accuracy


@dataclass
class Row:
    """One solver at several budgets: ``cells[budget] = (error, nfe)`` or an error message."""

    name: str
    cells: dict[int, tuple[float, int] | str] = field(default_factory=dict)


SolverFactory = Callable[[int], Solver | None]
"""Builds the solver that spends a given NFE budget (``None`` when the budget does not fit)."""


def per_step(cost: int, make: Callable[[int], Solver]) -> SolverFactory:
    """A factory for a scheme costing ``cost`` evaluations per step."""

    def build(budget: int) -> Solver | None:
        return make(budget // cost) if budget % cost == 0 and budget >= cost else None

    return build


def ode_solvers(grid: str = "uniform") -> dict[str, SolverFactory]:
    """Every built-in ODE solver, keyed by its table label."""
    suffix = "" if grid == "uniform" else f", {grid}"
    out: dict[str, SolverFactory] = {
        f"euler{suffix}": per_step(1, lambda n: EulerSolver(steps=n, grid=grid)),
        f"midpoint{suffix}": per_step(2, lambda n: MidpointSolver(steps=n, grid=grid)),
        f"heun{suffix}": per_step(2, lambda n: HeunSolver(steps=n, grid=grid)),
        f"rk4{suffix}": per_step(4, lambda n: RK4Solver(steps=n, grid=grid)),
    }
    for order in (2, 3):
        out[f"exponential order {order}{suffix}"] = per_step(1, exponential(order, grid))
    return out


def exponential(order: int, grid: str) -> Callable[[int], Solver]:
    """``steps -> ExponentialSolver(steps, order, grid)``."""
    return lambda n: ExponentialSolver(steps=n, order=order, grid=grid)


def mean_distance(x: Tensor, ref: Tensor) -> float:
    return float((x - ref).norm(dim=1).mean())


def try_solve(solver: Solver, fld: ModelField, x0: Tensor) -> tuple[Tensor, int] | str:
    """The endpoints and NFE of a solve, or a short description of why it failed."""
    try:
        result = solver.solve(fld, x0)
    except Exception as exc:  # a failing solver is a result, not a crash of the benchmark
        if "underflow in dt" in str(exc):
            return "fails (step size underflow)"
        return f"fails ({type(exc).__name__}: {str(exc)[:40]})"
    if not bool(torch.isfinite(result.samples).all()):
        return "fails (non-finite)"
    return result.samples, result.nfe


def accuracy_rows(problem: Problem, x0: Tensor, ref: Tensor, budgets: Sequence[int]) -> list[Row]:
    fld = problem.field()
    factories = ode_solvers("uniform")
    factories["exponential order 2, logsnr"] = per_step(1, exponential(2, "logsnr"))
    factories["exponential order 3, logsnr"] = per_step(1, exponential(3, "logsnr"))
    factories["torchdiffeq rk4 (fixed)"] = per_step(4, lambda n: TorchDiffEqSolver(method="rk4", steps=n))
    rows = []
    for label, make in factories.items():
        row = Row(label)
        for budget in budgets:
            solver = make(budget)
            if solver is None:
                continue
            got = try_solve(solver, fld, x0)
            row.cells[budget] = got if isinstance(got, str) else (mean_distance(got[0], ref), got[1])
        rows.append(row)
    return rows


def grid_rows(problem: Problem, x0: Tensor, ref: Tensor, budget: int) -> list[Row]:
    """Each solver (columns of the grid table are the grids, stored under keys 0, 1, 2)."""
    fld = problem.field()
    rows: dict[str, Row] = {}
    for g_index, grid in enumerate(GRIDS):
        for label, make in ode_solvers(grid).items():
            base = label.split(",")[0]
            solver = make(budget)
            if solver is None:
                continue
            got = try_solve(solver, fld, x0)
            cell = got if isinstance(got, str) else (mean_distance(got[0], ref), got[1])
            rows.setdefault(base, Row(base)).cells[g_index] = cell
    return list(rows.values())


def adaptive_rows(problem: Problem, x0: Tensor, ref: Tensor) -> list[tuple[float, tuple[float, int] | str]]:
    fld = problem.field()
    out: list[tuple[float, tuple[float, int] | str]] = []
    for tol in TOLERANCES:
        got = try_solve(TorchDiffEqSolver(method="dopri5", rtol=tol, atol=tol), fld, x0)
        out.append((tol, got if isinstance(got, str) else (mean_distance(got[0], ref), got[1])))
    return out


class MMDToExact:
    """Unbiased squared MMD between samples and the exact mixture, with a sum of Gaussian kernels.

    ``MMD^2 = E k(x, x') - 2 E k(x, y) + E k(y, y')`` for samples ``x`` and mixture draws ``y``. For a
    Gaussian kernel ``k_s(a, b) = exp(-|a - b|^2 / (2 s^2))`` and isotropic Gaussian components,
    both expectations involving ``y`` are closed form, so only the sample-sample term is estimated
    (without its diagonal: the estimate is unbiased). For samples from the exact law it fluctuates
    around 0 with a spread of order ``1/N``, far below the ``1/sqrt(N)`` noise of a sample-to-sample
    distance, so small sampler biases show.
    """

    def __init__(self, mixture: GaussianMixture, bandwidths: Sequence[float]) -> None:
        self.w = mixture.weights.to(DTYPE)
        self.m = mixture.means.to(DTYPE)
        self.v = mixture.stds.to(DTYPE).pow(2)
        self.dim = self.m.shape[1]
        self.bandwidths = [float(b) for b in bandwidths]
        sq = torch.cdist(self.m, self.m).pow(2)
        self.yy = 0.0
        for s in self.bandwidths:
            tot = s * s + self.v[:, None] + self.v[None, :]
            k = (s * s / tot).pow(self.dim / 2) * torch.exp(-sq / (2 * tot))
            self.yy += float(self.w @ k @ self.w)

    def __call__(self, x: Tensor) -> float:
        x = x.to(DTYPE)
        n = x.shape[0]
        pair2 = torch.pdist(x).pow(2)  # each pair i < j once: half the work, no diagonal
        dm = torch.cdist(x, self.m).pow(2)
        total = self.yy
        for s in self.bandwidths:
            total += 2.0 * float(torch.exp(pair2 * (-0.5 / (s * s))).sum()) / (n * (n - 1))
            tot = s * s + self.v
            kxy = (s * s / tot).pow(self.dim / 2) * torch.exp(-dm / (2 * tot))
            total -= 2.0 * float((kxy @ self.w).mean())
        return total


def sde_rows(problem: Problem, n: int, budgets: Sequence[int]) -> tuple[list[Row], float, float]:
    """MMD^2 to the exact mixture of SDE (and, for comparison, ODE) samples; the same for exact
    samples (the noise floor) and for a tight ODE solve."""
    fld = problem.field()
    root_d = math.sqrt(problem.dim)
    mmd = MMDToExact(problem.mixture, (problem.std * root_d, 4 * problem.std * root_d, 1.5 * root_d))
    floor = mmd(problem.mixture.sample(n, generator=torch.Generator().manual_seed(101), dtype=DTYPE))
    x0 = problem.prior(n, seed=303)
    reference = RK4Solver(steps=SDE_REFERENCE_STEPS).solve(fld, x0).samples
    factories: dict[str, SolverFactory] = {
        "euler_maruyama, sigma=beta": per_step(1, lambda k: EulerMaruyamaSolver(steps=k, sigma="beta")),
        "sde_heun, sigma=beta": per_step(2, lambda k: StochasticHeunSolver(steps=k, sigma="beta")),
    }
    if problem.path_name == "VP":
        factories["euler_maruyama, sigma=diffusion"] = per_step(
            1, lambda k: EulerMaruyamaSolver(steps=k, sigma="diffusion")
        )
        factories["sde_heun, sigma=diffusion"] = per_step(2, lambda k: StochasticHeunSolver(steps=k, sigma="diffusion"))
    factories["ODE: heun"] = per_step(2, lambda k: HeunSolver(steps=k))
    factories["ODE: exponential order 2, logsnr"] = per_step(1, lambda k: ExponentialSolver(steps=k, grid="logsnr"))
    rows = []
    for label, make in factories.items():
        row = Row(label)
        for budget in budgets:
            solver = make(budget)
            if solver is None:
                continue
            try:
                result = solver.solve(fld, x0, generator=torch.Generator().manual_seed(budget))
            except Exception as exc:
                row.cells[budget] = f"fails ({type(exc).__name__})"
                continue
            if not bool(torch.isfinite(result.samples).all()):
                row.cells[budget] = "fails (non-finite)"
                continue
            row.cells[budget] = (mmd(result.samples), result.nfe)
        rows.append(row)
    return rows, floor, mmd(reference)


# ------------------------------------------------------------------------------------------------
# Part 2: speed


def plain_euler(net: torch.nn.Module, x0: Tensor, times: Tensor) -> Tensor:
    x = x0.clone()
    b = x.shape[0]
    for i in range(times.shape[0] - 1):
        t, h = times[i], times[i + 1] - times[i]
        x = x + h * net(x, t.expand(b))
    return x


def plain_rk4(net: torch.nn.Module, x0: Tensor, times: Tensor) -> Tensor:
    x = x0.clone()
    b = x.shape[0]
    for i in range(times.shape[0] - 1):
        t, h = times[i], times[i + 1] - times[i]
        half = 0.5 * h
        k1 = net(x, t.expand(b))
        k2 = net(x + half * k1, (t + half).expand(b))
        k3 = net(x + half * k2, (t + half).expand(b))
        k4 = net(x + h * k3, (t + h).expand(b))
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x


@dataclass
class SpeedResult:
    solver: str
    batch: int
    steps: int
    flowkit_ms: float
    plain_ms: float
    max_diff: float

    @property
    def ratio(self) -> float:
        return self.flowkit_ms / self.plain_ms


@torch.no_grad()
def speed(settings: Settings) -> tuple[list[SpeedResult], str]:
    torch.manual_seed(0)
    net = MLP((2,), width=128, depth=3, time_dim=32).eval()
    path = CondOTPath()
    fld = ModelField(net, VelocityParameterization(), path)
    t0, t1 = fld.time_range
    results = []
    for batch in settings.speed_batches:
        x0 = torch.randn(batch, 2, generator=torch.Generator().manual_seed(1))
        for name, cost, solver_cls, plain in (
            ("euler", 1, EulerSolver, plain_euler),
            ("rk4", 4, RK4Solver, plain_rk4),
        ):
            steps = settings.speed_nfe // cost
            solver = solver_cls(steps=steps)
            times = torch.linspace(t0, t1, steps + 1, dtype=torch.float64).to(torch.float32)
            a = solver.solve(fld, x0).samples
            b = plain(net, x0, times)  # also the warm-up
            fk, pl = [], []
            for _ in range(settings.repeats):  # interleaved, so a load change on the machine hits both
                start = time.perf_counter()
                solver.solve(fld, x0)
                fk.append(time.perf_counter() - start)
                start = time.perf_counter()
                plain(net, x0, times)
                pl.append(time.perf_counter() - start)
            results.append(
                SpeedResult(
                    name,
                    batch,
                    steps,
                    1e3 * statistics.median(fk),
                    1e3 * statistics.median(pl),
                    float((a - b).abs().max()),
                )
            )
    params = sum(p.numel() for p in net.parameters())
    return results, f"flowkit_nets MLP, width 128, depth 3, 32-d time embedding ({params} parameters), float32"


# ------------------------------------------------------------------------------------------------
# Markdown


def fmt_err(value: float) -> str:
    return f"{value:.1e}"


def cell_text(cell: tuple[float, int] | str | None, nfe_known: bool = True) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    err, nfe = cell
    return fmt_err(err) if nfe_known else f"{fmt_err(err)} ({nfe})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def budget_table(rows: Sequence[Row], budgets: Sequence[int]) -> str:
    body = []
    for row in rows:
        cells = []
        for b in budgets:
            c = row.cells.get(b)
            if isinstance(c, tuple) and c[1] != b:
                cells.append(f"{fmt_err(c[0])} ({c[1]} NFE)")
            else:
                cells.append(cell_text(c))
        body.append([row.name, *cells])
    return table(["solver", *(f"NFE {b}" for b in budgets)], body)


def best_marks(rows: Sequence[Row], keys: Sequence[int]) -> set[tuple[str, int]]:
    """``(row, key)`` of the smallest error in each column."""
    marks = set()
    for k in keys:
        vals = [(c[0], r.name) for r in rows if isinstance(c := r.cells.get(k), tuple)]
        if vals:
            marks.add((min(vals)[1], k))
    return marks


def bold_best(rows: Sequence[Row], keys: Sequence[int]) -> list[Row]:
    marks = best_marks(rows, keys)
    out = []
    for r in rows:
        new = Row(r.name)
        for k, c in r.cells.items():
            if isinstance(c, tuple) and (r.name, k) in marks:
                new.cells[k] = f"**{fmt_err(c[0])}**"
            else:
                new.cells[k] = c
        out.append(new)
    return out


def commit() -> str:
    """The repository's commit (with a note when flowkit/ or plugins/ differ from it)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "flowkit", "plugins"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes to flowkit/plugins" if dirty.stdout.strip() else "")


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run, about half a minute)")
    parser.add_argument("--out", type=Path, default=Path("docs/solvers-benchmark.md"), help="Markdown output file")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machine is shared)")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()} (set with torch.set_num_threads({args.threads}))", flush=True)
    started = time.perf_counter()
    problems = make_problems(settings.dims)

    sections: list[str] = []
    summary_rows: list[list[str]] = []
    adaptive_body: list[list[str]] = []
    grid_sections: list[str] = []
    sde_sections: list[str] = []
    ref_checks: list[str] = []
    for problem in problems:
        print(f"[{time.perf_counter() - started:6.1f} s] {problem.label}", flush=True)
        fld = problem.field()
        x0 = problem.prior(settings.ode_points, seed=0)
        ref = RK4Solver(steps=REFERENCE_STEPS).solve(fld, x0).samples
        half = RK4Solver(steps=REFERENCE_STEPS // 2).solve(fld, x0).samples
        ref_checks.append(f"{problem.label}: {fmt_err(mean_distance(half, ref))}")

        rows = accuracy_rows(problem, x0, ref, settings.budgets)
        sections.append(f"#### {problem.label}\n\n" + budget_table(bold_best(rows, settings.budgets), settings.budgets))
        for budget in (b for b in settings.budgets if b in (8, 16)):
            col = [(c[0], r.name) for r in rows if isinstance(c := r.cells.get(budget), tuple)]
            if col:
                err, name = min(col)
                summary_rows.append([problem.label, str(budget), name, fmt_err(err)])

        g_rows = grid_rows(problem, x0, ref, settings.grid_budget)
        keys = list(range(len(GRIDS)))
        g_body = [[r.name, *(cell_text(r.cells.get(k)) for k in keys)] for r in bold_best(g_rows, keys)]
        grid_sections.append(f"#### {problem.label}\n\n" + table(["solver", *GRIDS], g_body))

        for tol, got in adaptive_rows(problem, x0, ref):
            if isinstance(got, str):
                adaptive_body.append([problem.label, f"{tol:.0e}", "", got])
            else:
                adaptive_body.append([problem.label, f"{tol:.0e}", str(got[1]), fmt_err(got[0])])

        s_rows, floor, ref_mmd = sde_rows(problem, settings.sde_points, settings.sde_budgets)
        sde_sections.append(
            f"#### {problem.label}\n\nnoise floor (exact mixture samples): {floor:.1e}; "
            f"tight ODE solve of the same prior draws (RK4, {SDE_REFERENCE_STEPS} steps): {ref_mmd:.1e}\n\n"
            + budget_table(s_rows, settings.sde_budgets)
        )

    print(f"[{time.perf_counter() - started:6.1f} s] speed", flush=True)
    speeds, net_desc = speed(settings)
    elapsed = time.perf_counter() - started

    out: list[str] = []
    out.append("# Solver benchmark\n")
    out.append(
        "Generated by `bench/solvers.py`"
        + (" with `--quick`" if args.quick else "")
        + f"; do not edit by hand. Rerun with `.venv/bin/python bench/solvers.py{' --quick' if args.quick else ''}`.\n"
    )
    out.append(
        "\n".join(
            [
                f"* Machine: {machine()}.",
                f"* torch {torch.__version__}, flowkit {importlib.metadata.version('flowkit-gm')} "
                f"(commit {commit()}), Python "
                f"{sys.version.split()[0]}; **{torch.get_num_threads()} torch thread** "
                "(`torch.set_num_threads`; the machine was shared with other work).",
                f"* Whole run: {elapsed:.0f} s.",
            ]
        )
        + "\n"
    )
    out.append("## How the errors are measured\n")
    out.append(
        "The model is the exact Gaussian-mixture oracle (`flowkit_std.oracle_field`): the exact marginal "
        "velocity of a mixture of four isotropic Gaussians (weights 0.4, 0.3, 0.2, 0.1; means drawn "
        f"with a fixed seed, scale 1.5) with a common std of {WIDE_STD} (*wide*) or {SHARP_STD} (*sharp*), "
        "along CondOT and VP (linear schedule) paths, in 2 and 16 dimensions. Everything runs in float64, "
        "so the only error left is the solver's.\n\n"
        f"* **ODE solvers**: {settings.ode_points} fixed prior draws are integrated by each solver; the error "
        "is the mean Euclidean distance between its endpoints and those of a reference solve of the same "
        f"draws (RK4, uniform grid, {REFERENCE_STEPS} steps). A budget of *n* NFE means *n* steps of euler "
        "and exponential, *n*/2 of midpoint and heun, *n*/4 of rk4. The best entry of each column is in "
        "bold. Unless a row names another grid, the time grid is uniform. torchdiffeq's fixed-step `rk4` is "
        "the 3/8-rule variant of the classical scheme flowkit's `rk4` implements, hence the different numbers.\n"
        "* **SDE solvers** have no pathwise target, so they are scored by the squared maximum mean "
        f"discrepancy (MMD^2) between {settings.sde_points} samples and the exact mixture, with a sum of "
        "three Gaussian kernels (bandwidths std*sqrt(D), 4*std*sqrt(D) and 1.5*sqrt(D)). The terms involving "
        "the mixture are closed form and the sample-sample term leaves out its diagonal, so the estimate "
        "is unbiased: it is 0 on average for exact samples, with a spread of order 1/N (the value for "
        "as many exact mixture samples is shown as the noise floor). A sliced W2 between two sample sets, "
        "tried first, had a noise floor of the size of the differences to measure. "
        "No final denoising step (`denoise=false`).\n\n"
        "Reference self-check (mean distance between the 1000- and 2000-step reference solves):\n\n"
        + "\n".join(f"* {c}" for c in ref_checks)
        + "\n"
    )
    out.append("## Headline: the most accurate solver at 8 and 16 NFE\n")
    out.append(table(["problem", "NFE", "best solver", "error"], summary_rows) + "\n")
    out.append("## Endpoint error vs NFE (ODE solvers)\n")
    out.append("\n\n".join(sections) + "\n")
    out.append(f"## Time grids at {settings.grid_budget} NFE\n")
    out.append(
        "Endpoint error of each solver on each grid kind (`grid` param) at the same budget. `logsnr` "
        "is uniform in log(alpha/beta), `edm` is the Karras rho=7 schedule.\n"
    )
    out.append("\n\n".join(grid_sections) + "\n")
    out.append("## Adaptive: torchdiffeq dopri5\n")
    out.append(
        "`rtol = atol = tol`; the NFE is what the tolerance cost. *Step size underflow*: torchdiffeq's "
        "adaptive methods step past the end of the interval and interpolate back, so they evaluate the "
        "field after `t_max`; on the VP path `beta_t` is not real there (the field is NaN), the step is "
        "rejected again and again and torchdiffeq stops with `underflow in dt`. Whether it happens depends "
        "on where the last step lands, hence the scattered failures. (Passing `options={'step_t': [t_max]}` "
        "to `odeint` would keep every evaluation inside the time range.)\n"
    )
    out.append(table(["problem", "tol", "NFE", "error"], adaptive_body) + "\n")
    out.append("## SDE samplers (MMD^2 to the exact mixture; lower is better)\n")
    out.append(
        "Each cell is the unbiased MMD^2 of the samples to the exact mixture (it can be slightly negative). "
        "The ODE rows use the same prior draws and the same measure, for comparison.\n"
    )
    out.append("\n\n".join(sde_sections) + "\n")
    out.append("## Speed: flowkit vs a plain PyTorch loop\n")
    out.append(
        f"The same module ({net_desc}) integrated on the CondOT time range with {settings.speed_nfe} "
        "network evaluations, by a flowkit solver (`solver.solve(field, x0)`, under `torch.no_grad`) and by "
        "a hand-written loop calling the module directly. Median of "
        f"{settings.repeats} interleaved repeats after a warm-up, {torch.get_num_threads()} torch thread. "
        "`max abs diff` is the largest difference between the two results (float32 rounding: flowkit "
        "fuses `x + h v` into one `addcmul`).\n"
    )
    speed_body = [
        [
            s.solver,
            str(s.batch),
            str(s.steps),
            f"{s.flowkit_ms:.1f}",
            f"{s.plain_ms:.1f}",
            f"{s.ratio:.2f}",
            f"{s.max_diff:.1e}",
        ]
        for s in speeds
    ]
    out.append(
        table(
            ["solver", "batch", "steps", "flowkit (ms)", "plain (ms)", "ratio flowkit/plain", "max abs diff"],
            speed_body,
        )
        + "\n"
    )
    text = "\n".join(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.out} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
