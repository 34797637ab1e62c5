"""User data from a file: ``.npy`` (NumPy), ``.pt`` (torch, read weights-only) or ``.csv``.

Rows of the file are examples. Every problem (missing file, unsupported suffix, unreadable
contents, a row that does not parse, NaN, labels that do not match) raises
:class:`~flowkit_data.finite.DatasetError` with a one-line message that starts with the file's
path.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import Tensor

from flowkit_data.finite import DatasetError, Examples, FiniteDataset

SUFFIXES: tuple[str, ...] = (".npy", ".pt", ".csv")
"""File types the ``file`` dataset reads (for data and for labels)."""

PT_KEYS: frozenset[str] = frozenset({"data", "labels"})


def _suffix(path: str) -> str:
    return Path(path).suffix.lower()


def _check_suffix(path: str, field: str) -> None:
    if _suffix(path) not in SUFFIXES:
        raise ValueError(f"{field} {path!r} has unsupported suffix {_suffix(path)!r}; use one of {', '.join(SUFFIXES)}")


def _to_tensor(array: np.ndarray, path: Path) -> Tensor:
    if array.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: values must be numbers, got NumPy dtype {array.dtype}")
    return torch.from_numpy(np.ascontiguousarray(array))


def _read_npy(path: Path) -> Tensor:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise DatasetError(f"{path}: cannot read as a .npy array without unpickling: {first}") from exc
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read as a .npy array: {exc}") from exc
    if not isinstance(array, np.ndarray):
        raise DatasetError(f"{path}: expected one NumPy array, got {type(array).__name__}")
    return _to_tensor(array, path)


def _read_pt(path: Path) -> tuple[Tensor, Tensor | None]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        first = (str(exc).strip().splitlines() or [""])[0]
        raise DatasetError(f"{path}: cannot read as a weights-only torch file: {type(exc).__name__}: {first}") from exc
    if isinstance(obj, Tensor):
        return obj, None
    if isinstance(obj, dict) and "data" in obj:
        extra = sorted(str(k) for k in obj if k not in PT_KEYS)
        if extra:
            raise DatasetError(f"{path}: unexpected keys {extra}; a .pt dict holds 'data' and optionally 'labels'")
        data, labels = obj["data"], obj.get("labels")
        if not isinstance(data, Tensor) or (labels is not None and not isinstance(labels, Tensor)):
            raise DatasetError(f"{path}: 'data' and 'labels' must be tensors")
        return data, labels
    raise DatasetError(
        f"{path}: expected a tensor or a dict with 'data' (and optionally 'labels'), got {type(obj).__name__}"
    )


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _read_csv(path: Path) -> tuple[Tensor, list[str] | None]:
    """Rows of numbers, with an optional header row (detected as a first row that is not all numbers)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # a byte-order mark is not part of the header
            reader = csv.reader(f)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read as CSV: {exc}") from exc
    if not rows:
        raise DatasetError(f"{path}: the file has no rows")
    header: list[str] | None = None
    if any(_parse_number(cell) is None for cell in rows[0][1]):
        header = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise DatasetError(f"{path}: the file has a header but no rows")
    width = len(header) if header is not None else len(rows[0][1])
    values: list[list[float]] = []
    for line, row in rows:
        if len(row) != width:
            raise DatasetError(f"{path}: line {line} has {len(row)} values, expected {width}")
        parsed: list[float] = []
        for column, cell in enumerate(row, start=1):
            number = _parse_number(cell)
            if number is None:
                raise DatasetError(f"{path}: line {line}, column {column}: cannot read {cell.strip()!r} as a number")
            parsed.append(number)
        values.append(parsed)
    return torch.tensor(values, dtype=torch.float64), header


