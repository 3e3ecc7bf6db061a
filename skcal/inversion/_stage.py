"""What the stages of the standard calibration share: columns, the scale, Dask plumbing.

A *stage* (pile-up offset, numerical inversion, one GSC step) multiplies the jet's
four-momentum columns (``momentum``) by a factor and keeps the product of all factors
applied so far in ``scale_column`` (absent: 1). Every stage is fitted to the response
``y`` of the *uncalibrated* jet, which the pipeline passes unchanged; the response of
the momentum as it reaches a stage is ``y * scale``, and a stage's ``predict`` returns
the response of the uncalibrated jet again (``R_stage / scale``), so that
``E_reco / pipeline.predict(X)`` is the calibrated energy after any number of stages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from skcal._validation import ABS_PREFIX, as_finite_vector, as_response, as_weights, is_dask
from skcal._chunks import reduce_chunks
from skcal.exceptions import DataError, NotFittedError

ColumnSpec = str | int


def spec_name(spec: ColumnSpec) -> str:
    """A readable name for a column given by name or position."""
    return spec if isinstance(spec, str) else f"x{spec}"


class Frame:
    """Read access to the columns of one chunk of a jet table, by name or position.

    ``X`` is a pandas DataFrame (columns by name; ``abs_<col>`` means ``|col|``) or a
    2-D float array (columns by position, already validated).
    """

    def __init__(self, X: pd.DataFrame | np.ndarray) -> None:
        self.X = X
        self.is_frame = isinstance(X, pd.DataFrame)
        self.n = X.shape[0]
        self._cache: dict[ColumnSpec, np.ndarray] = {}

    def get(self, spec: ColumnSpec, role: str) -> np.ndarray:
        """Column ``spec`` as finite float64 values; DataError naming it if missing or bad."""
        if spec in self._cache:
            return self._cache[spec]
        if self.is_frame:
            if spec in self.X.columns:
                values = self.X[spec].to_numpy()
            elif isinstance(spec, int | np.integer) and -self.X.shape[1] <= spec < self.X.shape[1]:
                values = self.X.iloc[:, int(spec)].to_numpy()
            elif (
                isinstance(spec, str)
                and spec.startswith(ABS_PREFIX)
                and spec[len(ABS_PREFIX) :] in self.X.columns
            ):
                values = np.abs(self.X[spec[len(ABS_PREFIX) :]].to_numpy())
            else:
                also = (
                    f" (nor {spec[len(ABS_PREFIX) :]!r}, whose absolute value it means)"
                    if isinstance(spec, str) and spec.startswith(ABS_PREFIX)
                    else ""
                )
                raise DataError(
                    f"{role}: column {spec!r}{also} is not in X, which has "
                    f"{self.X.shape[1]} feature(s): {list(self.X.columns)}"
                )
            values = as_finite_vector(values, f"column {spec!r}")
        else:
            if not isinstance(spec, int | np.integer):
                raise DataError(
                    f"{role}: column {spec!r} is given by name, but X is an array "
                    f"without column names; pass a DataFrame or a column position"
                )
            if not -self.X.shape[1] <= spec < self.X.shape[1]:
                raise DataError(
                    f"{role}: column {spec} is out of range: X has {self.X.shape[1]} feature(s)"
                )
            values = self.X[:, spec]
        self._cache[spec] = values
        return values

    def scale(self, scale_column: str | None) -> np.ndarray:
        """The product of the corrections already applied (1 where the column is absent)."""
        if scale_column is not None and self.is_frame and scale_column in self.X.columns:
            return as_response(self.X[scale_column].to_numpy(), f"column {scale_column!r}")
        return np.ones(self.n)


def check_momentum(momentum: Any) -> tuple[ColumnSpec, ...]:
    if isinstance(momentum, str | int):
        return (momentum,)
    return tuple(momentum)


class StageMixin:
    """Input handling of a calibration stage (mixed into BaseEstimator subclasses)."""

    momentum: Sequence[ColumnSpec]
    scale_column: str | None

    # ---- validation -----------------------------------------------------------------
    def _check_X(self, X: Any, *, reset: bool) -> pd.DataFrame | np.ndarray:
        """Validate X in memory: a DataFrame (columns read by name) or a float array."""
        if isinstance(X, pd.DataFrame):
            if X.shape[0] == 0:
                raise DataError("X is empty: 0 jets")
            if reset:
                self.feature_names_in_ = np.asarray(X.columns, dtype=object)
                self.n_features_in_ = X.shape[1]
            return X
        if reset:
            X = check_array(X, dtype=np.float64, ensure_min_samples=1, estimator=self)
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return X
        if hasattr(self, "feature_names_in_"):
            raise DataError(
                f"{type(self).__name__} was fitted on a jet table with named "
                f"columns; pass a DataFrame with the columns "
                f"{[c for c in self._required_columns() if isinstance(c, str)]}"
            )
        X = check_array(X, dtype=np.float64, ensure_min_samples=1, estimator=self)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return X

    def _required_columns(self) -> list[ColumnSpec]:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self)
        except Exception as exc:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' first."
            ) from exc

    # ---- streaming fit ----------------------------------------------------------------
    def _reduce(
        self,
        func: Callable[[Frame, np.ndarray, np.ndarray | None], Any],
        X: Any,
        y: Any,
        sample_weight: Any,
        combine: Callable[[Any, Any], Any],
        chunk_size: int = 1 << 20,
    ) -> Any:
        """Apply ``func(frame, y, w)`` to each chunk (or partition) and combine the results."""

        if y is None:
            raise DataError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                f"(y is the response E_reco / E_true of the uncalibrated jets)"
            )

        def on_chunk(x_chunk: Any, y_chunk: Any, w_chunk: Any) -> Any:
            if isinstance(x_chunk, pd.DataFrame):
                frame = Frame(x_chunk)
            else:
                frame = Frame(np.asarray(x_chunk, dtype=np.float64))
            yy = as_response(
                np.asarray(y_chunk, dtype=np.float64).ravel(), "y (the response)", n=frame.n
            )
            ww = as_weights(
                None if w_chunk is None else np.asarray(w_chunk).ravel(), frame.n, "sample_weight"
            )
            return func(frame, yy, ww)

        if is_dask(X):
            if not hasattr(X, "columns"):
                raise DataError(
                    "Dask input must be a Dask DataFrame (a jet table with named columns)"
                )
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            self.n_features_in_ = len(X.columns)
            y = _as_dask_series(y, "y")
            sample_weight = (
                None if sample_weight is None else _as_dask_series(sample_weight, "sample_weight")
            )
            return reduce_chunks(on_chunk, X, y, sample_weight, combine=combine)
        X = self._check_X(X, reset=True)
        n = X.shape[0]
        if n < 2:
            raise DataError(
                f"{type(self).__name__} needs at least 2 jets to fit; got n_samples={n}"
            )
        y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = as_finite_vector(y, "y (the response)", n=n)
        w = as_weights(sample_weight, n, "sample_weight")
        if w is not None and not w.sum() > 0:
            raise DataError("sample_weight sums to zero: nothing to fit")
        return reduce_chunks(on_chunk, X, y, w, chunk_size=chunk_size, combine=combine)

    # ---- prediction and transformation -------------------------------------------------
    def _map(self, X: Any, func: Callable[[Frame], Any], meta: Any) -> Any:
        """Apply ``func(frame)`` to X in memory, or to each partition of a Dask DataFrame."""
        self._check_fitted()
        if is_dask(X):
            if not hasattr(X, "map_partitions"):
                raise DataError(
                    "Dask input must be a Dask DataFrame (a jet table with named columns)"
                )
            return X.map_partitions(lambda part: func(Frame(part)), meta=meta)
        return func(Frame(self._check_X(X, reset=False)))

    def _apply_factor(self, frame: Frame, factor: np.ndarray) -> pd.DataFrame | np.ndarray:
        """X with the momentum columns multiplied by ``factor`` and the scale updated."""
        momentum = check_momentum(self.momentum)
        if frame.is_frame:
            out = frame.X.copy()
            for spec in momentum:
                values = frame.get(spec, "momentum") * factor
                if spec in out.columns:
                    out[spec] = values
                else:
                    out.isetitem(int(spec), values)
            if self.scale_column is not None:
                out[self.scale_column] = frame.scale(self.scale_column) * factor
            return out
        out = np.array(frame.X, dtype=np.float64, copy=True)
        for spec in momentum:
            out[:, spec] = frame.get(spec, "momentum") * factor
        return out

    def _transform_meta(self, X: Any) -> pd.DataFrame:
        meta = X._meta.copy()
        for spec in check_momentum(self.momentum):
            meta[spec] = meta[spec].astype(np.float64)
        if self.scale_column is not None:
            meta[self.scale_column] = pd.Series(dtype=np.float64)
        return meta

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the transformed columns: the input's, plus the scale column."""
        self._check_fitted()
        if hasattr(self, "feature_names_in_"):
            names = list(self.feature_names_in_)
            if input_features is not None and list(input_features) != names:
                raise ValueError("input_features is not equal to feature_names_in_")
            if self.scale_column is not None and self.scale_column not in names:
                names.append(self.scale_column)
            return np.asarray(names, dtype=object)
        if input_features is not None:
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to "
                    f"n_features_in_ ({self.n_features_in_})"
                )
            return np.asarray(input_features, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)


