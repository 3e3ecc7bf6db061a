"""Response and resolution estimators, closure tables: what calibration and evaluation share.

The definitions are those of ``DESIGN.md`` section 2: the average response is the
mode (an iterative Gaussian fit of the core), the resolution is ``(q84 - q16) / (2 *
mode)``, and closure is the mode of the calibrated response in bins of true
quantities.

>>> from skcal import evaluation
>>> sorted(evaluation.__all__)[:3]
['CalibrationReport', 'DEFAULT_RESPONSE_EDGES', 'ModeEstimate']
"""

from skcal.evaluation._apply import apply_calibration
from skcal.evaluation._closure import (
    DEFAULT_RESPONSE_EDGES,
    closure_table,
    fill_histogram,
    table_from_histogram,
)
from skcal.evaluation._histogram import ResponseHistogram
from skcal.evaluation._importance import feature_importance, shap_importance
from skcal.evaluation._plots import PlotStyle
from skcal.evaluation._report import CalibrationReport, ReportBins, report
from skcal.evaluation._response import ModeEstimate, ResolutionEstimate, resolution, response_mode

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
