"""The run folder: atomic file writes, weights in safetensors, and safe replacement.

A run writes into a staging folder ``<dir>.partial`` next to its target and renames it to
``<dir>`` only when everything is written, so the target is never half-written. An existing
target is replaced only when overwriting was asked for, and only at that final moment.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from flowkit.errors import CheckpointError, RunFolderError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def save_weights(path: Path, module: torch.nn.Module, metadata: dict[str, str] | None = None) -> None:
    """Save a module's state dict as safetensors, atomically."""
    state = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_weights(path: Path, module: torch.nn.Module) -> None:
    """Load safetensors weights into ``module`` (never unpickles); raises :class:`CheckpointError`."""
    if not path.is_file():
        raise CheckpointError(f"no weights at {path}")
    try:
        state = load_file(str(path))
        module.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(f"cannot load weights from {path}: {exc}") from exc


class RunFolder:
    """A run folder being written: files go to ``staging`` until :meth:`commit` renames it to ``target``."""

    def __init__(self, target: str | Path, *, overwrite: bool = False) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        self.staging = self.target.with_name(self.target.name + ".partial")
        self.check()

    def check(self) -> None:
        """Raise :class:`RunFolderError` if the target exists and may not be replaced."""
        if self.target.exists() and not self.overwrite:
            raise RunFolderError(
                f"run folder {self.target} already exists; pass --overwrite (or set output.overwrite) to replace it"
            )
        if self.target.exists() and not self.target.is_dir():
            raise RunFolderError(f"{self.target} exists and is not a folder")

    def open(self) -> Path:
        """Create a fresh staging folder and return it."""
        self.check()
        if self.staging.exists():
            shutil.rmtree(self.staging)
        try:
            self.staging.mkdir(parents=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create run folder {self.staging}: {exc.strerror}") from exc
        return self.staging

    def commit(self) -> Path:
        """Move the finished staging folder into place (replacing the old target if allowed)."""
        self.check()
        old = None
        if self.target.exists():
            old = self.target.with_name(self.target.name + ".old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.target, old)
        os.replace(self.staging, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target
