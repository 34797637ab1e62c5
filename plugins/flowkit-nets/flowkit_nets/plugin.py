"""Hook implementations of the ``nets`` plugin."""

from __future__ import annotations

from flowkit import Model, hookimpl
from flowkit_nets.mlp import MLP
from flowkit_nets.unet import UNet

FLOWKIT_PLUGIN_API = 1


@hookimpl
def flowkit_models() -> list[type[Model]]:
    return [MLP, UNet]
