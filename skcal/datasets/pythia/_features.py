"""Per-jet calibration inputs of the reco jets, from their constituents: the cells (fired
towers and ghosts) and the ghost-associated tracks.

Definitions (:mod:`skcal.columns`): ``em_frac``, ``em3_frac``, ``tile0_frac`` are the
jet's energy fractions in the EM calorimeter, its third layer and the first tile
layer; ``width`` the pT-weighted Delta R of the towers from the axis; ``n90`` the
fewest towers holding 90% of the energy; ``n_muon_segments`` the segments behind the
jet's cells; ``detector_eta`` the jet's eta seen from the detector's centre;
``charged_frac`` the hard-scatter tracks' pT over the jet's pT, ``n_trk`` their number
above 1 GeV and ``trk_width`` their pT-weighted width (both zero without tracks).
"""

from __future__ import annotations

import numpy as np

from skcal.datasets.pythia._calorimeter import CELL_AREA, N_CELLS, Towers, cell_eta_phi
from skcal.datasets.pythia._cluster import Jets, delta_phi
from skcal.datasets.pythia._reco import Inputs
from skcal.datasets.pythia._tracker import Tracks


def _dr(eta_a: np.ndarray, phi_a: np.ndarray, eta_b: np.ndarray, phi_b: np.ndarray) -> np.ndarray:
    return np.hypot(eta_a - eta_b, delta_phi(phi_a, phi_b))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def cell_features(jets: Jets, inp: Inputs, towers: Towers) -> dict[str, np.ndarray]:
    """Area, energies of the layers, the oracle energy and mass, muon segments, width, n90."""
    n = jets.e.size
    idx = jets.const_index
    is_cell = inp.cell[idx] >= 0
    cell = np.where(is_cell, inp.cell[idx], 0)
    fired = inp.fired[idx]
    jet = jets.const_jet

    def total(channel: np.ndarray, mask: np.ndarray) -> np.ndarray:
        values = channel.ravel()[cell]
        return np.bincount(jet[mask], weights=values[mask], minlength=n)

    e_cells = total(towers.e, fired)
    out = {
        "area": np.bincount(jet[is_cell], minlength=n) * CELL_AREA,
        "e_em": total(towers.em, fired),
        "e_em3": total(towers.em3, fired),
        "e_tile0": total(towers.tile0, fired),
        "e_no_track": total(np.where(towers.has_track, 0.0, towers.e), fired),
        "n_muon_segments": total(towers.segments.astype(float), is_cell).round().astype(np.int32),
        "e_cells": e_cells,
    }
    # Oracle four-vector: the same towers without smearing and noise.
    scale = _ratio(towers.e_oracle.ravel()[cell], towers.e.ravel()[cell]) * fired
    out |= {
        f"oracle_{c}": np.bincount(jet, weights=getattr(inp, c)[idx] * scale, minlength=n)
        for c in ("px", "py", "pz", "e")
    }
    # Detector eta: the towers' vector sum seen from the detector's centre.
    cell_eta, cell_phi = cell_eta_phi()
    local = cell % N_CELLS
    e_c = np.where(fired, towers.e.ravel()[cell], 0.0)
    pt_det = e_c / np.cosh(cell_eta[local])
    sx = np.bincount(jet, weights=pt_det * np.cos(cell_phi[local]), minlength=n)
    sy = np.bincount(jet, weights=pt_det * np.sin(cell_phi[local]), minlength=n)
    sz = np.bincount(jet, weights=pt_det * np.sinh(cell_eta[local]), minlength=n)
    out["detector_eta"] = np.arcsinh(sz / np.maximum(np.hypot(sx, sy), 1e-12))
    pt_c = np.hypot(inp.px[idx], inp.py[idx]) * fired
    eta_c = np.arcsinh(inp.pz[idx] / np.maximum(np.hypot(inp.px[idx], inp.py[idx]), 1e-30))
    phi_c = np.arctan2(inp.py[idx], inp.px[idx])
    dr = _dr(eta_c, phi_c, jets.eta[jet], jets.phi[jet])
    out["width"] = _ratio(np.bincount(jet, weights=pt_c * dr, minlength=n), jets.pt)
    out["n90"] = _n90(jet[fired], e_c[fired], n)
    return out


def _n90(jet: np.ndarray, energy: np.ndarray, n: int) -> np.ndarray:
    order = np.lexsort((-energy, jet))
    jet, energy = jet[order], energy[order]
    totals = np.bincount(jet, weights=energy, minlength=n)
    cum = np.cumsum(energy)
    start = np.concatenate([[0.0], cum])[np.searchsorted(jet, jet, side="left")]
    before = cum - energy - start  # energy of the jet's harder towers
    return np.maximum(np.bincount(jet[before < 0.9 * totals[jet]], minlength=n), 1).astype(np.int32)


def track_features(
    jets: Jets, inp: Inputs, tracks: Tracks, pt_reco: np.ndarray
) -> dict[str, np.ndarray]:
    """The hard-scatter tracks ghost-associated to each jet."""
    n = jets.e.size
    idx = jets.const_index
    t = inp.track[idx]
    hs = t >= 0
    hs[hs] = tracks.vertex[t[hs]] == 0
    jet, t = jets.const_jet[hs], t[hs]
    pt = tracks.pt[t]
    dr = _dr(tracks.eta[t], tracks.phi[t], jets.eta[jet], jets.phi[jet])
    above = pt > 1.0
    sum_pt = np.bincount(jet, weights=pt, minlength=n)
    sum_1 = np.bincount(jet[above], weights=pt[above], minlength=n)
    px = np.bincount(jet, weights=pt * np.cos(tracks.phi[t]), minlength=n)
    py = np.bincount(jet, weights=pt * np.sin(tracks.phi[t]), minlength=n)
    pz = np.bincount(jet, weights=pt * np.sinh(tracks.eta[t]), minlength=n)
    e = np.bincount(jet, weights=np.sqrt((pt * np.cosh(tracks.eta[t])) ** 2 + 0.0195), minlength=n)
    return {
        "charged_frac": _ratio(sum_pt, pt_reco),
        "n_trk": np.bincount(jet[above], minlength=n).astype(np.int32),
        "trk_width": _ratio(np.bincount(jet[above], weights=(pt * dr)[above], minlength=n), sum_1),
        "track_m": np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0)),
    }
