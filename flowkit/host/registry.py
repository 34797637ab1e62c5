"""The registry: every installed component, addressed by ``(kind, name)``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from flowkit.component import Component
from flowkit.errors import ComponentConflictError, UnknownComponentError
from flowkit.host.kinds import KIND_HOOKS


@dataclass(frozen=True)
class Provider:
    """The plugin that provides a component: its registered name and its distribution."""

    plugin: str
    distribution: str | None = None
    version: str | None = None

    def describe(self) -> str:
        """E.g. ``"flowkit-gm-std 0.1.0"``, or ``"plugin 'fake'"`` when no distribution is known."""
        if self.distribution:
            return f"{self.distribution} {self.version}" if self.version else self.distribution
        return f"plugin {self.plugin!r}"


@dataclass(frozen=True)
class Registration:
    """One component class and who provides it."""

    kind: str
    name: str
    cls: type[Component]
    provider: Provider


@dataclass(frozen=True)
class Conflict:
    """Two or more plugins provide the same ``(kind, name)``; none of them is used."""

    kind: str
    name: str
    providers: tuple[Provider, ...]

    def message(self) -> str:
        who = " and ".join(p.describe() for p in self.providers)
        return f"{self.kind} {self.name!r} is provided by both {who}; uninstall or disable one of them"


class Registry:
    """An immutable view of what the loaded plugins provide.

    ``get(kind, name)`` returns the component class; an unknown name raises
    :class:`UnknownComponentError` listing the installed ones, and a name two plugins provide
    raises :class:`ComponentConflictError` naming both.
    """

    def __init__(self, registrations: Iterable[Registration]) -> None:
        by_key: dict[tuple[str, str], list[Registration]] = {}
        for reg in registrations:
            by_key.setdefault((reg.kind, reg.name), []).append(reg)
        self._entries: dict[tuple[str, str], Registration] = {}
        self._conflicts: dict[tuple[str, str], Conflict] = {}
        for key, regs in by_key.items():
            if len(regs) == 1:
                self._entries[key] = regs[0]
            else:
                self._conflicts[key] = Conflict(key[0], key[1], tuple(r.provider for r in regs))

    def names(self, kind: str) -> list[str]:
        """The usable names of ``kind``, sorted."""
        return sorted(name for (k, name) in self._entries if k == kind)

    def registrations(self, kind: str | None = None) -> list[Registration]:
        """Usable registrations (of one kind, or all), sorted by kind and name."""
        return [r for key, r in sorted(self._entries.items()) if kind is None or key[0] == kind]

    @property
    def conflicts(self) -> list[Conflict]:
        """Every ``(kind, name)`` provided more than once."""
        return [c for _, c in sorted(self._conflicts.items())]

    def conflict(self, kind: str, name: str) -> Conflict | None:
        """The conflict on ``(kind, name)``, if any."""
        return self._conflicts.get((kind, name))

    def registration(self, kind: str, name: str) -> Registration:
        """The registration of ``(kind, name)``; raises if unknown or conflicting."""
        if kind not in KIND_HOOKS:
            raise UnknownComponentError(f"unknown component kind {kind!r}; kinds are: {', '.join(KIND_HOOKS)}")
        key = (kind, name)
        if key in self._conflicts:
            raise ComponentConflictError(self._conflicts[key].message())
        if key not in self._entries:
            raise UnknownComponentError(self.unknown_message(kind, name))
        return self._entries[key]

    def get(self, kind: str, name: str) -> type[Component]:
        """The component class registered as ``(kind, name)``."""
        return self.registration(kind, name).cls

    def unknown_message(self, kind: str, name: str) -> str:
        """``unknown path 'x'; installed: a, b`` (with a close match suggested when there is one)."""
        installed = self.names(kind)
        listing = ", ".join(installed) if installed else "none (is a plugin providing it installed?)"
        close = difflib.get_close_matches(name, installed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {kind} {name!r}{hint}; installed: {listing}"
