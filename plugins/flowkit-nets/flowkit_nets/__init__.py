"""flowkit networks (the ``nets`` plugin): an MLP for any shape and a small U-Net for images."""

from flowkit_nets.embedding import sinusoidal_embedding
from flowkit_nets.mlp import MLP
from flowkit_nets.unet import UNet

__all__ = ["MLP", "UNet", "sinusoidal_embedding"]
