"""Input checks shared by skcal's estimators, for numpy, pandas and Dask tables.

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

import difflib
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from dask import is_dask_collection
from sklearn.utils.validation import check_array, validate_data

from skcal.exceptions import DataError

__all__ = [
    "FLOAT_DTYPES",
    "as_float_array",
    "check_finite",
    "check_input_features",
    "check_positive",
    "dask_float_dtype",
    "dask_kind",
    "default_feature_names",
    "is_dask",
    "resolve_columns",
    "validate_table",
]

#: The floating dtypes that skcal's transformers keep; anything else becomes float64.
FLOAT_DTYPES: tuple[type, ...] = (np.float64, np.float32)

#: How many offending columns a message lists before it says "and N more".
_MAX_LISTED = 5


def is_dask(X: Any) -> bool:
    """Whether ``X`` is a Dask collection (array, DataFrame, Series, ...).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> is_dask(np.ones(3)), is_dask(da.ones(3))
    (False, True)
    """
    return is_dask_collection(X)


def dask_kind(X: Any) -> Literal["array", "dataframe", "series"] | None:
    """The kind of Dask collection that ``X`` is, or ``None`` if it is not one.

    Examples
    --------
    >>> import dask.array as da
    >>> dask_kind(da.ones((4, 2))), dask_kind([1, 2])
    ('array', None)
    """
    if not is_dask_collection(X):
        return None
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(X, da.Array):
        return "array"
    if isinstance(X, dd.DataFrame):
        return "dataframe"
    if isinstance(X, dd.Series):
        return "series"
    raise DataError(
        f"unsupported Dask collection {type(X).__name__}: pass a Dask Array, DataFrame or Series"
    )


def _row_label(index: Sequence[Any] | None, position: int) -> str:
    if index is None:
        return f"row {position}"
    if isinstance(index, range):  # positions in a larger table (a Dask chunk's rows)
        return f"row {index[position]}"
    return f"index {index[position]!r}"


def check_finite(
    values: np.ndarray,
    columns: Sequence[str],
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
    >>> check_finite(np.array([[np.inf, 2.0], [np.nan, 1.0]]), ["a", "b"])
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: X has non-finite values: column 'a' has 1 NaN and 1 inf (first at row 0)
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


def check_positive(
    values: np.ndarray,
    columns: Sequence[str],
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
    >>> check_positive(np.array([[1.0, -2.0], [3.0, 0.0]]), ["e_reco", "m_reco"])
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: Negative values in data: in X, column 'm_reco' has 2 non-positive values in 2 rows (smallest -2, first at row 0)
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


def default_feature_names(estimator: Any) -> np.ndarray:
    """The fitted input names: ``feature_names_in_``, else ``x0, x1, ...``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> default_feature_names(SimpleNamespace(n_features_in_=2)).tolist()
    ['x0', 'x1']
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return np.asarray(names, dtype=object)
    return np.asarray([f"x{i}" for i in range(estimator.n_features_in_)], dtype=object)


