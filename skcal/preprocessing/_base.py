"""The base of skcal's transformers, on the table contract (:mod:`skcal._contract`).

A subclass declares its ``_parameter_constraints``, derives what the fitted columns
imply (``_fit_params``), fits (``_fit_array`` and, where fitting reads the data,
``_fit_dask``), transforms a numpy block (``_transform_array``) and names its outputs
(``_names_out``). The contract does the rest: parameter and input validation with
skcal's errors, ``feature_names_in_`` and ``n_features_in_``,
``get_feature_names_out``, ``set_output``, and lazy Dask output (each chunk
transformed by the same numpy code, its values checked as it is computed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from skcal._contract import TableOutput
from skcal._validation import (
    as_float_table,
    check_finite,
    dask_float_dtype,
    dask_kind,
    default_feature_names,
    is_dask,
)
from skcal.exceptions import DataError


def _row_index(X: Any) -> Any:
    """Row labels of a pandas table (for error messages), else None."""
    return X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None


class TableTransformer(TableOutput, TransformerMixin, BaseEstimator):
    """Base class of skcal's transformers (not public).

    Output containers: in-memory input gives a numpy array, or a pandas DataFrame
    after ``set_output(transform="pandas")``, as in scikit-learn. Dask input gives
    Dask output, never computed by ``transform``: a Dask Array for a Dask Array in
    (a Dask DataFrame with ``set_output(transform="pandas")``), and a Dask DataFrame
    for a Dask DataFrame in.
    """

    # -- to be provided by subclasses ------------------------------------------------

    def _fit_params(self) -> None:
        """Check the parameters against the fitted columns; set derived attributes."""

    def _fit_array(self, X: np.ndarray) -> None:
        """Fit on a validated in-memory array (values already checked)."""

    def _fit_dask(self, X: Any) -> None:
        """Fit on a Dask collection; by default reads nothing (stateless transforms)."""

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_values(self, X: np.ndarray, *, index: Any = None, what: str = "X") -> None:
        """Refuse values that the transform cannot take (by default: NaN and inf)."""
        check_finite(X, default_feature_names(self), index=index, what=what)

    # -- the estimator contract -----------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> TableTransformer:
        """Fit the transformer.

        Parameters
        ----------
        X : array-like, DataFrame, Dask Array or Dask DataFrame of shape (n_jets, n_features)
            The jet features.
        y : ignored
            Present for the scikit-learn API.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        try:
            data = self._validate_table(X, reset=True, ensure_finite=False)
            self._fit_params()
            if is_dask(data):
                self._fit_dask(data)
            else:
                self._check_values(data, index=_row_index(X))
                self._fit_array(data)
        except Exception:
            # A failed fit leaves the transformer unfitted, not half fitted on new
            # columns with the state of an earlier fit.
            for name in [key for key in vars(self) if key.endswith("_") and key[0] != "_"]:
                delattr(self, name)
            raise
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit, then transform ``X``; Dask in, lazy Dask out (as :meth:`transform`).

        Defined here because scikit-learn's inherited ``fit_transform`` wraps its
        output itself, which would compute a Dask input into a pandas DataFrame.
        """
        return self.fit(X, y, **fit_params).transform(X)

    def transform(self, X: Any) -> Any:
        """Transform the jet features.

        Parameters
        ----------
        X : array-like, DataFrame, Dask Array or Dask DataFrame of shape (n_jets, n_features)
            The jet features, with the columns seen in ``fit``.

        Returns
        -------
        X_out : ndarray, DataFrame or Dask collection of shape (n_jets, n_features_out)
            The transformed features, named by ``get_feature_names_out()``. Dask input
            gives lazy Dask output.
        """
        self._check_fitted()
        data = self._validate_table(X, reset=False, ensure_finite=False)
        if is_dask(data):
            out = self._map_chunks(
                data,
                "_transform_chunk",
                names=list(self.get_feature_names_out()),
                dtype=dask_float_dtype(data),
            )
        else:
            self._check_values(data, index=_row_index(X))
            out = self._checked_output(self._transform_array(data), data.dtype, _row_index(X))
        return self._wrap_output(out, X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- helpers -------------------------------------------------------------------

    def _inverse(self, X: Any) -> Any:
        """``inverse_transform`` for transformers whose output has the input's columns."""
        self._check_fitted()
        names_out = self.get_feature_names_out()
        kind = dask_kind(X)
        if kind is not None:
            if kind == "series" or X.ndim != 2 or X.shape[1] != len(names_out):
                raise DataError(
                    f"inverse_transform needs {len(names_out)} columns "
                    f"({list(names_out)}), got a Dask {kind} of shape {X.shape}"
                )
            return self._map_chunks(
                X,
                "_inverse_chunk",
                names=list(default_feature_names(self)),
                dtype=dask_float_dtype(X),
            )
        data = as_float_table(X)
        if data.shape[1] != len(names_out):
            raise DataError(
                f"inverse_transform needs {len(names_out)} columns ({list(names_out)}), "
                f"got {data.shape[1]}"
            )
        check_finite(data, names_out, index=_row_index(X))
        return self._checked_output(
            self._inverse_array(data), data.dtype, _row_index(X), inverse=True
        )

    def _checked_output(
        self, out: np.ndarray, dtype: np.dtype, index: Any, *, inverse: bool = False
    ) -> np.ndarray:
        """``out`` in the input's dtype; a non-finite value from finite input is refused.

        The input was checked to be finite, so a NaN or inf here means a result beyond
        the range of the dtype (the exp of 1000, a scale of 1e-50 on float32 input):
        a :class:`~skcal.exceptions.DataError` naming the column, never a silent inf.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            out = out.astype(dtype, copy=False)
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            method = "inverse_transform" if inverse else "transform"
            names = default_feature_names(self) if inverse else self.get_feature_names_out()
            check_finite(
                out,
                names,
                index=index,
                what=(
                    f"the output of {type(self).__name__}.{method} (from finite input: "
                    f"the result is beyond the range of {np.dtype(dtype).name}"
                    + ("; pass float64 input" if np.dtype(dtype) != np.float64 else "")
                    + ")"
                ),
            )
        return out

    # One chunk of a Dask collection (called on a frozen copy, see ``_map_chunks``).

    def _transform_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        data = as_float_table(chunk)
        self._check_values(data, index=rows)
        return self._checked_output(self._transform_array(data), data.dtype, rows)

    def _inverse_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        data = as_float_table(chunk)
        check_finite(data, self.get_feature_names_out(), index=rows)
        return self._checked_output(self._inverse_array(data), data.dtype, rows, inverse=True)
