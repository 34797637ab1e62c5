"""Explicit Runge-Kutta schemes as Butcher tableaux, one solver base that marches any of them, and
the step the likelihood's augmented integration takes with the same tableaux.

A scheme with ``s`` stages advances ``dx/dt = f(x, t)`` from ``t`` to ``t + h`` by

``k_i = f(x + h sum_{j<i} a_ij k_j, t + c_i h)`` for ``i = 1..s``, then ``x + h sum_i b_i k_i``.

The tableau ``(a, b, c)`` is all that distinguishes Euler, midpoint, Heun and RK4, so the
integration loops that need their own right-hand side (the likelihood's augmented state
``(x, integral of div u)``) write the step once and take the scheme as data. A stage whose weight
``b_i`` is zero (the first stage of midpoint) only moves the state to the next stage: its
contribution to quantities that do not feed back into ``f`` is discarded, and
:func:`rk_step` tells the right-hand side so (``needed=False``) to skip computing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar, Literal

from torch import Tensor

from flowkit.field import ModelField
from flowkit.solver.fixed_step import FixedStepSolver, Workspace

SchemeName = Literal["euler", "midpoint", "heun", "rk4"]


Number = Fraction | int


@dataclass(frozen=True)
class ButcherTableau:
    """The coefficients of an explicit Runge-Kutta scheme (``a`` strictly lower triangular).

    Entries are exact fractions, so the ratios the in-place step uses (``b_i / b_first``) are exact.
    """

    name: str
    a: tuple[tuple[Number, ...], ...]
    b: tuple[Number, ...]
    c: tuple[Number, ...]
    order: int
    plan: tuple[tuple[float, tuple[tuple[int, float], ...]], ...] = field(init=False, repr=False, compare=False)
    """Per stage ``(c_i, ((j, a_ij), ...))`` with the non-zero ``a_ij`` only, as floats."""
    first: int = field(init=False, repr=False, compare=False)
    """The first stage with a non-zero weight ``b``."""
    ratios: dict[int, float] = field(init=False, repr=False, compare=False)
    """``b_i / b_first`` (exact) for every later stage with a non-zero weight."""
    kept: frozenset[int] = field(init=False, repr=False, compare=False)
    """Stages whose velocity a stage after the next one reads (the stage buffer is reused)."""

    def __post_init__(self) -> None:
        if not (len(self.a) == len(self.b) == len(self.c)) or any(len(row) != i for i, row in enumerate(self.a)):
            raise ValueError(f"tableau {self.name!r}: a must be strictly lower triangular with one row per stage")
        plan = tuple(
            (float(c), tuple((j, float(a)) for j, a in enumerate(row) if a != 0))
            for row, c in zip(self.a, self.c, strict=True)
        )
        nonzero = [i for i, b in enumerate(self.b) if b != 0]
        if not nonzero:
            raise ValueError(f"tableau {self.name!r} has no non-zero weight b")
        first = nonzero[0]
        ratios = {i: float(Fraction(self.b[i]) / Fraction(self.b[first])) for i in nonzero[1:]}
        kept = frozenset(j for i, (_, row) in enumerate(plan) for j, _ in row if i > j + 1)
        for key, value in (("plan", plan), ("first", first), ("ratios", ratios), ("kept", kept)):
            object.__setattr__(self, key, value)

    @property
    def stages(self) -> int:
        """The number of stages (network evaluations per step)."""
        return len(self.b)


_HALF = Fraction(1, 2)

TABLEAUS: dict[str, ButcherTableau] = {
    "euler": ButcherTableau("euler", ((),), (1,), (0,), 1),
    "midpoint": ButcherTableau("midpoint", ((), (_HALF,)), (0, 1), (0, _HALF), 2),
    "heun": ButcherTableau("heun", ((), (1,)), (_HALF, _HALF), (0, 1), 2),
    "rk4": ButcherTableau(
        "rk4",
        ((), (_HALF,), (0, _HALF), (0, 0, 1)),
        (Fraction(1, 6), Fraction(1, 3), Fraction(1, 3), Fraction(1, 6)),
        (0, _HALF, _HALF, 1),
        4,
    ),
}
"""The built-in tableaux by name."""


def tableau(name: str) -> ButcherTableau:
    """The tableau called ``name``; raises ``ValueError`` naming the known ones."""
    try:
        return TABLEAUS[name]
    except KeyError:
        raise ValueError(f"unknown scheme {name!r}; expected {', '.join(TABLEAUS)}") from None


AugmentedRhs = Callable[[Tensor, Tensor, bool], tuple[Tensor, Tensor | None]]
"""``rhs(x, t, needed) -> (dx/dt, dy/dt)`` for a state ``x`` carried with a passenger ``y`` that does
not feed back into the right-hand side; with ``needed=False`` the passenger's rate may be ``None``."""


def rk_step(
    rhs: AugmentedRhs, x: Tensor, y: Tensor, t: Tensor, h: Tensor, tab: ButcherTableau
) -> tuple[Tensor, Tensor]:
    """One step of ``tab`` for ``dx/dt = f(x, t)`` with a passenger ``dy/dt = g(x, t)``; returns ``(x', y')``.

    ``g`` is asked for (``needed=True``) only at stages with ``b_i != 0``. Every result is a new
    tensor, so the step is safe to differentiate through.
    """
    ks: list[Tensor] = []
    x_next, y_next = x, y
    for (c_i, row), b_i in zip(tab.plan, tab.b, strict=True):
        stage = x
        for j, a_ij in row:
            stage = stage + (a_ij * h) * ks[j]
        needed = b_i != 0
        k, rate = rhs(stage, t + c_i * h, needed)
        ks.append(k)
        if needed:
            x_next = x_next + (float(b_i) * h) * k
            if rate is not None:
                y_next = y_next + (float(b_i) * h) * rate
    return x_next, y_next


class RungeKuttaSolver(FixedStepSolver):
    """Base of explicit Runge-Kutta ODE solvers given by a :class:`ButcherTableau`.

    A subclass sets ``tableau`` (and ``name``); :meth:`step` takes one step of it in the solve's
    :class:`~flowkit.solver.fixed_step.Workspace`: each stage state is written into one reused
    buffer, the weighted sum of the stage velocities is accumulated as soon as each is known, and
    the state is updated in place, so a step allocates nothing besides the network's outputs.
    A stage velocity that a stage after the next one still needs is copied out of the way first
    (none of the built-in tableaux needs that).
    """

    tableau: ClassVar[ButcherTableau] = TABLEAUS["euler"]

    def step(self, field: ModelField, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        tab = self.tableau
        first, ratios, keep = tab.first, tab.ratios, tab.kept
        ks: list[Tensor] = []
        acc: Tensor | None = None
        for i, (c_i, row) in enumerate(tab.plan):
            if not row:
                stage = x
            else:
                (j0, a0), *rest = row
                stage = ws.axpy("stage", x, dt, ks[j0], a0)
                for j, a in rest:
                    stage = ws.update(stage, dt, ks[j], a)
            k = field.velocity(stage, t if c_i == 0.0 else t + c_i * dt)
            ks.append(ws.copy(f"k{i}", k) if i in keep else k)
            if ratios and i == first:
                acc = ws.copy("acc", k)
            elif acc is not None and i in ratios:
                acc = ws.add(acc, k, ratios[i])
        return ws.update(x, dt, acc if acc is not None else ks[first], float(tab.b[first]))
