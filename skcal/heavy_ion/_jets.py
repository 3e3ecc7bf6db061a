"""One batch of embedded events: pp charged particles in a thermal background, the jets
of each radius with their areas, rho, the matching to the pp truth jets and the inputs.

- **Particles**: the pp event's charged final-state particles (e, mu, pi, K, p) with
  ``|eta| < 0.9`` (the ALICE tracker), plus the background's; both enter the jets.
  Each pp event is first boosted along the beam so that its leading charged jet lies
  at a rapidity flat in +-CENTRE_SPREAD (:func:`charged_central`): the boost changes
  no jet's pT, area or shape, and nearly every generated event gives a jet inside
  the acceptance.
- **Areas**: FastJet's active area with explicit ghosts: a grid of GHOST_GRID ghosts in
  ``|eta| < 0.9`` (GHOST_AREA each, FastJet's default 0.01), jittered by up to half a
  cell per event and clustered with the particles; a jet's area is its ghosts' area.
- **rho**: the median pT / area of the kt R = 0.2 jets with ``|eta| < 0.7`` without
  the two hardest (ALICE's estimate, which keeps the hard jet out of it), per event
  (:func:`skcal.datasets.pythia._cluster.median_density`).
- **Jets**: anti-kt jets of radius R above 1 GeV with ``|eta| < 0.9 - R`` (fully inside
  the acceptance); truth jets: anti-kt R of the pp event's charged particles alone,
  above TRUTH_MIN_PT. A reco jet is matched to the closest truth jet within 0.6 R
  (greedy, closest pairs first: :func:`skcal.io._matching.delta_r_match`); the truth
  jet must be inside the acceptance too, and the reco jet must hold pp particles of
  at least MIN_PP_FRACTION of the truth pT (so that a background jet beside a split
  pp jet is not taken for it). A fake is a reco jet with no truth jet above
  TRUTH_MIN_PT within R; only fakes with ``pT > rho A`` are kept.
"""

from __future__ import annotations

import numpy as np

from skcal.datasets.pythia._cluster import (
    GHOST_SCALE,
    Jets,
    cluster,
    delta_phi,
    four_vectors,
    median_density,
)
from skcal.datasets.pythia._events import Particles
from skcal.heavy_ion._background import PION_MASS, BackgroundEvents
from skcal.io._matching import DeltaRMatch, delta_r_match

ETA_MAX = 0.9
#: The ghost grid (eta cells, phi cells) in |eta| < ETA_MAX, and each ghost's area.
GHOST_GRID = (18, 63)
GHOST_AREA = (2 * ETA_MAX / GHOST_GRID[0]) * (2 * np.pi / GHOST_GRID[1])
RHO_RADIUS, RHO_ETA, RHO_EXCLUDED = 0.2, 0.7, 2
#: Truth jets above this pT (GeV) are matched; reco jets above RECO_MIN_PT are kept.
TRUTH_MIN_PT, RECO_MIN_PT = 5.0, 1.0
N_LEADING = 10
#: The leading pp jet is boosted to a rapidity flat in +-CENTRE_SPREAD.
CENTRE_SPREAD = 0.5
#: A matched reco jet holds pp particles of at least this fraction of the truth pT.
MIN_PP_FRACTION = 0.5
#: The stable charged particles (PDG codes, up to sign) that the tracker sees.
CHARGED = (11, 13, 211, 321, 2212)


def charged_central(rng: np.random.Generator, hard: Particles) -> Particles:
    """The charged final-state particles with |eta| < ETA_MAX, each event boosted along
    the beam so that its leading charged jet (anti-kt 0.4) lies at a rapidity flat in
    +-CENTRE_SPREAD: jet pT, areas and shapes do not change under the boost (FastJet
    clusters in rapidity), and nearly every event then has a jet in the acceptance."""
    charged = hard.select(np.isin(np.abs(hard.pid), CHARGED))
    lead = cluster(
        charged.counts,
        charged.px,
        charged.py,
        charged.pz,
        charged.e,
        algorithm="antikt",
        radius=0.4,
        min_pt=0.0,
    )
    starts = np.concatenate([[0], np.cumsum(lead.counts)])[:-1]
    has = lead.counts > 0
    # inclusive_jets come sorted by nothing in particular: take each event's hardest.
    y_lead = np.zeros(charged.counts.size)
    rap = 0.5 * np.log((lead.e + lead.pz) / np.maximum(lead.e - lead.pz, 1e-12))
    for i in np.flatnonzero(has):
        here = slice(starts[i], starts[i] + lead.counts[i])
        y_lead[i] = rap[here][np.argmax(lead.pt[here])]
    shift = rng.uniform(-CENTRE_SPREAD, CENTRE_SPREAD, y_lead.size) - y_lead
    d = np.repeat(shift, charged.counts)
    e = charged.e * np.cosh(d) + charged.pz * np.sinh(d)
    pz = charged.pz * np.cosh(d) + charged.e * np.sinh(d)
    boosted = Particles(
        charged.counts, charged.px, charged.py, pz, e, charged.m, charged.pid, charged.status
    )
    eta = np.arcsinh(boosted.pz / np.maximum(boosted.pt, 1e-12))
    return boosted.select(np.abs(eta) < ETA_MAX)


