"""Plugin inspection and control: the allow-list, tracing, API-version refusal, and the
``flowkit plugins list --strict`` / ``show`` / ``new`` commands."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from click.testing import CliRunner, Result
from pydantic import Field

import flowkit.host.manager
from flowkit import PLUGIN_API_VERSION, PluginHost
from flowkit.cli import main
from flowkit.host import PluginInfo, set_default_host
from flowkit.host.describe import describe_component, describe_params
from flowkit.testing import ReferencePath

MakePlugin = Callable[..., types.ModuleType]
InstallDist = Callable[..., Path]

OLD_API_PLUGIN = """
from flowkit import hookimpl
from flowkit.testing import ReferencePath

FLOWKIT_PLUGIN_API = 99


@hookimpl
def flowkit_paths():
    return [ReferencePath]
"""


class FancyPath(ReferencePath):
    """A path with one param of each flavour.

    The body of the docstring says what the params do.
    """

    name: ClassVar[str] = "fancy"

    class Params(ReferencePath.Params):
        scale: float = Field(1.5, gt=0.0, le=10.0, description="Multiplies nothing; shown by plugins show.")
        mode: Literal["a", "b"] = Field("a", description="A choice.")
        sizes: tuple[int, ...] = Field((2, 3), min_length=1, description="A tuple default.")
        note: str | None = None


class TwinPath(ReferencePath):
    """Another class claiming the name 'fancy'."""

    name: ClassVar[str] = "fancy"


@pytest.fixture(autouse=True)
def _no_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWKIT_PLUGINS", raising=False)


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def _infos(host: PluginHost) -> dict[str, PluginInfo]:
    return {info.name: info for info in host.plugins()}


def _fake_host(make_plugin: MakePlugin, **plugins: dict[str, list[type]]) -> PluginHost:
    host = PluginHost(autoload=False, strict=False, disabled=[], only=[], trace=False)
    for name, hooks in plugins.items():
        host.register(make_plugin(f"fk_cli_{name}", **hooks), name)
    set_default_host(host)
    return host


# --- the allow-list -----------------------------------------------------------------------------


def test_the_allow_list_loads_only_named_plugins_and_lists_the_others_as_disabled() -> None:
    host = PluginHost(strict=False, disabled=[], only=["std"], trace=False)
    infos = _infos(host)
    assert infos["std"].status == "ok"
    for name in ("data", "nets", "torchdiffeq"):
        assert infos[name].status == "disabled"
        assert infos[name].note == "not in the allow-list (FLOWKIT_PLUGINS or only=): std"
        assert infos[name].provides == {}
    assert "condot" in host.registry.names("path")
    assert "mlp" not in host.registry.names("model")


def test_the_disabled_list_wins_over_the_allow_list() -> None:
    host = PluginHost(strict=False, disabled=["nets"], only=["std", "nets"], trace=False)
    infos = _infos(host)
    assert (infos["nets"].status, infos["nets"].note) == (
        "disabled",
        "disabled by name (FLOWKIT_DISABLE_PLUGINS or disabled=)",
    )
    assert infos["std"].status == "ok"


def test_an_empty_allow_list_allows_every_plugin(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False, strict=False, disabled=[], only=[], trace=False)
    assert host.register(make_plugin("fk_cli_any", flowkit_paths=[FancyPath]), "any") == "any"
    assert host.registry.names("path") == ["fancy"]


def test_the_allow_list_applies_to_registered_modules_too(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False, strict=False, disabled=[], only=["kept"], trace=False)
    assert host.register(make_plugin("fk_cli_dropped", flowkit_paths=[FancyPath]), "dropped") is None
    assert host.register(make_plugin("fk_cli_kept", flowkit_paths=[TwinPath]), "kept") == "kept"
    assert _infos(host)["dropped"].status == "disabled"
    assert host.registry.get("path", "fancy") is TwinPath


def test_allow_list_and_tracing_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWKIT_PLUGINS", " data ,")
    monkeypatch.setenv("FLOWKIT_TRACE_PLUGINS", "1")
    host = PluginHost(strict=False, disabled=[])
    assert host.only == {"data"}
    assert host.trace is True
    err = capsys.readouterr().err.splitlines()
    assert "flowkit-trace: loading plugin 'data' from flowkit_data.plugin (flowkit-gm-data 0.1.0)" in err
    assert "flowkit-trace: registered plugin 'data'" in err
    assert "flowkit-trace: plugin 'std' not in the allow-list (FLOWKIT_PLUGINS or only=): data" in err
    assert not any("loading plugin 'std'" in line for line in err)
    assert "checkerboard" in host.registry.names("dataset")


def test_tracing_is_silent_when_off(capsys: pytest.CaptureFixture[str]) -> None:
    PluginHost(strict=False, disabled=[], only=[], trace=False)
    assert "flowkit-trace" not in capsys.readouterr().err


# --- the plugin API version ---------------------------------------------------------------------


def test_an_installed_plugin_for_another_api_is_refused_naming_it_and_both_versions(
    install_dist: InstallDist, capsys: pytest.CaptureFixture[str]
) -> None:
    install_dist("flowkit-oldapi", "2.0.0", {"oldapi": "fk_cli_oldapi"}, {"fk_cli_oldapi": OLD_API_PLUGIN})
    host = PluginHost(strict=False, disabled=[], only=[], trace=True)
    info = _infos(host)["oldapi"]
    expected = f"made for flowkit plugin API 99, but this flowkit provides plugin API {PLUGIN_API_VERSION}"
    assert (info.status, info.distribution, info.version, info.error) == ("failed", "flowkit-oldapi", "2.0.0", expected)
    err = capsys.readouterr().err
    assert f"flowkit-trace: plugin 'oldapi' failed: {expected}" in err
    assert f"flowkit: warning: plugin 'oldapi' (flowkit-oldapi 2.0.0) failed to load: {expected}" in err
    assert "reference-linear" not in host.registry.names("path")
    assert "condot" in host.registry.names("path")


# --- flowkit plugins list -----------------------------------------------------------------------


def test_plugins_list_shows_why_a_plugin_is_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flowkit.host.manager, "_default_host", None)
    result = invoke("plugins", "list", env={"FLOWKIT_PLUGINS": "std,data"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    nets = lines.index(next(line for line in lines if line.startswith("nets ")))
    assert lines[nets].endswith("disabled")
    assert lines[nets + 1] == "    note: not in the allow-list (FLOWKIT_PLUGINS or only=): data, std"

    monkeypatch.setattr(flowkit.host.manager, "_default_host", None)
    listing = json.loads(invoke("plugins", "list", "--json", env={"FLOWKIT_PLUGINS": "std,data"}).stdout)
    plugins = {p["name"]: p for p in listing["plugins"]}
    assert (plugins["nets"]["status"], plugins["nets"]["note"]) == (
        "disabled",
        "not in the allow-list (FLOWKIT_PLUGINS or only=): data, std",
    )
    assert (plugins["std"]["status"], plugins["std"]["note"]) == ("ok", None)


def test_plugins_list_strict_passes_when_every_plugin_loads(make_plugin: MakePlugin) -> None:
    _fake_host(make_plugin, one={"flowkit_paths": [FancyPath]})
    result = invoke("plugins", "list", "--strict")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == ["one", "(no", "distribution)", "ok"]


def test_plugins_list_strict_exits_1_on_a_failed_plugin_after_listing_it(
    install_dist: InstallDist, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_dist("flowkit-oldapi", "2.0.0", {"oldapi": "fk_cli_oldapi2"}, {"fk_cli_oldapi2": OLD_API_PLUGIN})
    monkeypatch.setattr(flowkit.host.manager, "_default_host", None)
    result = invoke("plugins", "list", "--strict")
    assert result.exit_code == 1
    reason = f"made for flowkit plugin API 99, but this flowkit provides plugin API {PLUGIN_API_VERSION}"
    assert f"    error: {reason}" in result.stdout.splitlines()
    assert "std " in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: strict: 1 plugin problem(s)", f"error: plugin 'oldapi' failed to load: {reason}"]

    plain = invoke("plugins", "list")
    assert plain.exit_code == 0


def test_plugins_list_strict_exits_1_on_a_conflict_and_json_still_prints(make_plugin: MakePlugin) -> None:
    _fake_host(make_plugin, one={"flowkit_paths": [FancyPath]}, two={"flowkit_paths": [TwinPath]})
    result = invoke("plugins", "list", "--json", "--strict")
    assert result.exit_code == 1
    listing = json.loads(result.stdout)
    conflict = "path 'fancy' is provided by both plugin 'one' and plugin 'two'; uninstall or disable one of them"
    assert listing["conflicts"] == [conflict]
    assert result.stderr.splitlines()[-2:] == ["error: strict: 1 plugin problem(s)", f"error: {conflict}"]


# --- flowkit plugins show -----------------------------------------------------------------------


def test_plugins_show_prints_docstring_params_and_provider(make_plugin: MakePlugin) -> None:
    _fake_host(make_plugin, fancyplug={"flowkit_paths": [FancyPath]})
    result = invoke("plugins", "show", "path", "fancy")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0] == f"path 'fancy': {__name__}.FancyPath"
    assert out[1] == "plugin: fancyplug (no distribution)"
    assert out[2].startswith("source: ") and out[2].endswith(f"{Path(__file__).name}:{_line_of('class FancyPath')}")
    assert out[3] == "quantities: velocity, score, epsilon, data"
    assert out[5:8] == [
        "A path with one param of each flavour.",
        "",
        "The body of the docstring says what the params do.",
    ]
    params = out[out.index("params:") + 1 :]
    assert params == [
        "  t_eps: float, default 0.001, > 0.0, < 0.5",
        "      Margin kept from both ends.",
        "  scale: float, default 1.5, > 0.0, <= 10.0",
        "      Multiplies nothing; shown by plugins show.",
        "  mode: Literal['a', 'b'], default \"a\"",
        "      A choice.",
        "  sizes: tuple[int, ...], default [2, 3], min length 1",
        "      A tuple default.",
        "  note: str | None, default null",
    ]


def _line_of(text: str) -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(text))


def test_plugins_show_json(make_plugin: MakePlugin) -> None:
    _fake_host(make_plugin, fancyplug={"flowkit_paths": [FancyPath]})
    info = json.loads(invoke("plugins", "show", "path", "fancy", "--json").stdout)
    assert (info["kind"], info["name"], info["plugin"], info["distribution"]) == ("path", "fancy", "fancyplug", None)
    assert info["summary"] == "A path with one param of each flavour."
    assert info["attributes"] == {"quantities": ["velocity", "score", "epsilon", "data"]}
    scale = next(p for p in info["params"] if p["name"] == "scale")
    assert scale == {
        "name": "scale",
        "type": "float",
        "required": False,
        "default": 1.5,
        "constraints": {"gt": 0.0, "le": 10.0},
        "description": "Multiplies nothing; shown by plugins show.",
    }


def test_plugins_show_names_the_distribution_of_a_builtin() -> None:
    result = invoke("plugins", "show", "solver", "euler")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[1] == "plugin: std (flowkit-gm-std 0.1.0)"
    assert out[2].startswith("source: ") and "flowkit_std" in out[2]
    assert "stochastic: False" in out


def test_plugins_show_refuses_unknown_and_conflicting_names(make_plugin: MakePlugin) -> None:
    _fake_host(make_plugin, one={"flowkit_paths": [FancyPath]}, two={"flowkit_paths": [TwinPath, ReferencePath]})
    unknown = invoke("plugins", "show", "path", "referense-linear")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip().splitlines()[-1] == (
        "error: unknown path 'referense-linear' (did you mean 'reference-linear'?); installed: reference-linear"
    )
    conflict = invoke("plugins", "show", "path", "fancy")
    assert conflict.exit_code == 1
    assert "provided by both plugin 'one' and plugin 'two'" in conflict.stderr
    bad_kind = invoke("plugins", "show", "paths", "fancy")
    assert bad_kind.exit_code == 2
    assert "'paths' is not one of" in bad_kind.stderr


def test_describe_marks_required_params_and_reads_the_registration(make_plugin: MakePlugin) -> None:
    class Needs(ReferencePath.Params):
        size: int = Field(..., ge=1, description="Required.")

    (size,) = [p for p in describe_params(Needs) if p.name == "size"]
    assert (size.required, size.default, size.constraint_text()) == (True, None, ">= 1")
    host = _fake_host(make_plugin, fancyplug={"flowkit_paths": [FancyPath]})
    info = describe_component(host.registry.registration("path", "fancy"))
    assert info.class_path == f"{__name__}.FancyPath"
    assert [p.name for p in info.params] == ["t_eps", "scale", "mode", "sizes", "note"]


# --- flowkit plugins new ------------------------------------------------------------------------


def test_plugins_new_writes_a_package_and_says_what_to_do_next(tmp_path: Path) -> None:
    result = invoke("plugins", "new", "cli_made", "--kind", "solver", "--kind", "path", "--output", tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "flowkit-cli-made"
    out = result.stdout.splitlines()
    assert out[0] == f"wrote flowkit-cli-made (path, solver) in {root}"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "flowkit_cli_made/__init__.py",
        "flowkit_cli_made/paths.py",
        "flowkit_cli_made/plugin.py",
        "flowkit_cli_made/py.typed",
        "flowkit_cli_made/solvers.py",
        "pyproject.toml",
        "tests/test_flowkit_cli_made.py",
    ]
    assert sorted(line.strip() for line in out[1 : 1 + len(files)]) == files
    assert out[-3:] == [f"  pip install -e {root}", f"  cd {root} && pytest", "  flowkit plugins list"]


def test_plugins_new_refuses_bad_names_taken_names_kinds_and_occupied_folders(tmp_path: Path) -> None:
    bad = invoke("plugins", "new", "My-Plugin", "--output", tmp_path)
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: invalid plugin name 'My-Plugin': use lowercase letters")
    taken = invoke("plugins", "new", "std", "--output", tmp_path)
    assert taken.exit_code == 1
    assert taken.stderr.strip() == (
        "error: a plugin named 'std' is already installed (flowkit_std.plugin); choose another name"
    )
    kind = invoke("plugins", "new", "fine", "--kind", "sampler", "--output", tmp_path)
    assert kind.exit_code == 2
    assert "'sampler' is not one of" in kind.stderr
    assert invoke("plugins", "new", "fine", "--output", tmp_path).exit_code == 0
    again = invoke("plugins", "new", "fine", "--output", tmp_path)
    assert again.exit_code == 1
    assert again.stderr.strip() == f"error: {tmp_path / 'flowkit-fine'} already exists and is not empty"
