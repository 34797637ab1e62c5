"""Probability paths: the interpolation from the prior (``t = 0``) to the data (``t = 1``).

* :mod:`flowkit.path.base`: the :class:`ProbabilityPath` contract, :class:`PathSample`, the
  quantities a network may predict, and the shape helpers every path uses;
* :mod:`flowkit.path.gaussian`: :class:`GaussianPath` (``x_t = alpha_t z + beta_t eps``) with the
  single conversion rule between velocity, score, epsilon and data prediction.
"""

from flowkit.path.base import (
    QUANTITIES,
    PathSample,
    ProbabilityPath,
    Quantity,
    batch_times,
    check_quantity,
    expand_like,
)
from flowkit.path.gaussian import GaussianPath, require_gaussian

__all__ = [
    "QUANTITIES",
    "GaussianPath",
    "PathSample",
    "ProbabilityPath",
    "Quantity",
    "batch_times",
    "check_quantity",
    "expand_like",
    "require_gaussian",
]
