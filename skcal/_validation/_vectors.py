"""Checks of 1-D per-jet values (responses, weights, single columns) and column access.

Every check raises :class:`~skcal.exceptions.DataError` naming the argument (or the
column) and the first offending value, so that a bad jet table is easy to locate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from skcal.exceptions import DataError

__all__ = [
    "ABS_PREFIX",
    "as_finite_vector",
    "as_response",
    "as_table",
    "as_weights",
    "check_positive_vector",
    "column",
    "iter_row_chunks",
]

#: A column called ``abs_<name>`` that is not in the table is read as ``|<name>|``.
ABS_PREFIX = "abs_"


def _first_bad(values: np.ndarray, bad: np.ndarray) -> str:
    index = int(np.flatnonzero(bad)[0])
    first = values[index].item() if isinstance(values[index], np.generic) else values[index]
    return f"{int(bad.sum())} value(s), the first {first!r} at position {index}"


def as_finite_vector(values: Any, name: str, *, n: int | None = None) -> np.ndarray:
    """A 1-D float64 array of ``values``, finite, with ``n`` entries when given."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric: {exc}") from exc
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise DataError(f"{name} has {array.shape[0]} entries where {n} were expected")
    bad = ~np.isfinite(array)
    if bad.any():
        raise DataError(f"{name} has NaN or infinite values: {_first_bad(array, bad)}")
    return array


def check_positive_vector(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` if all are strictly positive (energies, responses), else DataError."""
    bad = values <= 0
    if bad.any():
        raise DataError(
            f"{name} must be > 0 (Negative values in data are refused): {_first_bad(values, bad)}"
        )
    return values


def as_response(values: Any, name: str = "r", *, n: int | None = None) -> np.ndarray:
    """Responses as a finite, strictly positive float64 array."""
    return check_positive_vector(as_finite_vector(values, name, n=n), name)


def as_weights(
    weights: Any, n: int, name: str = "weights", *, nonzero_sum: bool = False
) -> np.ndarray | None:
    """Finite non-negative weights of length ``n``, or None for unit weights.

    With ``nonzero_sum=True`` weights that sum to zero (nothing would be fitted) are
    refused too.

    Examples
    --------
    >>> as_weights([1.0, 0.5], 2).tolist()
    [1.0, 0.5]
    >>> as_weights([0.0, 0.0], 2, "sample_weight", nonzero_sum=True)
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: sample_weight sums to zero: no jet would count in the fit
    """
    if weights is None:
        return None
    array = as_finite_vector(weights, name, n=n)
    bad = array < 0
    if bad.any():
        raise DataError(
            f"{name} must be >= 0 (negative event weights are not supported): "
            f"{_first_bad(array, bad)}"
        )
    if nonzero_sum and n > 0 and not array.sum() > 0:
        raise DataError(f"{name} sums to zero: no jet would count in the fit")
    return array


def column(table: Any, name: str) -> Any:
    """Column ``name`` of a DataFrame or mapping; ``abs_<col>`` falls back to ``|col|``."""
    columns = table.columns if hasattr(table, "columns") else table.keys()
    if name in columns:
        return table[name]
    if name.startswith(ABS_PREFIX) and name[len(ABS_PREFIX) :] in columns:
        return abs(table[name[len(ABS_PREFIX) :]])
    raise DataError(f"column {name!r} is not in the table; its columns are {list(columns)}")


def iter_row_chunks(n: int, chunk_size: int) -> Iterator[slice]:
    """Slices of at most ``chunk_size`` rows covering ``range(n)``."""
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def as_table(data: Any, name: str = "data") -> pd.DataFrame | Mapping[str, Any]:
    """A pandas DataFrame or a mapping of columns, as given; anything else is refused."""
    if isinstance(data, pd.DataFrame | Mapping):
        return data
    raise DataError(
        f"{name} must be a pandas DataFrame or a mapping of column name to "
        f"array, got {type(data).__name__}"
    )
