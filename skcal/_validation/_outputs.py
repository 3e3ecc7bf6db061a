"""The output guard: no calibrator returns a NaN, infinite or non-positive response."""

from __future__ import annotations

from typing import Any

import numpy as np

from skcal.exceptions import CalibrationError

__all__ = ["check_calibrated"]

_SHOWN_INPUTS = 8


def _inputs_of(X: Any, row: int) -> str:
    """The input values of one row, named where the table has names (at most a few)."""
    if X is None:
        return ""
    if hasattr(X, "iloc"):
        values = X.iloc[row]
        pairs = list(zip(values.index, values.to_numpy()))
    else:
        arr = np.asarray(X)
        pairs = list(enumerate(arr[row] if arr.ndim == 2 else [arr[row]]))
    shown = ", ".join(f"{name}={value:.6g}" for name, value in pairs[:_SHOWN_INPUTS])
    more = f", ... ({len(pairs)} inputs)" if len(pairs) > _SHOWN_INPUTS else ""
    return f"; its inputs: {shown}{more}"


def check_calibrated(
    response: Any, X: Any = None, *, owner: str = "the calibration", what: str = "responses"
) -> np.ndarray:
    """``response`` as float64 if every value is finite and positive, else CalibrationError.

    Parameters
    ----------
    response : array-like of shape (n_jets,) or (n_jets, n_outputs)
        The predicted responses.
    X : array-like or DataFrame, optional
        The inputs of the same jets, quoted for the first offending one.
    owner : str
        Who predicted them (the estimator's name), for the message.
    what : str
        What the values are, for the message.

    Examples
    --------
    >>> import numpy as np
    >>> check_calibrated(np.array([1.0, 0.9]))
    array([1. , 0.9])
    >>> check_calibrated(np.array([1.0, -0.3]), np.array([[50.0], [900.0]]), owner="MDN")
    Traceback (most recent call last):
    ...
    skcal.exceptions.CalibrationError: MDN predicted 1 non-positive or non-finite responses \
of 2 (first at row 1: -0.3; its inputs: 0=900); refusing to return them
    """
    values = np.asarray(response, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        n_rows = values.shape[0] if values.ndim else 1
        row = int(np.argwhere(bad.reshape(n_rows, -1).any(axis=1))[0][0])
        shown = values.reshape(n_rows, -1)[row]
        first = f"{shown[0]:.6g}" if shown.size == 1 else np.array2string(shown, precision=6)
        raise CalibrationError(
            f"{owner} predicted {int(bad.sum())} non-positive or non-finite {what} of "
            f"{values.size} (first at row {row}: {first}{_inputs_of(X, row)}); refusing to "
            "return them"
        )
    return values
