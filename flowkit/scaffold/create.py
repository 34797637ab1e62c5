"""Write a rendered plugin package to disk, refusing names already in use and occupied folders."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from flowkit.host.hookspecs import ENTRY_POINT_GROUP
from flowkit.scaffold.library import check_kinds
from flowkit.scaffold.names import DEFAULT_KINDS, ScaffoldError, distribution_name, package_name
from flowkit.scaffold.render import render_plugin


@dataclass(frozen=True)
class ScaffoldResult:
    """A written plugin package.

    Attributes:
        root: the package folder, ``<output>/flowkit-NAME``.
        distribution: the pip name, ``flowkit-NAME``.
        package: the import name, ``flowkit_NAME``.
        name: the plugin's name.
        kinds: the kinds of its components, in flowkit's kind order.
        files: every file written, in the order :func:`~flowkit.scaffold.render.render_plugin` gives.
    """

    root: Path
    distribution: str
    package: str
    name: str
    kinds: tuple[str, ...]
    files: tuple[Path, ...]


def create_plugin(
    name: str,
    kinds: Sequence[str] = DEFAULT_KINDS,
    output: str | Path = ".",
    *,
    check_installed: bool = True,
) -> ScaffoldResult:
    """Write a new plugin package ``<output>/flowkit-<name>`` (see :mod:`flowkit.scaffold`).

    Args:
        name: the plugin's name: entry point, component names and package suffix.
        kinds: the component kinds to include (default: a path).
        output: the directory to create the package in.
        check_installed: refuse a name an installed plugin or package already uses.

    Raises:
        ScaffoldError: for an invalid name, an unknown kind, a name already installed, or a target
            directory that exists and is not empty.
    """
    files = render_plugin(name, kinds)
    package = package_name(name)
    distribution = distribution_name(name)
    if check_installed:
        taken = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if taken:
            raise ScaffoldError(f"a plugin named {name!r} is already installed ({taken[0].value}); choose another name")
        if importlib.util.find_spec(package) is not None:
            raise ScaffoldError(f"a package named {package!r} is already importable; choose another name")
    root = Path(output) / distribution
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ScaffoldError(f"{root} already exists and is not empty")
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return ScaffoldResult(root, distribution, package, name, check_kinds(kinds), tuple(written))
