"""The scaffold's templates: package data under ``flowkit/scaffold/templates/``, one set per kind.

The templates are plain files, read with :mod:`importlib.resources` (so they work from a wheel as
well as from a source tree). Each is named after the file it renders, plus ``.tmpl``::

    templates/
        pyproject.toml.tmpl       -> pyproject.toml
        README.md.tmpl            -> README.md
        package_init.py.tmpl      -> flowkit_NAME/__init__.py
        plugin.py.tmpl            -> flowkit_NAME/plugin.py, with plugin_hook.py.tmpl once per kind
        tests.py.tmpl             -> tests/test_flowkit_NAME.py, with each kind's tests appended
        kinds/KIND.py.tmpl        -> flowkit_NAME/<KIND's plural>.py: the component, a working one
        kinds/KIND_tests.py.tmpl  -> that component's test functions
        kinds/readme.json         -> per kind: its line of the README and the params of the
                                     README's example run spec

The suffix keeps every tool that reads ``*.py`` or ``pyproject.toml`` (byte-compilation on
install, linters, type checkers, test collectors, the API docs) away from files that are not
valid until filled in; the tests check the templates through rendered packages instead.

They are :class:`string.Template` texts. Every template may use ``$name`` (the plugin and
component name), ``$camel`` (its CamelCase), ``$package`` (the import name), ``$distribution``
(the pip name), ``$group`` (the entry-point group), ``$api`` (the plugin API version),
``$flowkit_requirement`` and ``$kinds_text`` (``"a path and a solver"``); the package templates
have a few more, filled in by :func:`flowkit.scaffold.render.render_plugin`. Filled in, each
Python template is a valid module.

A kind's base class, hook and module name come from its row of :data:`flowkit.host.kinds.KINDS`;
a kind gets a template when ``kinds/KIND.py.tmpl`` exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from flowkit.host.kinds import KIND_BY_NAME, KINDS, Kind
from flowkit.scaffold.names import DEFAULT_KINDS, ScaffoldError, camel

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


TEMPLATE_SUFFIX = ".tmpl"
"""Appended to the name of the file a template renders."""


def _templates() -> Traversable:
    return resources.files("flowkit.scaffold") / "templates"


def _read(path: str) -> str:
    node = _templates()
    for part in path.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


@cache
def template_text(target: str) -> str:
    """The template of the file ``target``, a path relative to ``templates/`` without the
    :data:`TEMPLATE_SUFFIX` (``"kinds/path.py"`` reads ``templates/kinds/path.py.tmpl``)."""
    return _read(target + TEMPLATE_SUFFIX)


@dataclass(frozen=True)
class KindTemplate:
    """What one component kind contributes to a generated package.

    Attributes:
        kind: the kind's row of :data:`flowkit.host.kinds.KINDS` (base class, hook, spec field).
        source: the component module (``templates/kinds/KIND.py.tmpl``).
        tests: the component's test functions (``templates/kinds/KIND_tests.py.tmpl``), appended to
            the generated test file; the names they use come from that file's import header.
        summary: the component's line in the README.
        example_params: the params the README's example run spec gives the component.
    """

    kind: Kind
    source: str
    tests: str
    summary: str
    example_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        """The module file name inside the package, without ``.py``: the kind's plural (``"paths"``)."""
        return self.kind.plural

    @property
    def suffix(self) -> str:
        """Appended to the CamelCase plugin name to name the class: the kind in CamelCase (``"Path"``)."""
        return camel(self.kind.name)

    @property
    def base(self) -> str:
        """The name of the kind's base class (the return type of its hook)."""
        return self.kind.base.__name__

    @property
    def base_module(self) -> str:
        """Where generated code imports the base class from: the public door ``flowkit``."""
        return "flowkit"


def _load(kind: Kind, readme: Mapping[str, Mapping[str, Any]]) -> KindTemplate:
    entry = readme[kind.name]
    return KindTemplate(
        kind=kind,
        source=template_text(f"kinds/{kind.name}.py"),
        tests=template_text(f"kinds/{kind.name}_tests.py"),
        summary=entry["summary"],
        example_params=dict(entry.get("example_params", {})),
    )


def _load_all() -> dict[str, KindTemplate]:
    readme: dict[str, dict[str, Any]] = json.loads(_read("kinds/readme.json"))
    kinds_dir = _templates() / "kinds"
    return {k.name: _load(k, readme) for k in KINDS if (kinds_dir / f"{k.name}.py{TEMPLATE_SUFFIX}").is_file()}


TEMPLATES: dict[str, KindTemplate] = _load_all()
"""The template of every component kind that has one (all of :data:`flowkit.host.kinds.KINDS`),
in the kinds' order."""


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Deduplicate ``kinds`` (keeping flowkit's kind order) or raise :class:`ScaffoldError` for an unknown one.

    No kinds means :data:`~flowkit.scaffold.names.DEFAULT_KINDS`. A kind of
    :data:`~flowkit.host.kinds.KINDS` without a template is refused too, naming the kinds that
    have one.
    """
    wanted = list(kinds) or list(DEFAULT_KINDS)
    unknown = [k for k in wanted if k not in KIND_BY_NAME]
    if unknown:
        raise ScaffoldError(f"unknown kind {unknown[0]!r}; kinds are: {', '.join(KIND_BY_NAME)}")
    untemplated = [k for k in wanted if k not in TEMPLATES]
    if untemplated:
        raise ScaffoldError(
            f"flowkit has no scaffold template for the {untemplated[0]!r} kind; kinds with one: {', '.join(TEMPLATES)}"
        )
    return tuple(k.name for k in KINDS if k.name in wanted)
