"""Dask input: fit streams partitions (never the whole collection), predict maps over them."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from skcal.neural import GDNCalibrator, MDNCalibrator, PointCalibrator

N_PARTS, PART = 8, 250


def _partition(i, calls):
    calls.append(i)
    rng = np.random.default_rng(i)
    X = rng.normal(size=(PART, 3)).astype(np.float32)
    y = np.exp(0.1 * X[:, 0] + 0.05 * rng.normal(size=PART))
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=pd.RangeIndex(i * PART, (i + 1) * PART))
    return df.assign(r=y, w=1.0 + (X[:, 1] > 0))


def _frame(calls):
    meta = _partition(0, []).iloc[:0]
    return dd.from_map(
        _partition, range(N_PARTS), calls=calls, meta=meta, divisions=[None] * (N_PARTS + 1)
    )


def test_fit_streams_partitions_each_epoch_once():
    calls: list[int] = []
    df = _frame(calls)
    est = MDNCalibrator(
        n_components=2,
        max_epochs=3,
        batch_size=100,
        buffer_partitions=3,
        random_state=0,
        module__hidden_sizes=(8,),
    )
    est.fit(df[["a", "b", "c"]], df["r"], sample_weight=df["w"])
    # one read of the first buffer for the output scale, then one read per partition per epoch
    assert len(calls) <= 3 + 3 * N_PARTS, calls
    assert sorted(calls[-N_PARTS:]) == list(range(N_PARTS))
    assert sum(est.history[-1, "batches", :, "train_batch_size"]) == N_PARTS * PART
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    # the same jets in memory: a similar model (not identical: different batches)
    pdf = df.compute()
    pred = est.predict(df[["a", "b", "c"]])
    assert isinstance(pred, dd.Series)
    np.testing.assert_allclose(
        pred.compute().to_numpy(), est.predict(pdf[["a", "b", "c"]]), rtol=1e-6
    )


def test_streamed_fit_learns():
    df = _frame([])
    est = GDNCalibrator(
        max_epochs=15, batch_size=200, lr=3e-3, random_state=0, module__hidden_sizes=(16,)
    )
    est.fit(df[["a", "b", "c"]], df["r"])
    pdf = df.compute()
    expected = np.exp(0.1 * pdf["a"].to_numpy())  # mode of a narrow response ~ the noise-free value
    dev = np.abs(est.predict(pdf[["a", "b", "c"]]) - expected)
    assert np.median(dev) < 0.01 and np.quantile(dev, 0.9) < 0.03, (
        np.median(dev),
        np.quantile(dev, 0.9),
    )


def test_dask_arrays_and_partial_fit(toy):
    X, y = toy
    Xd, yd = da.from_array(X, chunks=(500, 3)), da.from_array(y, chunks=500)
    est = PointCalibrator(
        max_epochs=2, batch_size=128, random_state=0, module__hidden_sizes=(8,)
    ).fit(Xd, yd)
    out = est.predict(Xd)
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), est.predict(X), rtol=1e-6)
    part = GDNCalibrator(max_epochs=1, random_state=0, module__hidden_sizes=(8,))
    part.partial_fit(X[:500], y[:500]).partial_fit(X[500:1000], y[500:1000])
    assert len(part.history) == 2
    with pytest.raises(ValueError, match="Dask"):
        GDNCalibrator().fit(Xd, y)
