"""The evaluation report: oracle closure, a biased calibrator flagged, metrics recomputed
from the table, bad parameters."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from skcal.datasets import make_jets
from skcal.evaluation import PlotStyle, ReportBins, apply_calibration, report
from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing import reweight_to_spectrum
from skcal.response import closure_table

from ._oracle import Oracle

BINS = ReportBins(
    pt=np.array([20, 30, 50, 100, 200, 500, 1000, 3000.0]),
    abs_eta=np.array([0, 1.5, 2.5, 4.5]),
    eta_pt=np.array([20, 100, 3000.0]),
    eta=np.linspace(-4.5, 4.5, 13),
    pileup_pt=np.array([20, 3000.0]),
    pileup_abs_eta=np.array([0, 1.5, 2.5, 4.5]),
    density_bins=((50, 100, 0, 1.5),),
)


@pytest.fixture(scope="module")
def jets() -> pd.DataFrame:
    table = make_jets(60_000, random_state=3)
    return table[(table.e_true >= 10) & (table.e_true < 7000)].reset_index(drop=True)


@pytest.fixture(scope="module")
def models(jets):
    return {"oracle": Oracle().fit(jets), "biased": Oracle(1.03).fit(jets)}


@pytest.fixture(scope="module")
def result(jets, models, tmp_path_factory):
    return report(
        models,
        jets,
        output_dir=tmp_path_factory.mktemp("report"),
        bins=BINS,
        n_bootstrap=5,
        importance_jets=300,
        plots=False,
    )


def test_oracle_closes_everywhere_within_statistical_error(result):
    table = result.tables["closure_pt"]["oracle"]
    usable = table[(table.status == "ok") & (table.n_effective >= 50)]
    assert len(usable) >= 0.9 * len(table)
    pulls = (usable["mode"] - 1) / usable["mode_err"]
    assert np.abs(pulls).max() < 3.5, usable[np.abs(pulls) >= 3.5]
    assert abs(pulls.mean()) < 3 / np.sqrt(len(pulls)) + 0.3
    summary = result.metrics["summary"]["oracle"]
    assert summary["n_flagged"] == 0 and summary["flags"] == []
    assert summary["worst_closure"] < 0.02


def test_oracle_has_no_pileup_slope(result):
    for variable in ("npv", "mu"):
        slopes = result.tables[f"pileup_{variable}"]["oracle"]
        assert slopes["n_points"].min() >= 4
        assert np.abs(slopes["significance"]).max() < 3.0, slopes
        assert result.metrics["summary"]["oracle"][f"pileup_{variable}_n_significant"] == 0


def test_biased_calibrator_is_flagged(result):
    summary = result.metrics["summary"]["biased"]
    assert summary["n_flagged"] >= 0.8 * summary["n_bins_usable"] > 0
    assert summary["n_outside_inner"] == summary["n_bins_usable"]
    assert summary["n_outside_outer"] == 0  # 3% is inside the 5% band
    assert any("outside +-1%" in flag for flag in result.flagged("biased"))
    modes = (
        result.tables["closure_pt"]["biased"]["mode"]
        / result.tables["closure_pt"]["oracle"]["mode"]
    )
    assert np.allclose(modes.dropna(), 1 / 1.03, atol=0.004)


class NoPileup(Oracle):
    """The oracle with a (too small) pile-up term removed: ``per_vertex`` per vertex."""

    def __init__(self, per_vertex=0.002):
        super().__init__()
        self.per_vertex = per_vertex

    def fit(self, X, y=None):
        self.feature_names_in_ = np.array(["oracle_response", "npv"], dtype=object)
        self.n_features_in_ = 2
        return self

    def predict(self, X):
        factor = 1 - self.per_vertex * (X["npv"].to_numpy() - 27)
        return np.asarray(X["oracle_response"]) * factor


def test_a_significant_slope_within_the_band_is_not_flagged(tmp_path):
    """The flag is the benchmark's criterion: a decile shift beyond +-1% (+-2% below 30 GeV)."""
    jets = make_jets(300_000, mu_range=(0.0, 200.0), random_state=4)
    out = report(
        {"small": NoPileup(0.00004).fit(jets), "large": NoPileup(0.0005).fit(jets)},
        jets,
        output_dir=tmp_path,
        bins=BINS,
        n_bootstrap=0,
        importance_jets=0,
        plots=False,
    )
    small = out.tables["pileup_npv"]["small"]
    # mu flat in [0, 200]: the NPV deciles' means are about 117 apart.
    np.testing.assert_allclose(small["span"], 117, rtol=0.05)
    assert (small["significance"].abs() > 3).all()  # significant: the old flag fired
    assert (small["shift"].abs() < 0.01).all()
    assert out.metrics["summary"]["small"]["pileup_npv_n_significant"] == 0
    assert not any("pile-up" in flag for flag in out.flagged("small"))
    large = out.metrics["summary"]["large"]
    assert large["pileup_npv_n_significant"] == len(small)
    assert large["pileup_npv_max_shift"] == pytest.approx(0.0005 * 117, rel=0.1)
    assert any("between the top and bottom 10% of npv" in f for f in out.flagged("large"))


def test_pileup_dependence_is_found(jets, tmp_path):
    """A calibrator ignoring pile-up (the response of an average NPV) gives significant slopes."""
    out = report(
        {"no_pileup": NoPileup().fit(jets)},
        jets,
        output_dir=tmp_path,
        bins=BINS,
        n_bootstrap=0,
        importance_jets=0,
        plots=False,
    )
    slopes = out.tables["pileup_npv"]["no_pileup"]
    assert np.allclose(slopes["slope"], 0.002, atol=0.0006), slopes
    assert out.metrics["summary"]["no_pileup"]["pileup_npv_n_significant"] == len(slopes)


