"""Loading a finished run folder back into live components (for re-sampling and re-evaluation).

A run folder (written by :func:`flowkit.run`) holds ``spec.json`` (the resolved spec; its top-level
``resolved`` key records provenance) and ``model.safetensors``. :func:`load_run` re-validates the spec
against the installed plugins, rebuilds the components and loads the weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowkit.runs.build import Components, build_components
from flowkit.errors import FlowkitError
from flowkit.field import Field
from flowkit.host.manager import PluginHost
from flowkit.runs.folder import load_weights
from flowkit.runs.spec import RunSpecBase, validate_spec

WEIGHTS_FILE = "model.safetensors"
EMA_WEIGHTS_FILE = "model_ema.safetensors"
SPEC_FILE = "spec.json"


@dataclass
class LoadedRun:
    """A run folder brought back to life.

    Attributes:
        folder: the run folder.
        spec: the validated spec (without its ``resolved`` provenance).
        components: the rebuilt components, with the trained weights loaded into ``components.model``.
        provenance: the ``resolved`` record of the run (versions, plugins), as written.
        weights: the weights file that was loaded.
    """

    folder: Path
    spec: RunSpecBase
    components: Components
    provenance: dict[str, Any]
    weights: Path

    def field(self) -> Field:
        """The trained model as a :class:`~flowkit.Field` (the model is put in eval mode)."""
        self.components.model.eval()
        return self.components.field()

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.spec.seed


def load_run(folder: str | Path, host: PluginHost | None = None, *, weights: str | None = None) -> LoadedRun:
    """Load the run in ``folder``: spec re-validated, components rebuilt, ``weights`` loaded.

    Args:
        folder: a run folder written by :func:`flowkit.run`.
        host: the plugin host (default: the process-wide one).
        weights: the weights file inside the folder (e.g. another checkpoint of the same model); by
            default the EMA weights when the spec samples with them (``sample.use_ema``) and the
            folder has them, else ``model.safetensors`` (the weights the run sampled with).

    Raises:
        FlowkitError: the folder or its spec is missing or unreadable (the message names the folder).
        SpecError: the spec no longer validates against the installed plugins.
        CheckpointError: the weights are missing or do not fit the model.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FlowkitError(f"no run folder at {root}")
    spec_path = root / SPEC_FILE
    if not spec_path.is_file():
        raise FlowkitError(f"{root} is not a run folder: it has no {SPEC_FILE}")
    try:
        data = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FlowkitError(f"cannot read {spec_path}: {exc}") from exc
    if not isinstance(data, dict):
        raise FlowkitError(f"{spec_path} does not hold a spec (a JSON object)")
    provenance = data.pop("resolved", {}) or {}
    spec = validate_spec(data, host=host, source=str(spec_path))
    components = build_components(spec, host)
    if weights is None:
        use_ema = bool(getattr(getattr(spec, "sample", None), "use_ema", False))
        weights = EMA_WEIGHTS_FILE if use_ema and (root / EMA_WEIGHTS_FILE).is_file() else WEIGHTS_FILE
    weights_path = root / weights
    load_weights(weights_path, components.model)
    components.model.eval()
    return LoadedRun(root, spec, components, dict(provenance), weights_path)
