"""Architecture rules: the core never imports a plugin, and only the torchdiffeq plugin needs torchdiffeq."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "flowkit"
PLUGINS = ROOT / "plugins"
BUILTIN_PACKAGES = {"flowkit_std", "flowkit_data", "flowkit_nets", "flowkit_torchdiffeq"}
FORBIDDEN_IN_CORE = BUILTIN_PACKAGES | {"torchdiffeq"}


def imported_modules(source: str, filename: str) -> set[str]:
    """Top-level names of every module ``source`` imports, statically or via ``import_module("...")``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                found.add(node.args[0].value.split(".")[0])
    return found


def _core_files() -> list[Path]:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 20, f"expected the core modules under {CORE}"
    return files


def _plugin_projects() -> dict[str, dict[str, Any]]:
    projects = {p.parent.name: tomllib.loads(p.read_text(encoding="utf-8")) for p in PLUGINS.glob("*/pyproject.toml")}
    assert {"flowkit-std", "flowkit-data", "flowkit-nets", "flowkit-torchdiffeq"} <= set(projects)
    return projects


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for req in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        assert match, f"unparsable requirement {req!r}"
        names.add(match.group(1).lower().replace("_", "-"))
    return names


def _all_requirements(project: dict[str, Any]) -> set[str]:
    table = project["project"]
    reqs = list(table.get("dependencies", []))
    for extra in table.get("optional-dependencies", {}).values():
        reqs += extra
    return _requirement_names(reqs)


def test_the_import_scanner_sees_every_form_of_import() -> None:
    source = (
        "import flowkit_std.paths\n"
        "from flowkit_data import toys\n"
        "from . import sibling\n"
        "import importlib\n"
        "importlib.import_module('torchdiffeq')\n"
        "__import__('flowkit_nets.mlp')\n"
        "def f():\n    import flowkit_torchdiffeq\n"
    )
    assert imported_modules(source, "<test>") == FORBIDDEN_IN_CORE | {"importlib"}


def test_the_core_imports_no_plugin_and_not_torchdiffeq() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            imported_modules(path.read_text(encoding="utf-8"), str(path)) & FORBIDDEN_IN_CORE
        )
        for path in _core_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_core_lists_no_plugin_and_not_torchdiffeq_among_its_dependencies() -> None:
    core = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert _all_requirements(core) & {"torchdiffeq", "flowkit-gm-std", "flowkit-gm-data", "flowkit-gm-nets"} == set()
    assert core["project"]["name"] == "flowkit-gm"
    assert "flowkit.plugins" not in core["project"].get("entry-points", {})


def test_only_the_torchdiffeq_plugin_depends_on_torchdiffeq() -> None:
    depending = sorted(
        name for name, project in _plugin_projects().items() if "torchdiffeq" in _all_requirements(project)
    )
    assert depending == ["flowkit-torchdiffeq"]


def test_only_the_torchdiffeq_plugin_imports_torchdiffeq() -> None:
    importing = set()
    for folder in PLUGINS.iterdir():
        for path in folder.rglob("*.py"):
            if "tests" in path.relative_to(folder).parts:
                continue
            if "torchdiffeq" in imported_modules(path.read_text(encoding="utf-8"), str(path)):
                importing.add(folder.name)
    assert importing == {"flowkit-torchdiffeq"}


def test_every_plugin_is_a_distribution_that_depends_on_the_core_and_announces_its_package() -> None:
    for name, project in _plugin_projects().items():
        table = project["project"]
        assert "flowkit-gm" in _requirement_names(table.get("dependencies", [])), name
        entry_points = table.get("entry-points", {}).get("flowkit.plugins", {})
        assert entry_points, f"{name} announces no flowkit.plugins entry point"
        packages = project["tool"]["setuptools"]["packages"]
        for target in entry_points.values():
            assert target.split(".")[0] in packages, (name, target, packages)
            module_file = PLUGINS / name / (target.replace(".", "/") + ".py")
            assert module_file.is_file(), f"{name}: entry point {target} has no module {module_file}"


