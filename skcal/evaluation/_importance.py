"""Feature importance of a calibrator: the paper's +-1% of sigma method, and SHAP (optional)."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from skcal._optional import import_optional
from skcal._params import Interval, check_params
from skcal.evaluation._apply import model_features, predict_response
from skcal.exceptions import DataError


def feature_importance(model: Any, table: pd.DataFrame, *, fraction: float = 0.01) -> pd.Series:
    """Mean relative change of the predicted response when one input moves by 1% of its spread.

    Each input ``x_j`` of the model is shifted by ``+- fraction * std(x_j)`` (the
    other inputs kept), and the importance of ``j`` is the mean over jets of
    ``(|R(x+) - R(x)| + |R(x-) - R(x)|) / (2 R(x))``: the method of the ATLAS
    energy-and-mass DNN calibration. Inputs that are constant in ``table`` get 0.
    Shifted values are kept within the input's observed range, so that a quantity
    that must be positive (an energy) stays positive for the softest jets.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        With ``predict`` and ``feature_names_in_``.
    table : DataFrame
        Jets holding the model's inputs (a few thousand are plenty).
    fraction : float, default 0.01
        The shift in units of each input's standard deviation.

    Returns
    -------
    Series
        Importance per input column, in the model's column order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from skcal.evaluation import feature_importance
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    >>> model = LinearRegression().fit(X, 1.0 + 0.1 * X.a + 0.01 * X.b)
    >>> imp = feature_importance(model, X)
    >>> bool(imp["a"] > 5 * imp["b"] > 0)
    True
    """
    check_params(
        {"fraction": [Interval(Real, 0, None, closed="neither")]},
        {"fraction": fraction},
        "feature_importance",
    )
    features = model_features(model)
    if len(table) == 0:
        raise DataError("feature_importance needs at least one jet; the table is empty")
    base = predict_response(model, table)
    base = base if base.ndim == 1 else base[:, 0]
    out = {}
    for name in features:
        values = table[name]
        if not pd.api.types.is_numeric_dtype(values):
            out[name] = 0.0
            continue
        delta = fraction * float(np.std(np.asarray(values, dtype=np.float64)))
        if delta == 0:
            out[name] = 0.0
            continue
        change = np.zeros(len(table))
        numbers = values.to_numpy(dtype=np.float64)
        for sign in (1.0, -1.0):
            moved = table.copy()
            moved[name] = np.clip(numbers + sign * delta, numbers.min(), numbers.max())
            pred = predict_response(model, moved)
            pred = pred if pred.ndim == 1 else pred[:, 0]
            change += np.abs(pred - base)
        out[name] = float(np.mean(change / (2.0 * base)))
    return pd.Series(out, name="importance")


def shap_importance(model: Any, table: pd.DataFrame, *, max_background: int = 100) -> pd.Series:
    """Mean absolute SHAP value of each input (needs the optional ``shap`` package).

    A model-agnostic explainer of ``model.predict`` with ``max_background`` jets of
    ``table`` as the background; slow for large tables (pass a few hundred jets).
    """
    shap = import_optional("shap", purpose="SHAP feature importance")
    features = model_features(model)
    X = table[features]

    def predict(values: Any) -> np.ndarray:
        pred = predict_response(model, pd.DataFrame(values, columns=features))
        return pred if pred.ndim == 1 else pred[:, 0]

    background = X.iloc[:max_background]
    explainer = shap.Explainer(predict, background)
    values = np.asarray(explainer(X).values)
    return pd.Series(np.abs(values).mean(axis=0), index=features, name="mean_abs_shap")
