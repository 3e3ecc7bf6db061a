"""Applying a fitted calibration to a jet table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from skcal._chunks import map_chunks
from skcal._validation import check_calibrated, is_dask, suggest_name
from skcal.exceptions import DataError, NotFittedError

__all__ = [
    "apply_calibration",
    "check_prediction",
    "density_predictor",
    "model_features",
    "predict_response",
]


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
            f"{type(model).__name__} has no feature_names_in_: fit it on a jet table (a DataFrame "
            "with named columns) so that it can be applied to other tables by column name"
        )
    return [str(name) for name in names]


def predict_response(model: Any, table: pd.DataFrame) -> np.ndarray:
    """The model's predicted response for each jet of an in-memory table.

    The model's input columns are selected by name; a missing one is an error naming
    it. Predictions must be finite and positive: a calibration never silently
    returns NaN.
    """
    return check_prediction(model, model.predict(select_features(model, table)), len(table))


def select_features(model: Any, table: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns of ``table``; a missing one is an error naming it."""
    features = model_features(model)
    missing = [name for name in features if name not in table.columns]
    if missing:
        raise DataError(
            f"the table lacks the model's input column {missing[0]!r}"
            f"{suggest_name(missing[0], list(table.columns))}; the model reads {features}"
        )
    return table[features]


def check_prediction(model: Any, response: Any, n_rows: int, what: str = "responses") -> np.ndarray:
    """``response`` as float64 if every value is finite and positive, else CalibrationError."""
    return check_calibrated(response, owner=type(model).__name__, what=what)


def density_predictor(model: Any) -> Callable[[pd.DataFrame], Any] | None:
    """A function giving the predicted response densities of a table's jets, or None.

    For a density calibrator (anything with ``predict_dist``), or a Pipeline ending
    in one (its earlier steps transform the table first); None for point calibrators.
    """
    if hasattr(model, "predict_dist"):
        return lambda table: model.predict_dist(select_features(model, table))
    if isinstance(model, Pipeline) and hasattr(model[-1], "predict_dist"):
        head, tail = model[:-1], model[-1]
        return lambda table: tail.predict_dist(head.transform(select_features(model, table)))
    return None


def total_uncertainty(model: Any) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """A function giving ``sigma_tot`` of the (energy) response of a table's jets, or None.

    For a calibrator with ``predict_uncertainty`` (or a Pipeline ending in one): its
    ``sigma_tot`` column (``sigma_tot_e`` for an energy-and-mass calibrator), which
    holds the statistical uncertainty of an ensemble besides the density's width.
    """
    tail = model[-1] if isinstance(model, Pipeline) else model
    if not hasattr(tail, "predict_uncertainty"):
        return None

    def sigma(table: pd.DataFrame) -> np.ndarray:
        X = select_features(model, table)
        if isinstance(model, Pipeline):
            X = model[:-1].transform(X)
        u = tail.predict_uncertainty(X)
        return np.asarray(u["sigma_tot" if "sigma_tot" in u else "sigma_tot_e"], dtype=float)

    return sigma


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
    >>> r = jets.e_reco / jets.e_true
    >>> model = DummyRegressor(strategy="median").fit(jets[["e_reco", "eta"]], r)
    >>> calibrated = apply_calibration(model, jets)
    >>> sorted(set(calibrated.columns) - set(jets.columns))
    ['e_calib', 'pt_calib', 'r_pred']
    """
    if is_dask(table):
        select_features(model, table._meta)  # a missing column is an error now, not at compute
        meta = table._meta.assign(**{name: np.float64(0) for name in _new_columns(model, prefix)})
        return map_chunks(table, _calibrate_chunk, model, prefix, meta=meta.iloc[:0])
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas or Dask DataFrame, got {type(table).__name__}")
    return _calibrate_frame(model, table, prefix)


def _new_columns(model: Any, prefix: str) -> list[str]:
    """The columns that :func:`apply_calibration` adds for this model."""
    final = model[-1] if isinstance(model, Pipeline) else model
    names = ["r_pred", "e_calib", "pt_calib"]
    if getattr(final, "n_outputs_", 1) == 2:  # the energy and the mass responses
        names += ["r_pred_m", "m_calib"]
    return [prefix + name for name in names]


def _calibrate_chunk(chunk: pd.DataFrame, rows: Any, model: Any, prefix: str) -> pd.DataFrame:
    return _calibrate_frame(model, chunk, prefix)


def _calibrate_frame(model: Any, table: pd.DataFrame, prefix: str) -> pd.DataFrame:
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
