"""Module paths of earlier releases, kept importable while plugins move to the new homes.

Each old path is the very module object of its new home (``flowkit.grids is flowkit.solver.grids``),
so classes, functions and module-level state are shared, not copied. The aliases resolve lazily, on
first import. New code imports from :mod:`flowkit` itself or from the new module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

MOVED: dict[str, str] = {
    "flowkit.grids": "flowkit.solver.grids",
    "flowkit.noise": "flowkit.solver.noise",
    "flowkit.likelihood": "flowkit.solver.likelihood",
    "flowkit.hookspecs": "flowkit.host.hookspecs",
    "flowkit.registry": "flowkit.host.registry",
    "flowkit.describe": "flowkit.host.describe",
    "flowkit.train": "flowkit.engine.train",
    "flowkit.ema": "flowkit.engine.ema",
    "flowkit.evaluation": "flowkit.engine.evaluation",
    "flowkit.sampling": "flowkit.engine.sampling",
    "flowkit.progress": "flowkit.engine.progress",
    "flowkit.spec": "flowkit.runs.spec",
    "flowkit.build": "flowkit.runs.build",
    "flowkit.runfolder": "flowkit.runs.folder",
    "flowkit.checkpoint": "flowkit.runs.checkpoint",
    "flowkit.loading": "flowkit.runs.finished",
    "flowkit.resample": "flowkit.runs.finished",
    "flowkit.plots": "flowkit.runs.plots",
}
"""Old module path -> the module that now holds its contents."""


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module ran when it was imported; nothing is left to do."""


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old module paths of :data:`MOVED` and hands out their new modules."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
