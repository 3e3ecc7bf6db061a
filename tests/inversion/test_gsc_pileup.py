"""The GSC keeps the pile-up offset's independence of pile-up (issue 17).

A ratio input such as the charged fraction is stored relative to the uncalibrated jet
pT, which holds the pile-up energy; the GSC takes it relative to the jet pT of the
current stage (``pt_fractions``), as ATLAS defines it.
"""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.exceptions import ParameterError
from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
from skcal.response import closure_table

COLUMNS = ["e_reco", "pt_reco", "eta", "mu", "npv", "rho", "area", "charged_frac"]


@pytest.fixture(scope="module")
def hl_lhc_jets():
    """Central jets with mu flat in [0, 200], where the pile-up offset is large."""
    options = dict(mu_range=(0.0, 200.0), pt_range=(30.0, 300.0))
    return make_jets(300_000, random_state=5, **options), make_jets(
        200_000, random_state=6, **options
    )


def _decile_shift(pipe, test):
    """Per pT_true bin (|eta_true| < 1.5): top minus bottom NPV-decile response mode, error."""
    r = (test.e_reco / pipe.predict(test[COLUMNS]) / test.e_true).to_numpy()
    low, high = np.quantile(test.npv, [0.1, 0.9])
    decile = np.where(test.npv <= low, 0.0, np.where(test.npv >= high, 2.0, 1.0))
    table = closure_table(
        r,
        data=test.assign(decile=decile),
        bins={
            "pt_true": [30, 60, 120, 300],
            "abs_eta_true": [0, 1.5],
            "decile": [0, 0.5, 1.5, 2.5],
        },
        n_bootstrap=0,
    )
    bottom = table[table.decile_low == 0].reset_index(drop=True)
    top = table[table.decile_low == 1.5].reset_index(drop=True)
    return (top["mode"] - bottom["mode"]).to_numpy(), np.hypot(top.mode_err, bottom.mode_err)


@pytest.mark.parametrize("fractions", [("charged_frac",), ()])
def test_charged_fraction_at_the_stage_keeps_pileup_independence(hl_lhc_jets, fractions):
    train, test = hl_lhc_jets
    pipe = make_pipeline(
        PileupOffset(),
        NumericalInversion(),
        GlobalSequentialCalibration(["charged_frac"], pt_fractions=fractions),
    ).fit(train[COLUMNS], train.e_reco / train.e_true)
    shift, err = _decile_shift(pipe, test)
    if fractions:  # relative to the current stage: the shift stays within 1.5%
        assert np.all(np.abs(shift) < 0.015 + 2 * err), shift
    else:  # relative to the uncalibrated pT: the pile-up dependence is back
        assert np.all(shift < -0.03), shift


def test_pt_fractions_are_divided_by_the_scale_so_far():
    rng = np.random.default_rng(0)
    n = 50_000
    pt_true = np.exp(rng.uniform(np.log(30), np.log(300), n))
    f = rng.uniform(0.2, 0.8, n)
    r = 0.9 * rng.normal(1, 0.05, n)
    jets = pd.DataFrame({"pt_reco": pt_true * r, "e_reco": pt_true * r, "eta": 0.1, "f": f})
    gsc = GlobalSequentialCalibration(
        ["f"], variable_bins={"f": np.linspace(0, 1, 11)}, abs_eta_bins=[0, 1], pt_fractions=["f"]
    )
    # A table at scale 2: every stored fraction is 2x the fraction of the stage's pT.
    scaled = jets.assign(pt_reco=2 * jets.pt_reco, e_reco=2 * jets.e_reco, calib_scale=2.0)
    at_stage = gsc._at_stage(scaled)
    np.testing.assert_allclose(at_stage["f_at_stage"], f / 2.0)
    np.testing.assert_allclose(at_stage["f"], f)  # the stored column is kept
    gsc.fit(jets, r)
    assert list(gsc.steps_[0].condition) == ["abs_eta", "f_at_stage"]
    # Names that are not corrected for are ignored; a bad value is a ParameterError.
    plain = GlobalSequentialCalibration(
        ["f"],
        variable_bins={"f": np.linspace(0, 1, 11)},
        abs_eta_bins=[0, 1],
        pt_fractions="charged_frac",
    ).fit(jets, r)
    assert list(plain.steps_[0].condition) == ["abs_eta", "f"]
    with pytest.raises(ParameterError, match="pt_fractions"):
        GlobalSequentialCalibration(["f"], pt_fractions=1.5).fit(jets, r)


def test_stage_fractions_on_dask_equal_in_memory(hl_lhc_jets):
    train, _ = hl_lhc_jets
    train = train.iloc[:60_000]
    y = train.e_reco / train.e_true

    def chain():
        return make_pipeline(
            PileupOffset(), NumericalInversion(), GlobalSequentialCalibration(["charged_frac"])
        )

    memory = chain().fit(train[COLUMNS], y)
    frame = dd.from_pandas(train[COLUMNS].assign(y=y), npartitions=3)
    lazy = chain().fit(frame[COLUMNS], frame["y"])
    np.testing.assert_allclose(
        lazy.predict(frame[COLUMNS]).compute().to_numpy(),
        memory.predict(train[COLUMNS]),
        rtol=1e-9,
    )
