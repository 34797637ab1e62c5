"""Training checkpoints: tensors in safetensors, everything else in JSON, written atomically.

A checkpoint is a folder ``checkpoint/`` holding ``tensors.safetensors`` (weights, EMA weights,
optimiser moments, random-number-generator states) and ``state.json`` (step, optimiser
hyper-parameters and anything else that is plain data). It is written to a fresh temporary
folder and swapped in with renames; a crash in between leaves ``checkpoint.old`` behind, which
:func:`load_checkpoint` falls back to. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from flowkit.errors import CheckpointError
from flowkit.runs.folder import CHECKPOINT_STATE, CHECKPOINT_TENSORS, OLD_SUFFIX, save_safetensors, write_json

TENSORS = CHECKPOINT_TENSORS
STATE = CHECKPOINT_STATE


def save_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    """Write a checkpoint to ``folder`` atomically (replacing an older one)."""
    tmp = folder.with_name(folder.name + ".tmp")
    old = folder.with_name(folder.name + OLD_SUFFIX)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_safetensors(tmp / TENSORS, tensors)
    write_json(tmp / STATE, state, indent=1)
    if folder.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old.exists():
        shutil.rmtree(old)


def find_checkpoint(folder: Path) -> Path | None:
    """The complete checkpoint at ``folder`` (or its ``.old`` fallback), if any."""
    for candidate in (folder, folder.with_name(folder.name + OLD_SUFFIX)):
        if (candidate / TENSORS).is_file() and (candidate / STATE).is_file():
            return candidate
    return None


def load_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`; raises :class:`CheckpointError`."""
    found = find_checkpoint(folder)
    if found is None:
        raise CheckpointError(f"no checkpoint in {folder}")
    try:
        tensors = load_file(str(found / TENSORS))
        state = json.loads((found / STATE).read_text(encoding="utf-8"))
    except Exception as exc:
        raise CheckpointError(f"cannot read checkpoint {found}: {exc}") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"cannot read checkpoint {found}: {STATE} is not a JSON object")
    return tensors, state