def _plugin_package_files() -> list[Path]:
    return sorted(p for p in PLUGINS.glob("*/flowkit_*/**/*.py"))


def test_built_in_plugins_import_the_core_only_through_its_public_door() -> None:
    """A plugin uses ``from flowkit import ...`` only, so the core's rooms can be rearranged freely."""
    import flowkit

    public = set(flowkit.__all__)
    offenders: list[str] = []
    for path in _plugin_package_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                offenders += [
                    f"{path.relative_to(ROOT)}: import {a.name}" for a in node.names if a.name.startswith("flowkit.")
                ]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("flowkit."):
                    offenders.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
                elif node.module == "flowkit":
                    offenders += [
                        f"{path.relative_to(ROOT)}: flowkit.{a.name} is not public"
                        for a in node.names
                        if a.name not in public
                    ]
    assert len(_plugin_package_files()) >= 15
    assert not offenders, "\n".join(offenders)


def test_every_subpackage_door_only_re_exports() -> None:
    """The ``__init__`` of each room defines nothing: every name it binds is imported."""
    for init in sorted(CORE.glob("*/__init__.py")):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        defined = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
        assert not defined, f"{init.relative_to(ROOT)} defines {[d.name for d in defined]}"


def test_no_core_module_is_over_four_hundred_lines() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in _core_files()}
    large = {name: n for name, n in sizes.items() if n > 450}
    assert not large, large


def test_earlier_module_paths_are_the_new_modules() -> None:
    import importlib

    from flowkit._moved import MOVED

    for old, new in MOVED.items():
        assert importlib.import_module(old) is importlib.import_module(new), old
    import flowkit
    from flowkit.loading import load_run  # the documented spelling of earlier releases
    from flowkit.resample import sample_run

    assert load_run is flowkit.load_run and sample_run is flowkit.sample_run
    assert callable(flowkit.run)  # the function, not a module, whatever was imported before


def test_field_keeps_its_old_name_as_an_alias() -> None:
    import flowkit
    import flowkit.field

    assert flowkit.Field is flowkit.ModelField is flowkit.field.Field


def test_scaffold_templates_import_the_core_only_through_its_public_door() -> None:
    """Generated plugins are written like the built-in ones: ``from flowkit import ...`` (their tests
    may also use the conformance kit, ``flowkit.testing``)."""
    templates = sorted((CORE / "scaffold" / "templates").rglob("*.tmpl"))
    assert len(templates) >= 16
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in templates
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(from|import) flowkit\.(?!testing\b)", line)
    ]
    assert not offenders, "\n".join(offenders)


EARLIER_SOLVER = '''
from typing import ClassVar

from torch import Tensor

from flowkit import Field, FixedStepSolver
from flowkit.noise import SampleNoise
from flowkit.solver import Workspace


class RalstonSolver(FixedStepSolver):
    """Ralston's method, written against the API of the previous release."""

    name: ClassVar[str] = "earlier_ralston"

    class Params(FixedStepSolver.Params):
        pass

    params: Params

    def step(self, field: Field, x: Tensor, t: Tensor, dt: Tensor, ws: Workspace) -> Tensor:
        k1 = field.velocity(x, t)
        k2 = field.velocity(ws.axpy("stage", x, dt, k1, 2.0 / 3.0), t + (2.0 / 3.0) * dt)
        acc = ws.copy("acc", k1)
        acc = ws.add(acc, k2, 3.0)
        return ws.update(x, dt, acc, 0.25)


assert SampleNoise is not None
'''


def test_a_plugin_written_against_the_previous_release_still_conforms(tmp_path: Path) -> None:
    """Old spellings (``flowkit.Field``, ``flowkit.noise``, ``flowkit.solver.Workspace``) keep working."""
    import importlib.util

    from flowkit.testing import check_component

    source = tmp_path / "earlier_plugin.py"
    source.write_text(EARLIER_SOLVER, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("earlier_plugin", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check_component(module.RalstonSolver)
