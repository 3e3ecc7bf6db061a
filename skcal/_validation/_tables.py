"""Checks of 2-D tables (numpy, pandas, Dask): shape, columns, finite and positive values.

Every check raises :class:`~skcal.exceptions.DataError` with a message that names
the offending column (or parameter) and value, so that a user sees *which* column of
a jet table is wrong, not just that something is. Dask collections are recognised
without importing ``dask.array`` or ``dask.dataframe`` unless the input is one.

>>> import numpy as np
>>> from skcal._validation import check_finite
>>> check_finite(np.array([[1.0, np.nan]]), ["e_reco", "eta"])
Traceback (most recent call last):
...
skcal.exceptions.DataError: X has non-finite values: column 'eta' has 1 NaN (first at row 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_array, validate_data

from skcal._validation._dask import dask_meta, is_dask
from skcal._validation._names import default_feature_names
from skcal.exceptions import DataError

__all__ = [
    "FLOAT_DTYPES",
    "as_float_table",
    "check_finite",
    "check_positive_columns",
    "dask_float_dtype",
    "validate_table",
]

#: The floating dtypes that skcal's transformers keep; anything else becomes float64.
FLOAT_DTYPES: tuple[type, ...] = (np.float64, np.float32)

#: How many offending columns a message lists before it says "and N more".
_MAX_LISTED = 5


def _row_label(index: Sequence[Any] | None, position: int) -> str:
    if index is None:
        return f"row {position}"
    if isinstance(index, range):  # positions in a larger table (a Dask chunk's rows)
        return f"row {index[position]}"
    return f"index {index[position]!r}"


def check_finite(
    values: np.ndarray,
    columns: Sequence[str] | np.ndarray,
    *,
    index: Sequence[Any] | None = None,
    what: str = "X",
) -> None:
    """Raise if a 2-D array holds NaN or infinite values, naming each such column.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns)
        The numbers to check.
    columns : sequence of str
        The name of each column, for the message.
    index : sequence, optional
        Row labels (a pandas index) to name the first bad row by, or a ``range`` of
        row numbers (a chunk of a larger table); positions from 0 if omitted.
    what : str, default="X"
        What the array is, for the message.

    Raises
    ------
    DataError
        If any value is NaN or infinite; the message names the columns, counts the
        NaN and infinite values of each and gives the first bad row.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite(np.array([[1.0, 2.0]]), ["a", "b"])  # fine: returns None
    >>> check_finite(np.array([[np.inf, 2.0], [np.nan, 1.0]]), ["a", "b"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: X has non-finite values: column 'a' has 1 NaN and 1 inf ...
    """
    if values.dtype.kind not in "fc":  # integers and booleans are always finite
        return
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    parts = []
    bad_columns = np.flatnonzero(bad.any(axis=0))
    for j in bad_columns[:_MAX_LISTED]:
        column = values[:, j]
        n_nan = int(np.isnan(column).sum())
        n_inf = int(bad[:, j].sum()) - n_nan
        counts = " and ".join(f"{n} {word}" for n, word in ((n_nan, "NaN"), (n_inf, "inf")) if n)
        first = int(np.argmax(bad[:, j]))
        parts.append(f"column {columns[j]!r} has {counts} (first at {_row_label(index, first)})")
    if len(bad_columns) > _MAX_LISTED:
        parts.append(f"and {len(bad_columns) - _MAX_LISTED} more columns")
    raise DataError(f"{what} has non-finite values: " + ", ".join(parts))


def check_positive_columns(
    values: np.ndarray,
    columns: Sequence[str] | np.ndarray,
    *,
    index: Sequence[Any] | None = None,
    what: str = "X",
    why: str = "",
) -> None:
    """Raise if a 2-D array holds zero or negative values, naming each such column.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns)
        The numbers to check (already known to be finite).
    columns : sequence of str
        The name of each column, for the message.
    index : sequence, optional
        Row labels to name the first bad row by; positions if omitted.
    what : str, default="X"
        What the array is, for the message.
    why : str, default=""
        Why positive values are needed, appended to the message (after a semicolon,
        or a space if it is in brackets).

    Raises
    ------
    DataError
        If any value is not positive. The message starts with "Negative values in
        data" when some are negative (scikit-learn's wording) and "Zero values in
        data" when the only offenders are zeros.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[1.0, -2.0], [3.0, 0.0]])
    >>> check_positive_columns(values, ["e_reco", "m_reco"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: Negative values in data: in X, column 'm_reco' has 2 ...
    """
    bad = ~(values > 0)
    if not bad.any():
        return
    parts = []
    bad_columns = np.flatnonzero(bad.any(axis=0))
    for j in bad_columns[:_MAX_LISTED]:
        n_bad = int(bad[:, j].sum())
        first = int(np.argmax(bad[:, j]))
        smallest = values[:, j].min()
        parts.append(
            f"column {columns[j]!r} has {n_bad} non-positive value{'s' if n_bad > 1 else ''} "
            f"in {values.shape[0]} rows (smallest {smallest:g}, "
            f"first at {_row_label(index, first)})"
        )
    if len(bad_columns) > _MAX_LISTED:
        parts.append(f"and {len(bad_columns) - _MAX_LISTED} more columns")
    head = "Negative values in data" if (values < 0).any() else "Zero values in data"
    why = why.strip()
    if why:  # a reason in brackets follows the message, any other after a semicolon
        parts[-1] += f" {why}" if why.startswith("(") else f"; {why}"
    raise DataError(f"{head}: in {what}, " + ", ".join(parts))


def _check_numeric_columns(table: Any) -> None:
    """Refuse a pandas table with non-numeric columns, naming them and a first value."""
    dtypes = getattr(table, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        (name, dtype)
        for name, dtype in dtypes.items()
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
    ]
    if not bad:
        return
    name, dtype = bad[0]
    values = table[name]
    first = repr(values.iloc[0]) if len(values) else "none"
    more = f" (and {[n for n, _ in bad[1 : _MAX_LISTED + 1]]})" if len(bad) > 1 else ""
    raise DataError(
        f"column {name!r} is not numeric (dtype {dtype}, first value {first}){more}; "
        "every feature must be a number"
    )


def as_float_table(chunk: Any) -> np.ndarray:
    """A chunk of a table (numpy block or pandas partition) as a 2-D float array.

    The conversion is the one that :func:`validate_table` applies in memory (float32
    is kept, everything else becomes float64), without its checks: a chunk of a Dask
    collection may be empty, and its columns were checked when the graph was built.

    Examples
    --------
    >>> import numpy as np
    >>> as_float_table(np.zeros((0, 2), dtype=np.int64)).dtype
    dtype('float64')
    """
    _check_numeric_columns(chunk)
    try:
        return check_array(chunk, dtype=FLOAT_DTYPES, ensure_all_finite=False, ensure_min_samples=0)
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def dask_float_dtype(X: Any) -> np.dtype:
    """The float dtype that the chunks of a Dask table become in :func:`as_float_table`.

    Examples
    --------
    >>> import dask.array as da
    >>> dask_float_dtype(da.ones((4, 2), dtype="float32", chunks=2))
    dtype('float32')
    """
    return as_float_table(dask_meta(X)).dtype


def validate_table(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    dtype: Any = FLOAT_DTYPES,
    ensure_finite: bool = True,
) -> Any:
    """Validate a table for an estimator and record (or compare) its columns.

    This is scikit-learn's ``validate_data`` with skcal's errors: a
    :class:`~skcal.exceptions.DataError` for a wrong shape, an empty table, columns
    other than those seen in ``fit``, and NaN or infinite values (naming the column).

    Parameters
    ----------
    estimator : estimator
        Where ``n_features_in_`` and ``feature_names_in_`` are set (``reset=True``)
        or read (``reset=False``).
    X : array-like, DataFrame or Dask collection of shape (n_rows, n_columns)
        The table.
    reset : bool
        True in ``fit``, False afterwards.
    dtype : dtype or tuple of dtypes, default=(float64, float32)
        Accepted dtypes; others are converted to the first.
    ensure_finite : bool, default=True
        Whether to refuse NaN and infinite values.

    Returns
    -------
    X : ndarray or Dask collection
        A numpy array for in-memory input. A Dask collection is returned unchanged:
        only its columns and dtypes are checked here, without computing anything, and
        the caller checks its values chunk by chunk (``check_finite`` on each chunk).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> est = FunctionTransformer()
    >>> validate_table(est, np.ones((2, 3)), reset=True).shape, est.n_features_in_
    ((2, 3), 3)
    >>> validate_table(est, np.ones((2, 2)), reset=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: X has 2 features, but FunctionTransformer is expecting 3 ...
    """
    dask_input = is_dask(X)
    data = dask_meta(X) if dask_input else X
    if dtype is not None:  # a table read by name (dtype=None) may carry labels
        _check_numeric_columns(data)
    try:
        array = validate_data(
            estimator,
            data,
            reset=reset,
            dtype=dtype,
            ensure_all_finite=False,
            ensure_min_samples=0 if dask_input else 1,
        )
    except DataError:
        raise
    except ValueError as exc:  # scikit-learn's messages are clear; make them skcal's
        raise DataError(str(exc)) from exc
    if dask_input:
        return X
    if ensure_finite:
        index = X.index if hasattr(X, "iloc") else None  # pandas: name rows by label
        check_finite(array, default_feature_names(estimator), index=index)
    return array
