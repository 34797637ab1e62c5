"""The ``flowkit`` command line: a thin layer over the Python API.

Every error flowkit raises on purpose is printed as ``error: ...`` lines (one per problem) with a
non-zero exit status; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from flowkit.errors import FlowkitError, SpecError
from flowkit.host.kinds import KIND_HOOKS

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_SPEC = 2


class Context:
    """Options shared by every command."""

    def __init__(self, debug: bool, strict_plugins: bool | None) -> None:
        self.debug = debug
        self.strict_plugins = strict_plugins

    def host(self) -> Any:
        from flowkit.host.manager import PluginHost, default_host, set_default_host

        if self.strict_plugins:
            set_default_host(PluginHost(strict=True))
        return default_host()


def _fail(lines: list[str], code: int) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn flowkit errors into ``error:`` lines and an exit status, unless ``--debug``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context().find_object(Context)
        debug = ctx.debug if ctx else False
        try:
            return fn(*args, **kwargs)
        except SpecError as exc:
            if debug:
                raise
            prefix = f"{exc.source}: " if exc.source else ""
            _fail([prefix + p for p in exc.problems], EXIT_SPEC)
        except FlowkitError as exc:
            if debug:
                raise
            _fail([str(exc)], EXIT_ERROR)
        except KeyboardInterrupt:
            if debug:
                raise
            _fail(["interrupted"], 130)
        except Exception as exc:
            if debug:
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            _fail([f"{type(exc).__name__}: {first} (run with --debug for the traceback)"], EXIT_ERROR)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]


pass_context = click.make_pass_decorator(Context)

overrides_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec value, e.g. --set train.steps=20 (repeatable; VALUE is parsed as YAML).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flowkit-gm", prog_name="flowkit")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--strict-plugins",
    is_flag=True,
    default=None,
    help="Fail on any plugin that cannot load or conflicts (also FLOWKIT_STRICT_PLUGINS=1).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    envvar="FLOWKIT_THREADS",
    help="CPU threads torch may use (also FLOWKIT_THREADS); 1 is often fastest for small models or on a busy machine.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, strict_plugins: bool | None, threads: int | None) -> None:
    """Train, sample and evaluate flow-matching and diffusion models from a run spec."""
    ctx.obj = Context(debug, strict_plugins)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


@main.command("run")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder (default: output.dir or runs/<name>).",
)
@click.option("--overwrite", is_flag=True, default=None, help="Replace an existing run folder.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted (or finished) run from its last checkpoint; only steps, logging, "
    "sampling and evaluation settings may change.",
)
@overrides_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary.")
@pass_context
@handle_errors
def run_command(
    ctx: Context,
    spec_file: Path,
    output: Path | None,
    overwrite: bool | None,
    resume: bool,
    overrides: tuple[str, ...],
    quiet: bool,
) -> None:
    """Train, sample and evaluate SPEC (JSON or YAML), writing a run folder.

    The folder is written as <folder>.partial and moved into place when complete; an existing
    folder is replaced only with --overwrite.
    """
    from flowkit.runs.pipeline import run
    from flowkit.runs.spec import load_spec

    host = ctx.host()
    spec = load_spec(spec_file, overrides, host=host)
    result = run(spec, output, overwrite=overwrite, resume=resume, host=host, progress=not quiet)
    if not quiet:
        click.echo(f"run folder: {result.folder}")
        train = result.summary["train"]
        if train["final_loss"] is not None:
            click.echo(
                f"trained {train['steps']} steps in {train['seconds']:.1f} s "
                f"({train['samples_per_s']:.0f} samples/s), final loss {train['final_loss']:.4f}"
            )
        sampled = result.summary["sample"]
        click.echo(
            f"sampled {sampled['num_samples']} with {sampled['solver']} "
            f"({sampled['nfe']} NFE) in {sampled['seconds']:.1f} s"
        )
        for name, r in result.metrics.items():
            click.echo(f"{name}: {r.value:.4f} (data-vs-data noise floor {r.noise_floor:.4f}, ratio {r.ratio:.2f})")


@main.command("validate")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@overrides_option
@pass_context
@handle_errors
def validate_command(ctx: Context, spec_file: Path, overrides: tuple[str, ...]) -> None:
    """Check SPEC against the installed plugins; print the resolved spec as JSON.

    Beyond the spec's own rules, the components are built and checked to fit together (the model
    takes the data, the sample labels are classes of the dataset), exactly as `flowkit run` does
    before it writes anything.
    """
    from flowkit.runs.build import build_components
    from flowkit.runs.spec import load_spec

    host = ctx.host()
    spec = load_spec(spec_file, overrides, host=host)
    build_components(spec, host)
    click.echo(json.dumps(spec.model_dump(mode="json"), indent=2))


@main.command("schema")
@pass_context
@handle_errors
def schema_command(ctx: Context) -> None:
    """Print the JSON Schema of run specs for the installed plugins."""
    from flowkit.runs.spec import spec_json_schema

    click.echo(json.dumps(spec_json_schema(ctx.host()), indent=2))


@main.group("plugins")
def plugins_group() -> None:
    """Inspect installed plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--strict", "strict", is_flag=True, help="Exit with status 1 if any plugin failed to load or two plugins conflict."
)
@pass_context
@handle_errors
def plugins_list(ctx: Context, as_json: bool, strict: bool) -> None:
    """List every plugin: name, distribution, version, status and what it provides."""
    host = ctx.host()
    infos = host.plugins()
    conflicts = [c.message() for c in host.registry.conflicts]
    if as_json:
        click.echo(json.dumps({"plugins": [i.to_dict() for i in infos], "conflicts": conflicts}, indent=2))
    else:
        for info in infos:
            dist = f"{info.distribution} {info.version}" if info.distribution else "(no distribution)"
            click.echo(f"{info.name:<14} {dist:<32} {info.status}")
            if info.error:
                click.echo(f"    error: {info.error}")
            if info.note:
                click.echo(f"    note: {info.note}")
            for kind, names in info.provides.items():
                click.echo(f"    {kind + ':':<18} {', '.join(names)}")
        for line in conflicts:
            click.echo(f"conflict: {line}")
    failed = [i for i in infos if i.status == "failed"]
    if strict and (failed or conflicts):
        problems = [f"plugin {i.name!r} failed to load: {i.error}" for i in failed] + conflicts
        _fail([f"strict: {len(problems)} plugin problem(s)", *problems], EXIT_ERROR)


