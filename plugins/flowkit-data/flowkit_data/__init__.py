"""flowkit datasets (the ``data`` plugin)."""

from flowkit_data.toys import CheckerboardDataset, EightGaussiansDataset, MoonsDataset, ToyDataset

__all__ = ["CheckerboardDataset", "EightGaussiansDataset", "MoonsDataset", "ToyDataset"]
