"""The run folder: its layout (every file name), atomic writes, weights in safetensors, safe replacement.

A run writes into a staging folder ``<dir>.partial`` next to its target and renames it to
``<dir>`` only when everything is written, so the target is never half-written. An existing
target is replaced only when overwriting was asked for, and only at that final moment. Every file
inside is written through :func:`atomic_write_bytes` (a temporary file and a rename), so a crash
never leaves a half-written file under its real name.

Layout of a run folder (the names are the constants below):

* ``spec.json`` (:data:`SPEC_FILE`): the resolved spec with the provenance of every component;
* ``model.safetensors`` / ``model_ema.safetensors`` (:data:`WEIGHTS_FILE`, :data:`EMA_WEIGHTS_FILE`);
* ``checkpoint/`` (:data:`CHECKPOINT_DIR`): ``tensors.safetensors`` and ``state.json``;
* ``metrics.jsonl`` (:data:`METRICS_FILE`), ``summary.json`` (:data:`SUMMARY_FILE`);
* ``samples.pt`` and ``labels.pt`` (:data:`SAMPLES_FILE`, :data:`LABELS_FILE`);
* pictures: ``samples.png``, ``trajectories.png``, ``loss.png``, ``classes.png``;
* ``tensorboard/`` when asked for;
* ``samples/<solver>-<tag>/`` (:data:`RESAMPLED_DIR`), written by ``flowkit sample``: ``samples.pt``,
  ``labels.pt``, ``samples.png``, ``trajectory.png``, ``info.json``;
* ``evaluations/<tag>.json`` (:data:`EVALUATIONS_DIR`), written by ``flowkit evaluate``.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from flowkit.errors import CheckpointError, FlowkitError, RunFolderError

SPEC_FILE = "spec.json"
WEIGHTS_FILE = "model.safetensors"
EMA_WEIGHTS_FILE = "model_ema.safetensors"
CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_TENSORS = "tensors.safetensors"
CHECKPOINT_STATE = "state.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
SAMPLES_FILE = "samples.pt"
LABELS_FILE = "labels.pt"
SAMPLES_PICTURE = "samples.png"
TRAJECTORIES_PICTURE = "trajectories.png"
LOSS_PICTURE = "loss.png"
CLASSES_PICTURE = "classes.png"
TENSORBOARD_DIR = "tensorboard"
RESAMPLED_DIR = "samples"
RESAMPLED_TRAJECTORY_PICTURE = "trajectory.png"
RESAMPLED_INFO = "info.json"
EVALUATIONS_DIR = "evaluations"
STAGING_SUFFIX = ".partial"
OLD_SUFFIX = ".old"


def _temp_name(path: Path) -> Path:
    """A fresh hidden name next to ``path`` for a file that is renamed onto it once written."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The file gets the permissions of a plain ``open(path, "wb")`` (``0o666`` less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
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


def write_json(path: Path, obj: Any, *, indent: int = 2) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def save_tensor(path: Path, tensor: torch.Tensor) -> None:
    """Save a plain tensor (``torch.load(path, weights_only=True)`` reads it back), atomically."""
    buf = io.BytesIO()
    torch.save(tensor.detach().contiguous().cpu(), buf)
    atomic_write_bytes(path, buf.getvalue())


def load_tensor(path: Path) -> torch.Tensor:
    """A tensor saved by :func:`save_tensor` (loaded with ``weights_only=True``, never unpickled).

    Raises:
        FlowkitError: the file is missing, unreadable or holds something other than a tensor.
    """
    if not path.is_file():
        raise FlowkitError(f"no samples at {path}")
    try:
        value = torch.load(path, weights_only=True)
    except Exception as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise FlowkitError(f"{path} holds pickled objects other than a tensor; refusing to unpickle it") from exc
        raise FlowkitError(f"cannot read {path}: {first_line(exc)}") from exc
    if not isinstance(value, torch.Tensor):
        raise FlowkitError(f"{path} does not hold a tensor")
    return value


def save_figure(path: Path, figure: Any, dpi: int = 110) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def save_safetensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Save tensors as safetensors, atomically, with the permissions of a plain ``open(path, "wb")``."""
    state = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        mode = stat.S_IMODE(os.stat(tmp).st_mode)
        save_file(state, str(tmp), metadata=metadata)
        os.chmod(tmp, mode)  # safetensors writes owner-only files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(path: Path, module: torch.nn.Module, metadata: dict[str, str] | None = None) -> None:
    """Save a module's state dict as safetensors, atomically (see :func:`save_safetensors`)."""
    save_safetensors(path, module.state_dict(), metadata)


