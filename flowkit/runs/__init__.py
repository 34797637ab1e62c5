"""Runs: from a spec file to a run folder, and from a run folder back to live components.

* :mod:`flowkit.runs.spec`: the run spec, built from the registry, read and validated;
* :mod:`flowkit.runs.build`: live components from a validated spec;
* :mod:`flowkit.runs.folder`: the run-folder layout and its atomic writes;
* :mod:`flowkit.runs.checkpoint`: resumable training checkpoints;
* :mod:`flowkit.runs.pipeline`: a whole run (train, sample, evaluate, write);
* :mod:`flowkit.runs.finished`: a finished run loaded back, re-sampled and re-evaluated;
* :mod:`flowkit.runs.plots`: the pictures a run writes.
"""

from flowkit.runs.build import Components, build_components
from flowkit.runs.finished import LoadedRun, load_run
from flowkit.runs.pipeline import RunResult, run
from flowkit.runs.spec import load_spec, spec_json_schema, validate_spec

__all__ = [
    "Components",
    "LoadedRun",
    "RunResult",
    "build_components",
    "load_run",
    "load_spec",
    "run",
    "spec_json_schema",
    "validate_spec",
]
