"""Bad input to MultiFold gets a clear skcal error naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from skcal.exceptions import DataError, ParameterError
from skcal.unfolding import MultiFold
from tests.unfolding.conftest import fast_classifier


@pytest.fixture
def mf() -> MultiFold:
    return MultiFold(fast_classifier(), n_iterations=1, random_state=0)


def test_mismatched_lengths(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(DataError, match="sim_truth has 2499 rows but sim_reco has 2500"):
        mf.fit(sim_reco, sim_truth.iloc[:-1], data_reco)
    with pytest.raises(DataError, match="sim_weights has 10 entries where 2500"):
        mf.fit(sim_reco, sim_truth, data_reco, sim_weights=np.ones(10))
    with pytest.raises(DataError, match="reco_mask has shape"):
        mf.fit(sim_reco, sim_truth, data_reco, reco_mask=np.ones(3, dtype=bool))


def test_data_with_other_columns(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(DataError, match="feature names"):
        mf.fit(sim_reco, sim_truth, data_reco.rename(columns={"x": "pt"}))


def test_a_classifier_without_predict_proba(toy) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(ParameterError, match="'classifier' parameter of MultiFold.*predict_proba"):
        MultiFold(LinearSVC()).fit(sim_reco, sim_truth, data_reco)


def test_a_classifier_without_sample_weight(toy) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(ParameterError, match="KNeighborsClassifier.fit does not"):
        MultiFold(KNeighborsClassifier()).fit(sim_reco, sim_truth, data_reco)


@pytest.mark.parametrize("value", [0.0, -1.0])
@pytest.mark.parametrize("name", ["sim_weights", "data_weights"])
def test_non_positive_weights(toy, mf, name, value) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    weights = np.ones(len(sim_reco))
    weights[7] = value
    with pytest.raises(DataError, match=rf"{name} must be > 0.*first {value!r} at position 7"):
        mf.fit(sim_reco, sim_truth, data_reco, **{name: weights})


def test_nan_weights(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(DataError, match="data_weights has NaN"):
        mf.fit(sim_reco, sim_truth, data_reco, data_weights=np.full(len(data_reco), np.nan))


def test_misses_without_a_label(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    missed = sim_reco.copy()
    missed.loc[5, "x"] = np.nan
    message = r"sim_reco .*'x' has 1 NaN \(first at index 5\).*reco_mask"
    with pytest.raises(DataError, match=message):
        mf.fit(missed, sim_truth, data_reco)
    mask = np.ones(len(missed), dtype=bool)
    mask[5] = False
    assert mf.fit(missed, sim_truth, data_reco, reco_mask=mask).unfolded_weights()[5] > 0


def test_fakes_without_a_label(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    fake = sim_truth.copy()
    fake.loc[9, "x"] = np.inf
    with pytest.raises(DataError, match=r"sim_truth .*1 inf \(first at index 9\).*truth_mask"):
        mf.fit(sim_reco, fake, data_reco)
    mask = np.ones(len(fake), dtype=bool)
    mask[9] = False
    assert mf.fit(sim_reco, fake, data_reco, truth_mask=mask).unfolded_weights()[9] == 0


def test_masks_must_be_boolean_and_leave_each_event_a_side(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(DataError, match="reco_mask must be boolean"):
        mf.fit(sim_reco, sim_truth, data_reco, reco_mask=np.ones(len(sim_reco)))
    none = np.ones(len(sim_reco), dtype=bool)
    none[[3, 4]] = False
    with pytest.raises(DataError, match="2 simulated event.*neither.*row 3"):
        mf.fit(sim_reco, sim_truth, data_reco, reco_mask=none, truth_mask=none)


def test_data_must_be_finite(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    bad = data_reco.copy()
    bad.loc[2, "x"] = np.nan
    with pytest.raises(DataError, match="data_reco has non-finite values: column 'x'"):
        mf.fit(sim_reco, sim_truth, bad)
    with pytest.raises(DataError, match="not numeric"):
        mf.fit(sim_reco.assign(x="a"), sim_truth, data_reco)
    assert isinstance(sim_reco, pd.DataFrame)


def test_bootstrap_parameters(toy, mf) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    mf.fit(sim_reco, sim_truth, data_reco)
    with pytest.raises(ParameterError, match="'of' parameter"):
        mf.bootstrap(2, of="mc")
    with pytest.raises(ParameterError, match="'n_replicas' parameter"):
        mf.bootstrap(1)
    with pytest.raises(ParameterError, match="'client' parameter"):
        mf.bootstrap(2, client=object())
