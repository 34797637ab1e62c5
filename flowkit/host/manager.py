"""The plugin host: discovers plugins, isolates broken ones, and builds the :class:`Registry`.

Plugins are modules announced in the ``flowkit.plugins`` entry-point group (built-in and
third-party alike). Each entry point is loaded on its own inside ``try``/``except``: a plugin that
fails to import, defines an unknown hook, was made for another plugin API version, or raises
inside a hook is recorded as failed, warned about once on stderr, and left out; everything else
keeps working. With ``strict=True`` (or ``FLOWKIT_STRICT_PLUGINS=1``) any failure or conflict is
an error instead, which is what plugin authors want in CI.

Environment variables:

* ``FLOWKIT_STRICT_PLUGINS=1``: strict mode.
* ``FLOWKIT_DISABLE_PLUGINS=a,b``: plugin names (entry-point names) not to load.
* ``FLOWKIT_PLUGINS=a,b``: an allow-list: load only these plugins (the others are listed as
  disabled). Unset or empty allows every plugin.
* ``FLOWKIT_TRACE_PLUGINS=1``: print each loading step on stderr.

No host exists at import time: :func:`default_host` creates one on first use, and tests build
their own with ``PluginHost(autoload=False)`` and :meth:`PluginHost.register`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from flowkit.component import Component
from flowkit.errors import PluginError
from flowkit.host import hookspecs
from flowkit.host.hookspecs import ENTRY_POINT_GROUP, PLUGIN_API_VERSION, PROJECT_NAME
from flowkit.host.kinds import KIND_BASES, KIND_HOOKS
from flowkit.host.registry import Provider, Registration, Registry

_WARNED: set[str] = set()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    return [p.strip() for p in os.environ.get(name, "").split(",") if p.strip()]


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used, and why (one line)."""

    plugin: str
    provider: Provider
    reason: str

    def message(self) -> str:
        who = self.provider.describe()
        origin = f"plugin {self.plugin!r} ({who})" if self.provider.distribution else f"plugin {self.plugin!r}"
        return f"{origin} failed to load: {self.reason}"


