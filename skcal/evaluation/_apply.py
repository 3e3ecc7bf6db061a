"""Applying a fitted calibration to a jet table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from skcal._validation import _suggest, is_dask
from skcal.exceptions import DataError, NotFittedError

__all__ = ["apply_calibration", "model_features", "predict_response"]


def model_features(model: Any) -> list[str]:
    """The columns a fitted model reads from a jet table (its ``feature_names_in_``).

    Raises
    ------
    NotFittedError
        If the model was not fitted, or was fitted on an unnamed array (then it cannot
        be applied to a table by name).
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise NotFittedError(
            f"{type(model).__name__} has no feature_names_in_: fit it on a jet table (a DataFrame with "
            "named columns) so that it can be applied to other tables by column name")
    return [str(name) for name in names]


def predict_response(model: Any, table: pd.DataFrame) -> np.ndarray:
    """The model's predicted response for each jet of an in-memory table.

    The model's input columns are selected by name; a missing one is an error naming
    it. Predictions must be finite and positive: a calibration never silently
    returns NaN.
    """
    features = model_features(model)
    missing = [name for name in features if name not in table.columns]
    if missing:
        raise DataError(f"the table lacks the model's input column {missing[0]!r}"
                        f"{_suggest(missing[0], list(table.columns))}; the model reads {features}")
    response = np.asarray(model.predict(table[features]), dtype=np.float64)
    bad = ~(np.isfinite(response) & (response > 0))
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DataError(f"{type(model).__name__} predicted {bad.sum()} non-positive or non-finite responses "
                        f"(first at row {row}: {response.reshape(len(table), -1)[row]}); refusing to calibrate")
    return response


def apply_calibration(model: Any, table: Any, *, prefix: str = "") -> Any:
    """Add the calibrated jet to a jet table: a new table, the input untouched.

    Adds ``r_pred`` (the predicted response), ``e_calib = e_reco / r_pred`` and
    ``pt_calib = pt_reco / r_pred``; for a model that predicts the energy and mass
    responses (two columns), also ``r_pred_m`` and ``m_calib = m_reco / r_pred_m``.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        Anything with ``predict`` and ``feature_names_in_``.
    table : DataFrame or Dask DataFrame
        The jet table; it must hold the model's input columns, ``e_reco`` and
        ``pt_reco`` (and ``m_reco`` for a mass calibration).
    prefix : str, default ""
        Prepended to the new columns' names (to compare several models in one table).

    Returns
    -------
    DataFrame or Dask DataFrame
        A copy of ``table`` with the new columns; Dask in, Dask out (lazy).

    Examples
    --------
    >>> from sklearn.dummy import DummyRegressor
    >>> from skcal.datasets import make_jets
    >>> from skcal.evaluation import apply_calibration
    >>> jets = make_jets(1000, random_state=0)
    >>> model = DummyRegressor(strategy="median").fit(jets[["e_reco", "eta"]], jets.e_reco / jets.e_true)
    >>> calibrated = apply_calibration(model, jets)
    >>> sorted(set(calibrated.columns) - set(jets.columns))
    ['e_calib', 'pt_calib', 'r_pred']
    """
    if is_dask(table):
        meta = _calibrate_frame(model, table._meta_nonempty, prefix).iloc[:0]
        return table.map_partitions(_calibrate_frame, model, prefix, meta=meta)
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas or Dask DataFrame, got {type(table).__name__}")
    return _calibrate_frame(model, table, prefix)


def _calibrate_frame(model: Any, table: pd.DataFrame, prefix: str) -> pd.DataFrame:
    if table.empty:
        response = np.ones((0,))
    else:
        response = predict_response(model, table)
    out = table.copy()
    energy = response if response.ndim == 1 else response[:, 0]
    out[f"{prefix}r_pred"] = energy
    out[f"{prefix}e_calib"] = table["e_reco"].to_numpy() / energy
    out[f"{prefix}pt_calib"] = table["pt_reco"].to_numpy() / energy
    if response.ndim == 2 and response.shape[1] == 2:
        out[f"{prefix}r_pred_m"] = response[:, 1]
        out[f"{prefix}m_calib"] = table["m_reco"].to_numpy() / response[:, 1]
    return out
