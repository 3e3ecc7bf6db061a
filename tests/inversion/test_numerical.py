"""Numerical inversion: closure on a known response curve, streaming, policies, bad input."""

from __future__ import annotations

import pickle

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.inversion import NumericalInversion
from skcal.response import closure_table

ETA_BINS = {"abs_eta": [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]}
CLOSURE_BINS = {"e_true": [30, 50, 100, 200, 500, 1000, 3000], "abs_eta_true": [0, 1, 2, 3]}


def known_response(e_true, abs_eta):
    return (1.0 - 0.9 / np.log(e_true)) * (1.0 - 0.05 * abs_eta)


@pytest.fixture(scope="module")
def fitted(toy, reco_columns):
    jets, y = toy
    return NumericalInversion(condition=ETA_BINS).fit(jets[reco_columns], y)


def test_fitted_curve_follows_the_known_response(fitted):
    assert (fitted.cell_status_ == "fitted").all()
    e = np.geomspace(50, 2000, 25)
    for cell, centre in enumerate([0.25, 0.75, 1.25, 1.75, 2.25, 2.75]):
        np.testing.assert_allclose(
            fitted.response_curve(np.log(e), cell), known_response(e, centre), rtol=0.01
        )


def test_closes_on_held_out_jets(fitted, toy_test, reco_columns):
    jets, _ = toy_test
    raw = jets["e_reco"] / jets["e_true"]
    calibrated = jets["e_reco"] / fitted.predict(jets[reco_columns]) / jets["e_true"]
    after = closure_table(calibrated.to_numpy(), data=jets, bins=CLOSURE_BINS, n_bootstrap=0)
    before = closure_table(raw.to_numpy(), data=jets, bins=CLOSURE_BINS, n_bootstrap=0)
    assert (after["status"] == "ok").all()
    assert np.abs(after["mode"] - 1).max() < 0.005
    assert np.abs(before["mode"] - 1).max() > 0.15  # there was something to calibrate
    assert np.all(np.abs(after["mode"] - 1) < 4 * after["mode_err"] + 0.002)


def test_mean_based_calibration_would_not_close(toy, toy_test, reco_columns):
    """The same inversion with the median in place of the mode misses by the tail's pull."""
    jets, y = toy
    median_ni = NumericalInversion(condition=ETA_BINS, method="median").fit(jets[reco_columns], y)
    test, _ = toy_test
    calibrated = test["e_reco"] / median_ni.predict(test[reco_columns]) / test["e_true"]
    table = closure_table(calibrated.to_numpy(), data=test, bins=CLOSURE_BINS, n_bootstrap=0)
    assert np.abs(table["mode"] - 1).max() > 0.005


def test_predict_transform_and_scale_are_consistent(fitted, toy_test, reco_columns):
    jets = toy_test[0][reco_columns].iloc[:1000]
    response = fitted.predict(jets)
    out = fitted.transform(jets)
    np.testing.assert_allclose(out["e_reco"], jets["e_reco"] / response)
    np.testing.assert_allclose(out["pt_reco"], jets["pt_reco"] / response)
    np.testing.assert_allclose(out["calib_scale"], 1 / response)
    assert list(fitted.get_feature_names_out()) == [*reco_columns, "calib_scale"]
    # A later stage sees the scale: the response it returns is the uncalibrated jet's.
    np.testing.assert_allclose(
        fitted.predict(out.assign(e_reco=jets["e_reco"], calib_scale=2.0)), response / 2.0
    )


def test_user_function_instead_of_polynomial(toy, reco_columns):
    jets, y = toy

    def curve(log_e, a, b):
        return a - b / log_e

    ni = NumericalInversion(
        condition={"abs_eta": [0.0, 0.5]}, fit_function=curve, fit_p0=[1.0, 1.0]
    )
    ni.fit(jets[reco_columns], y)
    assert ni.n_outside_ >= (jets["eta"].abs() >= 0.5).sum()  # dropped, not clipped into the bin
    a, b = ni.params_[0]
    assert a == pytest.approx(1 - 0.05 * 0.25, abs=0.01)
    assert b == pytest.approx(0.9 * (1 - 0.05 * 0.25), rel=0.05)