def load_weights(path: Path, module: torch.nn.Module) -> None:
    """Load safetensors weights into ``module`` (never unpickles); raises :class:`CheckpointError`."""
    if not path.is_file():
        raise CheckpointError(f"no weights at {path}")
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise CheckpointError(f"cannot read weights from {path}: {first_line(exc)}") from exc
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    resized = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or resized:
        parts = []
        if resized:
            k = resized[0]
            parts.append(
                f"{len(resized)} tensors have other shapes (e.g. {k}: {tuple(state[k].shape)} in the file, "
                f"{tuple(expected[k].shape)} in the model)"
            )
        if missing:
            parts.append(f"{len(missing)} tensors are missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} are not in the model (e.g. {unexpected[0]})")
        raise CheckpointError(
            f"the weights in {path} do not fit the model built from the spec: {'; '.join(parts)}"
            " (was the spec's model changed?)"
        )
    try:
        module.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(f"cannot load weights from {path}: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (torch's refusals run over many lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def is_flowkit_folder(path: Path, marker: str = SPEC_FILE) -> bool:
    """Whether ``path`` is a folder flowkit wrote (it holds ``marker``, e.g. a run's ``spec.json``)."""
    return path.is_dir() and (path / marker).is_file()


class _Lock:
    """An exclusive, non-blocking lock on a file beside a folder being written (POSIX ``flock``).

    Held from :meth:`RunFolder.open` to :meth:`RunFolder.commit` (or :meth:`RunFolder.close`), so two
    processes never write the same staging folder. Where ``fcntl`` does not exist the lock is a no-op.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, what: Path) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise RunFolderError(f"another flowkit process is writing {what} (locked by {self.path})") from exc
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


class RunFolder:
    """A folder being written: files go to ``staging`` until :meth:`commit` renames it to ``target``.

    The promises, each checked before anything is written:

    * an existing ``target`` is replaced only with ``overwrite`` and only when flowkit wrote it
      (it holds ``marker``: a run's ``spec.json``, a re-sampled folder's ``info.json``); a folder a
      person made is never replaced;
    * a staging folder holding a resumable checkpoint (an interrupted run) is never discarded
      without ``overwrite``: the message offers ``--resume``;
    * one process at a time writes a staging folder (a lock file beside it);
    * the old target is moved aside under a fresh hidden name, so nothing else is clobbered.
    """

    def __init__(
        self, target: str | Path, *, overwrite: bool = False, resume: bool = False, marker: str = SPEC_FILE
    ) -> None:
        self.target = Path(target)
        self.overwrite = overwrite
        self.resume = resume
        self.marker = marker
        self.staging = self.target.with_name(self.target.name + STAGING_SUFFIX)
        self._lock = _Lock(self.target.with_name(f".{self.target.name}.lock"))
        self._copied = False
        self.check()

    def check(self) -> None:
        """Raise :class:`RunFolderError` if the target exists and may not be replaced."""
        if not self.target.exists():
            return
        if not self.target.is_dir():
            raise RunFolderError(f"{self.target} exists and is not a folder")
        if not (self.overwrite or self.resume):
            raise RunFolderError(f"run folder {self.target} already exists; pass --overwrite to replace it")
        if self.overwrite and not is_flowkit_folder(self.target, self.marker):
            raise RunFolderError(
                f"{self.target} exists and is not a flowkit folder (it has no {self.marker}); "
                "refusing to replace it, even with --overwrite"
            )

    def open(self) -> Path:
        """Lock, create a fresh staging folder and return it.

        When resuming, the staging folder of an interrupted run is kept as it is; failing that, a
        finished run's folder is copied into staging so training can continue from its checkpoint
        (:meth:`close` removes that copy again if the run stops before committing).

        Raises:
            RunFolderError: another process writes the folder, the staging folder holds an
                interrupted run's checkpoint and neither ``resume`` nor ``overwrite`` was asked for,
                there is nothing to resume, or the folder cannot be created.
        """
        self.check()
        self._lock.acquire(self.staging)
        try:
            return self._open()
        except BaseException:
            self._lock.release()
            raise

    def _open(self) -> Path:
        if self.resume:
            if self.staging.is_dir():
                return self.staging
            if self.target.is_dir():
                shutil.copytree(self.target, self.staging)
                self._copied = True
                return self.staging
            raise RunFolderError(f"nothing to resume: neither {self.staging} nor {self.target} exists")
        if self.staging.exists():
            if (self.staging / CHECKPOINT_DIR).exists() and not self.overwrite:
                raise RunFolderError(
                    f"{self.staging} holds an interrupted run with a checkpoint; continue it with --resume, "
                    "or pass --overwrite to discard it"
                )
            shutil.rmtree(self.staging)
        try:
            self.staging.mkdir(parents=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create run folder {self.staging}: {exc.strerror}") from exc
        return self.staging

    def commit(self) -> Path:
        """Move the finished staging folder into place (replacing the old target if allowed), then unlock."""
        try:
            self.check()
            old = None
            if self.target.exists():
                old = self.target.with_name(f".{self.target.name}.{secrets.token_hex(4)}{OLD_SUFFIX}")
                os.replace(self.target, old)
            os.replace(self.staging, self.target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return self.target
        finally:
            self._lock.release()

    def __enter__(self) -> Path:
        """``with RunFolder(...) as staging:`` opens the folder; leaving the block without
        :meth:`commit` (an error, an interrupt) calls :meth:`close`."""
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Give up without committing: unlock, and remove a staging copy made for resuming a finished run.

        The staging folder of an interrupted run is kept (it is what ``--resume`` continues).
        """
        if self._copied and self.staging.is_dir():
            shutil.rmtree(self.staging, ignore_errors=True)
            self._copied = False
        self._lock.release()
