"""Poisson(1) bootstrap weights per row, seeded, in memory or per Dask partition.

The limit of resampling with replacement: each row is counted ``Poisson(1)`` times. For
Dask input the weights are drawn per partition from a seed made of the given seed and a
checksum of the partition's values, so that they do not depend on where or in which
order the partitions are read. Used by the deep ensemble's bootstrap members and by the
unfolding's bootstrap replicas.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from skcal._chunks._map import map_chunks
from skcal._validation import as_float_table, as_weights, is_dask

__all__ = ["bootstrap_weights"]


def _poisson_chunk(chunk: Any, rows: Any, seed: int) -> np.ndarray:
    values = np.ascontiguousarray(as_float_table(chunk))
    rng = np.random.default_rng([seed, zlib.crc32(values.tobytes())])
    return np.asarray(rng.poisson(1.0, values.shape[0]), dtype=np.float64)


def bootstrap_weights(X: Any, sample_weight: Any, seed: int) -> Any:
    """Poisson(1) weights per row of ``X``, seeded, times ``sample_weight`` (if given).

    Examples
    --------
    >>> import numpy as np
    >>> w = bootstrap_weights(np.zeros((1000, 2)), None, seed=0)
    >>> w.shape, round(float(w.mean()), 1), bool((w == 0).any())
    ((1000,), 1.0, True)
    """
    if is_dask(X):
        weights = map_chunks(X, _poisson_chunk, int(seed))
        return weights if sample_weight is None else weights * sample_weight
    n = len(X)
    weights = np.asarray(np.random.default_rng(int(seed)).poisson(1.0, n), dtype=np.float64)
    given = as_weights(sample_weight, n, "sample_weight")
    return weights if given is None else weights * given
