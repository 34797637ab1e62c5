"""mkdocs hook: keep the API reference pages complete as modules are added.

Two markers are expanded into mkdocstrings ``::: module`` blocks before the page is converted:

* ``<!-- flowkit:api-remaining PACKAGE -->``: every public module of ``PACKAGE`` that the page does
  not already document with its own ``::: module`` block, in alphabetical order;
* ``<!-- flowkit:api-plugins -->``: one section per plugin distribution found under ``plugins/``
  (its name, the description from its ``pyproject.toml``, then each public module of its package).

Modules are found on the file system (no import), so the hook works for any package mkdocstrings
can read.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REMAINING = re.compile(r"<!-- flowkit:api-remaining (?P<package>[A-Za-z_][\w.]*) -->")
PLUGINS_MARKER = "<!-- flowkit:api-plugins -->"
DOCUMENTED = re.compile(r"^:::\s+(?P<name>[\w.]+)\s*$", re.MULTILINE)


def public_modules(package_dir: Path, package: str) -> list[str]:
    """Dotted names of the public modules of the package in ``package_dir`` (the package itself first).

    A module or sub-package whose name starts with ``_`` is private and left out.
    """
    names = [package]
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not parts:
                continue
        if any(p.startswith("_") for p in parts):
            continue
        names.append(".".join([package, *parts]))
    return names


def module_block(name: str, *, members: bool = True) -> str:
    """The mkdocstrings block documenting one module (``members=False``: its docstring only, as for a
    package that merely re-exports what its modules define)."""
    if members:
        return f"::: {name}\n"
    return f"::: {name}\n    options:\n      members: false\n"


def expand_remaining(markdown: str, root: Path) -> str:
    """Replace each ``api-remaining`` marker by the modules of its package not yet on the page."""

    def replace(match: re.Match[str]) -> str:
        package = match.group("package")
        package_dir = root / package.replace(".", "/")
        if not (package_dir / "__init__.py").is_file():
            raise ValueError(f"api-remaining: no package {package!r} under {root}")
        documented = set(DOCUMENTED.findall(markdown))
        missing = [m for m in public_modules(package_dir, package) if m not in documented and m != package]
        # a sub-package's __init__ only re-exports (its door): show its docstring, not its members again
        return "\n".join(module_block(m, members=not _is_package(root, m)) for m in missing)

    return REMAINING.sub(replace, markdown)


def _is_package(root: Path, module: str) -> bool:
    return (root / module.replace(".", "/") / "__init__.py").is_file()


def plugin_packages(plugin_dir: Path) -> list[str]:
    """The top-level packages of one plugin distribution folder (tests and build output excluded)."""
    return sorted(
        p.name
        for p in plugin_dir.iterdir()
        if p.is_dir() and (p / "__init__.py").is_file() and p.name != "tests" and not p.name.startswith(".")
    )


def render_plugins(root: Path) -> str:
    """A section per plugin distribution under ``root/plugins``: name, description, modules."""
    out: list[str] = []
    for pyproject in sorted((root / "plugins").glob("*/pyproject.toml")):
        plugin_dir = pyproject.parent
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        dist = project.get("name", plugin_dir.name)
        out += [f"## {dist}", ""]
        description = str(project.get("description", "")).strip()
        if description:
            out += [description, ""]
        entry_points = project.get("entry-points", {}).get("flowkit.plugins", {})
        if entry_points:
            listed = ", ".join(f"`{name}` (`{target}`)" for name, target in sorted(entry_points.items()))
            out += [f"Entry points in the `flowkit.plugins` group: {listed}.", ""]
        for package in plugin_packages(plugin_dir):
            modules = public_modules(plugin_dir / package, package)
            out += [module_block(m, members=m != package) for m in modules]
    return "\n".join(out)


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """mkdocs event: expand the API markers of the page."""
    root = Path(config.config_file_path).parent
    if PLUGINS_MARKER in markdown:
        markdown = markdown.replace(PLUGINS_MARKER, render_plugins(root))
    return expand_remaining(markdown, root)
