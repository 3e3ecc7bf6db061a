"""Mapping a function over the row chunks of a Dask table, lazily, with an explicit meta.

Every estimator that applies itself to a Dask collection (``transform``, ``predict``)
goes through :func:`map_chunks`: one chunk is a pandas partition (Dask DataFrame in)
or a numpy block holding every column (Dask Array in); the output's meta is given,
never guessed from Dask's fake rows; empty chunks give empty output without calling
the function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from skcal._validation import dask_kind
from skcal.exceptions import DataError

__all__ = ["map_chunks"]

ChunkFunction = Callable[..., Any]


def map_chunks(
    X: Any,
    func: ChunkFunction,
    *args: Any,
    names: Sequence[str] | None = None,
    dtype: Any = np.float64,
    meta: pd.DataFrame | None = None,
) -> Any:
    """Apply ``func(chunk, rows, *args)`` to every row chunk of a Dask table, lazily.

    Parameters
    ----------
    X : Dask DataFrame, Series or Dask Array
        The table (or one column of it), partitioned along rows (a 2-D Dask Array's
        column chunks are merged).
    func : callable
        ``func(chunk, rows, *args)`` with ``chunk`` a pandas DataFrame or Series, or a
        numpy block, and ``rows`` its row labels (the partition's index, or a ``range`` of
        positions in the whole array, for error messages). It returns a numpy array:
        of shape ``(n_rows, len(names))``, or ``(n_rows,)`` when ``names`` is None;
        or, when ``meta`` is given, a pandas DataFrame like ``meta``.
    *args
        Passed on to ``func`` (picklable: they travel to the workers).
    names : sequence of str, optional
        The output's columns; None for one value per row (a Series or 1-D array).
    dtype : dtype, default=float64
        The output's dtype.
    meta : DataFrame or Series, optional
        The empty output of one chunk, for pandas partitions in and out: a DataFrame
        with columns of several dtypes, or a named Series (then ``names`` and
        ``dtype`` are not used).

    Returns
    -------
    Dask DataFrame, Series or Array
        DataFrame in: a DataFrame (``names`` or ``meta``) or a Series; Array in: a 2-D
        or 1-D Array.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> jets = dd.from_pandas(pd.DataFrame({"e_reco": [8.0, 9.0, 10.0]}), npartitions=2)
    >>> doubled = map_chunks(jets, lambda chunk, rows: 2 * chunk["e_reco"].to_numpy())
    >>> doubled.compute().tolist()
    [16.0, 18.0, 20.0]
    """
    kind = dask_kind(X)
    if kind in ("dataframe", "series"):
        if meta is None:
            meta = _empty_pandas(names, dtype, pd.RangeIndex(0))
        return X.map_partitions(_on_partition, func, args, meta, meta=meta)
    if kind == "array" and X.ndim in (1, 2) and meta is not None:
        raise DataError("X is a Dask Array: its output cannot be a pandas object")
    if kind == "array" and X.ndim == 1:
        if names is not None:
            raise DataError("a 1-D Dask Array gives one value per row: pass names=None")
        out_meta = np.empty((0,), dtype=dtype)
        return X.map_blocks(_on_block, func, args, out_meta, dtype=dtype, meta=out_meta)
    if kind == "array" and X.ndim == 2:
        X = X.rechunk({1: -1})
        if names is None:
            out_meta = np.empty((0,), dtype=dtype)
            return X.map_blocks(
                _on_block, func, args, out_meta, drop_axis=1, dtype=dtype, meta=out_meta
            )
        out_meta = np.empty((0, len(names)), dtype=dtype)
        return X.map_blocks(
            _on_block,
            func,
            args,
            out_meta,
            chunks=(X.chunks[0], (len(names),)),
            dtype=dtype,
            meta=out_meta,
        )
    shape = getattr(X, "shape", None)
    raise DataError(
        f"X must be a Dask DataFrame, Series or 1-D or 2-D Array, got a Dask {kind} of "
        f"shape {shape}"
    )


def _empty_pandas(names: Sequence[str] | None, dtype: Any, index: Any) -> Any:
    if names is None:
        return pd.Series(np.empty(len(index), dtype=dtype), index=index)
    return pd.DataFrame(
        {name: pd.Series(np.empty(len(index), dtype=dtype), index=index) for name in names}
    )


def _on_partition(part: pd.DataFrame, func: ChunkFunction, args: tuple[Any, ...], meta: Any) -> Any:
    if len(part) == 0:
        return meta.iloc[:0].set_axis(part.index, axis=0)
    out = func(part, part.index, *args)
    if isinstance(out, pd.DataFrame | pd.Series):
        return out
    if isinstance(meta, pd.Series):
        return pd.Series(np.asarray(out, dtype=meta.dtype), index=part.index, name=meta.name)
    return pd.DataFrame(np.asarray(out), index=part.index, columns=meta.columns).astype(
        meta.dtypes.to_dict()
    )


def _on_block(
    block: np.ndarray,
    func: ChunkFunction,
    args: tuple[Any, ...],
    meta: np.ndarray,
    block_info: Any = None,
) -> np.ndarray:
    if block.shape[0] == 0:
        return np.empty((0, *meta.shape[1:]), dtype=meta.dtype)
    start = block_info[0]["array-location"][0][0] if block_info else 0
    out = func(block, range(start, start + block.shape[0]), *args)
    return np.asarray(out, dtype=meta.dtype)
