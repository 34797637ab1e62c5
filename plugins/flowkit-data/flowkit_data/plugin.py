"""Hook implementations of the ``data`` plugin."""

from __future__ import annotations

from flowkit import Dataset, hookimpl
from flowkit_data.digits import DigitsDataset
from flowkit_data.files import FileDataset
from flowkit_data.toys import (
    CheckerboardDataset,
    CirclesDataset,
    EightGaussiansDataset,
    MoonsDataset,
    SpiralsDataset,
    TwoPointsDataset,
)

FLOWKIT_PLUGIN_API = 1


@hookimpl
def flowkit_datasets() -> list[type[Dataset]]:
    return [
        CheckerboardDataset,
        MoonsDataset,
        EightGaussiansDataset,
        CirclesDataset,
        SpiralsDataset,
        TwoPointsDataset,
        DigitsDataset,
        FileDataset,
    ]
