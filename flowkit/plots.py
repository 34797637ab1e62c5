"""Pictures of a run: samples beside data, and the loss curve (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)


def plot_samples(path: Path, samples: Tensor, data: Tensor, title: str = "") -> None:
    """Two 2D histograms side by side (data | samples) over the same square window.

    For data of more than two dimensions the first two flattened coordinates are shown.
    """
    plt = _pyplot()
    s = samples.reshape(samples.shape[0], -1)[:, :2].double().cpu()
    d = data.reshape(data.shape[0], -1)[:, :2].double().cpu()
    both = torch.cat([s, d])
    lo = torch.quantile(both, 0.001, dim=0).min().item()
    hi = torch.quantile(both, 0.999, dim=0).max().item()
    pad = 0.05 * (hi - lo)
    window = [[lo - pad, hi + pad]] * 2
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
    for ax, pts, label in ((axes[0], d, "data"), (axes[1], s, "samples")):
        if pts.shape[1] == 2:
            ax.hist2d(pts[:, 0].numpy(), pts[:, 1].numpy(), bins=120, range=window, cmap="viridis")
        else:
            ax.hist(pts[:, 0].numpy(), bins=120, range=window[0])
        ax.set_title(f"{label} ({pts.shape[0]})")
        ax.set_aspect("equal" if pts.shape[1] == 2 else "auto")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)


def plot_loss(path: Path, steps: Sequence[int], losses: Sequence[float]) -> None:
    """The training loss against the step (log scale when positive)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(list(steps), list(losses), marker="." if len(steps) < 50 else None)
    if losses and min(losses) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    _save(fig, path)
    plt.close(fig)
