"""The report's pulls: from the total uncertainty, in log space for a log-trained model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.evaluation import ReportBins, report
from skcal.neural import EnsembleCalibrator, GDNCalibrator
from skcal.preprocessing import SymmetricScaler

FEATURES = ["e_reco", "pt_reco", "eta", "em_frac", "charged_frac"]
BINS = ReportBins(
    pt=np.array([20, 60, 3000.0]),
    abs_eta=np.array([0, 2.5, 4.5]),
    eta_pt=np.array([20, 3000.0]),
    eta=np.linspace(-4.5, 4.5, 4),
    pileup_pt=np.array([20, 3000.0]),
    pileup_abs_eta=np.array([0, 4.5]),
    density_bins=((60, 3000, 0, 2.5),),
)
NET = dict(max_epochs=2, batch_size=256, lr=3e-3, module__hidden_sizes=(16,))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    train, test = make_jets(4_000, random_state=5), make_jets(3_000, random_state=6)
    y = train.e_reco / train.e_true
    models = {
        "GDN": make_pipeline(SymmetricScaler(), GDNCalibrator(random_state=0, **NET)),
        "ensemble": make_pipeline(
            SymmetricScaler(),
            EnsembleCalibrator(GDNCalibrator(training_space="log", **NET), 2, random_state=0),
        ),
    }
    for model in models.values():
        model.set_output(transform="pandas").fit(train[FEATURES], y)
    result = report(
        models,
        test,
        output_dir=tmp_path_factory.mktemp("pulls"),
        bins=BINS,
        n_bootstrap=0,
        importance_jets=0,
        plots=False,
    )
    return models, test, result


def _bin_means(pulls, test):
    pt = np.digitize(test.pt_true, BINS.pt) - 1
    eta = np.digitize(np.abs(test.eta_true), BINS.abs_eta) - 1
    cell = pt * (BINS.abs_eta.size - 1) + eta
    inside = (pt >= 0) & (pt < BINS.pt.size - 1) & (eta >= 0) & (eta < BINS.abs_eta.size - 1)
    return np.array([pulls[inside & (cell == k)].mean() for k in range(4)])


def test_pulls_use_the_total_uncertainty(fitted) -> None:
    models, test, result = fitted
    model = models["ensemble"]
    X = model[:-1].transform(test[FEATURES])
    mode = model[-1].predict(X)
    u = model[-1].predict_uncertainty(X)
    assert (u["sigma_stat"] > 0).all()
    r = (test.e_reco / test.e_true).to_numpy()
    # trained in ln r: the pull of ln R with the width sigma_tot / R
    pulls = np.log(mode / r) / (u["sigma_tot"].to_numpy() / mode)
    table = result.tables["pulls"]["ensemble"]
    np.testing.assert_allclose(table["mean"], _bin_means(pulls, test), rtol=1e-6)
    linear = (mode - r) / u["sigma_tot"].to_numpy()
    assert not np.allclose(table["mean"], _bin_means(linear, test), rtol=1e-3)
    assert "sigma_tot" in result.metrics["definitions"]["pull"]


def test_a_response_space_model_keeps_linear_pulls(fitted) -> None:
    models, test, result = fitted
    model = models["GDN"]
    mode, sigma = model.predict(test[FEATURES], return_std=True)
    pulls = (mode - (test.e_reco / test.e_true).to_numpy()) / sigma
    table = result.tables["pulls"]["GDN"]
    np.testing.assert_allclose(table["mean"], _bin_means(pulls, test), rtol=1e-6)
    assert {"pt_true_low", "abs_eta_true_low", "mean", "std", "width68"} <= set(table.columns)
