"""The logarithm of positive columns (energies, masses, momenta)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np

from skcal._params import Interval
from skcal._validation import check_positive_columns, default_feature_names, resolve_columns
from skcal.preprocessing._base import TableTransformer


class LogTransformer(TableTransformer):
    """Take the natural log of the named positive columns; pass the others through.

    Energies, momenta and masses span decades; their logarithm is what a network (and
    a ``SymmetricScaler``) handles well. A value that has no logarithm is an error
    that names the column and counts the rows, never a NaN.

    Parameters
    ----------
    columns : str, int or sequence of str or int, optional
        The columns to take the log of: names (DataFrame input) or positions. Default:
        all columns.
    offset : float, default=0.0
        Added before the log, ``log(x + offset)``: 1.0 for counts that can be zero
        (track multiplicity). Values with ``x + offset <= 0`` are refused.
    prefix : str, default="log_"
        Prepended to the names of the transformed columns (``e_reco`` ->
        ``log_e_reco``); ``""`` keeps the names.

    Attributes
    ----------
    columns_ : list of int
        Positions of the transformed columns.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, where they have string names.

    Notes
    -----
    Fitting reads no values from a Dask collection: non-positive, NaN or infinite
    values in Dask input are reported when the output is computed. Minimum sample
    size: one row in memory (an empty table is a :class:`~skcal.exceptions.DataError`);
    over Dask any number, empty partitions included.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcal.preprocessing import LogTransformer
    >>> jets = pd.DataFrame({"e_reco": [np.e, 1.0], "eta": [-0.5, 2.0]})
    >>> log = LogTransformer(columns=["e_reco"]).set_output(transform="pandas")
    >>> log.fit_transform(jets)
       log_e_reco  eta
    0         1.0 -0.5
    1         0.0  2.0
    >>> log.inverse_transform(np.array([[0.0, 1.0]]))
    array([[1., 1.]])
    >>> LogTransformer().fit(pd.DataFrame({"m_reco": [10.0, 0.0, -1.0]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: Negative values in data: in X, column 'm_reco' has 2 ...
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "columns": [str, Interval(Integral, None, None, closed="neither"), list, tuple, None],
        "offset": [Interval(Real, None, None, closed="neither")],
        "prefix": [str],
    }

    def __init__(
        self,
        *,
        columns: str | int | Sequence[str | int] | None = None,
        offset: float = 0.0,
        prefix: str = "log_",
    ) -> None:
        self.columns = columns
        self.offset = offset
        self.prefix = prefix

    def _fit_params(self) -> None:
        self.columns_ = resolve_columns(
            self.columns, getattr(self, "feature_names_in_", None), self.n_features_in_
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _check_values(self, X: np.ndarray, *, index: Any = None, what: str = "X") -> None:
        super()._check_values(X, index=index, what=what)
        names = default_feature_names(self)[self.columns_]
        if self.offset:
            what = f"{what} + offset ({self.offset:g})"
        check_positive_columns(
            X[:, self.columns_] + self.offset,
            names,
            index=index,
            what=what,
            why="the log needs positive values (set offset, e.g. 1.0, for counts that can be zero)",
        )

    def _names_out(self, names_in: np.ndarray) -> list[str]:
        names = [str(name) for name in names_in]
        for j in self.columns_:
            names[j] = f"{self.prefix}{names[j]}"
        return names

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        out = X.copy()
        with np.errstate(over="ignore"):  # x + offset beyond the maximum: refused by the base
            out[:, self.columns_] = np.log(X[:, self.columns_] + self.offset)
        return out

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        out = X.copy()
        with np.errstate(over="ignore"):  # exp(710) and above: refused by the base
            out[:, self.columns_] = np.exp(X[:, self.columns_]) - self.offset
        return out

    def inverse_transform(self, X: Any) -> Any:
        """Undo the log: ``exp(y) - offset`` on the transformed columns.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
            Transformed features.

        Returns
        -------
        X_orig : ndarray or Dask collection of shape (n_jets, n_features)
            The features before the log (a Dask DataFrame with the input's column
            names for a Dask DataFrame).

        Raises
        ------
        DataError
            Where ``exp(y)`` is beyond the range of the dtype (``y`` above about 709.8
            in float64, 88.7 in float32): the column and the first row are named, and
            no inf is returned.

        Examples
        --------
        >>> import numpy as np
        >>> from skcal.preprocessing import LogTransformer
        >>> log = LogTransformer(offset=1.0).fit(np.array([[0.0], [9.0]]))
        >>> log.inverse_transform(log.transform(np.array([[0.0], [9.0]]))).ravel().round(12)
        array([0., 9.])
        """
        return self._inverse(X)
