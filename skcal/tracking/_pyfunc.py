"""The MLflow pyfunc flavour of a calibration: a fitted pipeline applied to jet tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

# From its module: mlflow's top level loads pyfunc lazily, which hides it from mypy.
from mlflow.pyfunc.model import PythonModel

from skcal.evaluation import apply_calibration
from skcal.evaluation._apply import predict_response


class CalibrationModel(PythonModel):
    """Wraps a fitted calibration for ``mlflow.pyfunc.load_model(uri).predict(table)``.

    ``predict`` selects the model's input columns from the table and returns the
    predicted response ``r_pred`` (and ``r_pred_m`` for energy-and-mass models); if the
    table holds ``e_reco`` and ``pt_reco``, also the calibrated ``e_calib`` and
    ``pt_calib`` (and ``m_calib``).
    """

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        table = pd.DataFrame(model_input)
        if {"e_reco", "pt_reco"} <= set(table.columns):
            calibrated = apply_calibration(self.pipeline, table)
            return calibrated[[c for c in calibrated.columns if c not in table.columns]]
        response = predict_response(self.pipeline, table)
        if response.ndim == 2:
            return pd.DataFrame(
                {"r_pred": response[:, 0], "r_pred_m": response[:, 1]}, index=table.index
            )
        return pd.DataFrame({"r_pred": response}, index=table.index)
