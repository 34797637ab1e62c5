"""The engine: training, EMA, sampling and evaluation, on live components.

* :mod:`flowkit.engine.train`: :class:`Trainer` (AdamW, schedules, clipping, accumulation, EMA);
* :mod:`flowkit.engine.ema`: the exponential moving average of the weights;
* :mod:`flowkit.engine.sampling`: prior noise integrated by a solver in bounded-memory chunks;
* :mod:`flowkit.engine.evaluation`: metrics against fresh data, with their noise floors;
* :mod:`flowkit.engine.progress`: progress bars shown only on a terminal.
"""

from flowkit.engine.ema import EMA
from flowkit.engine.evaluation import DEFAULT_REFERENCES, MetricResult, evaluate
from flowkit.engine.sampling import SampleResult, sample
from flowkit.engine.train import LogRecord, Trainer, TrainResult, learning_rate_factor

__all__ = [
    "DEFAULT_REFERENCES",
    "EMA",
    "LogRecord",
    "MetricResult",
    "SampleResult",
    "TrainResult",
    "Trainer",
    "evaluate",
    "learning_rate_factor",
    "sample",
]