@dataclass
class PluginInfo:
    """One plugin as ``flowkit plugins list`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    status: str  # "ok", "failed" or "disabled"
    error: str | None = None
    provides: dict[str, list[str]] = field(default_factory=dict)
    note: str | None = None  # why a plugin is disabled

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "provides": self.provides,
            "note": self.note,
        }


def _check_describable(kind: str, name: str, cls: type[Component]) -> None:
    """Raise :class:`PluginError` unless the run spec, ``flowkit schema`` and the listings can describe ``cls``.

    Checked when a plugin registers, so a component whose ``Params`` pydantic cannot turn into a
    schema (or whose summary raises) marks its own plugin broken instead of breaking every spec.
    """
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, Component.Params)):
        raise PluginError(f"{kind} {name!r} ({cls.__name__}): Params must derive from flowkit.Params")
    try:
        params.model_json_schema()
        cls.summary()
    except Exception as exc:
        raise PluginError(
            f"{kind} {name!r} ({cls.__name__}): its Params cannot be described: {_describe_exception(exc)}"
        ) from exc


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class PluginHost:
    """Owns a pluggy ``PluginManager`` for the flowkit hooks and the registry built from it.

    Args:
        autoload: load the entry points of the ``flowkit.plugins`` group now.
        strict: raise :class:`PluginError` on any failure or conflict (default: the
            ``FLOWKIT_STRICT_PLUGINS`` environment variable).
        disabled: plugin names not to load (default: ``FLOWKIT_DISABLE_PLUGINS``).
        only: an allow-list of plugin names; every other plugin is treated as disabled (default:
            ``FLOWKIT_PLUGINS``; ``None`` there or an empty list allows every plugin).
        trace: print each loading step on stderr (default: ``FLOWKIT_TRACE_PLUGINS``).
    """

    def __init__(
        self,
        *,
        autoload: bool = True,
        strict: bool | None = None,
        disabled: Iterable[str] | None = None,
        trace: bool | None = None,
        group: str = ENTRY_POINT_GROUP,
        only: Iterable[str] | None = None,
    ) -> None:
        self.strict = _env_flag("FLOWKIT_STRICT_PLUGINS") if strict is None else strict
        self.disabled = set(_env_list("FLOWKIT_DISABLE_PLUGINS") if disabled is None else disabled)
        self.trace = _env_flag("FLOWKIT_TRACE_PLUGINS") if trace is None else trace
        self.only = set(_env_list("FLOWKIT_PLUGINS") if only is None else only)
        self.group = group
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._providers: dict[str, Provider] = {}
        self._failures: dict[str, PluginFailure] = {}
        self._disabled_seen: dict[str, Provider] = {}
        self._disabled_why: dict[str, str] = {}
        self._provided: dict[str, dict[str, list[str]]] = {}
        self._registry: Registry | None = None
        if autoload:
            self.load_entry_points()

    # --- loading --------------------------------------------------------------------------------
    def _trace(self, message: str) -> None:
        if self.trace:
            print(f"flowkit-trace: {message}", file=sys.stderr)

    def _blocked(self, name: str, provider: Provider) -> bool:
        """Record and trace ``name`` as disabled if the disabled list or the allow-list says so."""
        if name in self.disabled:
            why = "disabled by name (FLOWKIT_DISABLE_PLUGINS or disabled=)"
        elif self.only and name not in self.only:
            why = "not in the allow-list (FLOWKIT_PLUGINS or only=): " + ", ".join(sorted(self.only))
        else:
            return False
        self._disabled_seen[name] = provider
        self._disabled_why[name] = why
        self._trace(f"plugin {name!r} {why}")
        return True

    def _fail(self, name: str, provider: Provider, reason: str) -> None:
        self._failures[name] = PluginFailure(name, provider, reason)
        self._registry = None
        self._trace(f"plugin {name!r} failed: {reason}")

    def load_entry_points(self) -> None:
        """Load every entry point of the group, each on its own."""
        seen: set[tuple[str, str]] = set()
        for ep in sorted(metadata.entry_points(group=self.group), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            provider = Provider(ep.name, dist.name if dist else None, dist.version if dist else None)
            key = (ep.name, ep.value)
            if key in seen:
                continue
            seen.add(key)
            if self._blocked(ep.name, provider):
                continue
            self._trace(f"loading plugin {ep.name!r} from {ep.value} ({provider.describe()})")
            try:
                module = ep.load()
            except BaseException as exc:
                self._fail(ep.name, provider, f"import of {ep.value!r} raised {_describe_exception(exc)}")
                continue
            self.register(module, ep.name, distribution=provider.distribution, version=provider.version)

    def register(
        self,
        plugin: ModuleType | object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> str | None:
        """Register a plugin object (usually a module with hook implementations).

        Returns the plugin name, or ``None`` if it was disabled or refused (the reason is recorded
        in :attr:`failures`). Built-in and third-party plugins go through this same call.
        """
        pname = name or getattr(plugin, "__name__", None) or repr(plugin)
        provider = Provider(pname, distribution, version)
        if self._blocked(pname, provider):
            return None
        if pname in self._providers or pname in self._failures:
            # Recorded under its own key: the plugin already registered under this name keeps its status.
            key, n = pname, 2
            while key in self._providers or key in self._failures:
                key, n = f"{pname}#{n}", n + 1
            self._fail(key, provider, f"a plugin named {pname!r} is already registered")
            return None
        api = getattr(plugin, "FLOWKIT_PLUGIN_API", PLUGIN_API_VERSION)
        if api != PLUGIN_API_VERSION:
            self._fail(
                pname,
                provider,
                f"made for flowkit plugin API {api}, but this flowkit provides plugin API {PLUGIN_API_VERSION}",
            )
            return None
        try:
            self.pm.register(plugin, name=pname)
        except Exception as exc:  # pluggy validates hook signatures here
            self._fail(pname, provider, f"invalid hook implementation: {_describe_exception(exc)}")
            return None
        unknown = sorted(
            impl.function.__name__
            for caller in (self.pm.get_hookcallers(plugin) or [])
            if not caller.has_spec()
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin
        )
        if unknown:
            self.pm.unregister(plugin)
            known = ", ".join(KIND_HOOKS.values())
            self._fail(pname, provider, f"unknown hook {', '.join(unknown)} (known hooks: {known})")
            return None
        self._providers[pname] = provider
        self._registry = None
        self._trace(f"registered plugin {pname!r}")
        return pname

    # --- the registry ---------------------------------------------------------------------------
    def _collect(self) -> list[Registration]:
        regs: list[Registration] = []
        for pname, provider in self._providers.items():
            plugin = self.pm.get_plugin(pname)
            mine: list[Registration] = []
            try:
                for kind, hook in KIND_HOOKS.items():
                    caller = getattr(self.pm.hook, hook)
                    for impl in caller.get_hookimpls():
                        if impl.plugin is not plugin:
                            continue
                        mine.extend(self._call_hook(kind, hook, impl.function, provider))
            except PluginError as exc:
                self._fail(pname, provider, str(exc))
                continue
            self._provided[pname] = {}
            for reg in mine:
                self._provided[pname].setdefault(reg.kind, []).append(reg.name)
            regs.extend(mine)
        return regs

    def _call_hook(self, kind: str, hook: str, function: Any, provider: Provider) -> list[Registration]:
        try:
            result = function()
        except BaseException as exc:
            raise PluginError(f"hook {hook} raised {_describe_exception(exc)}") from exc
        if result is None:
            return []
        if not isinstance(result, (list, tuple)):
            raise PluginError(f"hook {hook} must return a list of classes, got {type(result).__name__}")
        base = KIND_BASES[kind]
        out = []
        for cls in result:
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise PluginError(f"hook {hook} returned {cls!r}, which is not a {base.__name__} subclass")
            name = getattr(cls, "name", "")
            if not isinstance(name, str) or not name:
                raise PluginError(f"hook {hook} returned {cls.__name__} without a 'name'")
            _check_describable(kind, name, cls)
            out.append(Registration(kind, name, cls, provider))
        return out

    @property
    def registry(self) -> Registry:
        """The registry of everything the loaded plugins provide (built on first use)."""
        registry = self._registry
        if registry is None:
            registry = Registry(self._collect())
            self._report(registry)
            self._registry = registry
        return registry

    def _report(self, registry: Registry) -> None:
        problems = [f.message() for f in self._failures.values()] + [c.message() for c in registry.conflicts]
        if self.strict and problems:
            raise PluginError("strict plugin mode: " + "; ".join(problems))
        for line in problems:
            if line not in _WARNED:
                _WARNED.add(line)
                print(f"flowkit: warning: {line}", file=sys.stderr)

    @property
    def failures(self) -> list[PluginFailure]:
        """Plugins that could not be used."""
        _ = self.registry
        return list(self._failures.values())

    def get(self, kind: str, name: str) -> type[Component]:
        """The component class registered as ``(kind, name)``."""
        return self.registry.get(kind, name)

    def create(self, kind: str, name: str, params: Mapping[str, Any] | None = None) -> Component:
        """Instantiate ``(kind, name)`` with ``params`` (see :func:`flowkit.host.create.build_component`)."""
        from flowkit.host.create import build_component

        return build_component(kind, name, params, self)

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen: loaded, failed or disabled, with what each provides."""
        registry = self.registry
        infos: list[PluginInfo] = []
        for pname, provider in self._providers.items():
            if pname in self._failures:
                continue
            provides = {k: sorted(v) for k, v in sorted(self._provided.get(pname, {}).items())}
            infos.append(PluginInfo(pname, provider.distribution, provider.version, "ok", None, provides))
        for pname, failure in self._failures.items():
            p = failure.provider
            infos.append(PluginInfo(pname, p.distribution, p.version, "failed", failure.reason))
        for pname, provider in self._disabled_seen.items():
            infos.append(
                PluginInfo(
                    pname, provider.distribution, provider.version, "disabled", note=self._disabled_why.get(pname)
                )
            )
        conflicted = {(c.kind, c.name) for c in registry.conflicts}
        for info in infos:
            for kind, names in info.provides.items():
                info.provides[kind] = [n + " (conflict)" if (kind, n) in conflicted else n for n in names]
        return sorted(infos, key=lambda i: i.name)


_default_host: PluginHost | None = None


def default_host() -> PluginHost:
    """The process-wide host, created (and its entry points loaded) on first call."""
    global _default_host
    if _default_host is None:
        _default_host = PluginHost()
    return _default_host


def set_default_host(host: PluginHost | None) -> None:
    """Replace the process-wide host (``None`` makes the next :func:`default_host` call reload)."""
    global _default_host
    _default_host = host
