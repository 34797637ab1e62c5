"""Scaffolding: ``flowkit plugins new`` writes a package that lints, conforms, installs and passes
its own tests unchanged."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib

import flowkit
from flowkit import PLUGIN_API_VERSION
from flowkit.host.hookspecs import ENTRY_POINT_GROUP, KIND_HOOKS
from flowkit.host.kinds import KINDS
from flowkit.scaffold import DEFAULT_KINDS, TEMPLATES, ScaffoldError, check_kinds, create_plugin, render_plugin
from flowkit.scaffold.render import keep_used_imports
from flowkit.testing import check_plugin

BIN = Path(sys.executable).parent
ALL_KINDS = list(KIND_HOOKS)
PIP_LOCAL = ("--no-deps", "--no-build-isolation", "-e")
"""Install from the source tree with the packages already present: nothing is downloaded."""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWKIT_")}
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture
def importable(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Packages whose modules are dropped from ``sys.modules`` afterwards."""
    packages: list[str] = []
    yield packages
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]


def test_a_package_has_one_module_per_kind_plus_plugin_tests_and_metadata() -> None:
    files = render_plugin("shapes", ["solver", "path", "solver"])
    assert sorted(files) == [
        "README.md",
        "flowkit_shapes/__init__.py",
        "flowkit_shapes/paths.py",
        "flowkit_shapes/plugin.py",
        "flowkit_shapes/py.typed",
        "flowkit_shapes/solvers.py",
        "pyproject.toml",
        "tests/test_flowkit_shapes.py",
    ]
    project = tomllib.loads(files["pyproject.toml"])
    assert project["project"]["name"] == "flowkit-shapes"
    assert project["project"]["entry-points"][ENTRY_POINT_GROUP] == {"shapes": "flowkit_shapes.plugin"}
    assert project["project"]["dependencies"][0] == "flowkit-gm>=0.1,<0.2"
    assert project["tool"]["setuptools"]["packages"] == ["flowkit_shapes"]
    assert f"FLOWKIT_PLUGIN_API = {PLUGIN_API_VERSION}\n" in files["flowkit_shapes/plugin.py"]
    assert (
        "def flowkit_paths() -> list[type[ProbabilityPath]]:\n    return [ShapesPath]"
        in files["flowkit_shapes/plugin.py"]
    )
    assert (
        "def flowkit_solvers() -> list[type[Solver]]:\n    return [ShapesSolver]" in files["flowkit_shapes/plugin.py"]
    )
    assert (
        '== [\n        ("path", "shapes"),\n        ("solver", "shapes"),\n    ]'
        in files["tests/test_flowkit_shapes.py"]
    )
    readme = files["README.md"]
    assert "flowkit plugins show path shapes\nflowkit plugins show solver shapes" in readme
    assert '"sample": {"solver": {"name": "shapes", "params": {"steps": 50}}}' in readme


def test_kinds_default_to_a_path_and_keep_flowkits_order() -> None:
    assert DEFAULT_KINDS == ("path",)
    assert check_kinds([]) == ("path",)
    assert check_kinds(["metric", "dataset", "path", "metric"]) == ("path", "dataset", "metric")
    assert sorted(render_plugin("lonely")) == sorted(render_plugin("lonely", ["path"]))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("My-Plugin", "invalid plugin name 'My-Plugin': use lowercase letters, digits and underscores"),
        ("9lives", "invalid plugin name '9lives'"),
        ("", "invalid plugin name ''"),
    ],
)
def test_invalid_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        render_plugin(name)


def test_unknown_kinds_are_refused_listing_the_kinds() -> None:
    with pytest.raises(ScaffoldError, match="unknown kind 'sampler'; kinds are: path, parameterization, objective"):
        render_plugin("fine", ["path", "sampler"])


def test_create_refuses_taken_names_and_occupied_folders_but_fills_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ScaffoldError, match="a plugin named 'data' is already installed"):
        create_plugin("data", output=tmp_path)
    site = tmp_path / "site"
    (site / "flowkit_shadowed").mkdir(parents=True)
    (site / "flowkit_shadowed" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ScaffoldError, match="a package named 'flowkit_shadowed' is already importable"):
        create_plugin("shadowed", output=tmp_path)
    (tmp_path / "flowkit-empty").mkdir()
    result = create_plugin("empty", output=tmp_path)
    assert result.root == tmp_path / "flowkit-empty"
    assert (result.root / "flowkit_empty" / "paths.py").is_file()
    with pytest.raises(ScaffoldError, match="already exists and is not empty"):
        create_plugin("empty", output=tmp_path)


def test_generated_code_is_lint_clean(tmp_path: Path) -> None:
    result = create_plugin("lint_me", ALL_KINDS, tmp_path)
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        proc = subprocess.run([str(BIN / "ruff"), *args], cwd=result.root, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_template_passes_the_conformance_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, importable: list[str]
) -> None:
    result = create_plugin("conform_me", ALL_KINDS, tmp_path)
    monkeypatch.syspath_prepend(str(result.root))
    importable.append(result.package)
    import importlib

    plugin = importlib.import_module(f"{result.package}.plugin")
    checked = check_plugin(plugin, "conform_me")
    assert [(cls.kind, cls.name) for cls in checked] == [(kind, "conform_me") for kind in ALL_KINDS]


