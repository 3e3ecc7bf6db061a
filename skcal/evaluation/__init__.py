"""Evaluation of a calibration: applying it, the report, feature importance.

The response statistics it is built on (the response histogram, mode, resolution and
closure tables) live in :mod:`skcal.response`; they are re-exported here, the same
objects, so that ``from skcal.evaluation import closure_table`` keeps working.

>>> from skcal import evaluation
>>> sorted(evaluation.__all__)[:3]
['CalibrationReport', 'DEFAULT_RESPONSE_EDGES', 'ModeEstimate']
"""

from skcal.evaluation._apply import apply_calibration
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._importance import feature_importance, shap_importance
from skcal.evaluation._report import report
from skcal.evaluation._result import CalibrationReport
from skcal.evaluation._style import PlotStyle

# Until skcal.inversion imports it from skcal.response: ``from skcal.evaluation import
# _modefit`` (private) keeps working.
from skcal.response import (
    DEFAULT_RESPONSE_EDGES,
    ModeEstimate,
    ResolutionEstimate,
    ResponseHistogram,
    _modefit,  # noqa: F401
    closure_table,
    fill_histogram,
    resolution,
    response_mode,
    table_from_histogram,
)

__all__ = [
    "CalibrationReport",
    "PlotStyle",
    "ReportBins",
    "feature_importance",
    "report",
    "shap_importance",
    "DEFAULT_RESPONSE_EDGES",
    "ModeEstimate",
    "ResolutionEstimate",
    "ResponseHistogram",
    "apply_calibration",
    "closure_table",
    "fill_histogram",
    "resolution",
    "response_mode",
    "table_from_histogram",
]
