"""The table contract: what every skcal estimator does with a jet table, in one place.

Every estimator base (the transformers, the calibration stages, the neural
calibrators) mixes in :class:`TableContract` before scikit-learn's ``BaseEstimator``
or skorch's ``NeuralNet``, and transformers :class:`TableOutput` too. They get:

- declarative parameter checks (``_parameter_constraints``, ``_validate_params``,
  :class:`~skcal.exceptions.ParameterError`), run once at the start of ``fit``;
- input validation with skcal's errors (:func:`~skcal._validation.validate_table`:
  the column that is wrong, ``n_features_in_`` and ``feature_names_in_``);
- one fitted check (``__sklearn_is_fitted__``, used by scikit-learn's
  ``check_is_fitted`` too) raising :class:`~skcal.exceptions.NotFittedError`;
- Dask mapping with an explicit meta (:func:`~skcal._chunks.map_chunks`) of a frozen
  copy of the estimator, so that re-fitting before the result is computed changes
  nothing;
- for transformers: ``get_feature_names_out`` from ``_names_out``, and a Dask-safe
  ``set_output`` (pandas for in-memory input, as in scikit-learn; Dask stays lazy).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

# Private scikit-learn helpers, stable since 1.2: they let skcal wrap its own output
# (pandas for in-memory input, exactly as scikit-learn does) while keeping Dask output
# lazy, which scikit-learn's automatic wrapping cannot (it would build a pandas
# DataFrame from a Dask one).
from sklearn.utils._set_output import _get_output_config, _wrap_data_with_container

from skcal._chunks import map_chunks
from skcal._params import ParamsMixin
from skcal._validation import (
    FLOAT_DTYPES,
    check_input_features,
    dask_kind,
    is_dask,
    validate_table,
)
from skcal.exceptions import DataError, NotFittedError

__all__ = ["TableContract", "TableOutput"]


class TableContract(ParamsMixin):
    """Parameters, input validation, the fitted check and Dask mapping (not public).

    A subclass says when it is fitted by overriding :meth:`__sklearn_is_fitted__`
    where ``n_features_in_`` alone does not tell.
    """

    def _validate_table(
        self, X: Any, *, reset: bool, ensure_finite: bool = True, dtype: Any = FLOAT_DTYPES
    ) -> Any:
        """``validate_table`` for this estimator: a numpy array, or Dask unchanged."""
        return validate_table(self, X, reset=reset, ensure_finite=ensure_finite, dtype=dtype)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    def _check_fitted(self) -> None:
        """Raise :class:`~skcal.exceptions.NotFittedError` unless fitted."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _map_chunks(
        self,
        X: Any,
        method: str,
        *args: Any,
        names: Any = None,
        dtype: Any = np.float64,
        meta: Any = None,
    ) -> Any:
        """``map_chunks`` of ``frozen.<method>(chunk, rows, *args)`` over a Dask table.

        ``frozen`` is a deep copy of this estimator taken now, so that the lazy result
        does not depend on what happens to the estimator before it is computed.
        """
        frozen = copy.deepcopy(self)
        return map_chunks(
            X, _call_method, frozen, method, *args, names=names, dtype=dtype, meta=meta
        )


def _call_method(chunk: Any, rows: Any, est: Any, method: str, *args: Any) -> Any:
    return getattr(est, method)(chunk, rows, *args)


class TableOutput(TableContract):
    """``get_feature_names_out`` and a Dask-safe ``set_output`` (not public).

    Mix in before scikit-learn's ``TransformerMixin``; a subclass names its outputs
    in :meth:`_names_out` and returns every ``transform`` through :meth:`_wrap_output`.
    scikit-learn's automatic output wrapping is off (it would compute a Dask input into
    a pandas DataFrame); ``set_output`` stays available.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        kwargs.pop("auto_wrap_output_keys", None)
        super().__init_subclass__(auto_wrap_output_keys=None, **kwargs)  # type: ignore[call-arg]
        cls._sklearn_auto_wrap_output_keys = {"transform"}  # type: ignore[attr-defined]

    def _names_out(self, names_in: np.ndarray) -> list[str]:
        return list(names_in)

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
        self._check_fitted()
        names_in = check_input_features(self, input_features)
        return np.asarray(self._names_out(names_in), dtype=object)

    def _wrap_output(self, out: Any, X: Any) -> Any:
        """The transform's output in the container that ``set_output`` asked for."""
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


# The base class itself was created before its own __init_subclass__ existed.
TableOutput._sklearn_auto_wrap_output_keys = {"transform"}  # type: ignore[attr-defined]
