"""Pile-up offset and global sequential calibration, alone and in a pipeline."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skcal.exceptions import DataError, ParameterError
from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
from skcal.response import closure_table

ALPHA, BETA = 0.15, 0.05  # the toy's residual pile-up terms (conftest.py)
ETA = {"abs_eta": [0.0, 1.0, 2.0, 3.0]}
PT_BINS = {"pt_true": [20, 30, 50, 100, 300, 1000], "abs_eta_true": [0, 1.5, 3]}


@pytest.fixture(scope="module")
def pileup_toy(toy_maker):
    return toy_maker(250_000, seed=11, pileup=True), toy_maker(150_000, seed=12, pileup=True)


@pytest.fixture(scope="module")
def informative_toy(toy_maker):
    return toy_maker(250_000, seed=13, informative=True), toy_maker(
        150_000, seed=14, informative=True
    )


def closure(jets, predicted):
    r = (jets["e_reco"] / predicted / jets["e_true"]).to_numpy()
    return closure_table(r, data=jets, bins=PT_BINS, n_bootstrap=0)


def test_offset_recovers_alpha_and_beta(pileup_toy, reco_columns):
    (jets, y), _ = pileup_toy
    offset = PileupOffset(abs_eta_bins=[0, 1, 2, 3]).fit(jets[reco_columns], y)
    assert (offset.eta_status_ == "fitted").all()
    np.testing.assert_allclose(offset.alpha_, ALPHA, atol=4 * offset.alpha_err_.max() + 0.01)
    np.testing.assert_allclose(offset.beta_, BETA, atol=4 * offset.beta_err_.max() + 0.005)
    assert offset.alpha_err_.max() < 0.03 and offset.beta_err_.max() < 0.015


def test_offset_then_inversion_improves_low_pt_closure_and_resolution(pileup_toy, reco_columns):
    (jets, y), (test, _) = pileup_toy
    alone = NumericalInversion(condition=ETA).fit(jets[reco_columns], y)
    chain = make_pipeline(
        PileupOffset(abs_eta_bins=[0, 1, 2, 3]), NumericalInversion(condition=ETA)
    )
    chain.fit(jets[reco_columns], y)
    before = closure(test, alone.predict(test[reco_columns]))
    after = closure(test, chain.predict(test[reco_columns]))
    low = before["pt_true_low"] < 50
    assert (after.loc[low, "resolution"] < 0.85 * before.loc[low, "resolution"]).all()
    assert np.abs(after.loc[after["pt_true_low"] >= 30, "mode"] - 1).max() < 0.01


def test_offset_policies_and_errors(pileup_toy, reco_columns):
    (jets, y), _ = pileup_toy
    small, y_small = jets[reco_columns].iloc[:20_000], y.iloc[:20_000]
    # Only |eta| < 3 in the toy: the outer bin borrows from its neighbour.
    offset = PileupOffset(abs_eta_bins=[0, 1.5, 3, 4.5]).fit(small, y_small)
    assert list(offset.eta_status_) == ["fitted", "fitted", "borrowed"]
    assert offset.alpha_[2] == offset.alpha_[1]
    # The floor: a jet whose offset exceeds its pT is scaled by min_scale, not made negative.
    jet = small.iloc[:1].assign(pt_reco=1.0, rho=100.0)
    assert offset.transform(jet)["calib_scale"].iloc[0] == pytest.approx(0.1)
    with pytest.raises(DataError, match="'rho'"):
        offset.transform(small.drop(columns="rho"))
    with pytest.raises(ParameterError, match="min_scale"):
        PileupOffset(min_scale=0).fit(small, y_small)
    with pytest.raises(ParameterError, match="rho and area"):
        PileupOffset(rho=None).fit(small, y_small)
    with pytest.raises(DataError, match="requires y"):
        PileupOffset().fit(small, None)
    bad = small.copy()
    bad.iloc[3, bad.columns.get_loc("npv")] = np.nan
    with pytest.raises(DataError, match="'npv'.*NaN"):
        PileupOffset().fit(bad, y_small)


def test_offset_on_dask_equals_in_memory(pileup_toy, reco_columns):
    (jets, y), _ = pileup_toy
    jets, y = jets.iloc[:80_000], y.iloc[:80_000]
    memory = PileupOffset().fit(jets[reco_columns], y)
    frame = dd.from_pandas(jets[reco_columns].assign(y=y), npartitions=3)
    lazy = PileupOffset().fit(frame[reco_columns], frame["y"])
    np.testing.assert_allclose(lazy.alpha_, memory.alpha_, rtol=1e-9)
    np.testing.assert_allclose(lazy.beta_, memory.beta_, rtol=1e-9)
    pd.testing.assert_frame_equal(
        lazy.transform(frame[reco_columns]).compute(), memory.transform(jets[reco_columns])
    )


def test_gsc_narrows_the_resolution_where_the_variable_is_informative(
    informative_toy, reco_columns
):
    (jets, y), (test, _) = informative_toy
    ni = NumericalInversion(condition=ETA).fit(jets[reco_columns], y)
    gsc = GlobalSequentialCalibration(
        ["f"], variable_bins={"f": np.linspace(0, 1, 11)}, abs_eta_bins=[0, 1, 2, 3]
    ).fit(ni.transform(jets[reco_columns]), y)
    before = closure(test, ni.predict(test[reco_columns]))
    after = closure(test, gsc.predict(ni.transform(test[reco_columns])))
    assert (after["resolution"] < 0.9 * before["resolution"]).all()
    assert np.abs(after.loc[after["pt_true_low"] >= 30, "mode"] - 1).max() < 0.01


def test_gsc_changes_nothing_where_the_variable_is_not_informative(toy, toy_test, reco_columns):
    (jets, y), (test, _) = toy, toy_test
    ni = NumericalInversion(condition=ETA).fit(jets[reco_columns], y)
    gsc = GlobalSequentialCalibration(
        ["f"], variable_bins={"f": np.linspace(0, 1, 6)}, abs_eta_bins=[0, 1, 2, 3]
    ).fit(ni.transform(jets[reco_columns]), y)
    before = closure(test, ni.predict(test[reco_columns]))
    after = closure(test, gsc.predict(ni.transform(test[reco_columns])))
    np.testing.assert_allclose(after["resolution"], before["resolution"], rtol=0.03)
    assert np.abs(after.loc[after["pt_true_low"] >= 30, "mode"] - 1).max() < 0.01


def test_three_stage_pipeline_on_dask_equals_in_memory(pileup_toy, reco_columns):
    (jets, y), _ = pileup_toy
    jets, y = jets.iloc[:100_000], y.iloc[:100_000]

    def chain():
        return make_pipeline(
            PileupOffset(abs_eta_bins=[0, 1, 2, 3]),
            NumericalInversion(condition=ETA),
            GlobalSequentialCalibration(
                ["f"], variable_bins={"f": [0, 0.5, 1]}, abs_eta_bins=[0, 1.5, 3]
            ),
        )

    memory = chain().fit(jets[reco_columns], y)
    frame = dd.from_pandas(jets[reco_columns].assign(y=y), npartitions=4)
    lazy = chain().fit(frame[reco_columns], frame["y"])
    for a, b in zip(lazy[2].steps_, memory[2].steps_, strict=True):
        np.testing.assert_allclose(a.response_grid_, b.response_grid_, rtol=1e-9)
    np.testing.assert_allclose(
        lazy.predict(frame[reco_columns]).compute().to_numpy(),
        memory.predict(jets[reco_columns]),
        rtol=1e-9,
    )


def test_gsc_needs_bins_for_unknown_variables(toy, reco_columns):
    jets, y = toy
    with pytest.raises(ParameterError, match="'f' has no default bins"):
        GlobalSequentialCalibration(["f"]).fit(jets[reco_columns].iloc[:1000], y.iloc[:1000])
    with pytest.raises(DataError, match="charged_frac"):
        GlobalSequentialCalibration().fit(jets[reco_columns].iloc[:1000], y.iloc[:1000])
