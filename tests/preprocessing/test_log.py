"""LogTransformer: values, names, refusal of values without a log, inverse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing import LogTransformer


def test_logs_the_named_columns_only(features):
    log = LogTransformer(columns=["e_reco", "m_reco"]).set_output(transform="pandas")
    out = log.fit_transform(features)
    assert out.columns.tolist() == ["log_e_reco", "pt_reco", "eta", "log_m_reco", "n_trk"]
    np.testing.assert_allclose(out["log_e_reco"], np.log(features["e_reco"]), rtol=1e-15)
    np.testing.assert_allclose(out["log_m_reco"], np.log(features["m_reco"]), rtol=1e-15)
    untouched = ["pt_reco", "eta", "n_trk"]
    pd.testing.assert_frame_equal(out[untouched], features[untouched])
    assert log.columns_ == [0, 3]


def test_prefix_and_positions():
    X = np.array([[1.0, -2.0], [np.e, 3.0]])
    log = LogTransformer(columns=0, prefix="").fit(X)
    np.testing.assert_allclose(log.transform(X), [[0.0, -2.0], [1.0, 3.0]])
    assert log.get_feature_names_out().tolist() == ["x0", "x1"]


def test_offset_for_counts(features):
    log = LogTransformer(columns=["n_trk"], offset=1.0)
    out = log.fit_transform(features)
    np.testing.assert_allclose(out[:, 4], np.log1p(features["n_trk"]))
    with pytest.raises(DataError, match=r"Zero values in data: in X, column 'n_trk'"):
        LogTransformer(columns=["n_trk"]).fit(features.assign(n_trk=0.0))


def test_inverse_transform_round_trip(features):
    log = LogTransformer(columns=["e_reco", "n_trk"], offset=0.5).fit(features)
    back = log.inverse_transform(log.transform(features))
    np.testing.assert_allclose(back, features.to_numpy(), rtol=1e-12)
    with pytest.raises(DataError, match="needs 5 columns"):
        log.inverse_transform(np.ones((2, 3)))
    bad = np.ones((1, 5))
    bad[0, 3] = np.nan
    with pytest.raises(DataError, match="column 'm_reco' has 1 NaN"):
        log.inverse_transform(bad)


@pytest.mark.parametrize("stage", ["fit", "transform"])
def test_non_positive_values_name_the_column_and_count_rows(features, stage):
    bad = features.copy()
    bad.loc[[3, 7, 9], "m_reco"] = [-1.5, 0.0, -0.25]
    log = LogTransformer(columns=["e_reco", "m_reco"])
    if stage == "transform":
        log.fit(features)
    with pytest.raises(DataError) as info:
        log.fit(bad) if stage == "fit" else log.transform(bad)
    message = str(info.value)
    assert message.startswith("Negative values in data")
    assert f"column 'm_reco' has 3 non-positive values in {len(bad)} rows" in message
    assert "smallest -1.5, first at index 3" in message
    assert "e_reco" not in message


def test_untransformed_columns_may_be_negative(features):
    LogTransformer(columns=["e_reco"]).fit_transform(features.assign(eta=-features["eta"].abs()))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"columns": ["e_rec"]}, r"unknown column 'e_rec' \(did you mean 'e_reco'\?\)"),
        ({"columns": []}, "selects no column"),
        ({"columns": ["e_reco", 0]}, "selected twice"),
        ({"columns": [True]}, "name or position"),
        ({"offset": np.inf}, "offset"),
        ({"offset": "1"}, "offset"),
        ({"prefix": None}, "prefix"),
    ],
)
def test_bad_parameters_are_refused(features, params, match):
    error = DataError if "columns" in params else ParameterError
    with pytest.raises(error, match=match):
        LogTransformer(**params).fit(features)
