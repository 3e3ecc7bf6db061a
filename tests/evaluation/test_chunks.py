"""Reductions over Dask partitions read each partition once, whatever they are given."""

from __future__ import annotations

import threading

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from skcal._chunks import reduce_chunks
from skcal.exceptions import DataError
from skcal.inversion import NumericalInversion

N_PARTS, PER_PART = 4, 5_000


class CountingReader:
    """Partitions of a synthetic jet table that count how often each one is read."""

    def __init__(self) -> None:
        self.reads: list[int] = []
        self._lock = threading.Lock()

    def __dask_tokenize__(self) -> int:
        return id(self)

    def __call__(self, i: int) -> pd.DataFrame:
        with self._lock:
            self.reads.append(i)
        return self.frame(i)

    def collection(self, n_parts: int) -> dd.DataFrame:
        return dd.from_map(self, range(n_parts), meta=self.frame(0).iloc[:0])

    @staticmethod
    def frame(i: int) -> pd.DataFrame:
        rng = np.random.default_rng(i)
        e_true = rng.uniform(20.0, 2000.0, PER_PART)
        return pd.DataFrame(
            {
                "e_reco": e_true * rng.normal(0.8, 0.05, PER_PART),
                "e_true": e_true,
                "eta": rng.uniform(-2.5, 2.5, PER_PART),
                "weight": np.ones(PER_PART),
            },
            index=pd.RangeIndex(i * PER_PART, (i + 1) * PER_PART),
        )


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_table_response_and_weights_read_each_partition_once(scheduler: str) -> None:
    reader = CountingReader()
    jets = reader.collection(N_PARTS)
    with dask.config.set(scheduler=scheduler):
        total = reduce_chunks(
            lambda t, r, w: float((r * w).sum()) + len(t),
            jets[["e_reco", "eta"]],
            jets["e_reco"] / jets["e_true"],
            jets["weight"],
        )
    assert sorted(reader.reads) == list(range(N_PARTS))
    expected = pd.concat([reader.frame(i) for i in range(N_PARTS)])
    assert total == pytest.approx(
        float((expected["e_reco"] / expected["e_true"]).sum()) + N_PARTS * PER_PART
    )


def test_numerical_inversion_over_dask_reads_each_partition_once() -> None:
    reader = CountingReader()
    jets = reader.collection(N_PARTS)
    NumericalInversion().fit(jets[["e_reco", "eta"]], jets["e_reco"] / jets["e_true"])
    assert sorted(reader.reads) == list(range(N_PARTS))


def test_collections_partitioned_apart_are_refused() -> None:
    table = CountingReader().collection(2)
    with pytest.raises(DataError, match="not aligned: 2 partitions in the table and 3"):
        reduce_chunks(lambda t, r: 0.0, table, CountingReader().collection(3)["weight"])
    with pytest.raises(DataError, match="must be Dask collections"):
        reduce_chunks(lambda t, r: 0.0, table, np.ones(10))
