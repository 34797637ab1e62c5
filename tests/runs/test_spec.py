"""The run spec: one ``field.path: message`` line per mistake, files, overrides and the schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from flowkit import PluginHost, SpecError
from flowkit.runs.spec import apply_overrides, load_spec, read_spec_file, spec_json_schema, validate_spec
from flowkit_nets.mlp import MLP
from flowkit_std.metrics import SlicedWasserstein
from flowkit_std.paths import CondOTPath

WriteSpec = Callable[..., Path]

BASE: dict[str, Any] = {"data": {"name": "checkerboard"}, "model": {"name": "mlp"}}


def _problems(data: dict[str, Any], host: PluginHost) -> list[str]:
    with pytest.raises(SpecError) as info:
        validate_spec(data, host=host)
    return info.value.problems


def _installed(host: PluginHost, kind: str) -> str:
    return ", ".join(host.registry.names(kind))


# --- one line per mistake, naming the field ------------------------------------------------------


def test_a_minimal_spec_gets_every_default(builtin_host: PluginHost) -> None:
    spec: Any = validate_spec(BASE, host=builtin_host)
    assert spec.component("path") == ("condot", {"sigma_min": 0.0, "t_eps": 1e-5})
    assert spec.component("parameterization") == ("velocity", {"preconditioning": "none", "data_std": 1.0})
    assert spec.component("objective")[0] == "flow_matching"
    assert spec.component("coupling") == ("independent", {})
    assert spec.sample.solver.name == "euler"
    assert [m.name for m in spec.evaluate.metrics] == ["sliced_w2"]
    assert (spec.seed, spec.dtype, spec.train.steps, spec.output.overwrite) == (0, "float32", 2000, False)


def test_a_param_out_of_range(builtin_host: PluginHost) -> None:
    spec = {**BASE, "path": {"name": "condot", "params": {"sigma_min": 1.5}}}
    assert _problems(spec, builtin_host) == ["path.condot.params.sigma_min: Input should be less than 1"]


def test_the_same_mistake_from_python_names_the_same_field() -> None:
    with pytest.raises(ValidationError) as info:
        CondOTPath(sigma_min=1.5)
    [error] = info.value.errors()
    assert (error["loc"], error["msg"]) == (("sigma_min",), "Input should be less than 1")
    with pytest.raises(ValidationError) as info:
        CondOTPath(sigma_mni=0.1)
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [(("sigma_mni",), "Extra inputs are not permitted")]
    with pytest.raises(ValidationError) as info:
        SlicedWasserstein(num_projections=0)
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [
        (("num_projections",), "Input should be greater than 0")
    ]
    with pytest.raises(ValidationError):
        MLP((2,), width=-1)


def test_an_unknown_component_name(builtin_host: PluginHost) -> None:
    spec = {**BASE, "path": {"name": "condott"}}
    assert _problems(spec, builtin_host) == [
        f"path.name: unknown path 'condott' (did you mean 'condot'?); installed: {_installed(builtin_host, 'path')}"
    ]


def test_an_unknown_solver_and_metric_inside_sections(builtin_host: PluginHost) -> None:
    spec = {
        **BASE,
        "sample": {"solver": {"name": "eulr"}},
        "evaluate": {"metrics": [{"name": "sliced_w2"}, {"name": "sliced_w3"}]},
    }
    assert _problems(spec, builtin_host) == [
        f"sample.solver.name: unknown solver 'eulr' (did you mean 'euler'?); "
        f"installed: {_installed(builtin_host, 'solver')}",
        f"evaluate.metrics.1.name: unknown metric 'sliced_w3' (did you mean 'sliced_w2'?); "
        f"installed: {_installed(builtin_host, 'metric')}",
    ]


def test_a_component_without_a_name(builtin_host: PluginHost) -> None:
    spec = {**BASE, "path": {"params": {"sigma_min": 0.1}}}
    assert _problems(spec, builtin_host) == [
        f"path: a component needs a 'name'; installed paths: {_installed(builtin_host, 'path')}"
    ]


def test_a_missing_required_component(builtin_host: PluginHost) -> None:
    assert _problems({"model": {"name": "mlp"}}, builtin_host) == ["data: Field required"]


def test_an_unknown_top_level_key(builtin_host: PluginHost) -> None:
    assert _problems({**BASE, "pathh": {"name": "condot"}}, builtin_host) == ["pathh: Extra inputs are not permitted"]


def test_an_unknown_key_inside_params(builtin_host: PluginHost) -> None:
    spec = {**BASE, "path": {"name": "condot", "params": {"sigma_mni": 0.1}}}
    assert _problems(spec, builtin_host) == ["path.condot.params.sigma_mni: Extra inputs are not permitted"]


def test_an_unknown_key_next_to_name_and_params(builtin_host: PluginHost) -> None:
    spec = {**BASE, "path": {"name": "condot", "sigma_min": 0.1}}
    assert _problems(spec, builtin_host) == ["path.condot.sigma_min: Extra inputs are not permitted"]


@pytest.mark.parametrize(
    ("train", "problem"),
    [
        ({"steps": "many"}, "train.steps: Input should be a valid integer, unable to parse string as an integer"),
        ({"steps": -1}, "train.steps: Input should be greater than or equal to 0"),
        ({"lr": 0}, "train.lr: Input should be greater than 0"),
        ({"stepz": 10}, "train.stepz: Extra inputs are not permitted"),
    ],
)
def test_a_bad_train_value(builtin_host: PluginHost, train: dict[str, Any], problem: str) -> None:
    assert _problems({**BASE, "train": train}, builtin_host) == [problem]


def test_a_bad_metric_param(builtin_host: PluginHost) -> None:
    spec = {**BASE, "evaluate": {"metrics": [{"name": "sliced_w2", "params": {"num_projections": 0}}]}}
    assert _problems(spec, builtin_host) == [
        "evaluate.metrics.0.sliced_w2.params.num_projections: Input should be greater than 0"
    ]


def test_a_bad_value_in_fixed_fields(builtin_host: PluginHost) -> None:
    assert _problems({**BASE, "dtype": "float16"}, builtin_host) == ["dtype: Input should be 'float32' or 'float64'"]
    assert _problems({**BASE, "path": "condot"}, builtin_host) == [
        "path: Input should be a valid dictionary or object to extract fields from"
    ]


def test_several_problems_give_several_lines(builtin_host: PluginHost) -> None:
    spec = {
        "seed": "x",
        "data": {"name": "checkerbord"},
        "model": {"name": "mlp", "params": {"width": -1}},
        "train": {"batch_size": 0},
        "output": {"overwrite": "perhaps"},
    }
    problems = _problems(spec, builtin_host)
    assert len(problems) == 5
    assert sorted(p.split(":")[0] for p in problems) == sorted(
        ["seed", "data.name", "model.mlp.params.width", "train.batch_size", "output.overwrite"]
    )
    with pytest.raises(SpecError) as info:
        validate_spec(spec, host=builtin_host, source="mine.json")
    assert str(info.value) == "mine.json: " + "; ".join(problems)


def test_every_problem_is_one_line(builtin_host: PluginHost) -> None:
    spec: dict[str, Any] = {"data": {"name": 3}, "model": [], "path": {"name": "condot", "params": [1]}, "sample": None}
    problems = _problems(spec, builtin_host)
    assert len(problems) == 4
    assert all("\n" not in p for p in problems)


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_json_and_yaml_files_load(
    builtin_host: PluginHost, write_spec: WriteSpec, tiny_spec: dict[str, Any], suffix: str
) -> None:
    del tiny_spec["name"]
    path = write_spec(tiny_spec, stem="from-file", suffix=suffix)
    spec: Any = load_spec(path, host=builtin_host)
    assert spec.name == "from-file"  # named after the file when the spec has no name
    assert spec.model.params.width == 16
    assert spec.sample.solver.params.steps == 4
    assert spec.evaluate.metrics[0].params.num_projections == 16


def test_a_name_in_the_file_wins_over_the_file_name(builtin_host: PluginHost, write_spec: WriteSpec) -> None:
    assert load_spec(write_spec({**BASE, "name": "given"}, stem="other"), host=builtin_host).name == "given"


def test_problems_in_a_file_name_the_file(builtin_host: PluginHost, write_spec: WriteSpec) -> None:
    path = write_spec({**BASE, "train": {"steps": -3}}, suffix=".yaml")
    with pytest.raises(SpecError) as info:
        load_spec(path, host=builtin_host)
    assert info.value.source == str(path)
    assert info.value.problems == ["train.steps: Input should be greater than or equal to 0"]


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("bad.json", '{"data": {"name": "moons"},}', "cannot parse: Expecting property name enclosed in double quotes"),
        ("bad.yaml", "data: {name: moons\nmodel: mlp\n", "cannot parse: "),
        ("list.yaml", "- data\n- model\n", "the spec must be a mapping (a JSON object)"),
        ("empty.yml", "", "the spec must be a mapping (a JSON object)"),
    ],
)
def test_an_unparsable_file_is_named(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        read_spec_file(path)
    assert info.value.source == str(path)
    [line] = info.value.problems
    assert line.startswith(problem)
    assert str(info.value).startswith(f"{path}: ")


def test_a_yaml_parse_error_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  name: moons\nmodel: {name: mlp\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        read_spec_file(path)
    assert "(line 4, column 1)" in info.value.problems[0]


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"no such spec file: .*nowhere\.json"):
        load_spec(tmp_path / "nowhere.json")


# --- overrides ---------------------------------------------------------------------------------


def test_overrides_set_nested_values_parsed_as_yaml() -> None:
    data = {"train": {"steps": 10}, "evaluate": {"metrics": [{"name": "sliced_w2"}, {"name": "other"}]}}
    out = apply_overrides(
        data,
        [
            "train.steps=20",
            "train.lr=0.5",
            "train.grad_clip=null",
            "output.plots=false",
            "evaluate.metrics.1.params.num_projections=64",
            "model={name: mlp, params: {width: 8}}",
            "name=run one",
        ],
    )
    assert out == {
        "train": {"steps": 20, "lr": 0.5, "grad_clip": None},
        "evaluate": {"metrics": [{"name": "sliced_w2"}, {"name": "other", "params": {"num_projections": 64}}]},
        "output": {"plots": False},
        "model": {"name": "mlp", "params": {"width": 8}},
        "name": "run one",
    }
    assert data["train"] == {"steps": 10}  # the input is not modified
    assert "params" not in data["evaluate"]["metrics"][1]  # type: ignore[index]


def test_an_override_replaces_a_list_item() -> None:
    assert apply_overrides({"l": [1, 2]}, ["l.1=[3, 4]"]) == {"l": [1, [3, 4]]}


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ("train.steps", "override 'train.steps' must look like key.sub=value"),
        ("=3", "override '=3' must look like key.sub=value"),
        ("train..steps=3", "override 'train..steps=3' has an empty key part"),
        ("evaluate.metrics.2.name=x", "override evaluate.metrics.2.name: evaluate.metrics has no item 2"),
        ("evaluate.metrics.first.name=x", "override evaluate.metrics.first.name: evaluate.metrics has no item first"),
        ("evaluate.metrics.0.name.x=1", "override evaluate.metrics.0.name.x: evaluate.metrics.0 is not a mapping"),
    ],
)
def test_a_bad_override(override: str, problem: str) -> None:
    data = {"train": {"steps": 1}, "evaluate": {"metrics": ["sliced_w2"]}}
    with pytest.raises(SpecError) as info:
        apply_overrides(data, [override])
    assert info.value.problems == [problem]


def test_overrides_apply_before_validation(builtin_host: PluginHost, write_spec: WriteSpec) -> None:
    path = write_spec({**BASE, "path": {"name": "condot"}, "evaluate": {"metrics": [{"name": "sliced_w2"}]}})
    overrides = ["path.params.sigma_min=0.01", "evaluate.metrics.0.params.num_projections=7", "train.lr=3e-4"]
    spec: Any = load_spec(path, overrides, host=builtin_host)
    assert spec.path.params.sigma_min == 0.01
    assert spec.evaluate.metrics[0].params.num_projections == 7
    assert spec.train.lr == 3e-4  # YAML 1.1 reads 3e-4 as a string; validation makes it the float
    with pytest.raises(SpecError) as info:
        load_spec(path, ["path.params.sigma_min=2"], host=builtin_host)
    assert info.value.problems == ["path.condot.params.sigma_min: Input should be less than 1"]


def test_overriding_params_of_a_defaulted_component_asks_for_its_name(
    builtin_host: PluginHost, write_spec: WriteSpec
) -> None:
    path = write_spec(BASE)
    with pytest.raises(SpecError) as info:
        load_spec(path, ["path.params.sigma_min=0.01"], host=builtin_host)
    assert info.value.problems == [
        f"path: a component needs a 'name'; installed paths: {_installed(builtin_host, 'path')}"
    ]
    spec: Any = load_spec(path, ["path.name=condot", "path.params.sigma_min=0.01"], host=builtin_host)
    assert spec.path.params.sigma_min == 0.01


# --- the schema ---------------------------------------------------------------------------------


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"const", "enum"}:
                yield from (value if isinstance(value, list) else [value])
            else:
                yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def test_the_schema_names_every_installed_component(builtin_host: PluginHost) -> None:
    schema = spec_json_schema(builtin_host)
    json.dumps(schema)  # plain JSON
    names = set(_strings(schema))
    registrations = builtin_host.registry.registrations()
    assert len(registrations) >= 15
    missing = [(r.kind, r.name) for r in registrations if r.name not in names]
    assert missing == []
    assert {"data", "model", "path", "train", "sample", "evaluate", "output"} <= set(schema["properties"])
    assert set(schema["required"]) == {"data", "model"}
    assert schema["additionalProperties"] is False


def test_a_missing_required_param_names_its_component(builtin_host: PluginHost) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec({**BASE, "data": {"name": "file"}}, host=builtin_host)
    assert info.value.problems == ["data.file.params.path: Field required"]