def _venv_with_flowkit(where: Path) -> Path:
    """A venv without pip that sees this environment's packages (flowkit, torch, pytest) through
    ``site.addsitedir``, so nothing has to be downloaded or reinstalled."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    here = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "flowkit_host_env.pth").write_text(f"import site; site.addsitedir({here!r})\n", encoding="utf-8")
    return python


@pytest.mark.slow
def test_a_generated_package_installs_passes_its_own_tests_and_is_listed(tmp_path: Path) -> None:
    result = create_plugin("fresh_kit", ALL_KINDS, tmp_path / "src")
    python = _venv_with_flowkit(tmp_path / "venv")
    env = _clean_env()

    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", *PIP_LOCAL, str(result.root)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=result.root,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "passed" in tests.stdout and "failed" not in tests.stdout

    listing = subprocess.run(
        [str(python), "-m", "flowkit.cli", "plugins", "list", "--json", "--strict"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert listing.returncode == 0, listing.stderr
    plugins = {p["name"]: p for p in json.loads(listing.stdout)["plugins"]}
    entry = plugins["fresh_kit"]
    assert (entry["status"], entry["distribution"], entry["version"]) == ("ok", "flowkit-fresh-kit", "0.1.0")
    assert entry["provides"] == {kind: ["fresh_kit"] for kind in sorted(ALL_KINDS)}

    show = subprocess.run(
        [str(python), "-m", "flowkit.cli", "plugins", "show", "solver", "fresh_kit"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert show.returncode == 0, show.stderr
    assert show.stdout.splitlines()[1] == "plugin: fresh_kit (flowkit-fresh-kit 0.1.0)"

    # flowkit is installed in editable mode, which mypy cannot follow: point it at the source and
    # treat flowkit like any installed package (its own modules are not checked here)
    source = Path(flowkit.__file__).resolve().parents[1]
    typecheck = subprocess.run(
        [
            str(BIN / "mypy"),
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "mypy"),
            result.package,
        ],
        cwd=result.root,
        capture_output=True,
        text=True,
        env={**env, "MYPYPATH": str(source)},
        timeout=900,
    )
    assert typecheck.returncode == 0, typecheck.stdout[-4000:]


def test_every_kind_has_a_template_read_from_the_kinds_table() -> None:
    assert list(TEMPLATES) == [kind.name for kind in KINDS]
    for kind in KINDS:
        tpl = TEMPLATES[kind.name]
        assert tpl.kind is kind
        assert tpl.module == kind.plural
        assert getattr(importlib.import_module(tpl.base_module), tpl.base) is kind.base
        assert tpl.summary.startswith(f"{kind.name} `$name`: ")


def test_the_import_header_keeps_the_used_names_in_their_written_order() -> None:
    source = '''"""Doc."""

from __future__ import annotations

import math
import os
from importlib import metadata

import torch
from flowkit.testing import (
    ExactVelocityNetwork,
    GaussianTarget,
    ReferencePath,
    check_component,
    check_plugin,
    plugin_components,
    reference_parameterization,
)

print(torch.pi, ReferencePath, check_plugin, plugin_components)
'''
    assert keep_used_imports(source) == (
        '"""Doc."""\n\nfrom __future__ import annotations\n\nimport torch\n'
        "from flowkit.testing import ReferencePath, check_plugin, plugin_components\n\n"
        "print(torch.pi, ReferencePath, check_plugin, plugin_components)\n"
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A package with every kind and one with each kind alone, side by side in one folder."""
    out = tmp_path_factory.mktemp("rendered")
    results = [create_plugin("every_kind", ALL_KINDS, out)]
    results += [create_plugin(f"only_{kind}", [kind], out) for kind in ALL_KINDS]
    return [result.root for result in results]


def test_rendered_templates_pass_ruff_check_and_format(rendered: list[Path]) -> None:
    # each package is linted under the ruff settings of its own pyproject.toml (isort rule included)
    for args in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args, *map(str, rendered)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_rendered_templates_pass_mypy_strict(rendered: list[Path], tmp_path: Path) -> None:
    targets = []
    for root in rendered:
        package = root.name.replace("-", "_")
        targets += [str(root / package), str(root / "tests" / f"test_{package}.py")]
    # an editable flowkit is invisible to mypy: point it at the source tree (not at site-packages,
    # which mypy refuses and where an installed flowkit is found anyway)
    source = Path(flowkit.__file__).resolve().parents[1]
    site_dirs = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    env = _clean_env() if source in site_dirs else {**_clean_env(), "MYPYPATH": str(source)}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path), *targets],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # every_kind: a module per kind, __init__, plugin and tests; each only_KIND: four files
    assert f"no issues found in {len(ALL_KINDS) + 3 + 4 * len(ALL_KINDS)} source files" in proc.stdout
