"""The base of skcal's transformers: one contract for numpy, pandas and Dask tables.

A subclass says how to check its parameters (``_fit_params``), fit (``_fit_array``
and, where fitting reads the data, ``_fit_dask``), transform a numpy block
(``_transform_array``) and name its outputs (``_names_out``). The base does the
rest: input validation with skcal's errors, ``feature_names_in_`` and
``n_features_in_``, ``get_feature_names_out``, ``set_output``, and lazy Dask output
(each chunk transformed by the same numpy code, its values checked as it is computed).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

# Private scikit-learn helpers, stable since 1.2: they let skcal wrap its own output
# (pandas for in-memory input, exactly as scikit-learn does) while keeping Dask output
# lazy, which scikit-learn's automatic wrapping cannot (it would build a pandas
# DataFrame from a Dask one).
from sklearn.utils._set_output import _get_output_config, _wrap_data_with_container
from sklearn.utils.validation import check_is_fitted

from skcal._validation import (
    as_float_table,
    check_finite,
    check_input_features,
    dask_float_dtype,
    dask_kind,
    default_feature_names,
    is_dask,
    validate_table,
)
from skcal.exceptions import DataError


def _row_index(X: Any) -> Any:
    """Row labels of a pandas table (for error messages), else None."""
    return X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None


class TableTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class of skcal's transformers (not public).

    Output containers: in-memory input gives a numpy array, or a pandas DataFrame
    after ``set_output(transform="pandas")``, as in scikit-learn. Dask input gives
    Dask output, never computed by ``transform``: a Dask Array for a Dask Array in
    (a Dask DataFrame with ``set_output(transform="pandas")``), and a Dask DataFrame
    for a Dask DataFrame in.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Turn scikit-learn's automatic output wrapping off (``transform`` wraps its
        # output itself, see ``_wrap_output``) but keep ``set_output`` available, which
        # scikit-learn offers only where "transform" is among the wrapped keys.
        kwargs.pop("auto_wrap_output_keys", None)
        super().__init_subclass__(auto_wrap_output_keys=None, **kwargs)
        cls._sklearn_auto_wrap_output_keys = {"transform"}

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

    def _names_out(self, names_in: np.ndarray) -> list[str]:
        return list(names_in)

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
        try:
            data = validate_table(self, X, reset=True, ensure_finite=False)
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
        check_is_fitted(self)
        data = validate_table(self, X, reset=False, ensure_finite=False)
        if is_dask(data):
            names = self.get_feature_names_out()
            out = self._map_dask(data, _transform_block, _transform_partition, names)
        else:
            self._check_values(data, index=_row_index(X))
            out = self._transform_array(data)
        return self._wrap_output(out, X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of the output features.

        Parameters
        ----------
        input_features : array-like of str, optional
            The input names; by default ``feature_names_in_`` (or ``x0, x1, ...``
            where ``fit`` saw no column names).

        Returns
        -------
        names : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        names_in = check_input_features(self, input_features)
        return np.asarray(self._names_out(names_in), dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- helpers -------------------------------------------------------------------

    def _inverse(self, X: Any) -> Any:
        """``inverse_transform`` for transformers whose output has the input's columns."""
        check_is_fitted(self)
        names_out = self.get_feature_names_out()
        names_in = default_feature_names(self)
        kind = dask_kind(X)
        if kind is not None:
            if kind == "series" or X.ndim != 2 or X.shape[1] != len(names_out):
                raise DataError(
                    f"inverse_transform needs {len(names_out)} columns "
                    f"({list(names_out)}), got a Dask {kind} of shape {X.shape}"
                )
            return self._map_dask(X, _inverse_block, _inverse_partition, names_in)
        try:
            data = as_float_table(X)
        except ValueError as exc:
            raise DataError(str(exc)) from exc
        if data.shape[1] != len(names_out):
            raise DataError(
                f"inverse_transform needs {len(names_out)} columns ({list(names_out)}), "
                f"got {data.shape[1]}"
            )
        check_finite(data, names_out, index=_row_index(X))
        return self._inverse_array(data)

    def _map_dask(self, X: Any, block_func: Any, partition_func: Any, names: np.ndarray) -> Any:
        # A frozen copy goes into the graph, so that re-fitting (or set_params) before
        # the result is computed cannot change it.
        frozen = copy.deepcopy(self)
        dtype = dask_float_dtype(X)
        n_out = len(names)
        if dask_kind(X) == "array":
            X = X.rechunk({1: -1})
            return X.map_blocks(
                block_func,
                frozen,
                dtype=dtype,
                chunks=(X.chunks[0], (n_out,)),
                meta=np.empty((0, n_out), dtype=dtype),
            )
        meta = pd.DataFrame({name: pd.Series(dtype=dtype) for name in names})
        return X.map_partitions(partition_func, frozen, list(names), meta=meta)

    def _wrap_output(self, out: Any, X: Any) -> Any:
        if not is_dask(out):
            return _wrap_data_with_container("transform", out, X, self)
        container = _get_output_config("transform", self)["dense"]
        if container == "default" or dask_kind(out) == "dataframe":
            return out
        if container == "pandas":
            import dask.dataframe as dd

            return dd.from_dask_array(out, columns=list(self.get_feature_names_out()))
        raise DataError(
            f"set_output(transform={container!r}) is not supported for Dask input; "
            "use 'default' or 'pandas'"
        )


# Functions applied to each chunk of a Dask collection (module level: picklable).


def _block_rows(block: np.ndarray, block_info: Any) -> range:
    start = block_info[0]["array-location"][0][0] if block_info else 0
    return range(start, start + block.shape[0])


def _transform_block(
    block: np.ndarray, est: TableTransformer, block_info: Any = None
) -> np.ndarray:
    data = as_float_table(block)
    est._check_values(data, index=_block_rows(data, block_info))
    return est._transform_array(data)


def _transform_partition(
    part: pd.DataFrame, est: TableTransformer, names: list[str]
) -> pd.DataFrame:
    data = as_float_table(part)
    est._check_values(data, index=part.index)
    return pd.DataFrame(est._transform_array(data), index=part.index, columns=names)


def _inverse_block(block: np.ndarray, est: TableTransformer, block_info: Any = None) -> np.ndarray:
    data = as_float_table(block)
    check_finite(data, est.get_feature_names_out(), index=_block_rows(data, block_info))
    return est._inverse_array(data)


def _inverse_partition(part: pd.DataFrame, est: TableTransformer, names: list[str]) -> pd.DataFrame:
    data = as_float_table(part)
    check_finite(data, est.get_feature_names_out(), index=part.index)
    return pd.DataFrame(est._inverse_array(data), index=part.index, columns=names)


# The base class itself was created before its own __init_subclass__ existed.
TableTransformer._sklearn_auto_wrap_output_keys = {"transform"}