def test_metrics_json_equal_recomputed_from_the_table(result, jets):
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    calibrated = apply_calibration(Oracle(1.03).fit(jets), jets)
    r = calibrated.e_calib / calibrated.e_true
    expected = closure_table(
        r,
        data=jets,
        bins={"pt_true": BINS.pt, "abs_eta_true": BINS.abs_eta},
        n_bootstrap=5,
        random_state=0,
    )
    got = pd.DataFrame(metrics["closure_pt"]["biased"])
    for name in ("mode", "mode_err", "resolution", "resolution_err", "entries"):
        np.testing.assert_allclose(
            got[name].astype(float), expected[name].astype(float), rtol=1e-9, equal_nan=True
        )
    # closure versus eta, in pT slices
    expected_eta = closure_table(
        r, data=jets, bins={"pt_true": BINS.eta_pt, "eta_true": BINS.eta}, n_bootstrap=5
    )
    np.testing.assert_allclose(
        pd.DataFrame(metrics["closure_eta"]["biased"])["mode"].astype(float),
        expected_eta["mode"],
        rtol=1e-9,
    )
    # flavour: the gluon jets alone
    central = jets.eta_true.abs() < 2.5
    gluon = (jets.flavour == 21) & central
    expected_gluon = closure_table(
        r[gluon], data=jets[gluon], bins={"pt_true": BINS.pt}, n_bootstrap=0
    )
    got_gluon = pd.DataFrame(metrics["flavour"]["biased"]).query("flavour == 'gluon'")
    np.testing.assert_allclose(got_gluon["mode"].astype(float), expected_gluon["mode"], rtol=1e-9)
    # spectrum: re-weighted with skcal.preprocessing.reweight_to_spectrum on the same bins
    w = reweight_to_spectrum(jets, column="e_true", bins=BINS.spectrum)
    expected_flat = closure_table(
        r,
        data=jets,
        weights=w.to_numpy(),
        bins={"pt_true": BINS.pt, "abs_eta_true": BINS.abs_eta},
        response_edges=BINS.spectrum_response,
        n_bootstrap=0,
    )
    got_flat = pd.DataFrame(metrics["spectrum"]["biased"])
    np.testing.assert_allclose(
        got_flat["mode_flat"].astype(float), expected_flat["mode"], rtol=1e-6, atol=1e-9
    )


def test_pileup_points_equal_recomputed(result, jets):
    r = jets.e_reco / jets.e_true / jets.oracle_response
    expected = closure_table(
        r,
        data=jets,
        bins={"pt_true": BINS.pileup_pt, "abs_eta_true": BINS.pileup_abs_eta, "npv": BINS.npv},
        n_bootstrap=0,
    )
    points = result.tables["pileup_npv_points"]["oracle"]
    np.testing.assert_allclose(points["mode"], expected["mode"], rtol=1e-9, equal_nan=True)
    first = points.iloc[0]
    cell = (
        (jets.pt_true >= 20)
        & (jets.eta_true.abs() < 1.5)
        & (jets.npv >= first.npv_low)
        & (jets.npv < first.npv_high)
    )
    assert first.mean_npv == pytest.approx(jets.npv[cell].mean())


def test_importance_ranks_what_the_model_reads(result):
    importance = result.metrics["importance"]["oracle"]
    assert set(importance) == {"oracle_response"}
    assert importance["oracle_response"] == pytest.approx(0.01 * 1.0, rel=0.9)  # ~ 1% of std / mean


def test_bad_input_names_the_problem(jets, models, tmp_path):
    with pytest.raises(DataError, match="pt_true"):
        report(models, jets.drop(columns="pt_true"), output_dir=tmp_path, plots=False)
    with pytest.raises(DataError, match="oracle_response"):
        report(models, jets.drop(columns="oracle_response"), output_dir=tmp_path, plots=False)
    with pytest.raises(DataError, match="empty"):
        report({}, jets, output_dir=tmp_path)
    with pytest.raises(DataError, match="not a column"):
        report(models, jets, output_dir=tmp_path, weights="w", plots=False)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"tolerances": (0.05, 0.01)}, "tolerances"),
        ({"tolerances": (0.01, 0.05, 0.1)}, "tolerances"),
        ({"tolerances": 0.01}, "tolerances"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"flag_sigma": float("nan")}, "flag_sigma"),
        ({"min_entries": -1.0}, "min_entries"),
        ({"importance_jets": 1.5}, "importance_jets"),
        ({"random_state": -1}, "random_state"),
        ({"weights": 3}, "weights"),
        ({"bins": {"pt": [20, 100]}}, "bins"),
        ({"bins": ReportBins(pt=[100, 20])}, "pt must be at least two"),
        ({"bins": ReportBins(density_bins=((20, 30, 0),))}, "density_bins"),
        ({"bins": ReportBins(spectrum_column=3)}, "spectrum_column"),
        ({"style": "ATLAS"}, "style"),
        ({"style": PlotStyle(style="nope"), "plots": True}, "style"),
        ({"shap": "yes"}, "shap"),
    ],
)
def test_bad_parameter_is_a_parameter_error(jets, models, tmp_path, options, match):
    kwargs = {"output_dir": tmp_path, "plots": False, **options}
    with pytest.raises(ParameterError, match=match):
        report(models, jets, **kwargs)
    assert not list(tmp_path.iterdir())  # checked before anything is read or written
