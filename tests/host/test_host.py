"""The plugin host: discovery through entry points, and isolation of plugins that misbehave."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pytest

from flowkit import PLUGIN_API_VERSION, PluginError, PluginHost
from flowkit.host import PluginInfo
from flowkit.host.hookspecs import ENTRY_POINT_GROUP, KIND_HOOKS
from flowkit_std.paths import CondOTPath
from flowkit_std.solvers import EulerSolver, MidpointSolver

MakePlugin = Callable[..., types.ModuleType]
InstallDist = Callable[..., Path]

BUILTINS: dict[str, tuple[str, dict[str, set[str]]]] = {
    "std": (
        "flowkit-gm-std",
        {
            "path": {"condot"},
            "parameterization": {"velocity", "score", "epsilon", "data"},
            "objective": {"flow_matching"},
            "coupling": {"independent"},
            "solver": {"euler", "midpoint"},
            "metric": {"sliced_w2"},
        },
    ),
    "data": ("flowkit-gm-data", {"dataset": {"checkerboard", "moons", "8gaussians"}}),
    "nets": ("flowkit-gm-nets", {"model": {"mlp"}}),
    "torchdiffeq": ("flowkit-gm-torchdiffeq", {"solver": {"torchdiffeq"}}),
}
"""Each built-in plugin: its distribution and (at least) what it provides."""


def _infos(host: PluginHost) -> dict[str, PluginInfo]:
    return {info.name: info for info in host.plugins()}


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("flowkit: warning:")]


# --- discovery through the real entry points ----------------------------------------------------


def test_builtin_plugins_are_announced_as_entry_points_of_their_own_distributions() -> None:
    eps = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for plugin, (distribution, _) in BUILTINS.items():
        assert plugin in eps, f"entry point {plugin!r} missing from group {ENTRY_POINT_GROUP!r}"
        dist = eps[plugin].dist
        assert dist is not None
        assert dist.name == distribution
    core = metadata.distribution("flowkit-gm")
    assert [ep for ep in core.entry_points if ep.group == ENTRY_POINT_GROUP] == []


def test_builtin_plugins_are_found_with_distribution_version_and_components(builtin_host: PluginHost) -> None:
    infos = _infos(builtin_host)
    assert builtin_host.failures == []
    assert builtin_host.registry.conflicts == []
    for plugin, (distribution, provides) in BUILTINS.items():
        info = infos[plugin]
        assert info.status == "ok"
        assert info.error is None
        assert info.distribution == distribution
        assert info.version == metadata.version(distribution)
        for kind, names in provides.items():
            assert names <= set(info.provides[kind]), (plugin, kind, info.provides)
            for name in names:
                provider = builtin_host.registry.registration(kind, name).provider
                assert (provider.plugin, provider.distribution) == (plugin, distribution)


def test_builtin_components_are_usable_from_the_host(builtin_host: PluginHost) -> None:
    assert builtin_host.get("path", "condot") is CondOTPath
    path = builtin_host.create("path", "condot", {"sigma_min": 0.25})
    assert isinstance(path, CondOTPath)
    assert path.params.sigma_min == 0.25
    assert builtin_host.create("solver", "midpoint").params.steps == 100  # type: ignore[attr-defined]


def test_importing_flowkit_creates_no_plugin_host() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import flowkit, flowkit.cli, flowkit.runs, flowkit.host.manager
        plugins = sorted(m for m in sys.modules if m.split(".")[0] in
                         {"flowkit_std", "flowkit_data", "flowkit_nets", "flowkit_torchdiffeq", "torchdiffeq"})
        print(json.dumps({"host_is_none": flowkit.host.manager._default_host is None, "plugins": plugins}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"host_is_none": True, "plugins": []}


# --- plugins that misbehave -----------------------------------------------------------------------


def test_a_plugin_whose_hook_raises_is_left_out_and_warned_about_once(
    make_plugin: MakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    host = PluginHost(autoload=False)
    host.register(make_plugin("good", flowkit_paths=[CondOTPath]), "good", distribution="good-dist", version="1.0")
    broken = make_plugin("broken", flowkit_paths=[], flowkit_solvers=RuntimeError("cannot reach the GPU\ndetails"))
    assert host.register(broken, "broken", distribution="broken-dist", version="0.3") == "broken"

    assert host.get("path", "condot") is CondOTPath
    assert host.registry.names("solver") == []
    [failure] = host.failures
    assert failure.plugin == "broken"
    assert failure.reason == "hook flowkit_solvers raised RuntimeError: cannot reach the GPU"
    expected = "flowkit: warning: plugin 'broken' (broken-dist 0.3) failed to load: " + failure.reason
    assert _warnings(capsys.readouterr().err) == [expected]

    # Registering another plugin rebuilds the registry: the failure is still recorded but not repeated.
    host.register(make_plugin("more", flowkit_solvers=[EulerSolver]), "more")
    assert host.registry.names("solver") == ["euler"]
    assert [f.plugin for f in host.failures] == ["broken"]
    assert _warnings(capsys.readouterr().err) == []
    infos = _infos(host)
    assert (infos["broken"].status, infos["broken"].provides) == ("failed", {})
    assert infos["broken"].error == failure.reason
    assert (infos["good"].status, infos["more"].status) == ("ok", "ok")


def test_a_failing_hook_discards_what_the_same_plugin_provided_through_other_hooks(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False)
    host.register(make_plugin("half", flowkit_paths=[CondOTPath], flowkit_metrics=ValueError("bad")), "half")
    assert host.registry.names("path") == []
    assert host.registry.names("metric") == []


def test_an_unknown_hook_is_refused_with_its_name(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False)
    typo = make_plugin("typo", flowkit_pathz=[CondOTPath], flowkit_solvers=[EulerSolver])
    assert host.register(typo, "typo", distribution="typo-dist", version="2.0") is None
    assert host.pm.get_plugin("typo") is None
    [failure] = host.failures
    assert failure.reason.startswith("unknown hook flowkit_pathz (known hooks: ")
    for hook in KIND_HOOKS.values():
        assert hook in failure.reason
    assert failure.message().startswith("plugin 'typo' (typo-dist 2.0) failed to load: unknown hook flowkit_pathz")
    assert host.registry.names("solver") == []


class NamelessPath(CondOTPath):
    """A path that forgot to set its ``name``."""

    name: ClassVar[str] = ""


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ([42], "hook flowkit_paths returned 42, which is not a ProbabilityPath subclass"),
        ([CondOTPath()], "which is not a ProbabilityPath subclass"),
        ([EulerSolver], "hook flowkit_paths returned <class 'flowkit_std.solvers.EulerSolver'>, which is not a"),
        ([NamelessPath], "hook flowkit_paths returned NamelessPath without a 'name'"),
        (CondOTPath, "hook flowkit_paths must return a list of classes"),
        ("condot", "hook flowkit_paths must return a list of classes, got str"),
    ],
    ids=["not-a-class", "an-instance", "wrong-kind", "no-name", "bare-class", "a-string"],
)
def test_a_hook_returning_something_else_than_named_classes_of_its_kind_fails_the_plugin(
    make_plugin: MakePlugin, result: Any, reason: str
) -> None:
    host = PluginHost(autoload=False)
    host.register(make_plugin("ok", flowkit_solvers=[MidpointSolver]), "ok")
    host.register(make_plugin("odd", flowkit_paths=result, flowkit_solvers=[EulerSolver]), "odd")
    [failure] = host.failures
    assert failure.plugin == "odd"
    assert reason in failure.reason
    assert host.registry.names("solver") == ["midpoint"]
    assert host.registry.names("path") == []


def test_a_hook_returning_none_provides_nothing_without_failing(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False)
    host.register(make_plugin("quiet", flowkit_paths=None, flowkit_solvers=[EulerSolver]), "quiet")
    assert host.failures == []
    assert _infos(host)["quiet"].provides == {"solver": ["euler"]}


def test_a_plugin_for_another_plugin_api_is_refused_naming_both_versions(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False)
    newer = PLUGIN_API_VERSION + 1
    plugin = make_plugin("future", api=newer, flowkit_paths=[CondOTPath])
    assert host.register(plugin, "future", distribution="future-dist", version="3.1") is None
    [failure] = host.failures
    assert failure.message() == (
        f"plugin 'future' (future-dist 3.1) failed to load: made for flowkit plugin API {newer}, "
        f"but this flowkit provides plugin API {PLUGIN_API_VERSION}"
    )
    assert host.registry.names("path") == []
    current = make_plugin("current", api=PLUGIN_API_VERSION, flowkit_paths=[CondOTPath])
    assert host.register(current, "current") == "current"
    assert host.registry.names("path") == ["condot"]


def test_a_second_plugin_with_a_taken_name_is_refused_and_the_first_keeps_working(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False)
    host.register(make_plugin("first", flowkit_paths=[CondOTPath]), "twin", distribution="first-dist", version="1")
    second = make_plugin("second", flowkit_solvers=[EulerSolver])
    assert host.register(second, "twin", distribution="second-dist", version="2") is None
    infos = _infos(host)
    assert (infos["twin"].status, infos["twin"].distribution, infos["twin"].provides) == (
        "ok",
        "first-dist",
        {"path": ["condot"]},
    )
    [failure] = host.failures
    assert failure.provider.distribution == "second-dist"
    assert failure.reason == "a plugin named 'twin' is already registered"
    assert infos[failure.plugin].status == "failed"
    assert host.registry.names("solver") == []


# --- strict mode -------------------------------------------------------------------------------


def test_strict_mode_turns_a_failed_plugin_into_an_error(
    make_plugin: MakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    host = PluginHost(autoload=False, strict=True)
    host.register(make_plugin("good", flowkit_paths=[CondOTPath]), "good")
    host.register(make_plugin("broken", flowkit_solvers=OSError("disk full")), "broken")
    with pytest.raises(PluginError, match=r"^strict plugin mode: plugin 'broken' failed to load: .*OSError: disk full"):
        _ = host.registry
    with pytest.raises(PluginError):  # every access, not only the first
        host.get("path", "condot")
    assert _warnings(capsys.readouterr().err) == []


def test_strict_mode_turns_a_conflict_into_an_error(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False, strict=True)
    host.register(make_plugin("a", flowkit_paths=[CondOTPath]), "a", distribution="dist-a", version="1")
    host.register(make_plugin("b", flowkit_paths=[CondOTPath]), "b", distribution="dist-b", version="2")
    with pytest.raises(
        PluginError, match="strict plugin mode: path 'condot' is provided by both dist-a 1 and dist-b 2"
    ):
        host.get("path", "condot")


def test_strict_mode_from_the_environment(make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWKIT_STRICT_PLUGINS", "1")
    host = PluginHost(autoload=False)
    assert host.strict
    host.register(make_plugin("old", api=PLUGIN_API_VERSION - 1), "old")
    with pytest.raises(PluginError, match="plugin 'old' failed to load: made for flowkit plugin API"):
        _ = host.registry
    lenient = PluginHost(autoload=False, strict=False)  # the argument wins over the environment
    lenient.register(make_plugin("old", api=PLUGIN_API_VERSION - 1), "old")
    assert [f.plugin for f in lenient.failures] == ["old"]


def test_strict_mode_accepts_healthy_plugins(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False, strict=True)
    host.register(make_plugin("good", flowkit_paths=[CondOTPath]), "good")
    assert host.get("path", "condot") is CondOTPath


# --- disabled plugins ----------------------------------------------------------------------------


def test_disabled_plugins_are_listed_and_provide_nothing(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False, disabled=["off"])
    off = make_plugin("off", flowkit_paths=[CondOTPath])
    assert host.register(off, "off", distribution="off-dist", version="5") is None
    assert host.register(make_plugin("on", flowkit_solvers=[EulerSolver]), "on") == "on"
    info = _infos(host)["off"]
    assert (info.status, info.distribution, info.version, info.provides) == ("disabled", "off-dist", "5", {})
    assert host.registry.names("path") == []
    assert host.registry.names("solver") == ["euler"]
    assert host.failures == []


def test_disabled_plugins_from_the_environment(make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWKIT_DISABLE_PLUGINS", " off , other,")
    host = PluginHost(autoload=False)
    assert host.disabled == {"off", "other"}
    assert host.register(make_plugin("off", flowkit_paths=[CondOTPath]), "off") is None
    assert _infos(host)["off"].status == "disabled"
    assert host.registry.names("path") == []


def test_a_builtin_entry_point_can_be_disabled() -> None:
    host = PluginHost(disabled=["torchdiffeq"])
    info = _infos(host)["torchdiffeq"]
    assert (info.status, info.distribution) == ("disabled", "flowkit-gm-torchdiffeq")
    assert "torchdiffeq" not in host.registry.names("solver")
    assert {"euler", "midpoint"} <= set(host.registry.names("solver"))


def test_trace_prints_each_loading_step(make_plugin: MakePlugin, capsys: pytest.CaptureFixture[str]) -> None:
    host = PluginHost(autoload=False, trace=True)
    host.register(make_plugin("traced", flowkit_paths=[CondOTPath]), "traced")
    assert "flowkit-trace: registered plugin 'traced'" in capsys.readouterr().err


# --- import errors through real entry points ---------------------------------------------------

GOOD_PLUGIN = '''
from typing import ClassVar

from flowkit import hookimpl
from flowkit_std.paths import CondOTPath


class TmpPath(CondOTPath):
    """A path shipped by a third-party distribution."""

    name: ClassVar[str] = "tmp_condot"


@hookimpl
def flowkit_paths():
    return [TmpPath]
'''

BROKEN_PLUGIN = 'raise ImportError("this plugin needs the missing library frobnicate")\n'


def test_an_entry_point_that_fails_to_import_is_recorded_with_its_distribution(
    install_dist: InstallDist, capsys: pytest.CaptureFixture[str]
) -> None:
    group = "flowkit.h1_test_plugins"
    install_dist("flowkit-broken-plugin", "0.0.1", {"broken": "fk_h1_broken"}, {"fk_h1_broken": BROKEN_PLUGIN}, group)
    install_dist("flowkit-good-plugin", "2.0", {"good": "fk_h1_good"}, {"fk_h1_good": GOOD_PLUGIN}, group)

    host = PluginHost(group=group)
    [failure] = host.failures
    assert (failure.plugin, failure.provider.distribution, failure.provider.version) == (
        "broken",
        "flowkit-broken-plugin",
        "0.0.1",
    )
    assert failure.reason == (
        "import of 'fk_h1_broken' raised ImportError: this plugin needs the missing library frobnicate"
    )
    assert _warnings(capsys.readouterr().err) == [
        "flowkit: warning: plugin 'broken' (flowkit-broken-plugin 0.0.1) failed to load: " + failure.reason
    ]
    reg = host.registry.registration("path", "tmp_condot")
    assert (reg.provider.plugin, reg.provider.distribution, reg.provider.version) == (
        "good",
        "flowkit-good-plugin",
        "2.0",
    )
    assert host.registry.names("path") == ["tmp_condot"]  # only this group's plugins were loaded


def test_a_broken_third_party_plugin_in_the_default_group_leaves_the_builtins_working(
    install_dist: InstallDist,
) -> None:
    install_dist("flowkit-broken-plugin", "0.0.1", {"broken": "fk_h1_broken"}, {"fk_h1_broken": BROKEN_PLUGIN})
    install_dist("flowkit-good-plugin", "2.0", {"good": "fk_h1_good"}, {"fk_h1_good": GOOD_PLUGIN})

    host = PluginHost()
    infos = _infos(host)
    assert infos["broken"].status == "failed"
    assert infos["broken"].distribution == "flowkit-broken-plugin"
    assert infos["good"].provides == {"path": ["tmp_condot"]}
    for plugin in BUILTINS:
        assert infos[plugin].status == "ok"
    assert {"condot", "tmp_condot"} <= set(host.registry.names("path"))


UNDESCRIBABLE_PLUGIN = '''
from typing import ClassVar

import torch
from pydantic import ConfigDict

from flowkit import hookimpl
from flowkit_std.paths import CondOTPath


class TensorParamPath(CondOTPath):
    """A path whose params hold a tensor, which no JSON schema can describe."""

    name: ClassVar[str] = "tensor_param"

    class Params(CondOTPath.Params):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        offset: torch.Tensor | None = None


@hookimpl
def flowkit_paths():
    return [TensorParamPath]
'''


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("raise SystemExit(3)\n", "import of 'fk_h4_bad' raised SystemExit: 3"),
        ("raise KeyboardInterrupt\n", "import of 'fk_h4_bad' raised KeyboardInterrupt"),
        ("raise BaseException('odd')\n", "import of 'fk_h4_bad' raised BaseException: odd"),
        (UNDESCRIBABLE_PLUGIN, "path 'tensor_param' (TensorParamPath): its Params cannot be described: "),
    ],
    ids=["system-exit", "keyboard-interrupt", "base-exception", "undescribable-params"],
)
def test_a_plugin_that_raises_anything_or_cannot_be_described_is_set_aside(
    install_dist: InstallDist, capsys: pytest.CaptureFixture[str], source: str, reason: str
) -> None:
    group = "flowkit.h4_test_plugins"
    install_dist("flowkit-bad-plugin", "0.1", {"bad": "fk_h4_bad"}, {"fk_h4_bad": source}, group)
    install_dist("flowkit-good-plugin", "2.0", {"good": "fk_h4_good"}, {"fk_h4_good": GOOD_PLUGIN}, group)
    host = PluginHost(group=group)
    [failure] = host.failures
    assert failure.plugin == "bad" and failure.reason.startswith(reason), failure.reason
    assert host.registry.names("path") == ["tmp_condot"]
    # everything else keeps working: the spec model and its JSON schema build
    from flowkit.runs.spec import build_spec_model

    assert "path" in build_spec_model(host.registry).model_json_schema()["properties"]
    [warning] = _warnings(capsys.readouterr().err)
    assert "plugin 'bad' (flowkit-bad-plugin 0.1) failed to load" in warning
    with pytest.raises(PluginError, match="strict plugin mode: plugin 'bad'"):
        _ = PluginHost(group=group, strict=True).registry