@plugins_group.command("show")
@click.argument("kind", type=click.Choice(list(KIND_HOOKS)))
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
@handle_errors
def plugins_show(ctx: Context, kind: str, name: str, as_json: bool) -> None:
    """Show one component: its docstring, params (type, default, constraints) and where it comes from."""
    from flowkit.host.describe import describe_component

    info = describe_component(ctx.host().registry.registration(kind, name))
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2))
        return
    provider = f"{info.distribution} {info.version}" if info.distribution else "no distribution"
    click.echo(f"{info.kind} {info.name!r}: {info.class_path}")
    click.echo(f"plugin: {info.plugin} ({provider})")
    if info.source:
        click.echo(f"source: {info.source}")
    for attr, value in info.attributes.items():
        shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        click.echo(f"{attr}: {shown}")
    click.echo("")
    click.echo(info.doc or "(no docstring)")
    click.echo("")
    if not info.params:
        click.echo("params: none")
        return
    click.echo("params:")
    for p in info.params:
        default = "required" if p.required else f"default {json.dumps(p.to_dict()['default'])}"
        constraints = p.constraint_text()
        click.echo(f"  {p.name}: {p.type}, {default}" + (f", {constraints}" if constraints else ""))
        if p.description:
            click.echo(f"      {p.description}")


@plugins_group.command("new")
@click.argument("name")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(list(KIND_HOOKS)),
    help="A component kind to include (repeatable; default: path).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to create the package folder flowkit-NAME in.",
)
@pass_context
@handle_errors
def plugins_new(ctx: Context, name: str, kinds: tuple[str, ...], output: Path) -> None:
    """Write a new plugin package NAME that installs and passes its own tests as generated."""
    from flowkit.scaffold import create_plugin

    result = create_plugin(name, kinds, output)
    click.echo(f"wrote {result.distribution} ({', '.join(result.kinds)}) in {result.root}")
    for path in result.files:
        click.echo(f"  {path.relative_to(result.root)}")
    click.echo("next:")
    click.echo(f"  pip install -e {result.root}")
    click.echo(f"  cd {result.root} && pytest")
    click.echo("  flowkit plugins list")


