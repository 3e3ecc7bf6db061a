"""ClosureMonitor: the binned validation closure each epoch, usable by EarlyStopping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import EarlyStopping

from skcal.exceptions import DataError
from skcal.neural import ClosureMonitor, GDNCalibrator
from skcal.response import closure_table

BINS = {"pt_true": [20, 60, 140, 220]}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame({"x": rng.uniform(0, 1, n)})
    y = (0.7 + 0.3 * X.x.to_numpy()) * rng.normal(1, 0.05, n)
    truth = pd.DataFrame({"pt_true": 20 + 200 * X.x})
    return X, y, truth


def test_monitor_records_what_closure_table_gives(data):
    X, y, truth = data
    monitor = ClosureMonitor(X, y, truth=truth, bins=BINS)
    net = GDNCalibrator(max_epochs=3, callbacks=[monitor], verbose=0, random_state=0, lr=3e-3).fit(
        X, y
    )
    assert len(net.history) == 3
    table = closure_table(y / net.predict(X), data=truth, bins=BINS, n_bootstrap=0)
    closure = float((table["mode"] - 1).abs().mean())
    assert net.history[-1, "valid_closure"] == pytest.approx(closure)
    assert net.history[-1, "valid_resolution"] == pytest.approx(float(table.resolution.mean()))
    assert net.history[-1, "valid_fom"] == pytest.approx(closure + float(table.resolution.mean()))


def test_early_stopping_on_the_figure_of_merit(data):
    X, y, truth = data
    monitor = ClosureMonitor(X, y, truth=truth, bins=BINS, closure="worst", resolution_weight=0.0)
    stop = EarlyStopping(
        monitor="valid_fom", patience=2, threshold=10.0, threshold_mode="abs", load_best=False
    )
    net = GDNCalibrator(max_epochs=20, callbacks=[monitor, stop], verbose=0, random_state=0).fit(
        X, y
    )
    # an impossible improvement threshold stops after patience + 1 epochs
    assert len(net.history) == 3
    assert net.history[-1, "valid_fom"] == pytest.approx(net.history[-1, "valid_closure"])


def test_monitor_refuses_bad_validation_data(data):
    X, y, truth = data
    with pytest.raises(DataError, match="same length"):
        GDNCalibrator(
            max_epochs=1, verbose=0, callbacks=[ClosureMonitor(X, y[:-1], truth=truth, bins=BINS)]
        ).fit(X, y)
    with pytest.raises(DataError, match="closure"):
        GDNCalibrator(
            max_epochs=1,
            verbose=0,
            callbacks=[ClosureMonitor(X, y, truth=truth, bins=BINS, closure="median")],
        ).fit(X, y)
