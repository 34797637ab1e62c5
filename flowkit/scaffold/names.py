"""What a new plugin may be called, and the names derived from its name.

A plugin ``NAME`` (``my_paths``) gives the import package ``flowkit_NAME``, the distribution
``flowkit-NAME`` (underscores as dashes) and the CamelCase stem ``MyPaths`` of its class names.
"""

from __future__ import annotations

import re

from flowkit.errors import FlowkitError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
"""A valid plugin name: lowercase letters, digits and underscores, starting with a letter."""

DEFAULT_KINDS: tuple[str, ...] = ("path",)
"""The kinds of a plugin package when none are asked for."""


class ScaffoldError(FlowkitError, ValueError):
    """A plugin package cannot be written: a bad name, an unknown kind, or an occupied target."""


def check_name(name: str) -> str:
    """Return ``name`` if it can name a plugin, else raise :class:`ScaffoldError` saying why."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"invalid plugin name {name!r}: use lowercase letters, digits and underscores, starting with a letter "
            "(e.g. 'my_paths')"
        )
    return name


def package_name(name: str) -> str:
    """The import package of plugin ``name``: ``flowkit_NAME``."""
    return f"flowkit_{name}"


def distribution_name(name: str) -> str:
    """The distribution (pip name) of plugin ``name``: ``flowkit-NAME`` with dashes for underscores."""
    return f"flowkit-{name.replace('_', '-')}"


def camel(name: str) -> str:
    """``name`` in CamelCase (``"my_paths"`` -> ``"MyPaths"``), the stem of the plugin's class names."""
    return "".join(part.capitalize() for part in name.split("_") if part)