def _ghosts(rng: np.random.Generator, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    n_eta, n_phi = GHOST_GRID
    d_eta, d_phi = 2 * ETA_MAX / n_eta, 2 * np.pi / n_phi
    eta = np.repeat(-ETA_MAX + (np.arange(n_eta) + 0.5) * d_eta, n_phi)
    phi = np.tile(-np.pi + (np.arange(n_phi) + 0.5) * d_phi, n_eta)
    jitter = rng.uniform(-0.5, 0.5, (2, n_events, eta.size))
    eta = np.clip(eta + jitter[0] * d_eta, -ETA_MAX, ETA_MAX)
    return eta.ravel(), np.mod(phi + jitter[1] * d_phi + np.pi, 2 * np.pi).ravel() - np.pi


class Event:
    """A batch of embedded events: every input (pp, background, ghost) grouped by event."""

    def __init__(self, rng: np.random.Generator, pp: Particles, bg: BackgroundEvents) -> None:
        n_events = pp.counts.size
        g_eta, g_phi = _ghosts(rng, n_events)
        n_ghosts = GHOST_GRID[0] * GHOST_GRID[1]
        b = four_vectors(bg.pt, bg.eta, bg.phi, np.full(bg.pt.size, PION_MASS))
        g = four_vectors(np.full(g_eta.size, GHOST_SCALE), g_eta, g_phi)
        source = np.concatenate(
            [np.zeros(pp.pt.size, np.int8), np.ones(bg.pt.size, np.int8), np.full(g_eta.size, 2)]
        ).astype(np.int8)
        event = np.concatenate(
            [
                np.repeat(np.arange(n_events), pp.counts),
                np.repeat(np.arange(n_events), bg.counts),
                np.repeat(np.arange(n_events), n_ghosts),
            ]
        )
        order = np.argsort(event, kind="stable")
        self.counts = np.bincount(event, minlength=n_events)
        self.px, self.py, self.pz, self.e = (
            np.concatenate([a, bb, c])[order]
            for a, bb, c in zip((pp.px, pp.py, pp.pz, pp.e), b, g, strict=True)
        )
        self.source = source[order]
        self.rho = median_density(
            self.counts,
            self.px,
            self.py,
            self.pz,
            self.e,
            self.source == 2,
            GHOST_AREA,
            radius=RHO_RADIUS,
            eta_max=RHO_ETA,
            exclude_leading=RHO_EXCLUDED,
        )

    def jets(self, radius: float) -> Jets:
        return cluster(
            self.counts,
            self.px,
            self.py,
            self.pz,
            self.e,
            algorithm="antikt",
            radius=radius,
            min_pt=RECO_MIN_PT,
        )


def _subset(jets: Jets, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flat indices of the kept jets and their counts per event."""
    index = np.flatnonzero(keep)
    return index, np.bincount(jets.event[index], minlength=jets.counts.size)


def jet_inputs(ev: Event, jets: Jets) -> dict[str, np.ndarray]:
    """Area, constituent count, leading constituent pTs, angularity and mean constituent
    pT of every jet (the ghosts are not constituents)."""
    ghost = ev.source[jets.const_index] == 2
    real = ~ghost
    cj, ci = jets.const_jet[real], jets.const_index[real]
    n = jets.e.size
    pt = np.hypot(ev.px[ci], ev.py[ci])
    eta = np.arcsinh(ev.pz[ci] / np.maximum(pt, 1e-12))
    phi = np.arctan2(ev.py[ci], ev.px[ci])
    dr = np.hypot(eta - jets.eta[cj], delta_phi(phi, jets.phi[cj]))
    n_const = np.bincount(cj, minlength=n)
    out = {
        "area": np.bincount(jets.const_jet[ghost], minlength=n) * GHOST_AREA,
        "n_const": n_const,
        "angularity": np.bincount(cj, weights=pt * dr, minlength=n) / np.maximum(jets.pt, 1e-9),
        "mean_const_pt": np.bincount(cj, weights=pt, minlength=n) / np.maximum(n_const, 1),
        "pt_pp": np.bincount(cj, weights=pt * (ev.source[ci] == 0), minlength=n),
    }
    order = np.lexsort((-pt, cj))
    cj_sorted, pt_sorted = cj[order], pt[order]
    starts = np.concatenate([[0], np.cumsum(n_const)])
    rank = np.arange(cj_sorted.size) - starts[cj_sorted]
    lead = np.zeros((n, N_LEADING))
    top = rank < N_LEADING
    lead[cj_sorted[top], rank[top]] = pt_sorted[top]
    for k in range(N_LEADING):
        out[f"lead_pt_{k + 1}"] = lead[:, k]
    return out


def radius_table(ev: Event, pp: Particles, radius: float, fakes: bool) -> dict[str, np.ndarray]:
    """The rows of one radius: matched jets (and the fakes, with ``fakes``)."""
    truth = cluster(
        pp.counts, pp.px, pp.py, pp.pz, pp.e, algorithm="antikt", radius=radius, min_pt=TRUTH_MIN_PT
    )
    reco = ev.jets(radius)
    fiducial = ETA_MAX - radius
    r_index, r_counts = _subset(reco, np.abs(reco.eta) < fiducial)
    match = delta_r_match(
        reco.eta[r_index],
        reco.phi[r_index],
        r_counts,
        truth.eta,
        truth.phi,
        truth.counts,
        DeltaRMatch(max_dr=0.6 * radius),
    )
    inputs = jet_inputs(ev, reco)
    rows, t = r_index[match.reco], match.truth
    good = (np.abs(truth.eta[t]) < fiducial) & (
        inputs["pt_pp"][rows] >= MIN_PP_FRACTION * truth.pt[t]
    )
    rows, t = rows[good], t[good]
    pt_true = truth.pt[t]
    is_fake = np.zeros(rows.size, dtype=np.int8)
    if fakes:
        lonely = _nearest_truth(reco, r_index, truth) >= radius
        # Only fakes that the area-based subtraction leaves above 0 GeV are kept.
        above = reco.pt[r_index] > ev.rho[reco.event[r_index]] * inputs["area"][r_index]
        fake_rows = r_index[lonely & above]
        rows = np.concatenate([rows, fake_rows])
        pt_true = np.concatenate([pt_true, np.zeros(fake_rows.size)])
        is_fake = np.concatenate([is_fake, np.ones(fake_rows.size, dtype=np.int8)])
        t = np.concatenate([t, np.full(fake_rows.size, -1)])
    event = reco.event[rows]
    # A fake has no truth jet: its truth pT is 0 and its truth direction its own.
    has_truth = t >= 0
    eta_true, phi_true = reco.eta[rows].copy(), reco.phi[rows].copy()
    eta_true[has_truth], phi_true[has_truth] = truth.eta[t[has_truth]], truth.phi[t[has_truth]]
    table = {
        "pt_reco": reco.pt[rows],
        "pt_true": pt_true,
        "eta": reco.eta[rows],
        "phi": reco.phi[rows],
        "eta_true": eta_true,
        "phi_true": phi_true,
        "rho": ev.rho[event],
        **{name: value[rows] for name, value in inputs.items() if name != "pt_pp"},
        "fake": is_fake,
        "event": event,
    }
    return table


def _nearest_truth(reco: Jets, index: np.ndarray, truth: Jets) -> np.ndarray:
    """For each reco jet of ``index``, the distance to the closest truth jet of its event."""
    out = np.full(index.size, np.inf)
    t_start = np.concatenate([[0], np.cumsum(truth.counts)])
    event = reco.event[index]
    for ev in np.unique(event):
        here = np.flatnonzero(event == ev)
        t = slice(t_start[ev], t_start[ev + 1])
        if t.stop == t.start:
            continue
        j = index[here]
        d2 = (reco.eta[j, None] - truth.eta[None, t]) ** 2 + delta_phi(
            reco.phi[j, None], truth.phi[None, t]
        ) ** 2
        out[here] = np.sqrt(d2.min(axis=1))
    return out