def test_dask_fit_gives_the_in_memory_correction(toy, reco_columns):
    jets, y = toy
    jets, y = jets.iloc[:120_000], y.iloc[:120_000]
    weights = pd.Series(np.random.default_rng(0).uniform(0.5, 2.0, len(jets)), index=jets.index)
    memory = NumericalInversion(condition=ETA_BINS, chunk_size=50_000).fit(
        jets[reco_columns], y, weights
    )
    frame = dd.from_pandas(jets[reco_columns].assign(y=y, w=weights), npartitions=7)
    lazy = NumericalInversion(condition=ETA_BINS).fit(frame[reco_columns], frame["y"], frame["w"])
    np.testing.assert_allclose(lazy.response_grid_, memory.response_grid_, rtol=1e-9)
    np.testing.assert_allclose(lazy.log_reco_grid_, memory.log_reco_grid_, rtol=1e-9)
    pd.testing.assert_frame_equal(lazy.bin_table_, memory.bin_table_, rtol=1e-9)
    assert list(lazy.feature_names_in_) == reco_columns
    predicted = lazy.predict(frame[reco_columns])
    assert isinstance(predicted, dd.Series)
    np.testing.assert_allclose(
        predicted.compute().to_numpy(), memory.predict(jets[reco_columns]), rtol=1e-9
    )
    transformed = lazy.transform(frame[reco_columns])
    assert isinstance(transformed, dd.DataFrame)
    pd.testing.assert_frame_equal(
        transformed.compute(), memory.transform(jets[reco_columns]), rtol=1e-9
    )


@pytest.mark.slow
def test_fit_on_a_distributed_cluster(toy, reco_columns):
    distributed = pytest.importorskip("distributed")
    jets, y = toy
    jets, y = jets.iloc[:60_000], y.iloc[:60_000]
    memory = NumericalInversion(condition=ETA_BINS).fit(jets[reco_columns], y)
    frame = dd.from_pandas(jets[reco_columns].assign(y=y), npartitions=4)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        lazy = NumericalInversion(condition=ETA_BINS).fit(frame[reco_columns], frame["y"])
        predicted = lazy.predict(frame[reco_columns]).compute()
    np.testing.assert_allclose(lazy.response_grid_, memory.response_grid_, rtol=1e-9)
    np.testing.assert_allclose(predicted.to_numpy(), memory.predict(jets[reco_columns]), rtol=1e-9)


def test_empty_cells_borrow_and_out_of_range_jets_are_counted(toy, reco_columns):
    jets, y = toy
    jets, y = jets.iloc[:100_000], y.iloc[:100_000]
    # |eta| < 3 in the toy: the last cell (3-4.5) is empty; target bins start above some jets.
    ni = NumericalInversion(
        condition={"abs_eta": [0, 1.5, 3, 4.5]}, target_bins=np.geomspace(40, 4000, 21)
    )
    ni.fit(jets[reco_columns], y)
    assert list(ni.cell_status_) == ["fitted", "fitted", "borrowed"]
    assert ni.cell_source_[2] == 1
    empty_rows = ni.bin_table_[ni.bin_table_["cell"] == 2]
    assert (empty_rows["status"] == "empty").all() and not empty_rows["used_in_fit"].any()
    assert ni.n_outside_ == int(((jets["e_true"] < 40) | (jets["e_true"] >= 4000)).sum())
    assert ni.n_clipped_ == 0
    strange = jets[reco_columns].iloc[:4].copy()
    strange["eta"] = [0.1, 4.0, 9.0, 0.2]  # 9 is beyond the bins: clipped into the last one
    strange["e_reco"] = [100.0, 100.0, 100.0, 1e6]  # 1e6 is beyond the fit range: frozen
    predicted = ni.predict(strange)
    assert np.isfinite(predicted).all()
    assert list(ni.outside_range(strange)) == [False, False, True, True]
    assert predicted[2] == predicted[1]


