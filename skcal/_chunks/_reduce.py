"""Reduce over the chunks of a table: in memory (row slices) or over Dask partitions.

A function of one chunk (for example: fill a histogram) is applied to each chunk, and
the results are added up. Over Dask collections this builds one task per partition
(the table and its aligned columns read together, :mod:`skcal._partitions`) and a
chain of additions, computed with the active scheduler (a distributed ``Client`` if
one is running), so each partition is read once and the sample is never held whole.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pandas as pd

from skcal._chunks._align import partition_blocks
from skcal._validation import is_dask, iter_row_chunks
from skcal.exceptions import DataError


def _take(obj: Any, rows: slice) -> Any:
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame | pd.Series):
        return obj.iloc[rows]
    if isinstance(obj, dict):
        return {k: _take(v, rows) for k, v in obj.items()}
    return obj[rows]


def _n_rows(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(next(iter(obj.values()))) if obj else 0
    return len(obj)


def reduce_chunks(
    func: Callable[..., Any],
    table: Any,
    *aligned: Any,
    chunk_size: int = 1 << 20,
    combine: Callable[[Any, Any], Any] = operator.add,
) -> Any:
    """``combine``-reduce ``func(table_chunk, *aligned_chunks)`` over the chunks of ``table``.

    ``aligned`` are per-row arrays (or None) split the same way: row slices in memory,
    the same partitions for Dask (each must then be a Dask collection with as many
    partitions as ``table``, or None).
    """
    if is_dask(table):
        return _reduce_dask(func, table, *aligned, combine=combine)
    if any(is_dask(a) for a in aligned):
        raise DataError(
            "the table is in memory but an aligned argument is a Dask collection; "
            "pass both in memory or both as Dask collections"
        )
    n = _n_rows(table)
    if n == 0:
        raise DataError("the input is empty: 0 rows")
    total = None
    for rows in iter_row_chunks(n, chunk_size):
        part = func(_take(table, rows), *(_take(a, rows) for a in aligned))
        total = part if total is None else combine(total, part)
    return total


def _reduce_dask(
    func: Callable[..., Any], table: Any, *aligned: Any, combine: Callable[[Any, Any], Any]
) -> Any:
    import dask

    first, *rest = (dask.delayed(func)(*blocks) for blocks in partition_blocks(table, *aligned))
    # A chain of additions, not a tree: the scheduler then folds each partial result in
    # as it comes, so memory does not grow with the number of partitions (an NI fit
    # over 40 partitions: 229 MiB above the libraries, against 336 MiB with a tree).
    total = first
    for part in rest:
        total = dask.delayed(combine)(total, part)
    (result,) = dask.compute(total)
    return result
