"""The report of a density calibrator beside a point one: pulls, predicted densities, PNGs
and HTML."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.evaluation import PlotStyle, ReportBins, report
from skcal.neural import GDNCalibrator
from skcal.preprocessing import SymmetricScaler

from ._oracle import Oracle

FEATURES = ["e_reco", "pt_reco", "eta", "em_frac", "charged_frac"]
BINS = ReportBins(
    pt=np.array([20, 50, 200, 3000.0]),
    abs_eta=np.array([0, 2.5, 4.5]),
    eta_pt=np.array([20, 3000.0]),
    eta=np.linspace(-4.5, 4.5, 7),
    pileup_pt=np.array([20, 3000.0]),
    pileup_abs_eta=np.array([0, 2.5, 4.5]),
    density_bins=((50, 200, 0, 2.5),),
)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    train, test = make_jets(6_000, random_state=5), make_jets(6_000, random_state=6)
    gdn = make_pipeline(
        SymmetricScaler(),
        GDNCalibrator(max_epochs=3, batch_size=256, lr=3e-3, verbose=0, random_state=0),
    ).set_output(transform="pandas")
    gdn.fit(train[FEATURES], train.e_reco / train.e_true)
    return report(
        {"oracle": Oracle().fit(test), "GDN": gdn},
        test,
        output_dir=tmp_path_factory.mktemp("plots"),
        bins=BINS,
        n_bootstrap=0,
        importance_jets=300,
        style=PlotStyle(style="ATLAS", sample="synthetic small-R jets"),
    )


def test_density_calibrator_gets_pulls_and_predicted_density(result):
    pulls = result.tables["pulls"]["GDN"]
    assert "oracle" not in result.tables["pulls"]
    assert (pulls.loc[pulls.entries > 0, "width68"] > 0).all()
    inclusive = result.metrics["pulls_inclusive"]["GDN"]
    assert np.isfinite([inclusive["mean"], inclusive["std"], inclusive["width68"]]).all()
    density = result.metrics["response_distributions"][0]
    assert set(density["predicted_density"]) == {"GDN"}
    predicted = np.asarray(density["predicted_density"]["GDN"])
    width = np.diff(density["edges"])
    assert predicted.sum() * width[0] == pytest.approx(
        1.0, abs=0.05
    )  # a density over the calibrated response
    measured = np.asarray(density["density"]["oracle"])
    assert measured.sum() * width[0] == pytest.approx(1.0, abs=0.02)


def test_png_and_html_show_every_figure(result):
    names = {p.name for p in result.figures}
    for expected in (
        "closure_pt_eta0.png",
        "closure_eta_pt0.png",
        "resolution_pt_eta1.png",
        "response_0.png",
        "flavour_0.png",
        "pileup_npv_pt0.png",
        "pileup_mu_pt0.png",
        "spectrum_1.png",
        "pulls_0.png",
        "pulls.png",
        "importance.png",
    ):
        assert expected in names
    for path in result.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    page = result.html.read_text()
    assert set(re.findall(r"src='([^']+\.png)'", page)) == names
    assert "metrics.json" in page and "GDN" in page
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    assert set(metrics["importance"]["GDN"]) == set(FEATURES)
