"""LocalHadronicCalibration: a real baseline, its contract, tiny and degenerate samples."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from sklearn.utils.validation import check_is_fitted

from skcal._validation import is_dask
from skcal.clusters import LocalHadronicCalibration
from skcal.datasets import make_clusters
from skcal.exceptions import DataError, NotFittedError, ParameterError

EM = [22, 111]


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return make_clusters(60_000, random_state=11)


@pytest.fixture(scope="module")
def test_clusters() -> pd.DataFrame:
    return make_clusters(40_000, random_state=12)


@pytest.fixture(scope="module")
def lcw(train: pd.DataFrame) -> LocalHadronicCalibration:
    return LocalHadronicCalibration().fit(train, train["e_em"] / train["e_dep"])


def _response(table: pd.DataFrame) -> pd.Series:
    return table["e_em"] / table["e_dep"]


def test_lcw_closes_better_than_em_scale(
    lcw: LocalHadronicCalibration, test_clusters: pd.DataFrame
) -> None:
    raw = _response(test_clusters)
    calibrated = raw / lcw.predict(test_clusters)
    bins = pd.cut(test_clusters["e_dep"], [2, 5, 10, 20, 50, 100, 200, 500, 2000])
    lin_lcw = calibrated.groupby(bins, observed=True).median() - 1
    lin_em = raw.groupby(bins, observed=True).median() - 1
    assert (lin_lcw.abs() < 0.05).all(), lin_lcw
    assert (lin_lcw.abs() < lin_em.abs()).all()


def test_classification_separates_em_from_hadron_clusters(
    lcw: LocalHadronicCalibration, test_clusters: pd.DataFrame
) -> None:
    p = lcw.em_probability(test_clusters)
    em = test_clusters["particle"].isin(EM)
    assert ((p >= 0) & (p <= 1)).all()
    assert p[em].mean() > 0.8 and p[~em].mean() < 0.2
    assert lcw.n_em_ + lcw.n_had_ == 60_000
    assert set(np.unique(lcw.classification_.level)) <= {0, 1, 2, 3}


def test_predict_needs_no_truth_and_transform_calibrates_e_em(
    lcw: LocalHadronicCalibration, test_clusters: pd.DataFrame
) -> None:
    features = test_clusters.drop(columns=["e_dep", "particle", "y_true"])
    response = lcw.predict(features)
    assert isinstance(response, pd.Series) and (response > 0).all()
    out = lcw.transform(features)
    np.testing.assert_allclose(out["e_em"], features["e_em"] / response)


def test_dask_fit_and_predict_equal_in_memory(
    lcw: LocalHadronicCalibration, train: pd.DataFrame, test_clusters: pd.DataFrame
) -> None:
    assert list(lcw.feature_names_in_) == list(train.columns)
    assert list(lcw.get_feature_names_out()) == list(train.columns)
    y = _response(train)
    parts = dd.from_pandas(train, npartitions=3)
    dask_fit = LocalHadronicCalibration().fit(parts, dd.from_pandas(y, npartitions=3))
    np.testing.assert_allclose(dask_fit.hadronic_weight_.values, lcw.hadronic_weight_.values)
    np.testing.assert_allclose(dask_fit.dm_had_.values, lcw.dm_had_.values)
    expected = lcw.predict(test_clusters).to_numpy()
    lazy = lcw.predict(dd.from_pandas(test_clusters, npartitions=4))
    assert is_dask(lazy)
    np.testing.assert_allclose(lazy.compute().to_numpy(), expected)
    half = len(test_clusters) // 2
    pieces = [test_clusters.iloc[:half], test_clusters.iloc[half:half], test_clusters.iloc[half:]]
    empty = dd.from_map(lambda p: p, pieces, meta=test_clusters.iloc[:0], enforce_metadata=False)
    np.testing.assert_allclose(lcw.predict(empty).compute().to_numpy(), expected)


def test_unfitted_lcw_refuses_to_predict(test_clusters: pd.DataFrame) -> None:
    est = LocalHadronicCalibration()
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError, match="not fitted"):
        est.predict(test_clusters)


def test_tiny_sample_is_refused_with_the_counts(train: pd.DataFrame) -> None:
    tiny = train.iloc[:30]
    with pytest.raises(DataError, match=r"at least 20 EM clusters .* got \d+ EM and \d+ hadron"):
        LocalHadronicCalibration().fit(tiny, _response(tiny))
    with pytest.raises(DataError, match="at least 2"):
        LocalHadronicCalibration().fit(train.iloc[:1], _response(train.iloc[:1]))


def test_smallest_sample_fits_and_predicts_finite(train: pd.DataFrame) -> None:
    em = train[train["particle"].isin(EM)].iloc[:3]
    had = train[~train["particle"].isin(EM)].iloc[:3]
    small = pd.concat([em, had])
    est = LocalHadronicCalibration(min_entries=3).fit(small, _response(small))
    response = est.predict(train.iloc[:1000])
    assert np.isfinite(response).all() and (response > 0).all()
    assert (est.hadronic_weight_.level == 3).all()  # every cell falls back to the whole table


def test_one_class_only_is_refused(train: pd.DataFrame) -> None:
    hadrons = train[~train["particle"].isin(EM)].iloc[:500]
    with pytest.raises(DataError, match="got 0 EM and 500 hadron"):
        LocalHadronicCalibration().fit(hadrons, _response(hadrons))


def test_identical_clusters_fit_one_cell(train: pd.DataFrame) -> None:
    row = train[~train["particle"].isin(EM)].iloc[[0]]
    em_row = train[train["particle"].isin(EM)].iloc[[0]]
    same = pd.concat([row] * 25 + [em_row] * 25, ignore_index=True)
    est = LocalHadronicCalibration().fit(same, _response(same))
    np.testing.assert_allclose(est.predict(row).to_numpy(), _response(row).to_numpy(), rtol=0.01)


def test_bad_input_names_the_column(train: pd.DataFrame) -> None:
    y = _response(train.iloc[:200])
    with pytest.raises(DataError, match="'particle'"):
        LocalHadronicCalibration().fit(train.iloc[:200].drop(columns="particle"), y)
    bad = train.iloc[:200].copy()
    bad.loc[bad.index[5], "rho_cell"] = -1.0
    with pytest.raises(DataError, match="rho_cell"):
        LocalHadronicCalibration().fit(bad, y)
    bad = train.iloc[:200].copy()
    bad.loc[bad.index[3], "lambda_clus"] = np.nan
    with pytest.raises(DataError, match="lambda_clus"):
        LocalHadronicCalibration().fit(bad, y)
    with pytest.raises(DataError, match="response"):
        LocalHadronicCalibration().fit(train.iloc[:200], -y)


@pytest.mark.parametrize(
    "params",
    [{"min_entries": 0}, {"edges": {"log_energy": [0, 1]}}, {"edges": {"log_e": [1.0, 0.0]}}],
)
def test_bad_parameters_are_refused(params: dict, train: pd.DataFrame) -> None:
    with pytest.raises(ParameterError):
        LocalHadronicCalibration(**params).fit(train.iloc[:200], _response(train.iloc[:200]))
