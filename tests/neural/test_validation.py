"""Validation jets: a seeded held-out fraction or explicit (X_val, y_val); per-epoch valid_loss."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from skcal.exceptions import DataError, ParameterError
from skcal.neural import GDNCalibrator, MDNCalibrator, PointCalibrator, nll_loss

KW = dict(batch_size=256, random_state=0, module__hidden_sizes=(8,))


def test_fraction_records_valid_loss_each_epoch(toy):
    X, y = toy
    est = GDNCalibrator(max_epochs=4, validation_fraction=0.2, **KW).fit(X, y)
    valid = est.history[:, "valid_loss"]
    assert len(valid) == 4 and all(np.isfinite(valid))
    assert sum(est.history[-1, "batches", :, "train_batch_size"]) == 1600
    assert sum(est.history[-1, "batches", :, "valid_batch_size"]) == 400
    # the split is seeded: the same jets again, the same history
    again = clone(est).fit(X, y)
    np.testing.assert_array_equal(again.history[:, "valid_loss"], valid)
    assert clone(est).set_params(random_state=1).fit(X, y).history[-1, "valid_loss"] != valid[-1]


def test_explicit_validation_loss_is_the_weighted_nll(toy):
    X, y = toy
    w = np.linspace(0.5, 2.0, 500)
    est = MDNCalibrator(n_components=2, max_epochs=2, **KW).fit(
        X[:1500], y[:1500], X_val=X[1500:], y_val=y[1500:], sample_weight_val=w
    )
    assert sum(est.history[-1, "batches", :, "train_batch_size"]) == 1500
    est.module_.eval()
    with torch.no_grad():
        dist = est.module_(torch.from_numpy(X[1500:]))
        expected = nll_loss(
            dist, torch.from_numpy(y[1500:].astype(np.float32)), torch.from_numpy(w).float()
        )
    assert est.history[-1, "valid_loss"] == pytest.approx(expected.item(), rel=1e-5)


def test_early_stopping_on_valid_loss(toy):
    X, y = toy
    # a validation set unrelated to the training jets: its loss stops improving at once
    rng = np.random.default_rng(5)
    est = PointCalibrator(
        max_epochs=50,
        lr=1e-2,
        callbacks=[("stop", EarlyStopping(monitor="valid_loss", patience=2))],
        **KW,
    )
    est.fit(
        X, y, X_val=rng.normal(size=(300, 3)).astype(np.float32), y_val=rng.uniform(0.5, 2.0, 300)
    )
    assert len(est.history) < 50
    assert est.get_params()["callbacks__stop__patience"] == 2


def test_dask_holds_out_whole_partitions(toy):
    X, y = toy
    Xd, yd = da.from_array(X, chunks=(250, 3)), da.from_array(y, chunks=250)
    est = GDNCalibrator(max_epochs=2, validation_fraction=0.25, **KW).fit(Xd, yd)
    assert sum(est.history[-1, "batches", :, "train_batch_size"]) == 1500
    assert sum(est.history[-1, "batches", :, "valid_batch_size"]) == 500
    assert np.isfinite(est.history[:, "valid_loss"]).all()


def test_partial_fit_validates_each_chunk(toy):
    X, y = toy
    est = GDNCalibrator(max_epochs=1, validation_fraction=0.1, **KW)
    est.partial_fit(X[:1000], y[:1000]).partial_fit(X[1000:], y[1000:])
    assert len(est.history) == 2 and np.isfinite(est.history[:, "valid_loss"]).all()


def test_bad_validation_settings(toy):
    X, y = toy
    for bad in (0.0, 1.0, -0.1, "10%"):
        with pytest.raises(ParameterError, match="validation_fraction"):
            GDNCalibrator(validation_fraction=bad, **KW).fit(X, y)
    with pytest.raises(ParameterError, match="not both"):
        GDNCalibrator(validation_fraction=0.1, **KW).fit(X, y, X_val=X[:10], y_val=y[:10])
    with pytest.raises(ParameterError, match="not both"):
        GDNCalibrator(validation_fraction=0.1, train_split=ValidSplit(5), **KW).fit(X, y)
    with pytest.raises(DataError, match="y_val"):
        GDNCalibrator(**KW).fit(X, y, X_val=X[:10])
    with pytest.raises(DataError, match="2 features"):
        GDNCalibrator(**KW).fit(X, y, X_val=X[:10, :2], y_val=y[:10])
    with pytest.raises(DataError, match="> 0"):
        GDNCalibrator(**KW).fit(X, y, X_val=X[:10], y_val=-y[:10])
    with pytest.raises(ParameterError, match="train_split must return skcal's datasets"):
        GDNCalibrator(train_split=lambda ds, y: (ds, [1.0]), **KW).fit(X, y)
    with pytest.raises(ParameterError, match="validation_fraction"):
        GDNCalibrator(train_split=ValidSplit(5), **KW).fit(
            da.from_array(X, chunks=(500, 3)), da.from_array(y, chunks=500)
        )
    with pytest.raises(DataError, match="partition"):
        GDNCalibrator(validation_fraction=0.5, **KW).fit(
            da.from_array(X, chunks=(2000, 3)), da.from_array(y)
        )


def test_train_split_callables_and_skorch_valid_split(toy):
    X, y = toy

    def first_quarter(dataset, y=None, **fit_params):
        n = len(dataset) // 4
        return type(dataset)(dataset.X[n:], dataset.yw[n:]), type(dataset)(
            dataset.X[:n], dataset.yw[:n]
        )

    est = GDNCalibrator(max_epochs=2, train_split=first_quarter, **KW).fit(X, y)
    assert sum(est.history[-1, "batches", :, "train_batch_size"]) == 1500
    assert sum(est.history[-1, "batches", :, "valid_batch_size"]) == 500
    assert not hasattr(est, "_valid_data_")
    skorch_split = PointCalibrator(max_epochs=2, train_split=ValidSplit(4), **KW).fit(X, y)
    assert sum(skorch_split.history[-1, "batches", :, "valid_batch_size"]) == 500
    assert np.isfinite(skorch_split.history[:, "valid_loss"]).all()
