"""Fixed-step solvers: a precomputed time grid, scratch buffers reused at every step, one marching loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from flowkit.field import ModelField
from flowkit.solver.base import Solver
from flowkit.solver.grids import GridParams, make_grid, merge_times
from flowkit.solver.noise import SampleNoise


class Workspace:
    """Scratch tensors of one solve, allocated once and reused at every step.

    With ``inplace=True`` (the default when autograd is off) ``axpy`` writes into named buffers and
    ``update`` modifies the state in place, so a step allocates nothing but the network's outputs.
    With ``inplace=False`` (autograd on: a caller differentiates through the solve) every operation
    returns a fresh tensor so the graph stays valid. The arithmetic is the same either way.
    """

    def __init__(self, like: Tensor, inplace: bool) -> None:
        self.like = like
        self.inplace = inplace
        self._buffers: dict[str, Tensor] = {}

    def _buffer(self, name: str) -> Tensor:
        buf = self._buffers.get(name)
        if buf is None:
            buf = torch.empty_like(self.like)
            self._buffers[name] = buf
        return buf

    def axpy(self, name: str, x: Tensor, h: Tensor, v: Tensor, scale: float = 1.0) -> Tensor:
        """``x + scale * h * v`` (``h`` a 0-d or broadcastable tensor), into buffer ``name`` when in place."""
        if self.inplace:
            return torch.addcmul(x, h, v, value=scale, out=self._buffer(name))
        return torch.addcmul(x, h, v, value=scale)

    def scaled(self, name: str, x: Tensor, a: Tensor) -> Tensor:
        """``a * x`` into buffer ``name`` when in place (``a`` a 0-d or broadcastable tensor)."""
        if self.inplace:
            return torch.mul(x, a, out=self._buffer(name))
        return a * x

    def copy(self, name: str, v: Tensor) -> Tensor:
        """A copy of ``v`` in buffer ``name`` (``v`` itself when not in place: nothing mutates it then)."""
        if self.inplace:
            return self._buffer(name).copy_(v)
        return v

    def add(self, acc: Tensor, v: Tensor, scale: float = 1.0) -> Tensor:
        """``acc + scale * v``, written into ``acc`` when in place (``acc`` must come from :meth:`copy`)."""
        if self.inplace:
            return acc.add_(v, alpha=scale)
        return torch.add(acc, v, alpha=scale)

    def update(self, x: Tensor, h: Tensor, v: Tensor, scale: float = 1.0) -> Tensor:
        """``x + scale * h * v``, written into ``x`` when in place (``x`` must be the solver's own state)."""
        if self.inplace:
            return x.addcmul_(h, v, value=scale)
        return torch.addcmul(x, h, v, value=scale)


@dataclass
class Grid:
    """A solve's time grid, computed once.

    Attributes:
        times64: the grid in float64 on the CPU, shape ``(N + 1,)`` (for coefficient precomputation).
        times: the grid on the state's device and dtype.
        dts: ``times[1:] - times[:-1]``, shape ``(N,)``.
    """

    times64: Tensor
    times: Tensor
    dts: Tensor

    @property
    def steps(self) -> int:
        return int(self.dts.shape[0])


Recorder = Callable[[int, Tensor], None]
"""``record(i, x)``: called with the state after grid point ``i`` (``i = 0`` is the start)."""


class FixedStepSolver(Solver):
    """Base of schemes that march across a precomputed time grid (one-step, multistep and SDE).

    The grid comes from the solver's params (:class:`~flowkit.grids.GridParams`: ``steps``, ``grid``
    in ``uniform``/``logsnr``/``edm``/``custom``, ``rho``, ``times``) and is built once per solve.
    A one-step scheme implements ``step(field, x, t, dt, ws)`` returning the state at ``t + dt``
    (``t`` and ``dt`` are 0-d tensors of the state's dtype, ``ws`` a :class:`Workspace`); a
    multistep or SDE scheme overrides :meth:`march` instead. The loop never synchronises with the
    host: times are read from the precomputed grid tensor.
    """

    class Params(GridParams):
        pass

    params: Params

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        """Advance ``x`` from ``t`` to ``t + dt`` (one-step schemes implement this)."""
        raise NotImplementedError(f"solver {type(self).__name__} must implement step() or override march()")

    def num_steps(self) -> int:
        """Number of grid intervals requested by ``params.steps`` (a custom grid has its own)."""
        return self.params.steps

    def time_grid(self, field: ModelField, t0: float, t1: float) -> Tensor:
        """The float64 grid across ``[t0, t1]`` described by the params (see :mod:`flowkit.grids`)."""
        return make_grid(self.params, field.path, t0, t1)

    def march(
        self,
        field: ModelField,
        x: Tensor,
        grid: Grid,
        ws: Workspace,
        record: Recorder,
        *,
        generator: torch.Generator | None,
        noise: SampleNoise | None,
    ) -> Tensor:
        """Take every step of ``grid`` from state ``x`` (owned by the solver); return the final state."""
        times, dts = grid.times, grid.dts
        for i in range(grid.steps):
            x = self.step(field, x, times[i], dts[i], ws)
            record(i + 1, x)
        return x

    def integrate(
        self,
        field: ModelField,
        x0: Tensor,
        t0: float,
        t1: float,
        *,
        trajectory: bool,
        generator: torch.Generator | None,
        save_at: Sequence[float] | None = None,
        noise: SampleNoise | None = None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        grid64, save_idx = merge_times(self.time_grid(field, t0, t1), save_at)
        times = grid64.to(device=x0.device, dtype=x0.dtype)
        grid = Grid(grid64, times, times[1:] - times[:-1])
        ws = Workspace(x0, inplace=not torch.is_grad_enabled())
        x = x0.clone() if ws.inplace else x0
        wanted: set[int] | None
        if save_at is not None:
            wanted = set(save_idx)
        elif trajectory:
            wanted = set(range(grid.steps + 1))
        else:
            wanted = None
        saved: dict[int, Tensor] = {}

        def record(i: int, state: Tensor) -> None:
            if wanted is not None and i in wanted:
                saved[i] = state.clone() if ws.inplace else state

        record(0, x)
        x = self.march(field, x, grid, ws, record, generator=generator, noise=noise)
        if wanted is None:
            return x, None, None
        if save_at is not None:
            order = save_idx
            out_times = torch.tensor([float(t) for t in save_at], dtype=x0.dtype, device=x0.device)
        else:
            order = list(range(grid.steps + 1))
            out_times = times
        return x, out_times, torch.stack([saved[i] for i in order])
