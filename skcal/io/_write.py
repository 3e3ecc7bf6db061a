"""Writing jet tables to ROOT files: a flat TTree (one row per jet) or an RNTuple."""

from __future__ import annotations

import os
from collections.abc import Iterable
from numbers import Integral
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import uproot

from skcal._outputs import atomic_output, check_output_path
from skcal._params import Interval, StrOptions, check_params
from skcal.exceptions import DataError

__all__ = ["write_root"]

Format = Literal["ttree", "rntuple"]


def write_root(
    table: pd.DataFrame | Iterable[pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    tree: str = "jets",
    format: Format = "ttree",
    overwrite: bool = False,
    chunk_size: int = 1_000_000,
) -> Path:
    """Write a jet table to a ROOT file, in chunks and atomically.

    The file is written under a temporary name beside ``path`` and renamed when
    complete, so that an interrupted write never leaves a half-written file under the
    final name, and an existing file is never touched unless ``overwrite=True``.

    Parameters
    ----------
    table : DataFrame or iterable of DataFrames
        The jet table, or its chunks (for example :func:`skcal.datasets.iter_jets`), so
        that a sample larger than memory can be written. Every chunk must have the same
        columns; all columns must be numeric.
    path : path-like
        The output file. Its folder must exist.
    tree : str, default "jets"
        The name of the TTree or RNTuple.
    format : {"ttree", "rntuple"}, default "ttree"
        A flat TTree (``file.mktree``) or an RNTuple (``file.mkrntuple``).
    overwrite : bool, default False
        Replace an existing file; otherwise an existing file is an error.
    chunk_size : int, default 1_000_000
        Rows written per basket (TTree) or cluster (RNTuple).

    Returns
    -------
    path : Path
        The written file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        If the folder of ``path`` does not exist.
    DataError
        If a column is not numeric or the chunks disagree.
    ParameterError
        If ``format`` is unknown or ``chunk_size`` is not a positive integer.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd, uproot
    >>> from skcal.io import write_root
    >>> table = pd.DataFrame({"e_reco": [50.0, 80.0], "e_true": [60.0, 90.0]})
    >>> out = write_root(table, pathlib.Path(tempfile.mkdtemp()) / "jets.root")
    >>> uproot.open(out)["jets"].num_entries
    2
    """
    check_params(_CONSTRAINTS, {"format": format, "chunk_size": chunk_size}, "write_root")
    path = Path(path)
    check_output_path(path, overwrite=overwrite)
    chunks = [table] if isinstance(table, pd.DataFrame) else table
    with atomic_output(path) as tmp, uproot.recreate(tmp) as file:
        _write_chunks(file, tree, chunks, format, chunk_size, path)
    return path


_CONSTRAINTS: dict[str, list[Any]] = {
    "format": [StrOptions({"ttree", "rntuple"})],
    "chunk_size": [Interval(Integral, 1, None, closed="left")],
}


def _write_chunks(
    file: uproot.WritableDirectory,
    tree: str,
    chunks: Iterable[pd.DataFrame],
    format: Format,
    chunk_size: int,
    path: Path,
) -> None:
    output: Any = None  # uproot's WritableTree or WritableNTuple (untyped)
    columns: list[str] | None = None
    for chunk in chunks:
        if columns is None:
            columns = list(chunk.columns)
            types = {name: _numeric_dtype(chunk[name], name, path) for name in columns}
            make = file.mktree if format == "ttree" else file.mkrntuple
            output = make(tree, types)
        elif list(chunk.columns) != columns:
            raise DataError(
                f"cannot write {path}: a chunk has columns {list(chunk.columns)}, "
                f"the first had {columns}"
            )
        for start in range(0, len(chunk), chunk_size):
            part = chunk.iloc[start : start + chunk_size]
            output.extend({name: part[name].to_numpy() for name in columns})
    if columns is None:
        raise DataError(f"cannot write {path}: the table has no chunks")


def _numeric_dtype(column: pd.Series, name: str, path: Path) -> np.dtype:
    dtype = column.to_numpy().dtype
    if dtype.kind not in "biuf":
        raise DataError(f"cannot write {path}: column {name!r} has dtype {dtype}, not a number")
    return dtype
