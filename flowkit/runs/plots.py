"""Pictures of a run: samples beside data, sample paths, the loss curve (matplotlib, no display needed).

Every picture is written atomically (:func:`flowkit.runs.folder.save_figure`). :func:`write_sample_pictures`
is the one place that decides which pictures a set of samples gets (2D densities or image grids, the
paths of a few samples, one row per class), for a finished run and a re-sampled one alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from flowkit.runs.folder import CLASSES_PICTURE, SAMPLES_PICTURE, TRAJECTORIES_PICTURE, save_figure

TRAJECTORY_TIMES = 9
"""Saved times marked on a trajectory picture (thinned from the solver's own grid)."""


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    save_figure(path, fig)


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


def plot_trajectories(
    path: Path,
    times: Tensor,
    states: Tensor,
    data: Tensor | None = None,
    *,
    title: str = "trajectories",
    max_paths: int = 200,
) -> None:
    """Paths of up to ``max_paths`` samples from the prior (t=0) to the data end (t=1).

    ``states`` is ``(T, B, *event_shape)`` at ``times`` (``(T,)``); the first two flattened
    coordinates are drawn, over the data (``(N, *event_shape)``, grey) when given, with the states at
    up to :data:`TRAJECTORY_TIMES` of the times marked in colours from dark (t=0) to light (t=1). One
    coordinate is drawn against ``t``.
    """
    plt = _pyplot()
    keep = _thin(times.shape[0], TRAJECTORY_TIMES)
    xs = states.reshape(states.shape[0], states.shape[1], -1)[:, :max_paths, :2].double().cpu()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    if xs.shape[2] >= 2:
        if data is not None:
            d = data.reshape(data.shape[0], -1)[:, :2].double().cpu()
            ax.scatter(d[:, 0].numpy(), d[:, 1].numpy(), s=1, c="0.85", label="data")
        for i in range(xs.shape[1]):
            ax.plot(xs[:, i, 0].numpy(), xs[:, i, 1].numpy(), lw=0.4, c="tab:blue", alpha=0.45)
        colors = plt.cm.viridis(torch.linspace(0, 1, len(keep)).numpy())
        for color, k in zip(colors, keep, strict=True):
            label = f"t={float(times[k]):.2f}"
            ax.scatter(xs[k, :, 0].numpy(), xs[k, :, 1].numpy(), s=3, color=color, label=label)
        ax.set_aspect("equal")
    else:
        t = times.double().cpu().numpy()
        for i in range(xs.shape[1]):
            ax.plot(t, xs[:, i, 0].numpy(), lw=0.5, c="tab:blue", alpha=0.5)
        ax.set_xlabel("t")
    ax.legend(loc="upper right", fontsize=6, markerscale=3)
    ax.set_title(title)
    _save(fig, path)
    plt.close(fig)


def _thin(count: int, at_most: int) -> list[int]:
    """Up to ``at_most`` evenly spread indices of ``range(count)``, both ends included."""
    if count <= at_most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (at_most - 1)) for i in range(at_most)})


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


def write_sample_pictures(
    folder: Path,
    samples: Tensor,
    data: Tensor,
    *,
    title: str,
    times: Tensor | None = None,
    trajectory: Tensor | None = None,
    labels: Tensor | None = None,
    trajectory_name: str = TRAJECTORIES_PICTURE,
) -> list[str]:
    """The pictures of a set of samples, written into ``folder``; returns the file names written.

    * ``samples.png``: for images (``(N, C, H, W)``) 64 data images beside 64 samples; otherwise the
      2D densities of data and samples;
    * ``trajectory_name``: the paths of a few samples (``trajectory`` is ``(T, B, *event_shape)`` at
      ``times``): images at eight times from t=0 to t=1, otherwise :func:`plot_trajectories`;
    * ``classes.png``: class-conditional images (``labels`` ``(N,)``), one row of eight per class.
    """
    written = [SAMPLES_PICTURE]
    is_image = samples.ndim == 4
    if is_image:
        n = min(64, samples.shape[0])
        plot_image_grids(folder / SAMPLES_PICTURE, [("data", data[:n]), ("samples", samples[:n])], nrow=8)
    else:
        plot_samples(folder / SAMPLES_PICTURE, samples, data, title=title)
    if trajectory is not None and times is not None:
        if is_image:
            picks = _thin(trajectory.shape[0], 8)
            frames = trajectory[picks][:, :8]  # (times, samples, C, H, W)
            panel = frames.transpose(0, 1).reshape(-1, *samples.shape[1:])
            plot_image_grids(folder / trajectory_name, [("t = 0 ... 1 (left to right)", panel)], nrow=frames.shape[1])
        else:
            plot_trajectories(folder / trajectory_name, times, trajectory[:, :200], data[:5000], title=title)
        written.append(trajectory_name)
    if is_image and labels is not None:
        rows = [samples[labels == c][:8] for c in range(int(labels.max()) + 1)]
        full = [row for row in rows if row.shape[0] == 8]
        if full:
            grid = torch.cat(full)
            plot_image_grids(folder / CLASSES_PICTURE, [("one row per class", grid)], nrow=len(full))
            written.append(CLASSES_PICTURE)
    return written