def _as_dask_series(values: Any, name: str) -> Any:
    if is_dask(values):
        return values
    raise DataError(
        f"X is a Dask DataFrame: {name} must be a Dask Series with the same partitions "
        f"(for example jets['e_reco'] / jets['e_true'])"
    )


def check_edges_param(edges: Any, name: str) -> np.ndarray:
    """Edges given as a parameter: strictly increasing finite values, at least two."""
    array = np.asarray(edges, dtype=np.float64)
    if (
        array.ndim != 1
        or array.size < 2
        or not np.isfinite(array).all()
        or np.any(np.diff(array) <= 0)
    ):
        raise DataError(
            f"{name} must be at least two finite, strictly increasing edges; got {edges!r}"
        )
    return array


def bin_lookup(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each value, clipped into range; and whether it was outside."""
    index = np.searchsorted(edges, values, side="right") - 1
    outside = (index < 0) | (index >= edges.size - 1)
    return np.clip(index, 0, edges.size - 2), outside


def condition_items(
    condition: Mapping[ColumnSpec, Any] | None,
) -> list[tuple[ColumnSpec, np.ndarray]]:
    if condition is None:
        return []
    if not isinstance(condition, Mapping):
        raise DataError(f"condition must map columns to bin edges, got {type(condition).__name__}")
    return [
        (spec, check_edges_param(edges, f"condition[{spec!r}]"))
        for spec, edges in condition.items()
    ]
