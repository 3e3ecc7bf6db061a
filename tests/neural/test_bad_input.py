"""Bad input gets a clear error; a diverging training stops with an error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.neural import GDNCalibrator, MDNCalibrator, PointCalibrator, TrainingDivergedError

KW = dict(max_epochs=1, batch_size=256, random_state=0, module__hidden_sizes=(8,))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_feature_names_column(toy, bad):
    X, y = toy
    df = pd.DataFrame(X.copy(), columns=["e_reco", "eta", "mu"])
    df.loc[7, "eta"] = bad
    with pytest.raises(DataError, match="eta"):
        GDNCalibrator(**KW).fit(df, y)


@pytest.mark.parametrize(
    "bad, match", [(np.nan, "NaN"), (np.inf, "inf"), (0.0, "> 0"), (-1.0, "> 0")]
)
def test_bad_targets(toy, bad, match):
    X, y = toy
    y = y.copy()
    y[3] = bad
    with pytest.raises(DataError, match=match):
        MDNCalibrator(n_components=2, **KW).fit(X, y)


def test_predict_before_fit_and_wrong_width(toy):
    X, y = toy
    for est in (GDNCalibrator(**KW), MDNCalibrator(**KW), PointCalibrator(**KW)):
        with pytest.raises(NotFittedError, match="not fitted"):
            est.predict(X)
    est = GDNCalibrator(**KW).fit(X, y)
    with pytest.raises(DataError, match="3 features"):
        est.predict(X[:, :2])
    with pytest.raises(DataError, match="'x1' has 5 NaN"):
        est.predict(np.where(np.arange(3) == 1, np.nan, X[:5]))  # NaN at predict too
    named = GDNCalibrator(**KW).fit(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    with pytest.raises(DataError, match="'c'"):
        named.predict(pd.DataFrame(X[:, :2], columns=["a", "b"]))


def test_mismatched_lengths_and_weights(toy):
    X, y = toy
    with pytest.raises(DataError, match="rows"):
        GDNCalibrator(**KW).fit(X, y[:-1])
    with pytest.raises(DataError, match="sample_weight"):
        GDNCalibrator(**KW).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ParameterError, match="training_space"):
        GDNCalibrator(training_space="inverse", **KW).fit(X, y)
    with pytest.raises(ParameterError, match="target"):
        GDNCalibrator(target="inverse", **KW).fit(X, y)
    with pytest.raises(ParameterError, match="loss"):
        PointCalibrator(loss="huber", **KW).fit(X, y)


def test_divergence_is_an_error(toy):
    X, y = toy
    est = MDNCalibrator(
        n_components=2,
        lr=1e6,
        max_epochs=50,
        batch_size=64,
        random_state=0,
        module__hidden_sizes=(8,),
        min_scale=1e-12,
    )
    with pytest.raises(TrainingDivergedError, match="diverged"):
        est.fit(X * 1e4, y)
