"""One block of the Pythia sample: events of every pT-hat slice, through pile-up, the
detector, clustering and matching, to rows of the jet table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skcal import columns
from skcal.datasets.pythia._calorimeter import calorimeter
from skcal.datasets.pythia._cluster import Jets
from skcal.datasets.pythia._events import Particles, generate, pythia_instance, seed_of
from skcal.datasets.pythia._features import cell_features, track_features
from skcal.datasets.pythia._pileup import Library, overlay
from skcal.datasets.pythia._reco import Inputs, inputs, reco_jets, rho
from skcal.datasets.pythia._settings import Settings
from skcal.datasets.pythia._substructure import substructure
from skcal.datasets.pythia._tracker import reconstruct_tracks
from skcal.datasets.pythia._trim import trim
from skcal.datasets.pythia._truth import truth_jets
from skcal.io._matching import DeltaRMatch, delta_r_match

#: Events per pT-hat slice in a block.
EVENTS_PER_SLICE = 16


def generate_block(
    settings: Settings, block: int, library: Library | None, cache_dir: Path
) -> pd.DataFrame:
    """The jets of ``block``: EVENTS_PER_SLICE events of each slice, slice by slice."""
    tables = []
    for s, pt_hat in enumerate(settings.slices):
        pythia, sigma_pb = pythia_instance(settings, pt_hat, cache_dir)
        hard, sources = generate(pythia, seed_of(settings.entropy, block, s), EVENTS_PER_SLICE)
        rng = np.random.default_rng(np.random.SeedSequence(settings.entropy, spawn_key=(block, s)))
        table = events_to_jets(rng, settings, hard, sources, library)
        # Cross-section per generated event: restores the physical spectrum across slices.
        table["weight"] = sigma_pb / max(hard.counts.size, 1)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def events_to_jets(
    rng: np.random.Generator,
    settings: Settings,
    hard: Particles,
    sources: Particles,
    library: Library | None,
) -> pd.DataFrame:
    """Pile-up, detector, truth and reco jets, matching and the inputs of a batch."""
    radius, large_r = settings.radius, settings.kind == "large_r"
    ev = overlay(rng, hard, library, settings.mu_range)
    tracks, npv = reconstruct_tracks(rng, ev)
    towers = calorimeter(rng, ev, tracks.cell)
    truth, flavour = truth_jets(hard, sources, radius, large_r)

    # The regions of interest: around the truth jets that can be in the table.
    seeds = (truth.pt >= settings.pt_min) & (np.abs(truth.eta) < settings.eta_max)
    axes = (truth.event[seeds], truth.eta[seeds], truth.phi[seeds])
    inp = inputs(towers, tracks, ev.z0, axes, 2.5 * radius + 0.3)
    ungroomed = reco_jets(inp, radius)
    reco = trim(ungroomed, inp.px, inp.py, inp.pz, inp.e) if large_r else ungroomed

    event_rho = rho(towers, ev.z0)
    cells = cell_features(reco, inp, towers)
    # Reco isolation with the pile-up-subtracted pT, as in the ATLAS calibration.
    pt_iso = np.maximum(reco.pt - event_rho[reco.event] * cells["area"], 0.0)
    match = delta_r_match(
        reco.eta,
        reco.phi,
        reco.counts,
        truth.eta,
        truth.phi,
        truth.counts,
        DeltaRMatch.atlas(radius),
        pt_iso,
        truth.pt,
    )
    accept = (truth.pt[match.truth] >= settings.pt_min) & (
        np.abs(truth.eta[match.truth]) < settings.eta_max
    )
    r, t = match.reco[accept], match.truth[accept]
    event = reco.event[r]
    table: dict[str, np.ndarray] = {
        "e_reco": reco.e[r],
        "pt_reco": reco.pt[r],
        "eta": reco.eta[r],
        "phi": reco.phi[r],
        "m_reco": reco.m[r],
        "e_true": truth.e[t],
        "pt_true": truth.pt[t],
        "eta_true": truth.eta[t],
        "phi_true": truth.phi[t],
        "m_true": truth.m[t],
        "mu": ev.mu[event],
        "npv": npv[event],
        "rho": event_rho[event],
        "flavour": flavour[t],
        "weight": np.ones(r.size),
    }
    trk = track_features(reco, inp, tracks, reco.pt)
    table["area"] = cells["area"][r]
    e_cells = cells["e_cells"]
    fractions = {
        "em_frac": cells["e_em"] / np.maximum(e_cells, 1e-12),
        "em3_frac": cells["e_em3"] / np.maximum(e_cells, 1e-12),
        "tile0_frac": cells["e_tile0"] / np.maximum(e_cells, 1e-12),
    }
    oracle = [cells[f"oracle_{c}"] for c in ("px", "py", "pz", "e")]
    table["oracle_response"] = oracle[3][r] / truth.e[t]
    if not large_r:
        for name in ("charged_frac", "n_trk", "trk_width"):
            table[name] = trk[name][r]
        for name in ("width", "n90", "n_muon_segments", "detector_eta"):
            table[name] = cells[name][r]
        for name, value in fractions.items():
            table[name] = value[r]
        order = (*_base(), *columns.SMALL_R_INPUTS, "oracle_response")
        return _frame(table, order)
    table |= _large_r(reco, ungroomed, inp, cells, trk, fractions, radius, r)
    m_oracle = np.sqrt(
        np.maximum(oracle[3] ** 2 - oracle[0] ** 2 - oracle[1] ** 2 - oracle[2] ** 2, 0)
    )
    table["oracle_response_m"] = m_oracle[r] / np.maximum(truth.m[t], 1e-3)
    order = (*_base(), *columns.LARGE_R_INPUTS, "oracle_response", "oracle_response_m")
    return _frame(table, order)


def _large_r(
    reco: Jets,
    ungroomed: Jets,
    inp: Inputs,
    cells: dict[str, np.ndarray],
    trk: dict[str, np.ndarray],
    fractions: dict[str, np.ndarray],
    radius: float,
    r: np.ndarray,
) -> dict[str, np.ndarray]:
    sub = substructure(reco, inp.fired, inp.px, inp.py, inp.pz, inp.e, radius, r)
    e_sq = np.bincount(
        reco.const_jet, weights=(inp.e * inp.fired)[reco.const_index] ** 2, minlength=reco.e.size
    )
    m = reco.m
    return {
        **sub,
        **{name: value[r] for name, value in fractions.items()},
        "groom_m_ratio": m[r] / np.maximum(ungroomed.m[r], 1e-9),
        "width": cells["width"][r],
        "eff_n_consts": cells["e_cells"][r] ** 2 / np.maximum(e_sq[r], 1e-12),
        "neutral_frac": cells["e_no_track"][r] / np.maximum(cells["e_cells"][r], 1e-12),
        "charged_pt_frac": trk["charged_frac"][r],
        "charged_m_frac": trk["track_m"][r] / np.maximum(m[r], 1e-9),
    }


def _base() -> tuple[str, ...]:
    return (*columns.RECO, *columns.TRUTH, *columns.PILEUP, *columns.LABELS)


def _frame(table: dict[str, np.ndarray], order: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({name: table[name] for name in order})
    for name in ("npv", "flavour", "n_trk", "n90", "n_muon_segments"):
        if name in frame:
            frame[name] = frame[name].astype(np.int32)
    return frame
