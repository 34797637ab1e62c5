"""Hook implementations of the ``data`` plugin."""

from __future__ import annotations

from flowkit import hookimpl
from flowkit.data import Dataset
from flowkit_data.toys import CheckerboardDataset, EightGaussiansDataset, MoonsDataset

FLOWKIT_PLUGIN_API = 1


@hookimpl
def flowkit_datasets() -> list[type[Dataset]]:
    return [CheckerboardDataset, MoonsDataset, EightGaussiansDataset]
