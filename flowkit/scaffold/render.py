"""Fill the templates of :mod:`flowkit.scaffold.library` in for one plugin: ``{path: text}``.

Nothing here writes files (:func:`flowkit.scaffold.create.create_plugin` does). The generated
modules lint clean under the ruff settings the generated ``pyproject.toml`` carries, isort rule
included, without any import sorting:

* ``__init__.py`` and ``plugin.py`` import one class per line from each kind's module, the lines
  in the order of the module names (``couplings``, ``datasets``, ... ``solvers``), and
  ``plugin.py`` imports each base class from its own ``flowkit`` module, in the same order;
* the test file's template lists every import the tests of any kind use, already in isort's
  order; rendering leaves out the names that the file's tests do not use, keeping the order and
  the blank lines between sections (:func:`keep_used_imports`).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from importlib import metadata
from string import Template
from typing import Any

from flowkit.host.hookspecs import ENTRY_POINT_GROUP, PLUGIN_API_VERSION
from flowkit.scaffold.library import TEMPLATES, KindTemplate, check_kinds, template_text
from flowkit.scaffold.names import DEFAULT_KINDS, camel, check_name, distribution_name, package_name

LINE_LENGTH = 120
"""The line length of the generated ``pyproject.toml``'s ruff settings."""


def render_plugin(name: str, kinds: Sequence[str] = DEFAULT_KINDS) -> dict[str, str]:
    """The files of a new plugin package, as ``{relative path: text}`` (nothing is written).

    The paths are, in this order: one component module per kind (in flowkit's kind order), the
    package's ``__init__.py``, ``plugin.py`` and ``py.typed``, the test file,
    ``pyproject.toml`` and ``README.md``.

    Raises:
        ScaffoldError: for an invalid name or an unknown kind.
    """
    check_name(name)
    chosen = [TEMPLATES[kind] for kind in check_kinds(kinds)]
    package = package_name(name)
    stem = camel(name)
    values = {
        "name": name,
        "camel": stem,
        "package": package,
        "distribution": distribution_name(name),
        "group": ENTRY_POINT_GROUP,
        "api": str(PLUGIN_API_VERSION),
        "flowkit_requirement": flowkit_requirement(),
        "kinds_text": _kinds_text([tpl.kind.name for tpl in chosen]),
    }

    def fill(text: str, **extra: str) -> str:
        return Template(text).substitute({**values, **extra})

    def cls(tpl: KindTemplate) -> str:
        return f"{stem}{tpl.suffix}"

    by_module = sorted(chosen, key=lambda tpl: tpl.module)
    own_imports = "\n".join(f"from {package}.{tpl.module} import {cls(tpl)}" for tpl in by_module)

    files: dict[str, str] = {}
    for tpl in chosen:
        files[f"{package}/{tpl.module}.py"] = fill(tpl.source)
    files[f"{package}/__init__.py"] = fill(
        template_text("package_init.py"),
        own_imports=own_imports,
        exports=_list([f'"{c}"' for c in sorted(cls(tpl) for tpl in chosen)]),
    )
    files[f"{package}/plugin.py"] = fill(
        template_text("plugin.py"),
        base_imports=_base_imports(chosen),
        own_imports=own_imports,
        hooks="\n\n\n".join(
            fill(template_text("plugin_hook.py"), hook=tpl.kind.hook, base=tpl.base, cls=cls(tpl)).rstrip("\n")
            for tpl in chosen
        ),
    )
    files[f"{package}/py.typed"] = ""
    tests = fill(
        template_text("tests.py"),
        own_imports=own_imports,
        expected=_list([f'("{tpl.kind.name}", "{name}")' for tpl in chosen], indent="    "),
        tests="\n\n\n".join(fill(tpl.tests).rstrip("\n") for tpl in chosen),
    )
    files[f"tests/test_{package}.py"] = keep_used_imports(tests)
    files["pyproject.toml"] = fill(template_text("pyproject.toml"))
    files["README.md"] = fill(
        template_text("README.md"),
        component_list="\n".join(f"* {fill(tpl.summary)} (`{cls(tpl)}`)" for tpl in chosen),
        show_commands="\n".join(f"flowkit plugins show {tpl.kind.name} {name}" for tpl in chosen),
        spec_snippet="{\n  " + ",\n  ".join(_spec_field(tpl, name) for tpl in chosen) + "\n}",
        module_list="\n".join(f"* `{package}/{tpl.module}.py`: `{cls(tpl)}`, the {tpl.kind.name}." for tpl in chosen),
    )
    return files


