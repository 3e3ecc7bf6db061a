"""Scaling of each feature to [-1, 1] from robust quantiles."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing._base import TableTransformer
from skcal.preprocessing._quantiles import chunk_sketches, merge_quantiles, safe_quantile


class SymmetricScaler(TableTransformer):
    """Map each feature linearly to [-1, 1], from robust quantiles.

    The lower quantile of ``quantile_range`` goes to -1 and the upper one to +1, so
    that most of each feature's distribution falls in [-1, 1], as the ATLAS DNN
    calibration normalises its inputs (MLST 5 (2024) 035051, section 5.2). Robust
    quantiles rather than the extremes keep a few outliers from squeezing the bulk.

    Parameters
    ----------
    quantile_range : tuple of two floats, default=(1.0, 99.0)
        The percentiles (0 to 100) mapped to -1 and +1. ``(0.0, 100.0)`` maps the
        fit data's minimum and maximum, so all of it lands in [-1, 1].
    clip : bool, default=False
        Clip the output to [-1, 1] (values beyond the quantiles become -1 or +1; the
        inverse transform cannot restore them).

    Attributes
    ----------
    quantiles_ : ndarray of shape (2, n_features_in_)
        The lower and upper quantiles of each feature in the fit data.
    centre_ : ndarray of shape (n_features_in_,)
        Midpoint of the quantiles, mapped to 0.
    scale_ : ndarray of shape (n_features_in_,)
        Half the distance between the quantiles (1 for a feature whose quantiles
        coincide, such as a constant: it is only centred).
    n_samples_seen_ : int
        Number of rows in the fit data (at least one: an empty table is refused).
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, where they have string names.

    Notes
    -----
    The quantiles, ``centre_`` and ``scale_`` are float64 whatever the input's dtype,
    and are computed without overflow up to the float64 maximum; float32 input is
    scaled in float64 and cast back. A finite input whose scaled value does not exist
    in the output dtype (a fit on values near 1e-50, float32 input) is a
    :class:`~skcal.exceptions.DataError` naming the column, never an inf or NaN.

    Minimum sample size: one row, in memory or over all Dask partitions together
    (empty partitions are skipped; no row at all is a
    :class:`~skcal.exceptions.DataError`).

    On a Dask collection, ``fit`` reads each chunk once, in one ``dask.compute``: every
    chunk is summarised by a quantile sketch and the sketches are merged. With one
    chunk the quantiles are exactly numpy's; with several, each quantile found has a
    rank within ``1/2048 + n_chunks/n_rows`` of the one asked for (see
    ``skcal.preprocessing._quantiles``), whatever the order of the rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.preprocessing import SymmetricScaler
    >>> X = np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 500.0]])
    >>> scaler = SymmetricScaler(quantile_range=(0.0, 100.0)).fit(X)
    >>> scaler.transform(X)
    array([[-1., -1.],
           [ 0.,  0.],
           [ 1.,  1.]])
    >>> scaler.transform(np.array([[5.0, 0.0]]))
    array([[ 3. , -1.5]])
    >>> scaler.set_params(clip=True).transform(np.array([[5.0, 0.0]]))
    array([[ 1., -1.]])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "quantile_range": [tuple, list],
        "clip": ["boolean"],
    }

    def __init__(
        self, *, quantile_range: tuple[float, float] = (1.0, 99.0), clip: bool = False
    ) -> None:
        self.quantile_range = quantile_range
        self.clip = clip

    def _fit_params(self) -> None:
        self._probabilities()

    def _probabilities(self) -> np.ndarray:
        try:
            low, high = (float(q) for q in self.quantile_range)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"quantile_range: expected two percentiles, got {self.quantile_range!r}"
            ) from exc
        if not 0.0 <= low < high <= 100.0:
            raise ParameterError(
                f"quantile_range: expected 0 <= low < high <= 100, got {self.quantile_range!r}"
            )
        return np.array([low, high]) / 100.0

    def _fit_array(self, X: np.ndarray) -> None:
        self._set_scale(safe_quantile(X, self._probabilities()), X.shape[0])

    def _fit_dask(self, X: Any) -> None:
        sketches = chunk_sketches(X, self._probabilities(), self._check_values)
        quantiles, n_rows = merge_quantiles(sketches, self._probabilities())
        if n_rows == 0:
            raise DataError(
                f"Found array with 0 sample(s): X is empty (no rows in its {len(sketches)} "
                "chunks); SymmetricScaler needs at least one row to fit"
            )
        self._set_scale(quantiles, n_rows)

    def _set_scale(self, quantiles: np.ndarray, n_rows: int) -> None:
        low, high = np.asarray(quantiles, dtype=np.float64)
        # Halves first: (low + high) / 2 and high - low overflow near the float64 maximum.
        half = high / 2.0 - low / 2.0
        # Quantiles that coincide (up to rounding) give no scale: centre only. A scale
        # below the smallest normal float64 (quantiles 1e-310 apart) would turn the
        # division into an overflow; it is treated as coinciding quantiles too.
        tiny = np.finfo(np.float64).tiny
        degenerate = (half <= 10 * np.finfo(np.float64).eps * np.maximum(abs(low), abs(high))) | (
            half < tiny
        )
        self.quantiles_ = np.stack([low, high])
        self.centre_ = low / 2.0 + high / 2.0
        self.scale_ = np.where(degenerate, 1.0, half)
        self.n_samples_seen_ = int(n_rows)

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        # In float64 whatever the input's dtype: the parameters of a fit on float64 data
        # may not exist in float32 (1e300, 1e-50). The base checks the cast back.
        X64 = X.astype(np.float64, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            out = (X64 - self.centre_) / self.scale_
            far = ~np.isfinite(out)
            if far.any():  # X - centre overflowed: the same in halves
                halves = (X64 / 2.0 - self.centre_ / 2.0) / self.scale_ * 2.0
                out = np.where(far, halves, out)
        if self.clip:
            np.clip(out, -1.0, 1.0, out=out)
        return out

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        X64 = X.astype(np.float64, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            out = X64 * self.scale_ + self.centre_
            far = ~np.isfinite(out)
            if far.any():  # the sum overflowed before the result did: in halves
                halves = (X64 * (self.scale_ / 2.0) + self.centre_ / 2.0) * 2.0
                out = np.where(far, halves, out)
        return out

    def inverse_transform(self, X: Any) -> Any:
        """Map scaled features back to their original units.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
            Scaled features.

        Returns
        -------
        X_orig : ndarray or Dask collection of shape (n_jets, n_features)
            The features in their original units (clipped values stay at the
            quantiles).

        Examples
        --------
        >>> import numpy as np
        >>> from skcal.preprocessing import SymmetricScaler
        >>> scaler = SymmetricScaler(quantile_range=(0, 100)).fit(np.array([[10.0], [20.0]]))
        >>> scaler.inverse_transform(np.array([[0.0], [1.0]])).ravel()
        array([15., 20.])
        """
        return self._inverse(X)
