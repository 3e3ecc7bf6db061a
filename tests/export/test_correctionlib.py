"""to_correctionlib: the chain's predict from correctionlib alone, out-of-range jets included."""

from __future__ import annotations

import correctionlib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.exceptions import ExportError
from skcal.export import to_correctionlib
from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
from skcal.neural import GDNCalibrator

from .conftest import TRUTH


@pytest.fixture(scope="module")
def chain():
    train = make_jets(100_000, random_state=1)
    features = [c for c in train.columns if c not in TRUTH]
    pipe = make_pipeline(
        PileupOffset(),
        NumericalInversion(n_grid=64),
        GlobalSequentialCalibration(variables=["charged_frac", "n_trk"]),
    )
    pipe.fit(train[features], train.e_reco / train.e_true)
    test = make_jets(100_000, random_state=2)[features]
    rows = test.index
    test.loc[rows[:500], "eta"] *= 2.0  # beyond the |eta| bins
    test.loc[rows[500:1000], "e_reco"] *= 20.0  # beyond the inversion grids
    test.loc[rows[1000:1500], "e_reco"] /= 8.0
    test.loc[rows[1500:2000], "n_trk"] += 100.0  # beyond the GSC bins
    return pipe, test


def evaluate(cset, table, name="calibration"):
    ev = correctionlib.CorrectionSet.from_string(cset.model_dump_json(exclude_unset=True))
    compound = ev.compound[name]
    # the scale of the corrections so far: 1 for an uncalibrated jet
    table = table.assign(calib_scale=1.0) if "calib_scale" not in table else table
    return compound.evaluate(*[table[i.name].to_numpy() for i in compound.inputs])


def test_chain_round_trip_on_100k_jets(chain, tmp_path):
    pipe, test = chain
    cset = to_correctionlib(pipe, tmp_path / "calib.json")
    out = evaluate(cset, test)
    ref = pipe.predict(test).to_numpy()
    assert np.max(np.abs(out / ref - 1.0)) < 1e-6
    stack = cset.compound_corrections[0].stack
    assert stack == [
        "pileupoffset",
        "numericalinversion",
        "globalsequentialcalibration_charged_frac_at_stage",
        "globalsequentialcalibration_n_trk",
    ]
    assert (tmp_path / "calib.json").stat().st_size > 0


def test_single_stages_and_gzip(chain, tmp_path):
    pipe, test = chain
    ni = pipe[1]
    out = evaluate(to_correctionlib(ni, tmp_path / "ni.json.gz", name="ni"), test, "ni")
    assert np.max(np.abs(out / ni.predict(test).to_numpy() - 1.0)) < 1e-6
    again = correctionlib.CorrectionSet.from_file(str(tmp_path / "ni.json.gz"))
    assert "ni" in again.compound


def test_refusals(chain):
    pipe, test = chain
    gdn = GDNCalibrator(max_epochs=1, module__hidden_sizes=(4,), random_state=0)
    gdn.fit(test[["e_reco", "eta"]].head(500), np.ones(500))
    with pytest.raises(ExportError, match=r"GDNCalibrator.*cannot be exported to correctionlib"):
        to_correctionlib(gdn)
    with pytest.raises(ExportError, match="not fitted"):
        to_correctionlib(make_pipeline(PileupOffset(), NumericalInversion()))
    jets = make_jets(20_000, random_state=3)
    r = jets.e_reco / jets.e_true
    mixed = make_pipeline(
        PileupOffset(momentum=("pt_reco",)),
        NumericalInversion(condition={"abs_eta": [0, 2, 4.5]}, n_grid=8),
    ).fit(jets[["e_reco", "pt_reco", "eta", "rho", "area", "npv", "mu"]], r)
    with pytest.raises(ExportError, match="'numericalinversion' reads 'e_reco'"):
        to_correctionlib(mixed)
