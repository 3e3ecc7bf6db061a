"""The tracker and the vertices: charged tracks, their vertex, and NPV.

Charged particles with :math:`|\\eta| < 2.5` and :math:`p_T > 0.5` GeV are reconstructed
with an efficiency of 0.92 (``skcal.datasets._detector.TRACK_EFFICIENCY``), 0.85 of
that below 1 GeV and falling by 3% per unit of :math:`|\\eta|`, and a resolution
:math:`\\sigma_{p_T}/p_T = 0.0005\\,p_T \\oplus 0.01`. Each track keeps its vertex, so
that pile-up tracks are separable from the hard scatter's. A vertex is reconstructed
when it has two tracks; vertices closer than 0.5 mm in z merge (the loss that grows
with mu), and NPV counts the reconstructed vertices (at least 1). Tracks are associated
to jets as ghosts (see ``_cluster.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skcal.datasets._detector import TRACK_EFFICIENCY, TRACKER_EDGE
from skcal.datasets.pythia._calorimeter import N_CELLS, cell_of, charge, impact
from skcal.datasets.pythia._pileup import Event

PT_MIN = 0.5
VERTEX_MERGE = 0.0005  # m


@dataclass(frozen=True)
class Tracks:
    event: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    vertex: np.ndarray  # 0: hard scatter
    cell: np.ndarray  # flat tower (event * N_CELLS + cell) of the calorimeter impact


def reconstruct_tracks(rng: np.random.Generator, ev: Event) -> tuple[Tracks, np.ndarray]:
    """The tracks of a batch of events and NPV per event."""
    p = ev.particles
    q = charge(p.pid)
    pt = p.pt
    eta = np.arcsinh(p.pz / np.maximum(pt, 1e-12))
    eff = TRACK_EFFICIENCY * np.where(pt < 1.0, 0.85, 1.0) * (1.0 - 0.03 * np.abs(eta))
    keep = (q != 0) & (np.abs(eta) < TRACKER_EDGE) & (pt > PT_MIN) & (rng.random(pt.size) < eff)
    pt, eta, q = pt[keep], eta[keep], q[keep]
    phi = np.arctan2(p.py[keep], p.px[keep])
    rel = np.hypot(0.0005 * pt, 0.01)
    pt_meas = pt * np.exp(rel * rng.standard_normal(pt.size))
    event, vertex = ev.event[keep], ev.vertex[keep]
    eta_det, phi_det, _ = impact(pt, eta, phi, q, ev.vertex_z[keep])
    cell = event * N_CELLS + cell_of(eta_det, phi_det)
    tracks = Tracks(event, pt_meas, eta, phi, vertex, cell)
    return tracks, _npv(event, vertex, ev.vertex_z[keep], p.counts.size)


def _npv(event: np.ndarray, vertex: np.ndarray, z: np.ndarray, n_events: int) -> np.ndarray:
    if event.size == 0:
        return np.ones(n_events, dtype=np.int32)
    key = np.stack([event, vertex])
    pairs, first, n_tracks = np.unique(key, axis=1, return_index=True, return_counts=True)
    good = n_tracks >= 2
    ev_v, z_v = pairs[0][good], z[first][good]
    order = np.lexsort((z_v, ev_v))
    ev_v, z_v = ev_v[order], z_v[order]
    new = np.ones(ev_v.size, dtype=bool)
    new[1:] = (ev_v[1:] != ev_v[:-1]) | (np.diff(z_v) > VERTEX_MERGE)
    npv = np.bincount(ev_v[new], minlength=n_events)
    return np.maximum(npv, 1).astype(np.int32)
