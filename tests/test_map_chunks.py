"""map_chunks: every kind of Dask input, explicit metas, empty chunks, refusals."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from skcal._chunks import map_chunks
from skcal.exceptions import DataError


def _double(chunk, rows):
    return 2 * np.asarray(chunk, dtype=np.float64).reshape(len(chunk), -1)[:, 0]


def test_a_series_maps_to_a_named_series_with_its_index() -> None:
    s = pd.Series([1.0, 2.0, 3.0], index=[10, 11, 12], name="pt")
    meta = pd.Series(dtype=np.float64, name="w")
    out = map_chunks(dd.from_pandas(s, npartitions=2), _double, meta=meta)
    computed = out.compute()
    assert computed.name == "w" and computed.index.tolist() == [10, 11, 12]
    assert computed.tolist() == [2.0, 4.0, 6.0]


def test_arrays_map_to_arrays_and_rows_are_positions() -> None:
    seen: list[range] = []

    def rows_of(chunk, rows):
        seen.append(rows)
        return np.asarray(chunk)[:, :1] * 0 + np.arange(rows.start, rows.stop)[:, None]

    two_d = da.from_array(np.ones((5, 3)), chunks=(2, 3))
    out = map_chunks(two_d, rows_of, names=["row"]).compute()
    assert out[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    one_d = map_chunks(da.arange(4.0, chunks=3), lambda c, r: c + 1).compute()
    assert one_d.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_empty_partitions_are_not_computed() -> None:
    table = pd.DataFrame({"a": [1.0, 2.0]})
    parts = [table.iloc[:1], table.iloc[1:1], table.iloc[1:]]
    lazy = dd.from_map(lambda p: p, parts, meta=table.iloc[:0], enforce_metadata=False)

    def refuse_empty(chunk, rows):
        assert len(chunk) > 0, "called on an empty chunk"
        return chunk["a"].to_numpy() * 3

    out = map_chunks(lazy, refuse_empty, names=["b"])
    assert list(out.columns) == ["b"] and out.compute()["b"].tolist() == [3.0, 6.0]


@pytest.mark.parametrize(
    ("collection", "kwargs", "match"),
    [
        (da.ones((2, 2, 2)), {}, "shape"),
        (da.ones(4), {"names": ["x"]}, "names=None"),
        (da.ones((4, 2)), {"meta": pd.DataFrame({"x": []})}, "pandas object"),
    ],
)
def test_unsupported_inputs_are_refused(collection, kwargs, match) -> None:
    with pytest.raises(DataError, match=match):
        map_chunks(collection, _double, **kwargs)