def flowkit_requirement() -> str:
    """The generated package's requirement on flowkit: the installed minor series
    (``flowkit-gm>=0.1,<0.2``; ``>=1.2,<2`` from 1.0 on), or any version if that is unknown."""
    try:
        version = metadata.version("flowkit-gm")
    except metadata.PackageNotFoundError:
        return "flowkit-gm"
    parts = version.split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return "flowkit-gm"
    major, minor = int(parts[0]), int(parts[1])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"flowkit-gm>={major}.{minor},<{upper}"


def keep_used_imports(source: str) -> str:
    """``source`` without the names of its import header that the rest of the module does not use.

    The header is the run of import statements after the docstring and the ``__future__``
    imports. Nothing is reordered: the statements, the names within them and the blank lines
    between sections stay as written, a statement left without names goes, and so does a section
    left without statements. A ``from`` import is written on one line, or one name per line in
    parentheses when that line would be longer than :data:`LINE_LENGTH` (as ruff writes it).
    """
    tree = ast.parse(source)
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else tree.body
    imports: list[ast.Import | ast.ImportFrom] = []
    for stmt in body:
        if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
            break
        imports.append(stmt)
    header = [stmt for stmt in imports if not (isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__")]
    rest = body[len(imports) :]
    if not header:
        return source
    used = {node.id for stmt in rest for node in ast.walk(stmt) if isinstance(node, ast.Name)}
    sections: list[list[str]] = []
    last_line = -1
    for stmt in header:
        if stmt.lineno > last_line + 1:
            sections.append([])
        last_line = stmt.end_lineno or stmt.lineno
        line = _import_line(stmt, used)
        if line is not None:
            sections[-1].append(line)
    lines = source.splitlines(keepends=True)
    kept = "\n\n".join("\n".join(section) for section in sections if section)
    first, last = header[0].lineno - 1, header[-1].end_lineno or header[-1].lineno
    return "".join(lines[:first]) + kept + "\n" + "".join(lines[last:])


def _import_line(stmt: ast.Import | ast.ImportFrom, used: set[str]) -> str | None:
    """The statement with only the names in ``used`` (``None`` when none are)."""

    def spelled(alias: ast.alias) -> str:
        return alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"

    if isinstance(stmt, ast.Import):
        names = [spelled(a) for a in stmt.names if (a.asname or a.name.partition(".")[0]) in used]
        return f"import {', '.join(names)}" if names else None
    names = [spelled(a) for a in stmt.names if (a.asname or a.name) in used]
    if not names:
        return None
    module = "." * stmt.level + (stmt.module or "")
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def _base_imports(chosen: Sequence[KindTemplate]) -> str:
    """The generated ``plugin.py``'s one import of the core: the kinds' base classes and ``hookimpl``,
    all from the public door ``flowkit`` (classes first, then functions, as isort orders them)."""
    names = [*sorted({tpl.base for tpl in chosen}), "hookimpl"]
    line = f"from flowkit import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    return "from flowkit import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def _spec_field(tpl: KindTemplate, name: str) -> str:
    """The run-spec field naming the component (``"sample": {"solver": {"name": ...}}``), from the
    kind's spec field, with the template's example params."""
    value: Any = {"name": name}
    if tpl.example_params:
        value["params"] = dict(tpl.example_params)
    if tpl.kind.many:
        value = [value]
    for key in reversed(tpl.kind.spec_field.split(".")):
        value = {key: value}
    return json.dumps(value)[1:-1]


def _kinds_text(kinds: Sequence[str]) -> str:
    """``"a path"``, ``"a path and a solver"``, ``"a path, an objective and a solver"``."""
    words = [("an " if kind[0] in "aeiou" else "a ") + kind for kind in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _list(items: Sequence[str], indent: str = "") -> str:
    """A list literal, one item per line with a trailing comma (the layout ``ruff format`` keeps)."""
    body = "".join(f"{indent}    {item},\n" for item in items)
    return f"[\n{body}{indent}]"
