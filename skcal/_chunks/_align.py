"""The row blocks of Dask collections that go together, read once.

A jet table and the per-jet values derived from it (the response ``E_reco / E_true``,
the weights) are separate Dask collections over the same files. Turned into delayed
blocks one by one, each would read every partition again (and the scheduler would
hold one block until its partner is ready); ``dask.compute`` of the collections
together shares the reads, ``to_delayed`` does not. :func:`partition_blocks` joins
them partition by partition first, so that each partition is read once with the union
of the columns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from skcal._validation import is_dask
from skcal.exceptions import DataError

_ALIGNED = "__skcal_aligned_{}"


def partition_blocks(table: Any, *aligned: Any) -> list[tuple[Any, ...]]:
    """Per row partition of ``table``, ``(table_block, *aligned_blocks)`` as delayed objects.

    Parameters
    ----------
    table : Dask DataFrame or Array
        Partitioned along rows (a 2-D array's column chunks are merged).
    *aligned : Dask Series or Array, or None
        One value per row of ``table``, in as many partitions; None gives None blocks.

    Returns
    -------
    list of tuple
        One tuple of delayed blocks per partition; computing a tuple reads the
        partition once when ``table`` is a DataFrame and ``aligned`` Series.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> table = pd.DataFrame({"e_reco": [8.0, 9.0, 10.0], "e_true": [10.0] * 3})
    >>> jets = dd.from_pandas(table, npartitions=2)
    >>> blocks = partition_blocks(jets[["e_reco"]], jets["e_reco"] / jets["e_true"], None)
    >>> table, response, weights = dask.compute(*blocks[1])
    >>> list(table["e_reco"]), list(response), weights
    ([10.0], [1.0], None)
    """
    import dask

    for a in aligned:
        if a is not None and not is_dask(a):
            raise DataError(
                "the table is a Dask collection: the response and weights must be "
                f"Dask collections with the same partitions, got {type(a).__name__}"
            )
    given = {_ALIGNED.format(i): a for i, a in enumerate(aligned) if a is not None}
    if hasattr(table, "columns") and all(
        getattr(a, "ndim", 0) == 1 and getattr(a, "npartitions", None) == table.npartitions
        for a in given.values()
    ):
        split = dask.delayed(_split, nout=1 + len(aligned))
        columns = list(table.columns)
        keys = [None if a is None else _ALIGNED.format(i) for i, a in enumerate(aligned)]
        return [tuple(split(block, columns, keys)) for block in _blocks(table.assign(**given))]
    parts = _blocks(table)
    columns = []
    for a in aligned:
        blocks = [None] * len(parts) if a is None else _blocks(a)
        if len(blocks) != len(parts):
            raise DataError(
                f"the Dask inputs are not aligned: {len(parts)} partitions in the "
                f"table and {len(blocks)} in another argument"
            )
        columns.append(blocks)
    return list(zip(parts, *columns, strict=True))


def _split(block: pd.DataFrame, columns: list[str], keys: list[str | None]) -> tuple[Any, ...]:
    return (block[columns], *(None if key is None else block[key] for key in keys))


def _blocks(collection: Any) -> list[Any]:
    if getattr(collection, "ndim", 1) == 2 and not hasattr(collection, "columns"):
        collection = collection.rechunk({1: -1})  # one block per row chunk
    blocks = collection.to_delayed()
    return list(blocks.ravel()) if hasattr(blocks, "ravel") else list(blocks)
