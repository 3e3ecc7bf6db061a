"""Truth jets: anti-kt jets of the hard event's stable particles, and their flavour.

Truth jets are clustered from the hard scatter's stable particles without neutrinos
and muons (the ATLAS definition; pile-up never enters them), anti-kt R = 0.4 for
small-R jets and R = 1.0 trimmed (kt R = 0.2 subjets above 5% of the jet's pT) for
large-R jets. The flavour comes from ghost association: the b and c hadrons and the
partons entering hadronisation with pT > 5 GeV are added as ghosts; a jet with a b
hadron is 5, else with a c hadron 4, else the leading parton's flavour (21 gluon,
1-3 light quarks), else 0.
"""

from __future__ import annotations

import numpy as np

from skcal import columns
from skcal.datasets.pythia._cluster import GHOST_SCALE, Jets, cluster
from skcal.datasets.pythia._events import Particles
from skcal.datasets.pythia._trim import trim

#: Truth jets above this pT take part in the matching's isolation (GeV).
ISOLATION_PT = 7.0


def _heaviest_quark(apid: np.ndarray) -> np.ndarray:
    return np.where(apid > 1000, apid // 1000 % 10, apid // 100 % 10)


def truth_jets(
    hard: Particles, sources: Particles, radius: float, large_r: bool
) -> tuple[Jets, np.ndarray]:
    """The truth jets of a batch of hard events and their flavour labels."""
    visible = hard.select(~np.isin(np.abs(hard.pid), (12, 14, 16, 13)))
    n_events = hard.counts.size
    event_v = np.repeat(np.arange(n_events), visible.counts)
    event_s = np.repeat(np.arange(n_events), sources.counts)
    event = np.concatenate([event_v, event_s])
    order = np.argsort(event, kind="stable")

    def merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[order]

    px = merged(visible.px, sources.px * GHOST_SCALE)
    py = merged(visible.py, sources.py * GHOST_SCALE)
    pz = merged(visible.pz, sources.pz * GHOST_SCALE)
    e = merged(visible.e, sources.e * GHOST_SCALE)
    ghost_pid = merged(np.zeros(visible.pid.size, np.int32), sources.pid)
    ghost_pt = merged(np.zeros(visible.pid.size), sources.pt)
    counts = visible.counts + sources.counts
    jets = cluster(counts, px, py, pz, e, algorithm="antikt", radius=radius, min_pt=ISOLATION_PT)
    if large_r:
        jets = trim(jets, px, py, pz, e)
    return jets, _flavour(jets, ghost_pid, ghost_pt)


def _flavour(jets: Jets, ghost_pid: np.ndarray, ghost_pt: np.ndarray) -> np.ndarray:
    pid = np.abs(ghost_pid[jets.const_index])
    pt = ghost_pt[jets.const_index]
    jet = jets.const_jet
    n = jets.e.size
    hadron = pid > 100
    quark = np.where(hadron, _heaviest_quark(pid), 0)
    has_b = np.bincount(jet[quark == 5], minlength=n) > 0
    has_c = np.bincount(jet[quark == 4], minlength=n) > 0
    parton = (pid > 0) & ~hadron
    label = np.full(n, columns.UNKNOWN, dtype=np.int32)
    if parton.any():
        # The leading parton ghost of each jet: sort by (jet, pT) and take each jet's last.
        j, p, t = jet[parton], pid[parton], pt[parton]
        order = np.lexsort((t, j))
        j, p = j[order], p[order]
        last = np.r_[j[1:] != j[:-1], True]
        label[j[last]] = p[last]
    label = np.where(label == 21, columns.GLUON, label)
    label = np.where(has_c, columns.CHARM, label)
    label = np.where(has_b, columns.BOTTOM, label)
    return label.astype(np.int32)
