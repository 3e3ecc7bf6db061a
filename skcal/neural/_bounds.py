"""What a calibrator saw in training, and its policy for jets beyond it.

- **Not a jet**: an input more than :data:`FAR` training ranges beyond the range of that
  input in training (``eta = 1e30``, or a value that overflows float32) is refused with
  a :class:`~skcal.exceptions.DataError` naming the column, the value and the range.
- **Beyond the training responses**: a predicted response outside the range of
  responses seen in training is set to the nearest end of that range: the calibration
  of a jet unlike the training jets is bounded, never invented. (An undertrained
  network does this for many jets; the bound keeps its output a calibration.)
- **Never returned**: a NaN, infinite or non-positive response is a
  :class:`~skcal.exceptions.CalibrationError` (:func:`skcal._validation.check_calibrated`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skcal.exceptions import DataError

__all__ = ["FAR", "TrainingRanges", "bound_responses", "check_inputs"]

#: Inputs farther than this many training ranges beyond their training range are refused.
FAR = 10.0


class TrainingRanges:
    """The range of every input and of the response over the jets a calibrator trained on.

    Updated chunk by chunk (Dask partitions included), so it costs no extra pass;
    ``fitted``, a calibrator fitted before, contributes its ranges (``partial_fit``).

    Examples
    --------
    >>> import numpy as np
    >>> seen = TrainingRanges()
    >>> seen.update(np.array([[1.0, 5.0], [3.0, 4.0]]), np.array([0.9, 1.1]))
    >>> seen.n_jets, seen.features.tolist(), seen.responses.tolist()
    (2, [[1.0, 4.0], [3.0, 5.0]], [[0.9], [1.1]])
    """

    def __init__(self, fitted: Any = None) -> None:
        self.n_jets = 0
        # (2, n_features) and (2, n_outputs): min and max; those of an earlier fit, if any
        self.features: np.ndarray | None = getattr(fitted, "feature_range_", None)
        self.responses: np.ndarray | None = getattr(fitted, "response_range_", None)

    def update(self, X: np.ndarray, r: np.ndarray) -> None:
        """Add the jets of one chunk: inputs ``X`` (n, n_features) and responses ``r``
        (n,) or (n, n_outputs)."""
        if X.shape[0] == 0:
            return
        r = np.asarray(r, dtype=np.float64).reshape(X.shape[0], -1)
        feats = np.stack([X.min(axis=0), X.max(axis=0)]).astype(np.float64)
        resp = np.stack([r.min(axis=0), r.max(axis=0)])
        if self.features is not None and self.responses is not None:
            feats = np.stack(
                [np.minimum(self.features[0], feats[0]), np.maximum(self.features[1], feats[1])]
            )
            resp = np.stack(
                [np.minimum(self.responses[0], resp[0]), np.maximum(self.responses[1], resp[1])]
            )
        self.features, self.responses = feats, resp
        self.n_jets += X.shape[0]


def check_inputs(X: np.ndarray, feature_range: np.ndarray, names: Sequence[str]) -> None:
    """Refuse inputs more than :data:`FAR` training ranges beyond their training range.

    Examples
    --------
    >>> import numpy as np
    >>> check_inputs(np.array([[0.5], [1e30]]), np.array([[-1.0], [1.0]]), ["eta"])
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: column 'eta' has 1 value(s) that no training jet resembles \
(first at row 1: 1e+30; the training range was -1 to 1): not a jet this calibrator can \
calibrate
    """
    low, high = feature_range
    span = np.maximum(high - low, np.abs(high) + np.abs(low), dtype=np.float64)
    span = np.where(span > 0, span, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        far = (X < low - FAR * span) | (X > high + FAR * span)
    if far.any():
        col = int(np.argwhere(far.any(axis=0))[0][0])
        row = int(np.argwhere(far[:, col])[0][0])
        raise DataError(
            f"column {names[col]!r} has {int(far[:, col].sum())} value(s) that no training "
            f"jet resembles (first at row {row}: {X[row, col]:.6g}; the training range was "
            f"{low[col]:.6g} to {high[col]:.6g}): not a jet this calibrator can calibrate"
        )


def bound_responses(r: np.ndarray, response_range: np.ndarray) -> np.ndarray:
    """``r`` with the values beyond the training responses set to the nearest end.

    ``r`` has shape (n_jets,) for one response, (n_jets, n_outputs) for several;
    ``response_range`` shape (2, n_outputs). NaN stays NaN (for the output guard).

    Examples
    --------
    >>> import numpy as np
    >>> bound_responses(np.array([0.9, 0.01, 7.0]), np.array([[0.2], [2.0]])).tolist()
    [0.9, 0.2, 2.0]
    """
    low, high = response_range if r.ndim == 2 else response_range[:, 0]
    return np.clip(r, low, high)
