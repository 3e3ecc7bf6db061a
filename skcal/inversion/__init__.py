"""The standard calibration: pile-up offset, numerical inversion, global sequential calibration.

Each stage is a scikit-learn estimator that fits on the jet table and the response of
the uncalibrated jets, works in memory or over Dask partitions, and chains in a
``Pipeline`` (``docs/design.md`` section 2):

>>> from sklearn.pipeline import make_pipeline
>>> from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
>>> pipe = make_pipeline(PileupOffset(), NumericalInversion(), GlobalSequentialCalibration())
>>> [name for name, _ in pipe.steps]
['pileupoffset', 'numericalinversion', 'globalsequentialcalibration']
"""

from skcal.inversion._gsc import GlobalSequentialCalibration
from skcal.inversion._numerical import NumericalInversion
from skcal.inversion._pileup import PileupOffset
from skcal.inversion._residual import ResidualInversion, residual_condition

__all__ = [
    "GlobalSequentialCalibration",
    "NumericalInversion",
    "PileupOffset",
    "ResidualInversion",
    "residual_condition",
]
