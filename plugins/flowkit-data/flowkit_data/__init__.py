"""flowkit datasets (the ``data`` plugin): 2D toys, the 1D two-point example, digits and user files."""

from flowkit_data.digits import DigitsDataset
from flowkit_data.files import FileDataset
from flowkit_data.finite import DatasetError, Examples, FiniteDataset, split_indices
from flowkit_data.toys import (
    CheckerboardDataset,
    CirclesDataset,
    EightGaussiansDataset,
    MoonsDataset,
    SpiralsDataset,
    ToyDataset,
    TwoPointsDataset,
)

__all__ = [
    "CheckerboardDataset",
    "CirclesDataset",
    "DatasetError",
    "DigitsDataset",
    "EightGaussiansDataset",
    "Examples",
    "FileDataset",
    "FiniteDataset",
    "MoonsDataset",
    "SpiralsDataset",
    "ToyDataset",
    "TwoPointsDataset",
    "split_indices",
]
