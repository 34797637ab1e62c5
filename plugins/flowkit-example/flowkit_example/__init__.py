"""An example third-party flowkit plugin (the ``example`` plugin).

It adds one component of three kinds, without touching flowkit itself:

* path ``trig``: :class:`TrigPath`, ``x_t = sin(pi t / 2) z + cos(pi t / 2) eps``;
* solver ``ralston``: :class:`RalstonSolver`, Ralston's second-order Runge-Kutta method;
* dataset ``pinwheel``: :class:`PinwheelDataset`, points on spiral arms, labelled by arm.
"""

from flowkit_example.datasets import PinwheelDataset
from flowkit_example.paths import TrigPath
from flowkit_example.solvers import RalstonSolver

__all__ = ["PinwheelDataset", "RalstonSolver", "TrigPath"]