def check_input_features(estimator: Any, input_features: Sequence[str] | None) -> np.ndarray:
    """Validate the ``input_features`` argument of ``get_feature_names_out``.

    Returns the input names to use: ``input_features`` if given (it must match
    ``feature_names_in_`` where the estimator was fitted on named columns), else the
    fitted names.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> est = SimpleNamespace(n_features_in_=2)
    >>> check_input_features(est, ["eta", "e_reco"]).tolist()
    ['eta', 'e_reco']
    >>> check_input_features(est, ["eta"])
    Traceback (most recent call last):
    ...
    ValueError: input_features should have length equal to number of features (2), got 1
    """
    fitted = default_feature_names(estimator)
    if input_features is None:
        return fitted
    names = np.asarray(input_features, dtype=object)
    if names.ndim != 1 or len(names) != estimator.n_features_in_:
        raise ValueError(
            "input_features should have length equal to number of features "
            f"({estimator.n_features_in_}), got {names.size}"
        )
    if getattr(estimator, "feature_names_in_", None) is not None and not np.array_equal(
        names, fitted
    ):
        raise ValueError(
            f"input_features is not equal to feature_names_in_: {names.tolist()} != "
            f"{fitted.tolist()}"
        )
    return names


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def resolve_columns(
    spec: str | int | Sequence[str | int] | None,
    feature_names: Sequence[str] | None,
    n_features: int,
    *,
    param: str = "columns",
) -> list[int]:
    """Turn column names or positions into positions.

    Parameters
    ----------
    spec : str, int, sequence of str or int, or None
        The columns: names (looked up in ``feature_names``), positions, or ``None``
        for all of them.
    feature_names : sequence of str or None
        The names of the table's columns, or ``None`` for an unnamed array.
    n_features : int
        The number of columns.
    param : str, default="columns"
        The parameter being resolved, for the message.

    Returns
    -------
    positions : list of int
        One position per requested column, in the requested order, without repeats.

    Raises
    ------
    DataError
        For an unknown name (with the closest known name), a name given for an
        unnamed array, a position out of range, a repeated column or an empty list.

    Examples
    --------
    >>> resolve_columns(["e_reco", 0], ["eta", "e_reco"], 2)
    [1, 0]
    >>> resolve_columns("e_rec", ["eta", "e_reco"], 2)
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: columns: unknown column 'e_rec' (did you mean 'e_reco'?); the columns are ['eta', 'e_reco']
    """
    if spec is None:
        return list(range(n_features))
    items = [spec] if isinstance(spec, (str, int, np.integer)) else list(spec)
    if not items:
        raise DataError(f"{param}: an empty list selects no column; pass None for all")
    names = None if feature_names is None else [str(n) for n in feature_names]
    positions: list[int] = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise DataError(f"{param}: expected a column name or position, got {item!r}")
        if isinstance(item, (int, np.integer)):
            position = int(item)
            if not -n_features <= position < n_features:
                raise DataError(
                    f"{param}: column position {position} is out of range: X has "
                    f"{n_features} feature(s)"
                )
            position %= n_features
        elif isinstance(item, str):
            if names is None:
                raise DataError(
                    f"{param}: column {item!r} is a name, but the input has no column "
                    "names (a numpy array); pass a DataFrame (in a Pipeline: "
                    "set_output(transform='pandas')), or the column's position"
                )
            if item not in names:
                raise DataError(
                    f"{param}: unknown column {item!r}{_suggest(item, names)}; the "
                    f"columns are {names}"
                )
            position = names.index(item)
        else:
            raise DataError(f"{param}: expected a column name or position, got {item!r}")
        if position in positions:
            raise DataError(f"{param}: column {item!r} is selected twice")
        positions.append(position)
    return positions


def _dask_meta(X: Any) -> Any:
    """An empty in-memory table with the columns and dtypes of a Dask collection."""
    import pandas as pd

    kind = dask_kind(X)
    if kind == "dataframe":
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in X.dtypes.items()})
    if kind == "series":
        return pd.Series(dtype=X.dtype, name=X.name)
    if X.ndim == 2 and np.isnan(X.shape[1]):
        raise DataError(
            "X is a Dask array with an unknown number of columns; call "
            "compute_chunk_sizes() or build it with known chunks"
        )
    return np.empty((0, *X.shape[1:]), dtype=X.dtype)


def as_float_array(chunk: Any) -> np.ndarray:
    """A chunk of a table (numpy block or pandas partition) as a 2-D float array.

    The conversion is the one that :func:`validate_table` applies in memory (float32
    is kept, everything else becomes float64), without its checks: a chunk of a Dask
    collection may be empty, and its columns were checked when the graph was built.

    Examples
    --------
    >>> import numpy as np
    >>> as_float_array(np.zeros((0, 2), dtype=np.int64)).dtype
    dtype('float64')
    """
    try:
        return check_array(chunk, dtype=FLOAT_DTYPES, ensure_all_finite=False, ensure_min_samples=0)
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def dask_float_dtype(X: Any) -> np.dtype:
    """The float dtype that the chunks of a Dask table become in :func:`as_float_array`.

    Examples
    --------
    >>> import dask.array as da
    >>> dask_float_dtype(da.ones((4, 2), dtype="float32", chunks=2))
    dtype('float32')
    """
    return as_float_array(_dask_meta(X)).dtype


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
    >>> validate_table(est, np.ones((2, 2)), reset=False)
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: X has 2 features, but FunctionTransformer is expecting 3 features as input.
    """
    dask_input = is_dask(X)
    data = _dask_meta(X) if dask_input else X
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
