"""What the stages of the standard calibration share: columns, the scale, the contract.

A *stage* (pile-up offset, numerical inversion, one GSC step) multiplies the jet's
four-momentum columns (``momentum``) by a factor and keeps the product of all factors
applied so far in ``scale_column`` (absent: 1). Every stage is fitted to the response
``y`` of the *uncalibrated* jet, which the pipeline passes unchanged; the response of
the momentum as it reaches a stage is ``y * scale``, and a stage's ``predict`` returns
the response of the uncalibrated jet again (``R_stage / scale``), so that
``E_reco / pipeline.predict(X)`` is the calibrated energy after any number of stages.

The stages are on the table contract (:mod:`skcal._contract`): parameters checked at
the start of ``fit``, one fitted check, ``get_feature_names_out`` (the input's columns
and the scale column), a Dask-safe ``set_output``, and Dask output mapped chunk by chunk
with an explicit meta. A stage reads its columns by name from a DataFrame (the jet
table, whatever else it holds) or by position from an array.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from numbers import Integral
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import column_or_1d

from skcal._chunks import reduce_chunks
from skcal._contract import TableOutput
from skcal._params import Interval
from skcal._validation import (
    ABS_PREFIX,
    as_finite_vector,
    as_response,
    as_weights,
    check_calibrated,
    dask_meta,
    is_dask,
)
from skcal.exceptions import DataError
from skcal.response import check_edges

ColumnSpec = str | int

#: The constraints of the parameters that every stage has.
STAGE_CONSTRAINTS: dict[str, list[Any]] = {
    "momentum": [str, Integral, "array-like"],
    "scale_column": [str, None],
    "chunk_size": [Interval(Integral, 1, None, closed="left")],
}


def spec_name(spec: ColumnSpec) -> str:
    """A readable name for a column given by name or position."""
    return spec if isinstance(spec, str) else f"x{int(spec)}"


class Frame:
    """Read access to the columns of one chunk of a jet table, by name or position.

    ``X`` is a pandas DataFrame (columns by name; ``abs_<col>`` means ``|col|``) or a
    2-D float array (columns by position, already validated).
    """

    def __init__(self, X: pd.DataFrame | np.ndarray) -> None:
        self.X: Any = X  # a DataFrame or an array: ``is_frame`` tells which
        self.is_frame = isinstance(X, pd.DataFrame)
        self.n = X.shape[0]
        self._cache: dict[ColumnSpec, np.ndarray] = {}

    def get(self, spec: ColumnSpec, role: str) -> np.ndarray:
        """Column ``spec`` as finite float64 values; DataError naming it if missing or bad."""
        if spec in self._cache:
            return self._cache[spec]
        if self.is_frame:
            values = as_finite_vector(self._frame_column(spec, role), f"column {spec!r}")
        else:
            if not isinstance(spec, Integral):
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

    def _frame_column(self, spec: ColumnSpec, role: str) -> np.ndarray:
        X = self.X
        if spec in X.columns:
            return X[spec].to_numpy()
        if isinstance(spec, Integral) and -X.shape[1] <= spec < X.shape[1]:
            return X.iloc[:, int(spec)].to_numpy()
        if isinstance(spec, str) and spec.startswith(ABS_PREFIX):
            if spec[len(ABS_PREFIX) :] in X.columns:
                return np.abs(X[spec[len(ABS_PREFIX) :]].to_numpy())
            also = f" (nor {spec[len(ABS_PREFIX) :]!r}, whose absolute value it means)"
        else:
            also = ""
        raise DataError(
            f"{role}: column {spec!r}{also} is not in X, which has "
            f"{X.shape[1]} feature(s): {list(X.columns)}"
        )

    def scale(self, scale_column: str | None) -> np.ndarray:
        """The product of the corrections already applied (1 where the column is absent)."""
        if scale_column is not None and self.is_frame and scale_column in self.X.columns:
            return as_response(self.X[scale_column].to_numpy(), f"column {scale_column!r}")
        return np.ones(self.n)


def check_momentum(momentum: Any) -> tuple[ColumnSpec, ...]:
    """The ``momentum`` parameter as a tuple of columns."""
    if isinstance(momentum, str | Integral):
        return (cast(ColumnSpec, momentum),)
    return tuple(momentum)


def condition_items(
    condition: Mapping[ColumnSpec, Any],
) -> list[tuple[ColumnSpec, np.ndarray]]:
    """The ``(column, edges)`` pairs of a ``condition`` parameter, edges checked."""
    return [(spec, check_edges(edges, f"condition[{spec!r}]")) for spec, edges in condition.items()]


def _on_chunk(
    func: Callable[[Frame, np.ndarray, np.ndarray | None], Any], x: Any, y: Any, w: Any
) -> Any:
    """``func`` on one chunk of the jet table, its responses and weights, checked."""
    frame = Frame(x if isinstance(x, pd.DataFrame) else np.asarray(x, dtype=np.float64))
    response = as_response(np.asarray(y, dtype=np.float64).ravel(), "y (the response)", n=frame.n)
    weights = None if w is None else as_weights(np.asarray(w).ravel(), frame.n, "sample_weight")
    return func(frame, response, weights)


class StageMixin(TableOutput, TransformerMixin):
    """The contract of a calibration stage (first among the bases, before ``BaseEstimator``).

    A stage names the attribute that ``fit`` sets last (``_fitted_attribute``) and
    computes its factor on one chunk (``_factor``); ``transform`` multiplies the
    momentum by it, and ``predict`` (of the stages that are regressors) returns
    ``1 / (factor * scale)``.
    """

    _fitted_attribute: ClassVar[str]
    momentum: ColumnSpec | Sequence[ColumnSpec]
    scale_column: str | None
    chunk_size: int

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, self._fitted_attribute)

    def _factor(self, frame: Frame) -> np.ndarray:
        raise NotImplementedError

    # ---- validation -----------------------------------------------------------------
    def _validate_jets(self, X: Any, *, reset: bool) -> Any:
        """The jet table: a DataFrame (pandas or Dask) as given, or a float array.

        A DataFrame's columns are read by name, whatever their dtypes (``flavour``,
        labels): ``fit`` records them (``feature_names_in_``), and later calls read the
        columns they need from any jet table that has them. An array is validated as
        a float table of the fitted width.
        """
        if is_dask(X) and not hasattr(X, "columns"):
            raise DataError("Dask input must be a Dask DataFrame (a jet table with named columns)")
        if not hasattr(X, "columns"):
            return self._validate_table(X, reset=reset, dtype=np.float64)
        if reset:
            self._validate_table(X, reset=True, ensure_finite=False, dtype=None)
        elif not is_dask(X) and X.shape[0] == 0:
            raise DataError("X is empty: 0 jets")
        return X

    # ---- streaming fit ----------------------------------------------------------------
    def _reduce(
        self,
        func: Callable[[Frame, np.ndarray, np.ndarray | None], Any],
        X: Any,
        y: Any,
        sample_weight: Any,
        combine: Callable[[Any, Any], Any],
    ) -> Any:
        """Validate X, y and the weights; fold ``func(frame, y, w)`` over the chunks."""
        if y is None:
            raise DataError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                f"(y is the response E_reco / E_true of the uncalibrated jets)"
            )
        X = self._validate_jets(X, reset=True)
        on_chunk = partial(_on_chunk, func)
        if is_dask(X):
            return reduce_chunks(on_chunk, X, y, sample_weight, combine=combine)
        n = X.shape[0]
        if n < 2:
            raise DataError(
                f"{type(self).__name__} needs at least 2 jets to fit; got n_samples={n}"
            )
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y = as_response(y, "y (the response)", n=n)
        w = as_weights(sample_weight, n, "sample_weight", nonzero_sum=True)
        return reduce_chunks(on_chunk, X, y, w, chunk_size=int(self.chunk_size), combine=combine)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit, then transform ``X``; Dask in, lazy Dask out (as ``transform``)."""
        return self.fit(X, y, **fit_params).transform(X)

    # ---- prediction and transformation ------------------------------------------------
    def _apply(self, X: Any, method: str, *, dtype: Any = np.float64) -> Any:
        """``method(chunk, rows)`` on X in memory, or lazily on each Dask partition.

        A 1-D result is a Series for DataFrame input; ``_transform_chunk`` gives the
        table, whose Dask meta is the transform of the empty meta of X.
        """
        self._check_fitted()
        X = self._validate_jets(X, reset=False)
        if is_dask(X):
            meta = None
            if method == "_transform_chunk":
                meta = self._transform_chunk(dask_meta(X), None)
            return self._map_chunks(X, method, dtype=dtype, meta=meta)
        out = getattr(self, method)(X, getattr(X, "index", None))
        if isinstance(X, pd.DataFrame) and out.ndim == 1:
            return pd.Series(out, index=X.index)
        return out

    def _transform_chunk(self, chunk: Any, rows: Any) -> pd.DataFrame | np.ndarray:
        frame = Frame(chunk)
        factor = check_calibrated(
            self._factor(frame), chunk, owner=type(self).__name__, what="correction factors"
        )
        return self._apply_factor(frame, factor)

    def _response_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        frame = Frame(chunk)
        response = 1.0 / (self._factor(frame) * frame.scale(self.scale_column))
        return check_calibrated(response, chunk, owner=type(self).__name__)

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
            out[:, int(spec)] = frame.get(spec, "momentum") * factor
        return out

    def _transform(self, X: Any) -> Any:
        """``transform``: the corrected table, in the container ``set_output`` asked for."""
        out = self._apply(X, "_transform_chunk")
        if (
            isinstance(out, pd.DataFrame)
            and _get_output_config("transform", self)["dense"] != "default"
            and list(out.columns) != list(self.get_feature_names_out())
        ):
            raise DataError(
                f"set_output names the columns of transform by get_feature_names_out(), "
                f"the columns seen in fit: pass X with the columns {list(self.feature_names_in_)}"
            )
        return self._wrap_output(out, X)

    def _names_out(self, names_in: np.ndarray) -> list[str]:
        names = list(names_in)
        named = hasattr(self, "feature_names_in_")
        if named and self.scale_column is not None and self.scale_column not in names:
            names.append(self.scale_column)
        return names