def _parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs (values parsed as YAML) into a dict; raises :class:`SpecError` for a bad pair."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SpecError([f"--param {item!r} must look like key=value"])
        try:
            out[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


@main.command("sample")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False, path_type=Path))
@click.option("--solver", "solver_name", required=True, help="Solver name (see `flowkit plugins list`).")
@click.option("--steps", type=int, help="Grid steps of a fixed-step, multistep or SDE solver.")
@click.option("--rtol", type=float, help="Relative tolerance of an adaptive solver.")
@click.option("--atol", type=float, help="Absolute tolerance of an adaptive solver.")
@click.option("--num", type=int, help="Number of samples (default: the run's sample.num_samples).")
@click.option("--batch-size", type=int, help="Samples integrated at once (default: the run's).")
@click.option("--seed", type=int, help="Seed (default: the run's).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Any solver param, e.g. grid=logsnr.")
@click.option(
    "--guidance-scale",
    type=click.FloatRange(min=0),
    help="Classifier-free guidance scale of a class-conditional run (default: the run's).",
)
@click.option(
    "--label", "labels", type=int, multiple=True, help="Class to draw (repeatable; default: the run's labels)."
)
@click.option("--tag", help="Name of the output folder RUN/samples/<solver>-<tag> (default: from the params).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@pass_context
@handle_errors
def sample_command(
    ctx: Context,
    run_dir: Path,
    solver_name: str,
    steps: int | None,
    rtol: float | None,
    atol: float | None,
    num: int | None,
    batch_size: int | None,
    seed: int | None,
    params: tuple[str, ...],
    guidance_scale: float | None,
    labels: tuple[int, ...],
    tag: str | None,
    quiet: bool,
) -> None:
    """Sample a trained RUN with any solver; write RUN/samples/<solver>-<tag>/.

    A class-conditional run draws the labels and uses the guidance scale of its spec unless
    --label / --guidance-scale say otherwise.
    """
    from flowkit.runs.finished import build_solver, load_run, sample_run

    host = ctx.host()
    solver_params = _parse_params(params)
    for key, value in (("steps", steps), ("rtol", rtol), ("atol", atol)):
        if value is not None:
            solver_params[key] = value
    solver = build_solver(solver_name, solver_params, host)
    loaded = load_run(run_dir, host)
    out = sample_run(
        loaded,
        solver,
        num=num,
        batch_size=batch_size,
        seed=seed,
        guidance_scale=guidance_scale,
        labels=list(labels) or None,
        tag=tag,
        progress=not quiet,
    )
    if not quiet:
        info = out.info
        click.echo(f"samples: {out.folder}")
        click.echo(f"sampled {info['num_samples']} with {solver.name} ({info['nfe']} NFE) in {info['seconds']:.2f} s")


@main.command("evaluate")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False, path_type=Path))
@click.option("--metric", "metric_names", multiple=True, help="Metric name (repeatable; default: the run's metrics).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Params of each --metric.")
@click.option(
    "--samples",
    "samples_path",
    type=click.Path(path_type=Path),
    help="Samples file (default: RUN/samples.pt; a folder written by `flowkit sample` works too).",
)
@click.option("--seed", type=int, help="Seed of the reference data (default: the run's).")
@click.option(
    "--references",
    type=click.IntRange(min=1),
    help="Independent data sets each metric and its floor are averaged over (default: the run's).",
)
@click.option(
    "--max-points",
    type=click.IntRange(min=1),
    help="Samples each metric scores at most, the first ones (default: the run's evaluate.max_points).",
)
@click.option("--tag", default="latest", show_default=True, help="Writes RUN/evaluations/<tag>.json.")
@pass_context
@handle_errors
def evaluate_command(
    ctx: Context,
    run_dir: Path,
    metric_names: tuple[str, ...],
    params: tuple[str, ...],
    samples_path: Path | None,
    seed: int | None,
    references: int | None,
    max_points: int | None,
    tag: str,
) -> None:
    """Evaluate a RUN's samples with its metrics or named ones (e.g. --metric nll)."""
    from flowkit.runs.finished import build_metric, evaluate_run, load_run, load_samples

    host = ctx.host()
    loaded = load_run(run_dir, host)
    metric_params = _parse_params(params)
    metrics = [build_metric(name, metric_params, host) for name in metric_names] or None
    samples = None
    if samples_path is not None:
        samples = load_samples(samples_path / "samples.pt" if samples_path.is_dir() else samples_path)
    results = evaluate_run(
        loaded, metrics, samples=samples, seed=seed, references=references, tag=tag, max_points=max_points
    )
    for name, r in results.items():
        click.echo(f"{name}: {r.value:.4f} (noise floor {r.noise_floor:.4f}, ratio {r.ratio:.2f})")


if __name__ == "__main__":  # pragma: no cover
    main()
