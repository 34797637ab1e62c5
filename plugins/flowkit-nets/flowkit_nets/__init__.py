"""flowkit networks (the ``nets`` plugin)."""

from flowkit_nets.embedding import sinusoidal_embedding
from flowkit_nets.mlp import MLP

__all__ = ["MLP", "sinusoidal_embedding"]
