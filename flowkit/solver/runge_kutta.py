"""Explicit Runge-Kutta schemes as Butcher tableaux, and one step that takes any of them.

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
from dataclasses import dataclass
from typing import Literal

from torch import Tensor

SchemeName = Literal["euler", "midpoint", "heun", "rk4"]


@dataclass(frozen=True)
class ButcherTableau:
    """The coefficients of an explicit Runge-Kutta scheme (``a`` strictly lower triangular)."""

    name: str
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    order: int

    @property
    def stages(self) -> int:
        return len(self.b)


TABLEAUS: dict[str, ButcherTableau] = {
    "euler": ButcherTableau("euler", ((),), (1.0,), (0.0,), 1),
    "midpoint": ButcherTableau("midpoint", ((), (0.5,)), (0.0, 1.0), (0.0, 0.5), 2),
    "heun": ButcherTableau("heun", ((), (1.0,)), (0.5, 0.5), (0.0, 1.0), 2),
    "rk4": ButcherTableau(
        "rk4",
        ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
        (1 / 6, 1 / 3, 1 / 3, 1 / 6),
        (0.0, 0.5, 0.5, 1.0),
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
    for i in range(tab.stages):
        stage = x
        for j, a_ij in enumerate(tab.a[i]):
            if a_ij != 0.0:
                stage = stage + (a_ij * h) * ks[j]
        needed = tab.b[i] != 0.0
        k, rate = rhs(stage, t + tab.c[i] * h, needed)
        ks.append(k)
        if needed:
            x_next = x_next + (tab.b[i] * h) * k
            if rate is not None:
                y_next = y_next + (tab.b[i] * h) * rate
    return x_next, y_next
