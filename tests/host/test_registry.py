"""The registry: lookup by (kind, name), conflicts between plugins, and unknown names."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest

import flowkit_data.plugin
import flowkit_nets.plugin
import flowkit_std.plugin
from flowkit import ComponentConflictError, PluginHost, SpecError, UnknownComponentError
from flowkit.host.registry import Provider, Registration, Registry
from flowkit.runs.spec import validate_spec
from flowkit_std.paths import CondOTPath
from flowkit_std.solvers import EulerSolver, MidpointSolver

MakePlugin = Callable[..., types.ModuleType]


def _conflicting_host(make_plugin: MakePlugin) -> PluginHost:
    """``condot`` provided by two distributions, ``euler`` and ``midpoint`` by one each."""
    host = PluginHost(autoload=False)
    host.register(
        make_plugin("a", flowkit_paths=[CondOTPath], flowkit_solvers=[EulerSolver]),
        "plugin-a",
        distribution="flowkit-a",
        version="1.0",
    )
    host.register(
        make_plugin("b", flowkit_paths=[CondOTPath], flowkit_solvers=[MidpointSolver]),
        "plugin-b",
        distribution="flowkit-b",
        version="2.5",
    )
    return host


CONFLICT = "path 'condot' is provided by both flowkit-a 1.0 and flowkit-b 2.5; uninstall or disable one of them"


def test_a_conflict_uses_neither_provider_and_get_names_both_distributions(
    make_plugin: MakePlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    host = _conflicting_host(make_plugin)
    with pytest.raises(ComponentConflictError) as info:
        host.get("path", "condot")
    assert str(info.value) == CONFLICT
    assert host.registry.names("path") == []
    assert [r.name for r in host.registry.registrations("path")] == []
    [conflict] = host.registry.conflicts
    assert (conflict.kind, conflict.name) == ("path", "condot")
    assert [p.distribution for p in conflict.providers] == ["flowkit-a", "flowkit-b"]
    assert host.registry.conflict("path", "condot") == conflict
    assert host.registry.conflict("solver", "euler") is None
    # What each provides without a conflict is still usable.
    assert host.get("solver", "euler") is EulerSolver
    assert host.get("solver", "midpoint") is MidpointSolver
    # Warned once on stderr, not a plugin failure.
    assert capsys.readouterr().err.splitlines() == [f"flowkit: warning: {CONFLICT}"]
    assert host.failures == []


def test_a_conflict_is_marked_in_the_plugin_listing(make_plugin: MakePlugin) -> None:
    host = _conflicting_host(make_plugin)
    infos = {info.name: info for info in host.plugins()}
    assert infos["plugin-a"].provides == {"path": ["condot (conflict)"], "solver": ["euler"]}
    assert infos["plugin-b"].provides == {"path": ["condot (conflict)"], "solver": ["midpoint"]}
    assert {infos["plugin-a"].status, infos["plugin-b"].status} == {"ok"}


def test_spec_validation_of_a_conflicting_name_fails_naming_both(make_plugin: MakePlugin) -> None:
    host = _conflicting_host(make_plugin)
    spec = {"path": {"name": "condot", "params": {"sigma_min": 0.1}}, "sample": {"solver": {"name": "euler"}}}
    with pytest.raises(SpecError) as info:
        validate_spec(spec, host=host)
    assert f"path.condot: {CONFLICT}" in info.value.problems


def test_a_conflict_on_a_default_component_is_reported_when_the_spec_omits_it(make_plugin: MakePlugin) -> None:
    # condot is the default path: a spec relying on the default must name the conflict, and the
    # other problems of the spec must still be listed with their full location.
    host = _conflicting_host(make_plugin)
    with pytest.raises(SpecError) as info:
        validate_spec({"seed": "x"}, host=host)
    problems = info.value.problems
    assert f"path.condot: {CONFLICT}" in problems
    assert "seed: Input should be a valid integer, unable to parse string as an integer" in problems
    assert "data: Field required" in problems


def test_a_conflict_on_the_default_solver_does_not_hide_other_problems(make_plugin: MakePlugin) -> None:
    host = PluginHost(autoload=False)
    for module, name in [(flowkit_std.plugin, "std"), (flowkit_data.plugin, "data"), (flowkit_nets.plugin, "nets")]:
        host.register(module, name, distribution=f"flowkit-gm-{name}", version="0.1.0")
    host.register(make_plugin("euler2", flowkit_solvers=[EulerSolver]), "euler2", distribution="euler2", version="9")
    spec = {"data": {"name": "moons"}, "model": {"name": "mlp", "params": {"width": 0}}}
    with pytest.raises(SpecError) as info:
        validate_spec(spec, host=host)
    assert info.value.problems == [
        "model.mlp.params.width: Input should be greater than 0",
        "sample.solver.euler: solver 'euler' is provided by both flowkit-gm-std 0.1.0 and euler2 9; "
        "uninstall or disable one of them",
    ]


def test_an_unknown_name_lists_the_installed_ones_and_suggests_a_close_match(builtin_host: PluginHost) -> None:
    with pytest.raises(UnknownComponentError) as info:
        builtin_host.get("path", "condott")
    installed = ", ".join(builtin_host.registry.names("path"))
    assert str(info.value) == f"unknown path 'condott' (did you mean 'condot'?); installed: {installed}"
    with pytest.raises(UnknownComponentError) as info:
        builtin_host.get("solver", "runge-kutta-fehlberg")
    message = str(info.value)
    assert message.startswith("unknown solver 'runge-kutta-fehlberg'; installed: ")
    assert "did you mean" not in message
    assert {"euler", "midpoint", "torchdiffeq"} <= set(message.split("installed: ")[1].split(", "))


def test_an_unknown_kind_lists_the_kinds(builtin_host: PluginHost) -> None:
    with pytest.raises(UnknownComponentError, match=r"unknown component kind 'pathz'; kinds are: path, "):
        builtin_host.get("pathz", "condot")


def test_an_empty_registry_says_nothing_is_installed() -> None:
    host = PluginHost(autoload=False)
    with pytest.raises(UnknownComponentError) as info:
        host.get("dataset", "moons")
    assert str(info.value) == "unknown dataset 'moons'; installed: none (is a plugin providing it installed?)"


def test_registry_lists_are_sorted_and_per_kind() -> None:
    std = Provider("std", "flowkit-gm-std", "0.1.0")
    registrations: list[Any] = [
        Registration("solver", "midpoint", MidpointSolver, std),
        Registration("path", "condot", CondOTPath, std),
        Registration("solver", "euler", EulerSolver, std),
    ]
    registry = Registry(registrations)
    assert registry.names("solver") == ["euler", "midpoint"]
    assert registry.names("metric") == []
    assert [(r.kind, r.name) for r in registry.registrations()] == [
        ("path", "condot"),
        ("solver", "euler"),
        ("solver", "midpoint"),
    ]
    assert registry.registration("solver", "euler").provider == std
    assert registry.conflicts == []


def test_provider_description() -> None:
    assert Provider("std", "flowkit-gm-std", "0.1.0").describe() == "flowkit-gm-std 0.1.0"
    assert Provider("std", "flowkit-gm-std").describe() == "flowkit-gm-std"
    assert Provider("local").describe() == "plugin 'local'"
