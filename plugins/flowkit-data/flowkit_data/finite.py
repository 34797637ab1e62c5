"""Finite datasets: a fixed table of examples (and optional labels), split into train and validation.

A :class:`FiniteDataset` loads all of its examples once, at construction, and then

* holds out ``round(validation_fraction * N)`` of the ``N`` examples as the validation part, chosen
  by a permutation drawn from ``split_seed`` (so the split is the same in every run and on every
  machine), and keeps the rest as the training part;
* serves the part named by ``subset`` (``"train"``, the default, or ``"validation"``); the other
  part is ``dataset.validation()`` / ``dataset.train()`` (the same params with ``subset``
  switched), so the two never share an example;
* draws ``sample(n)`` uniformly *with replacement* from that part using the given generator.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor

from flowkit import Dataset, FlowkitError


class DatasetError(FlowkitError, ValueError):
    """A dataset cannot be built: a missing or unreadable file, bad values, a bad shape or split."""


@dataclass(frozen=True)
class Examples:
    """Everything a finite dataset loads.

    Attributes:
        data: ``(N, *event_shape)`` floating-point tensor.
        labels: ``(N,)`` ``torch.long`` tensor with values in ``[0, num_classes)``, or ``None``.
        num_classes: number of classes when ``labels`` is given, else ``None``.
    """

    data: Tensor
    labels: Tensor | None = None
    num_classes: int | None = None


def split_indices(n: int, validation_fraction: float, split_seed: int) -> tuple[Tensor, Tensor]:
    """Split ``range(n)`` into sorted, disjoint ``(train, validation)`` index tensors.

    The validation part has ``floor(validation_fraction * n + 1/2)`` indices, chosen by a
    permutation drawn from a generator seeded with ``split_seed``.

    Raises:
        DatasetError: if the split would leave no training example.
    """
    n_val = math.floor(validation_fraction * n + 0.5)
    if n_val >= n:
        raise DatasetError(f"validation_fraction {validation_fraction} leaves no training example out of {n}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(split_seed))
    return perm[n_val:].sort().values, perm[:n_val].sort().values


class FiniteDataset(Dataset):
    """Base of datasets with a fixed set of examples; subclasses implement :meth:`load`.

    See the module docstring for the split and the sampling rule. ``examples`` and ``labels``
    hold the served part; ``len(dataset)`` is its size.

    Raises:
        DatasetError: (at construction) if the examples are empty or not finite, the labels do
            not match them, or ``subset = "validation"`` selects an empty part.
    """

    class Params(Dataset.Params):
        validation_fraction: float = Field(
            0.0, ge=0, lt=1, description="Share of the examples held out as the validation part."
        )
        split_seed: int = Field(0, description="Seed of the permutation that chooses the validation examples.")
        subset: Literal["train", "validation"] = Field("train", description="Which part of the split to serve.")

    params: Params

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        loaded = self.load()
        data, labels = loaded.data, loaded.labels
        where = self.describe()
        if data.ndim < 2 or data.shape[0] == 0:
            raise DatasetError(f"{where}: no examples (data of shape {tuple(data.shape)})")
        if not data.is_floating_point():
            raise DatasetError(f"{where}: examples must be floating point, got {data.dtype}")
        bad = ~torch.isfinite(data.reshape(data.shape[0], -1)).all(dim=1)
        if bool(bad.any()):
            first = int(bad.nonzero()[0, 0])
            raise DatasetError(f"{where}: example {first} (0-based) contains NaN or infinite values")
        if labels is not None:
            if labels.shape != (data.shape[0],):
                raise DatasetError(
                    f"{where}: {tuple(labels.shape)} labels for {data.shape[0]} examples (need one label per example)"
                )
            if loaded.num_classes is None:
                raise DatasetError(f"{where}: labels were loaded without a number of classes")
        n = data.shape[0]
        train, validation = split_indices(n, self.params.validation_fraction, self.params.split_seed)
        data = self.prepare(data, train)
        chosen = train if self.params.subset == "train" else validation
        if chosen.numel() == 0:
            raise DatasetError(
                f"{where}: subset 'validation' is empty (validation_fraction {self.params.validation_fraction} "
                f"of {n} examples)"
            )
        self._examples = data[chosen].contiguous()
        self._largest = float(self._examples.abs().max()) if self._examples.numel() else 0.0
        self._labels = labels[chosen].contiguous() if labels is not None else None
        self._num_classes = loaded.num_classes if labels is not None else None

    @abstractmethod
    def load(self) -> Examples:
        """Load every example (before the split); raise :class:`DatasetError` naming the source."""

    def describe(self) -> str:
        """How error messages name this dataset (e.g. its file)."""
        return f"dataset {self.name!r}"

    def prepare(self, data: Tensor, train: Tensor) -> Tensor:
        """Transform all examples, given the training indices (e.g. to standardize by training statistics).

        The default returns ``data`` unchanged.
        """
        return data

    @property
    def event_shape(self) -> tuple[int, ...]:
        return tuple(self._examples.shape[1:])

    @property
    def num_classes(self) -> int | None:
        return self._num_classes

    @property
    def examples(self) -> Tensor:
        """The served part's examples, ``(len(self), *event_shape)``, in their stored dtype."""
        return self._examples

    @property
    def labels(self) -> Tensor | None:
        """The served part's labels, ``(len(self),)`` ``torch.long``, or ``None``."""
        return self._labels

    def __len__(self) -> int:
        return int(self._examples.shape[0])

    def train(self) -> FiniteDataset:
        """The training part of the same split (a new dataset with ``subset = "train"``)."""
        return self._with_subset("train")

    def validation(self) -> FiniteDataset:
        """The validation part of the same split (a new dataset with ``subset = "validation"``).

        Raises:
            DatasetError: if ``validation_fraction`` leaves the validation part empty.
        """
        return self._with_subset("validation")

    def _with_subset(self, subset: str) -> FiniteDataset:
        if subset == self.params.subset:
            return self
        return type(self)(**{**self.params.model_dump(), "subset": subset})

    def sample_labeled(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[Tensor, Tensor | None]:
        """Draw ``n`` examples uniformly with replacement (and their labels, if any).

        Returns:
            ``(points, labels)``: ``(n, *event_shape)`` points of ``dtype`` and ``(n,)`` long
            labels, or ``None`` labels for an unlabelled dataset.

        Raises:
            DatasetError: the examples hold values too large for ``dtype`` (float64 data beyond the
                float32 range), which would become infinite.
        """
        if dtype.is_floating_point and self._largest > torch.finfo(dtype).max:
            raise DatasetError(
                f"{self.describe()}: values up to {self._largest:.3g} do not fit {dtype} "
                f"(largest {torch.finfo(dtype).max:.3g}); scale the data or run in float64"
            )
        idx = torch.randint(0, len(self), (n,), generator=generator)
        points = self._examples[idx].to(dtype)
        return points, (self._labels[idx] if self._labels is not None else None)

    def sample(self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        """Draw ``n`` examples uniformly with replacement: the points of :meth:`sample_labeled`."""
        return self.sample_labeled(n, generator=generator, dtype=dtype)[0]
