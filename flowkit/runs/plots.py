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


def plot_trajectories(path: Path, times: Tensor, states: Tensor, data: Tensor, max_paths: int = 200) -> None:
    """Paths of ``max_paths`` samples from the prior (t=0) to the data end (t=1) over the data density.

    ``states`` is ``(T, B, *event_shape)``; the first two flattened coordinates are drawn.
    """
    plt = _pyplot()
    xs = states.reshape(states.shape[0], states.shape[1], -1)[:, :max_paths, :2].double().cpu()
    d = data.reshape(data.shape[0], -1)[:, :2].double().cpu()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    if d.shape[1] == 2:
        ax.scatter(d[:, 0].numpy(), d[:, 1].numpy(), s=1, c="0.8", label="data")
        for i in range(xs.shape[1]):
            ax.plot(xs[:, i, 0].numpy(), xs[:, i, 1].numpy(), lw=0.5, c="tab:blue", alpha=0.5)
        ax.scatter(xs[0, :, 0].numpy(), xs[0, :, 1].numpy(), s=4, c="black", label=f"t={float(times[0]):.2f}")
        ax.scatter(xs[-1, :, 0].numpy(), xs[-1, :, 1].numpy(), s=4, c="tab:red", label=f"t={float(times[-1]):.2f}")
        ax.set_aspect("equal")
    else:
        t = times.double().cpu().numpy()
        for i in range(xs.shape[1]):
            ax.plot(t, xs[:, i, 0].numpy(), lw=0.5, c="tab:blue", alpha=0.5)
        ax.set_xlabel("t")
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title("trajectories")
    _save(fig, path)
    plt.close(fig)


def _image_grid(images: Tensor, nrow: int) -> Tensor:
    """Tile ``(N, C, H, W)`` images in ``[-1, 1]`` into one ``(H', W', C)`` array in ``[0, 1]``."""
    x = images.detach().double().cpu().clamp(-1, 1).add(1).div(2)
    n, c, h, w = x.shape
    ncol = max(1, -(-n // nrow))
    grid = torch.ones(c, nrow * (h + 1) + 1, ncol * (w + 1) + 1, dtype=x.dtype)
    for k in range(n):
        r, q = divmod(k, ncol)
        grid[:, 1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + q * (w + 1) : 1 + q * (w + 1) + w] = x[k]
    return grid.permute(1, 2, 0)


def plot_image_grids(path: Path, panels: Sequence[tuple[str, Tensor]], nrow: int) -> None:
    """Grids of images side by side, one panel per ``(title, (N, C, H, W) images in [-1, 1])``."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.8), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels, strict=True):
        grid = _image_grid(images, nrow)
        if grid.shape[2] == 1:
            ax.imshow(grid[:, :, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(grid.numpy())
        ax.set_title(title)
        ax.axis("off")
    _save(fig, path)
    plt.close(fig)
