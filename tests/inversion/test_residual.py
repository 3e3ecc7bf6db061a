"""ResidualInversion: a numerical inversion of what a calibrator leaves, in bins of truth."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.inversion import NumericalInversion, ResidualInversion, residual_condition
from skcal.response import closure_table

COARSE = NumericalInversion(condition={"abs_eta": [0.0, 1.0, 2.0, 3.0]})
BINS = {"e_true": [30, 60, 120, 250, 500, 1000, 3000], "abs_eta_true": [0.0, 1.0, 2.0, 3.0]}


def _closure_offsets(model, jets, columns):
    R = np.asarray(model.predict(jets[columns]))
    table = closure_table(
        (jets.e_reco / R / jets.e_true).to_numpy(),
        data=jets.assign(abs_eta_true=jets.eta_true.abs()),
        bins=BINS,
        n_bootstrap=0,
    )
    return (table["mode"] - 1).abs().to_numpy()


@pytest.fixture(scope="module")
def mean_regressor():
    """A calibrator that predicts the mean response given the reco jet: it does not
    close in bins of truth (the toy's low tail pulls the mean below the mode)."""
    return HistGradientBoostingRegressor(loss="squared_error", max_iter=40, random_state=0)


def test_inversion_closes_what_the_calibrator_leaves(toy_maker, mean_regressor, reco_columns):
    jets, y = toy_maker(80_000, seed=11)
    test, _ = toy_maker(60_000, seed=12)
    alone = clone(mean_regressor).fit(jets[reco_columns], y)
    model = ResidualInversion(mean_regressor, COARSE).fit(jets[reco_columns], y)
    before = _closure_offsets(alone, test, reco_columns)
    after = _closure_offsets(model, test, reco_columns)
    # the mean is not the mode: the calibrator alone is 1.0-1.5% high above 60 GeV
    assert before.max() > 0.012 and before.mean() > 0.008
    # the inversion takes off close to half of the offsets; what stays is numerical inversion's own
    # non-closure of ~1% at the lowest energies, where the resolution is widest
    assert after.mean() < 0.6 * before.mean()
    assert after.max() < 0.013
    # the inversion was fitted on the calibrator's output, not on the raw jets
    assert model.inversion_.bin_table_["mode"].dropna().between(0.95, 1.05).mean() > 0.9


def test_predict_is_the_response_of_the_uncalibrated_jet(toy_maker, mean_regressor, reco_columns):
    jets, y = toy_maker(60_000, seed=13)
    model = ResidualInversion(mean_regressor, COARSE).fit(jets, y)
    R = model.predict(jets)
    assert isinstance(R, pd.Series) and R.index.equals(jets.index)
    net = model.calibrator_.predict(jets)
    staged = jets.assign(e_reco=jets.e_reco / net, pt_reco=jets.pt_reco / net, calib_scale=1 / net)
    np.testing.assert_allclose(R, model.inversion_.predict(staged))
    assert np.isfinite(R).all() and (R > 0).all()


def test_features_select_the_calibrators_columns(toy_maker, mean_regressor):
    jets, y = toy_maker(40_000, seed=14)
    model = ResidualInversion(mean_regressor, COARSE, features=["e_reco", "eta", "f"])
    model.fit(jets, y)
    assert model.calibrator_.n_features_in_ == 3
    assert model.n_features_in_ == jets.shape[1]


def test_dask_fit_gives_the_in_memory_model(toy_maker, reco_columns):
    jets, y = toy_maker(60_000, seed=15)
    chain = make_pipeline(NumericalInversion(condition={"abs_eta": [0, 1.5, 3]}))
    memory = ResidualInversion(chain, COARSE).fit(jets[reco_columns], y)
    frame = dd.from_pandas(jets[reco_columns].assign(y=y.to_numpy()), npartitions=4)
    lazy = ResidualInversion(chain, COARSE).fit(frame[reco_columns], frame["y"])
    R_lazy = lazy.predict(frame[reco_columns]).compute()
    np.testing.assert_allclose(R_lazy, memory.predict(jets[reco_columns]), rtol=1e-9)


def test_return_std_scales_the_width_by_the_inversions_correction(toy_maker, reco_columns):
    from skcal.neural import GDNCalibrator
    from skcal.preprocessing import SymmetricScaler

    jets, y = toy_maker(8_000, seed=16)
    net = make_pipeline(SymmetricScaler(), GDNCalibrator(max_epochs=2, random_state=0))
    model = ResidualInversion(net, COARSE).fit(jets[reco_columns], y)
    R, sigma = model.predict(jets[reco_columns], return_std=True)
    R_net, sigma_net = model.calibrator_.predict(jets[reco_columns], return_std=True)
    np.testing.assert_allclose(sigma / R, sigma_net / R_net)
    assert (sigma > 0).all()


def test_bad_input_names_the_problem(toy_maker, mean_regressor):
    jets, y = toy_maker(5_000, seed=17)
    with pytest.raises(DataError, match="named columns"):
        ResidualInversion(mean_regressor).fit(jets.to_numpy(), y)
    with pytest.raises(DataError, match=r"features: column\(s\) \['nope'\]"):
        ResidualInversion(mean_regressor, features=["e_reco", "nope"]).fit(jets, y)
    moved = NumericalInversion(momentum=("e_reco", "e_missing"))
    with pytest.raises(DataError, match="inversion.momentum: column 'e_missing'"):
        ResidualInversion(mean_regressor, moved).fit(jets, y)
    with pytest.raises(ParameterError, match="calibrator"):
        ResidualInversion("a calibrator").fit(jets, y)
    with pytest.raises(NotFittedError):
        ResidualInversion(mean_regressor).predict(jets)


def test_export_refuses_it_with_a_clear_error(toy_maker, mean_regressor, reco_columns):
    pytest.importorskip("onnx")
    pytest.importorskip("correctionlib")
    from skcal.exceptions import ExportError
    from skcal.export import to_correctionlib, to_onnx

    jets, y = toy_maker(20_000, seed=18)
    model = ResidualInversion(mean_regressor, COARSE).fit(jets[reco_columns], y)
    with pytest.raises(ExportError, match="ResidualInversion"):
        to_onnx(model)
    with pytest.raises(ExportError, match="ResidualInversion"):
        to_correctionlib(model)


def _mu_decile_shift(model, jets):
    """Top-minus-bottom mu-decile mode of E_calib / E_true at 20-60 GeV, |eta_true| < 2.5."""
    r = (jets.e_reco / np.asarray(model.predict(jets)) / jets.e_true).to_numpy()
    low, high = np.quantile(jets.mu, [0.1, 0.9])
    decile = np.where(jets.mu <= low, 0.0, np.where(jets.mu >= high, 2.0, 1.0))
    table = closure_table(
        r,
        data=jets.assign(abs_eta_true=jets.eta_true.abs(), decile=decile),
        bins={"pt_true": [20, 60], "abs_eta_true": [0.0, 2.5], "decile": [-0.5, 0.5, 1.5, 2.5]},
        n_bootstrap=0,
    )
    return float(table["mode"].iloc[2] - table["mode"].iloc[0])


class _BiasedInMu(RegressorMixin, BaseEstimator):
    """The generator's own response, 5% low at mu = 0 and 5% high at mu = 200: a
    calibrator that leaves a pile-up dependence, with nothing to train."""

    def fit(self, X, y):
        self.is_fitted_ = True
        return self

    def predict(self, X):
        return X["oracle_response"] * (1.0 + 0.05 * (X["mu"] - 100.0) / 100.0)


def test_the_default_mu_cells_take_off_a_pile_up_dependence_left_by_the_calibrator():
    from skcal.datasets import make_jets

    jets = make_jets(1_000_000, mu_range=(0.0, 200.0), random_state=21)
    test = make_jets(200_000, mu_range=(0.0, 200.0), random_state=22)
    y = jets.e_reco / jets.e_true
    by_eta = ResidualInversion(_BiasedInMu(), NumericalInversion()).fit(jets, y)
    default = ResidualInversion(_BiasedInMu()).fit(jets, y)
    assert default.inversion_.condition["mu"] == (0.0, 50.0, 100.0, 150.0, 200.0)
    before, after = _mu_decile_shift(by_eta, test), _mu_decile_shift(default, test)
    assert before < -0.05  # the top mu decile is calibrated ~9% lower than the bottom one
    assert abs(after) < 0.3 * abs(before)  # what stays: the bias' spread inside a cell


@pytest.mark.parametrize(
    ("n_jets", "mu_range", "mu_edges"),
    [
        (2_000_000, (0.0, 200.0), tuple(np.arange(0.0, 201.0, 25.0))),
        (1_000_000, (0.0, 200.0), (0.0, 50.0, 100.0, 150.0, 200.0)),
        (500_000, (0.0, 200.0), (0.0, 100.0, 200.0)),
        (400_000, (0.0, 200.0), None),  # too few for any mu cells: |eta| alone
        (500_000, (10.0, 70.0), (0.0, 50.0, 100.0, 150.0, 200.0)),  # two cells covered
        (400_000, (10.0, 70.0), None),  # the demo's sample: |eta| alone
        (4_000_000, (300.0, 400.0), None),  # all in the last cell
        (50_000, None, None),  # no mu column
    ],
)
def test_the_default_mu_cells_are_as_fine_as_the_sample_allows(n_jets, mu_range, mu_edges):
    condition = residual_condition(n_jets, mu_range)
    assert len(condition["abs_eta"]) == 46
    assert condition.get("mu") == mu_edges
