"""Devices: what a spec's ``device`` means on this machine, checked before anything runs."""

from __future__ import annotations

import torch

DEVICE_TYPES = ("cpu", "cuda", "mps")
"""The device types a run may use."""


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` stands for on this machine.

    ``auto`` is the first CUDA device when one is available, else the CPU. ``cpu``, ``cuda``,
    ``cuda:<i>`` and ``mps`` are taken as they are, once they are known to exist here.

    Raises:
        ValueError: the name is not a device, is of another type (``meta``, ``xla``, ...), or names
            a device this machine does not have (the message says which).
    """
    if name == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"{name!r} is not a torch device ({str(exc).splitlines()[0]})") from None
    if device.type not in DEVICE_TYPES:
        raise ValueError(f"device {name!r} cannot run a model; use auto, cpu, cuda[:i] or mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} is not available: this machine has no CUDA device")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r} is not available: this machine has {torch.cuda.device_count()} CUDA devices"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} is not available on this machine")
    return device