def test_mass_calibration_after_the_energy(toy_maker):
    """Sequential energy-then-mass: the mass NI is binned in the calibrated energy and |eta|."""
    jets, y = toy_maker(150_000, seed=5)
    rng = np.random.default_rng(5)
    m_true = jets["e_true"] * rng.uniform(0.05, 0.2, len(jets))
    r_m = 0.9 * (1 - 0.3 * np.exp(-m_true / 30)) * rng.normal(1, 0.08, len(jets))
    jets = jets.assign(m_reco=m_true * r_m, m_true=m_true)
    energy = NumericalInversion(condition={"abs_eta": [0, 1.5, 3]}).fit(
        jets[["e_reco", "pt_reco", "eta"]], y
    )
    calibrated = energy.transform(jets[["e_reco", "pt_reco", "eta", "m_reco"]])
    mass = NumericalInversion(
        "m_reco",
        condition={"e_reco": [20, 200, 1000, 5000], "abs_eta": [0, 1.5, 3]},
        target_bins=np.geomspace(1, 1000, 31),
        momentum=("m_reco",),
        scale_column="calib_scale_m",
    )
    mass.fit(calibrated, r_m)
    closure = jets["m_reco"] / mass.predict(calibrated) / jets["m_true"]
    table = closure_table(
        closure.to_numpy(), data=jets, bins={"m_true": [10, 30, 100, 300]}, n_bootstrap=0
    )
    assert np.abs(table["mode"] - 1).max() < 0.01
    assert np.abs((jets["m_reco"] / jets["m_true"]).median() - 1) > 0.1


def test_bad_input_names_the_column_or_value(fitted, toy, reco_columns):
    jets, y = toy
    small, y_small = jets[reco_columns].iloc[:2000], y.iloc[:2000].to_numpy()
    ni = NumericalInversion(condition=ETA_BINS)
    for value, text in [(np.nan, "NaN"), (np.inf, "infinite"), (0.0, "> 0"), (-0.3, "-0.3")]:
        bad = y_small.copy()
        bad[3] = value
        with pytest.raises(DataError, match="y") as info:
            ni.fit(small, bad)
        assert text in str(info.value)
    bad_x = small.copy()
    bad_x.iloc[5, 0] = -10.0
    with pytest.raises(DataError, match="'e_reco'"):
        ni.fit(bad_x, y_small)
    with pytest.raises(DataError, match="-10.0"):
        fitted.predict(bad_x)
    bad_x.iloc[5, 0] = np.nan
    with pytest.raises(DataError, match="'e_reco'.*NaN"):
        fitted.predict(bad_x)
    with pytest.raises(DataError, match="'eta'"):
        fitted.predict(small.drop(columns="eta"))
    with pytest.raises(DataError, match="1999 entries"):
        ni.fit(small, y_small[:-1])
    with pytest.raises(DataError, match="n_samples=1"):
        ni.fit(small.iloc[:1], y_small[:1])
    with pytest.raises(DataError, match="too small"):
        ni.fit(small.iloc[:50], y_small[:50])
    with pytest.raises(ParameterError, match="poly_order"):
        NumericalInversion(poly_order=-1).fit(small, y_small)
    with pytest.raises(NotFittedError):
        NumericalInversion().predict(small)


def test_estimator_contract_on_jet_tables(toy, reco_columns):
    jets, y = toy
    small, y_small = jets[reco_columns].iloc[:50_000], y.iloc[:50_000]
    ni = NumericalInversion(condition=ETA_BINS)
    params = ni.get_params()
    assert ni.fit(small, y_small) is ni
    assert ni.get_params().keys() == params.keys()
    first = ni.predict(small)
    again = clone(ni).fit(small, y_small).predict(small)
    np.testing.assert_array_equal(first, again)
    restored = pickle.loads(pickle.dumps(ni))
    np.testing.assert_array_equal(restored.predict(small), first)
    # Rows are independent: a subset or a shuffle predicts the same values.
    order = np.random.default_rng(0).permutation(len(small))
    np.testing.assert_array_equal(ni.predict(small.iloc[order]), first[order])
    # Integer weights are repetitions.
    weights = np.random.default_rng(1).integers(0, 3, len(small))
    repeated = small.loc[small.index.repeat(weights)]
    by_weight = clone(ni).fit(small, y_small, sample_weight=weights)
    by_rows = clone(ni).fit(repeated, y_small.loc[repeated.index])
    # The bins' modes agree; their errors (the fit's weights) rightly do not, since
    # event weights carry less information than as many independent jets. The counts
    # that the fit sees differ by a constant factor, to which it is invariant but for
    # rounding; a rounding that moves the edge of a mode's fit window by one histogram
    # bin (it depends on the CPU's arithmetic) moves that mode by up to ~1e-4.
    by_weight_modes, by_rows_modes = by_weight.bin_table_["mode"], by_rows.bin_table_["mode"]
    np.testing.assert_allclose(by_weight_modes, by_rows_modes, rtol=1e-4)
    exact = np.isclose(by_weight_modes, by_rows_modes, rtol=1e-7, atol=0.0, equal_nan=True)
    assert exact.mean() >= 0.99
