"""Recognising Dask collections and describing their chunks, without importing Dask's
collections unless the input is one."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from dask import is_dask_collection

from skcal.exceptions import DataError

__all__ = ["dask_kind", "dask_meta", "is_dask"]


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


def dask_meta(X: Any) -> Any:
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
