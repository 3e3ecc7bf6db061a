"""Reading the real detector-simulation samples: CMS NanoAOD and ATLAS PHYSLITE."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from skcal import columns
from skcal.io import DeltaRMatch, read_jets


def delta_r(table: pd.DataFrame) -> np.ndarray:
    d_phi = np.mod(table.phi - table.phi_true + np.pi, 2 * np.pi) - np.pi
    return np.hypot(table.eta - table.eta_true, d_phi).to_numpy()


def median_response(num: pd.Series, den: pd.Series) -> float:
    return float(np.median(num / den))


@pytest.fixture(scope="module")
def nano_path(data_dir: Path) -> Path:
    return data_dir / "nano_dy.root"


@pytest.fixture(scope="module")
def physlite_path(data_dir: Path) -> Path:
    return data_dir / "PHYSLITE_example.root"


@pytest.fixture(scope="module")
def nano(nano_path: Path) -> pd.DataFrame:
    return read_jets(nano_path, preset="nanoaod")


@pytest.fixture(scope="module")
def physlite(physlite_path: Path) -> pd.DataFrame:
    return read_jets(physlite_path, preset="physlite")


# ---------------------------------------------------------------- CMS NanoAOD


def test_nanoaod_index_matching_keeps_the_95_usable_matches(nano: pd.DataFrame) -> None:
    # README: 188 reco jets, 97 with Jet_genJetIdx >= 0, 2 of them past the GenJet collection.
    assert len(nano) == 95
    assert nano.attrs["read_summary"] == {
        "n_events": 40,
        "n_reco": 188,
        "n_unmatched": 93,
        "n_not_isolated": 0,
        "n_cut": 0,
        "n_jets": 95,
    }
    for column in columns.RECO + columns.TRUTH + columns.PILEUP + columns.LABELS:
        assert column in nano.columns
    assert nano.notna().all().all()


def test_nanoaod_values_are_those_of_the_indexed_genjet(
    nano: pd.DataFrame, nano_path: Path
) -> None:
    with uproot.open(nano_path) as file:
        ev = file["Events"].arrays(
            [
                "Jet_pt",
                "Jet_rawFactor",
                "Jet_genJetIdx",
                "nGenJet",
                "GenJet_pt",
                "GenJet_eta",
                "PV_npvs",
                "Pileup_nTrueInt",
                "Jet_hadronFlavour",
                "Jet_partonFlavour",
            ]
        )
    idx = ev.Jet_genJetIdx
    valid = (idx >= 0) & (idx < ev.nGenJet)
    expected_true = ak.flatten(ev.GenJet_pt[idx[valid]]).to_numpy()
    expected_raw = ak.flatten((ev.Jet_pt * (1 - ev.Jet_rawFactor))[valid]).to_numpy()
    expected_npv = ak.flatten(ak.broadcast_arrays(ev.PV_npvs, idx)[0][valid]).to_numpy()
    np.testing.assert_array_equal(nano.pt_true.to_numpy(), expected_true)
    np.testing.assert_allclose(nano.pt_reco.to_numpy(), expected_raw, rtol=1e-6)
    np.testing.assert_array_equal(nano.npv.to_numpy(), expected_npv)
    hadron = ak.flatten(ev.Jet_hadronFlavour[valid]).to_numpy()
    parton = np.abs(
        ak.flatten(ev.Jet_partonFlavour[valid]).to_numpy()
    )  # CMS: signed PDG id, 0 for none
    expected_flavour = np.where(
        hadron > 0, hadron, np.where(np.isin(parton, [1, 2, 3, 21]), parton, 0)
    )
    np.testing.assert_array_equal(nano.flavour.to_numpy(), expected_flavour)
    assert {4, 21} <= set(expected_flavour)


def test_nanoaod_matches_are_geometric_and_responses_physical(nano: pd.DataFrame) -> None:
    dr = delta_r(nano)
    assert np.quantile(dr, 0.9) < 0.2 and dr.max() < 0.4  # a wrong index would pair random jets
    hard = nano[nano.pt_true > 30]
    assert len(hard) >= 40
    cms = median_response(hard.pt_ref, hard.pt_true)
    raw = median_response(hard.pt_reco, hard.pt_true)
    assert 0.9 < cms < 1.2, cms
    assert 0.85 < raw < 1.2, raw
    assert not np.allclose(hard.pt_ref, hard.pt_reco)  # the raw factor was applied
    energy = median_response(hard.e_reco, hard.e_true)
    assert abs(energy - raw) < 0.05  # energies derived from pt, eta, m follow the pT response
    q16, q84 = np.quantile(hard.pt_ref / hard.pt_true, [0.16, 0.84])
    assert 0.02 < (q84 - q16) / 2 / cms < 0.3  # a jet resolution, not noise or a constant
    assert set(np.unique(nano.flavour)) <= {0, 1, 2, 3, 4, 5, 21}
    assert (nano.rho > 0).all() and (nano.area > 0.3).all() and (nano.mu > 0).all()


def test_nanoaod_dask_chunks_give_the_same_jets(nano: pd.DataFrame, nano_path: Path) -> None:
    lazy = read_jets(nano_path, preset="nanoaod", dask=True, step_size=15)
    assert lazy.npartitions == 3  # 40 events in chunks of 15
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), nano)


# ---------------------------------------------------------------- ATLAS PHYSLITE


def _reference_count(physlite_path: Path, reference_match, **iso) -> int:
    jet, truth = "AnalysisJetsAuxDyn.JetConstitScaleMomentum_", "AntiKt4TruthDressedWZJetsAux."
    with uproot.open(physlite_path) as file:
        ev = file["CollectionTree"].arrays(
            [jet + "eta", jet + "phi", jet + "pt", truth + "eta", truth + "phi", truth + "pt"]
        )
    reco_eta, reco_phi, reco_pt = (ev[jet + f].tolist() for f in ("eta", "phi", "pt"))
    truth_eta, truth_phi, truth_pt = (ev[truth + f].tolist() for f in ("eta", "phi", "pt"))
    total = 0
    for e in range(len(ev)):
        total += len(
            reference_match(
                reco_eta[e],
                reco_phi[e],
                truth_eta[e],
                truth_phi[e],
                reco_pt=[p / 1000 for p in reco_pt[e]],
                truth_pt=[p / 1000 for p in truth_pt[e]],
                **iso,
            )
        )
    return total


def test_physlite_delta_r_matching_count(
    physlite: pd.DataFrame, physlite_path: Path, reference_match
) -> None:
    summary = physlite.attrs["read_summary"]
    assert summary["n_events"] == 100 and summary["n_reco"] == 881
    assert (
        len(physlite)
        == summary["n_jets"]
        == _reference_count(physlite_path, reference_match)
        == 369
    )
    assert summary["n_unmatched"] == 881 - 369
    assert delta_r(physlite).max() < 0.3


def test_physlite_units_and_responses_are_physical(physlite: pd.DataFrame) -> None:
    assert 10 < physlite.pt_true.median() < 100  # GeV, not MeV
    hard = physlite[physlite.pt_true > 30]
    atlas = median_response(hard.pt_ref, hard.pt_true)
    constituent = median_response(hard.pt_reco, hard.pt_true)
    assert abs(atlas - 1) < 0.05, atlas  # the ATLAS calibration closes
    assert 0.8 < constituent < 0.98, constituent  # the constituent scale is low
    assert (physlite.npv >= 1).all() and (physlite.mu > 0).all() and (physlite.rho > 0).all()
    assert ((physlite.trk_width >= 0) & (physlite.n_trk >= 0)).all()
    assert ((physlite.em_frac > -0.1) & (physlite.em_frac < 1.1)).all()
    central = physlite[physlite.eta.abs() < 2.0]
    assert (central.n_trk > 0).mean() > 0.8  # jets in the tracker have tracks
    assert set(np.unique(physlite.flavour)) <= {0, 1, 2, 3, 4, 5, 21}
    assert {0, 1, 21} <= set(
        np.unique(physlite.flavour)
    )  # ATLAS's -1 (no parton label) is 0, not light


def test_physlite_atlas_isolation(
    physlite: pd.DataFrame, physlite_path: Path, reference_match
) -> None:
    match = DeltaRMatch.atlas(radius=0.4)
    isolated = read_jets(
        physlite_path, preset="physlite", match=match, columns=["pt_reco", "pt_true"]
    )
    summary = isolated.attrs["read_summary"]
    assert summary["n_jets"] + summary["n_not_isolated"] == len(physlite)
    assert 0 < summary["n_jets"] < len(physlite)
    expected = _reference_count(
        physlite_path, reference_match, truth_iso=1.0, reco_iso=0.6, min_pt=7.0
    )
    assert summary["n_jets"] == expected
