"""Reconstructed jets: anti-kt jets of the towers, with cell ghosts for the area and
track ghosts for the track association, and the event's rho.

The towers enter as massless four-vectors at their centres, pointing from the
hard-scatter vertex; every tower cell that did not fire enters as a ghost, so that a
jet's area is its number of cells times the cell area (FastJet's active area with
explicit ghosts, one ghost per 0.1 x 0.1 cell, about FastJet's default ghost area).
Jets are clustered in regions of interest: the cells and tracks within 2.5 R + 0.3 of
a truth jet that can enter the table (above the pT threshold, inside the acceptance).
A matched reco jet (within 0.3 of its truth jet) and every reco jet that could spoil
its isolation (axis within 1.5 R, so constituents within 2.5 R) lie inside, so the
matched jets are those of a clustering of the whole calorimeter, at a fraction of the
cost. The reco isolation uses the pile-up-subtracted pT, pT - rho A (as ATLAS does).

rho is the median pT / area of the kt R = 0.4 jets with :math:`|\\eta| < 2` (the ATLAS
definition), clustered from the fired towers and a grid of ghosts of area 0.04 (four
times FastJet's default, for speed), each jet's area its ghosts' area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skcal.datasets.pythia._calorimeter import (
    N_CELLS,
    R_CALO,
    Towers,
    cell_eta_phi,
    cell_of,
)
from skcal.datasets.pythia._cluster import (
    GHOST_SCALE,
    Jets,
    cluster,
    delta_phi,
    four_vectors,
    median_density,
)
from skcal.datasets.pythia._tracker import Tracks

RHO_ETA = 2.0
#: The ghosts of the rho estimate: a grid of 0.2 x 2 pi / 32 (area 0.039) in |eta| < 2.
_RHO_GHOSTS = (20, 32)
_RHO_GHOST_SIZE = (2 * RHO_ETA / _RHO_GHOSTS[0], 2 * np.pi / _RHO_GHOSTS[1])
RHO_GHOST_AREA = _RHO_GHOST_SIZE[0] * _RHO_GHOST_SIZE[1]
#: Reco jets above this pT (GeV, uncalibrated) are kept for the matching.
RECO_MIN_PT = 5.0


@dataclass(frozen=True)
class Inputs:
    """The reco clustering's flat inputs: cells (fired or ghost) then tracks, per event."""

    counts: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    cell: np.ndarray  # flat tower index (event * N_CELLS + cell); -1 for tracks
    track: np.ndarray  # track index; -1 for cells
    fired: np.ndarray


def physics_eta(eta_det: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """The eta of a tower seen from the hard-scatter vertex at z0 (m)."""
    return np.arcsinh(np.sinh(eta_det) - z0 / R_CALO)


def inputs(
    towers: Towers,
    tracks: Tracks,
    z0: np.ndarray,
    axes: tuple[np.ndarray, np.ndarray, np.ndarray],
    roi: float,
) -> Inputs:
    """The cells and tracks within ``roi`` of the truth axes (event, eta, phi) of each event."""
    n_events = z0.size
    cell_eta, cell_phi = cell_eta_phi()
    axis_event, axis_eta, axis_phi = axes
    near = np.zeros((n_events, N_CELLS), dtype=bool)
    for ev, eta, phi in zip(axis_event, axis_eta, axis_phi, strict=True):
        near[ev] |= (cell_eta - eta) ** 2 + delta_phi(cell_phi, phi) ** 2 < roi * roi
    flat_cell = np.flatnonzero(near.ravel())
    cell_event = flat_cell // N_CELLS
    local = flat_cell % N_CELLS
    energy = towers.e.ravel()[flat_cell]
    fired = energy > 0
    eta = physics_eta(cell_eta[local], z0[cell_event])
    pt = np.where(fired, energy, GHOST_SCALE) / np.cosh(eta)
    cpx, cpy, cpz, ce = four_vectors(pt, eta, cell_phi[local])

    # A track is in the region when the cell of its direction is (to within a cell).
    t_index = np.flatnonzero(near[tracks.event, cell_of(tracks.eta, tracks.phi)])
    tpx, tpy, tpz, te = four_vectors(
        tracks.pt[t_index] * GHOST_SCALE, tracks.eta[t_index], tracks.phi[t_index]
    )
    event = np.concatenate([cell_event, tracks.event[t_index]])
    order = np.argsort(event, kind="stable")

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[order]

    minus = np.full(t_index.size, -1, dtype=np.int64)
    return Inputs(
        np.bincount(event, minlength=n_events),
        cat(cpx, tpx),
        cat(cpy, tpy),
        cat(cpz, tpz),
        cat(ce, te),
        cat(flat_cell, minus),
        cat(np.full(flat_cell.size, -1, dtype=np.int64), t_index),
        cat(fired, np.zeros(t_index.size, dtype=bool)),
    )


def reco_jets(inp: Inputs, radius: float) -> Jets:
    return cluster(
        inp.counts,
        inp.px,
        inp.py,
        inp.pz,
        inp.e,
        algorithm="antikt",
        radius=radius,
        min_pt=RECO_MIN_PT,
    )


def rho(towers: Towers, z0: np.ndarray) -> np.ndarray:
    """Median pT / area of the kt R = 0.4 jets with |eta| < 2, per event: the fired
    towers plus a grid of ghosts of area RHO_GHOST_AREA, each jet's area its ghosts'."""
    n_events = z0.size
    cell_eta, cell_phi = cell_eta_phi()
    central = np.abs(cell_eta) < RHO_ETA
    ev, local = np.nonzero((towers.e > 0) & central[None, :])
    energy = towers.e[ev, local]
    eta = physics_eta(cell_eta[local], z0[ev])
    g_eta = np.repeat(
        -RHO_ETA + (np.arange(_RHO_GHOSTS[0]) + 0.5) * _RHO_GHOST_SIZE[0], _RHO_GHOSTS[1]
    )
    g_phi = np.tile(-np.pi + (np.arange(_RHO_GHOSTS[1]) + 0.5) * _RHO_GHOST_SIZE[1], _RHO_GHOSTS[0])
    n_ghosts = g_eta.size
    event = np.concatenate([ev, np.repeat(np.arange(n_events), n_ghosts)])
    order = np.argsort(event, kind="stable")
    pt = np.concatenate([energy / np.cosh(eta), np.full(n_events * n_ghosts, GHOST_SCALE)])[order]
    all_eta = np.concatenate([eta, np.tile(g_eta, n_events)])[order]
    all_phi = np.concatenate([cell_phi[local], np.tile(g_phi, n_events)])[order]
    ghost = np.concatenate([np.zeros(ev.size, bool), np.ones(n_events * n_ghosts, bool)])[order]
    px, py, pz, e = four_vectors(pt, all_eta, all_phi)
    counts = np.bincount(event, minlength=n_events)
    return median_density(counts, px, py, pz, e, ghost, RHO_GHOST_AREA, radius=0.4, eta_max=RHO_ETA)
