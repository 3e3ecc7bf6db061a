"""Trimming of large-R jets (Krohn, Thaler, Wang, JHEP 02 (2010) 084; the ATLAS choice):
recluster each jet's constituents into kt R = 0.2 subjets and keep those above 5% of
the jet's pT. Ghosts in the kept subjets stay constituents (the groomed jet's area)."""

from __future__ import annotations

import numpy as np

from skcal.datasets.pythia._cluster import Jets, cluster

R_SUB, F_CUT = 0.2, 0.05


def trim(jets: Jets, px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> Jets:
    """The trimmed jets (same jets, same order) from the inputs' four-vectors."""
    n_jets = jets.e.size
    if n_jets == 0:
        return jets
    n_const = np.bincount(jets.const_jet, minlength=n_jets)
    idx = jets.const_index
    sub = cluster(
        n_const, px[idx], py[idx], pz[idx], e[idx], algorithm="kt", radius=R_SUB, min_pt=0.0
    )
    parent = sub.event  # the jet of each subjet
    kept = sub.pt > F_CUT * jets.pt[parent]
    keep_const = kept[sub.const_jet]
    position = sub.const_index[keep_const]  # position in the jets' constituent list
    const_jet = parent[sub.const_jet[keep_const]]
    order = np.argsort(const_jet, kind="stable")

    def summed(v: np.ndarray) -> np.ndarray:
        return np.bincount(parent[kept], weights=v[kept], minlength=n_jets)

    return Jets(
        jets.counts,
        summed(sub.px),
        summed(sub.py),
        summed(sub.pz),
        summed(sub.e),
        const_jet[order],
        idx[position][order],
    )
