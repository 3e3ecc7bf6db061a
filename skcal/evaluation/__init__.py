"""Evaluation of a calibration: applying it, the report, feature importance.

The response statistics it is built on (the response histogram, mode, resolution and
closure tables) live in :mod:`skcal.response`. Until skcal 0.3 they can still be
imported from here, with a FutureWarning naming their new home.

>>> from skcal import evaluation
>>> sorted(evaluation.__all__)[:4]
['CalibrationReport', 'PlotStyle', 'ReportBins', 'apply_calibration']
"""

import warnings
from typing import Any

from skcal import response
from skcal.evaluation._apply import apply_calibration
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._importance import feature_importance, shap_importance
from skcal.evaluation._report import report
from skcal.evaluation._result import CalibrationReport
from skcal.evaluation._style import PlotStyle

__all__ = [
    "CalibrationReport",
    "PlotStyle",
    "ReportBins",
    "feature_importance",
    "report",
    "shap_importance",
    "apply_calibration",
]


#: Names that moved to :mod:`skcal.response`; importing them from here still works for
#: one release, with a FutureWarning.
_MOVED = (
    "DEFAULT_RESPONSE_EDGES",
    "ModeEstimate",
    "ResolutionEstimate",
    "ResponseHistogram",
    "closure_table",
    "fill_histogram",
    "resolution",
    "response_mode",
    "table_from_histogram",
)


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"skcal.evaluation.{name} moved to skcal.response.{name}; import it from there "
            "(the old path will be removed in skcal 0.3)",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(response, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
