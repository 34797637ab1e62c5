"""Exceptions raised by flowkit.

Every error a user can cause derives from :class:`FlowkitError`, so the CLI can turn it into a
one-line message and a non-zero exit without a traceback.
"""

from __future__ import annotations


class FlowkitError(Exception):
    """Base class of every error flowkit raises on purpose."""


class SpecError(FlowkitError):
    """A run spec is invalid. ``problems`` holds one ``"field.path: message"`` line per problem."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(self.problems))


class PluginError(FlowkitError):
    """A plugin failed to load, conflicts with another, or is not installed."""


class UnknownComponentError(PluginError):
    """No installed plugin provides the requested (kind, name)."""


class ComponentConflictError(PluginError):
    """Two or more plugins provide the same (kind, name); none of them is used."""


class IncompatibleComponentsError(FlowkitError):
    """Components that cannot work together were combined (e.g. a score model on a non-Gaussian path)."""


class RunFolderError(FlowkitError):
    """The run folder cannot be written, or already exists and overwriting was not asked for."""


class CheckpointError(FlowkitError):
    """A checkpoint is missing, malformed, or does not match the model."""


class DivergedError(FlowkitError, ValueError):
    """Training or sampling produced non-finite numbers (a NaN or infinite loss, weights or samples)."""