def _labels_from(values: Tensor, source: str, num_classes: int | None) -> tuple[Tensor, int]:
    """Check labels (integers in ``[0, num_classes)``) and return them as long with the class count."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise DatasetError(f"{source}: labels must be one value per example, got shape {tuple(values.shape)}")
    if values.numel() == 0:
        raise DatasetError(f"{source}: no labels")
    if values.is_floating_point():
        if not bool(torch.isfinite(values).all()) or not bool((values == values.round()).all()):
            raise DatasetError(f"{source}: labels must be whole numbers (class indices)")
    elif values.dtype == torch.bool or values.is_complex():
        raise DatasetError(f"{source}: labels must be integer class indices, got {values.dtype}")
    labels = values.to(torch.long)
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise DatasetError(f"{source}: labels must be >= 0, found {low}")
    if num_classes is not None and high >= num_classes:
        raise DatasetError(f"{source}: label {high} is out of range for num_classes {num_classes}")
    return labels, (num_classes if num_classes is not None else high + 1)


class FileDataset(FiniteDataset):
    """Examples read from a ``.npy``, ``.pt`` or ``.csv`` file (one example per row).

    * ``.npy``: one array ``(N, ...)``, read without unpickling (object arrays are refused).
    * ``.pt``: a tensor ``(N, ...)`` or a dict ``{"data": (N, ...), "labels": (N,)}``, read with
      ``torch.load(..., weights_only=True)``, so no code in the file ever runs.
    * ``.csv``: ``N`` rows of numbers, optionally below a header row of column names.

    A one-dimensional array holds ``N`` scalar examples (event shape ``(1,)``). ``shape`` reshapes
    each example (e.g. 64 CSV columns to ``[1, 8, 8]``). Integer data becomes float32, float64
    stays float64. Labels (optional) come from ``labels_path`` (one integer per example), from a
    CSV column (``label_column``, its 0-based index or its header name; the column is removed
    from the data), or from the ``labels`` entry of a ``.pt`` dict; they must be integers in
    ``[0, num_classes)`` (``num_classes`` defaults to the largest label + 1).

    ``scaling`` rescales the examples with statistics of the *training* part only (so the
    validation part is transformed the same way and leaks nothing): ``standardize`` to mean 0
    and std 1, ``minmax`` to ``[-1, 1]``; per coordinate of the example (``per_feature``) or with
    one statistic for all coordinates (suits images). Constant coordinates are only shifted.
    :meth:`to_file_units` undoes the scaling, e.g. for generated samples.

    Relative paths resolve against the current working directory.
    """

    name: ClassVar[str] = "file"

    class Params(FiniteDataset.Params):
        path: str = Field(..., min_length=1, description="The data file (.npy, .pt or .csv).")
        labels_path: str | None = Field(None, min_length=1, description="A file with one class label per example.")
        label_column: int | str | None = Field(
            None, description="CSV only: the column (0-based index or header name) holding the labels."
        )
        num_classes: int | None = Field(None, gt=0, description="Number of classes (default: largest label + 1).")
        shape: tuple[Annotated[int, Field(gt=0)], ...] | None = Field(
            None, min_length=1, description="Reshape each example to this shape, e.g. [1, 8, 8]."
        )
        scaling: Literal["none", "standardize", "minmax"] = Field(
            "none", description="Rescale examples by training statistics: to mean 0 / std 1, or to [-1, 1]."
        )
        per_feature: bool = Field(True, description="Scale each coordinate on its own (else one statistic for all).")

        @model_validator(mode="after")
        def _consistent(self) -> FileDataset.Params:
            _check_suffix(self.path, "path")
            if self.labels_path is not None:
                _check_suffix(self.labels_path, "labels_path")
                if self.label_column is not None:
                    raise ValueError("give labels_path or label_column, not both")
            if self.label_column is not None and _suffix(self.path) != ".csv":
                raise ValueError(f"label_column needs a .csv file, got {self.path!r}")
            labelled = self.labels_path is not None or self.label_column is not None or _suffix(self.path) == ".pt"
            if self.num_classes is not None and not labelled:
                raise ValueError("num_classes needs labels (labels_path or label_column)")
            return self

    params: Params

    def __init__(self, **params: Any) -> None:
        self.offset: Tensor = torch.zeros(())
        self.scale: Tensor = torch.ones(())
        super().__init__(**params)

    def describe(self) -> str:
        return str(self._file)

    @property
    def _file(self) -> Path:
        return Path(self.params.path).expanduser()

    def load(self) -> Examples:
        p = self.params
        path = self._file
        if not path.is_file():
            raise DatasetError(f"{path}: no such file")
        suffix = _suffix(p.path)
        labels: Tensor | None = None
        labels_source = str(path)
        if suffix == ".npy":
            data = _read_npy(path)
        elif suffix == ".pt":
            data, labels = _read_pt(path)
        else:
            data, header = _read_csv(path)
            if p.label_column is not None:
                column = self._column_index(p.label_column, header, data.shape[1], path)
                labels = data[:, column]
                keep = [j for j in range(data.shape[1]) if j != column]
                if not keep:
                    raise DatasetError(f"{path}: no data columns besides the label column")
                data = data[:, keep]
                labels_source = f"{path} (column {p.label_column!r})"
        if data.is_complex():
            raise DatasetError(f"{path}: values must be real numbers, got {data.dtype}")
        if data.ndim == 0 or data.shape[0] == 0:
            raise DatasetError(f"{path}: no examples (data of shape {tuple(data.shape)})")
        if data.ndim == 1:
            data = data[:, None]
        if p.labels_path is not None:
            if labels is not None:
                raise DatasetError(f"{path}: holds labels already; drop labels_path or the file's 'labels' entry")
            labels = self._read_labels_file(Path(p.labels_path).expanduser())
            labels_source = str(Path(p.labels_path).expanduser())
        data = data.to(torch.float64 if data.dtype == torch.float64 else torch.float32)
        if p.shape is not None:
            size, want = math.prod(data.shape[1:]), math.prod(p.shape)
            if size != want:
                raise DatasetError(
                    f"{path}: cannot reshape examples of shape {tuple(data.shape[1:])} ({size} values) "
                    f"to shape {tuple(p.shape)} ({want} values)"
                )
            data = data.reshape(data.shape[0], *p.shape)
        if labels is None:
            return Examples(data)
        checked, num_classes = _labels_from(labels, labels_source, p.num_classes)
        if checked.shape[0] != data.shape[0]:
            raise DatasetError(f"{labels_source}: {checked.shape[0]} labels for {data.shape[0]} examples in {path}")
        return Examples(data, checked, num_classes)

    @staticmethod
    def _column_index(column: int | str, header: list[str] | None, width: int, path: Path) -> int:
        if isinstance(column, str):
            if header is None:
                raise DatasetError(f"{path}: label_column {column!r} names a column but the file has no header row")
            if column not in header:
                raise DatasetError(f"{path}: no column named {column!r}; columns are {header}")
            return header.index(column)
        if not -width <= column < width:
            raise DatasetError(f"{path}: label_column {column} is out of range for {width} columns")
        return column % width

    @staticmethod
    def _read_labels_file(path: Path) -> Tensor:
        if not path.is_file():
            raise DatasetError(f"{path}: no such file (labels_path)")
        suffix = path.suffix.lower()
        if suffix == ".npy":
            return _read_npy(path)
        if suffix == ".csv":
            return _read_csv(path)[0]
        data, labels = _read_pt(path)
        if labels is not None:
            raise DatasetError(f"{path}: a labels file holds one tensor, not a dict with 'labels'")
        return data

    def prepare(self, data: Tensor, train: Tensor) -> Tensor:
        """Apply ``scaling`` with statistics of the training examples ``data[train]``."""
        mode = self.params.scaling
        if mode == "none":
            return data
        reference = data[train].to(torch.float64)
        dims: tuple[int, ...] = (0,) if self.params.per_feature else tuple(range(data.ndim))
        if mode == "standardize":
            offset = reference.mean(dim=dims)
            scale = reference.std(dim=dims, correction=0) if reference.shape[0] > 1 else torch.zeros_like(offset)
        else:
            low, high = reference.amin(dim=dims), reference.amax(dim=dims)
            offset, scale = (low + high) / 2, (high - low) / 2
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.offset, self.scale = offset.to(data.dtype), scale.to(data.dtype)
        return ((data.to(torch.float64) - offset) / scale).to(data.dtype)

    def to_file_units(self, x: Tensor) -> Tensor:
        """Undo ``scaling``: map points ``(n, *event_shape)`` back to the units of the file."""
        return x * self.scale.to(x) + self.offset.to(x)
