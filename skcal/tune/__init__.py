"""Ray Tune sweeps of calibration pipelines (the ``tune`` extra: ``pip install 'skcal[tune]'``).

:func:`tune_pipeline` sweeps any skcal pipeline over its own parameter names
(``"mdncalibrator__lr"``, ``"mdncalibrator__module__hidden_sizes"``): each trial fits a
clone, reports the validation loss and the closure figure of merit after every epoch
(so that ASHA stops poor trials early) and checkpoints the fitted pipeline; the best
one comes back fitted. Importing this package does not import Ray.

>>> from skcal.tune import SweepResult, tune_pipeline
>>> callable(tune_pipeline)
True
"""

from skcal.tune._sweep import SweepResult, tune_pipeline
from skcal.tune._trial import MetricNotReportedError

__all__ = ["MetricNotReportedError", "SweepResult", "tune_pipeline"]
