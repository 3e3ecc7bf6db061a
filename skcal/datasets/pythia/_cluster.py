"""FastJet clustering of flat, per-event inputs through FastJet's awkward interface.

Every function takes flat inputs with the number per event and returns flat jets with
the number per event, plus each jet's constituents as flat input indices; one call
clusters all events of a batch in C++. Ghosts (tiny momenta, FastJet's explicit-ghost
area method) ride along as ordinary inputs: the calorimeter cells for jet areas, the
tracks for track-to-jet association, the b and c hadrons and partons for flavour.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from skcal._optional import import_optional

#: The momentum scale of a ghost (GeV): far below any real deposit.
GHOST_SCALE = 1e-10


@dataclass(frozen=True)
class Jets:
    """Flat jets, their counts per event, and their constituents."""

    counts: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    const_jet: np.ndarray  # the (flat) jet of each constituent
    const_index: np.ndarray  # the flat input index of each constituent

    @property
    def pt(self) -> np.ndarray:
        return np.hypot(self.px, self.py)

    @property
    def eta(self) -> np.ndarray:
        return np.arcsinh(self.pz / np.maximum(self.pt, 1e-12))

    @property
    def phi(self) -> np.ndarray:
        return np.arctan2(self.py, self.px)

    @property
    def m(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.e**2 - self.px**2 - self.py**2 - self.pz**2, 0.0))

    @property
    def event(self) -> np.ndarray:
        return np.repeat(np.arange(self.counts.size), self.counts)

    def sum_over(self, values: np.ndarray) -> np.ndarray:
        """The sum of a per-input quantity over each jet's constituents."""
        return np.bincount(self.const_jet, weights=values[self.const_index], minlength=self.e.size)


def delta_phi(a: np.ndarray, b: np.ndarray | float = 0.0) -> np.ndarray:
    """``a - b`` wrapped into [-pi, pi)."""
    return np.mod(np.asarray(a) - b + np.pi, 2.0 * np.pi) - np.pi


def _modules() -> tuple[Any, Any]:
    ak = import_optional("awkward", purpose="make_pythia_jets")
    fastjet = import_optional("fastjet", purpose="make_pythia_jets")
    return ak, fastjet


def four_vectors(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    p2 = (pt * np.cosh(eta)) ** 2
    e = np.sqrt(p2 + (0.0 if m is None else m**2))
    return px, py, pz, e


def cluster(
    counts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    *,
    algorithm: str,
    radius: float,
    min_pt: float,
) -> Jets:
    """Inclusive jets (``algorithm`` "antikt" or "kt") above ``min_pt`` of each event."""
    ak, fastjet = _modules()
    counts = np.asarray(counts, dtype=np.int64)
    algo = {"antikt": fastjet.antikt_algorithm, "kt": fastjet.kt_algorithm}[algorithm]
    if counts.sum() == 0:
        empty = np.empty(0)
        return Jets(
            np.zeros(counts.size, np.int64),
            empty,
            empty,
            empty,
            empty,
            np.empty(0, np.int64),
            np.empty(0, np.int64),
        )
    events = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": e}), counts)
    sequence = fastjet.ClusterSequence(events, fastjet.JetDefinition(algo, float(radius)))
    jets = sequence.inclusive_jets(min_pt=min_pt)
    index = sequence.constituent_index(min_pt=min_pt)
    n_jets = np.asarray(ak.num(jets), dtype=np.int64)
    n_const = np.asarray(ak.flatten(ak.num(index, axis=2)), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    event_of_const = np.repeat(np.repeat(np.arange(counts.size), n_jets), n_const)
    local = np.asarray(ak.flatten(index, axis=None), dtype=np.int64)
    flat = ak.flatten(jets)
    return Jets(
        n_jets,
        np.asarray(flat.px, dtype=float),
        np.asarray(flat.py, dtype=float),
        np.asarray(flat.pz, dtype=float),
        np.asarray(flat.E, dtype=float),
        np.repeat(np.arange(n_jets.sum()), n_const),
        offsets[event_of_const] + local,
    )


def median_density(
    counts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    ghost: np.ndarray,
    ghost_area: float,
    *,
    radius: float,
    eta_max: float,
    exclude_leading: int = 0,
) -> np.ndarray:
    """rho per event: the median pT / area of the kt jets of radius ``radius`` with
    ``|eta| < eta_max``, without the ``exclude_leading`` hardest of them; each jet's
    area is its ghosts' (``ghost`` marks them), ``ghost_area`` each. 0 for an event
    without such a jet."""
    jets = cluster(counts, px, py, pz, e, algorithm="kt", radius=radius, min_pt=0.0)
    n_ghost = np.bincount(jets.const_jet[ghost[jets.const_index]], minlength=jets.e.size)
    keep = (np.abs(jets.eta) < eta_max) & (n_ghost > 0)
    density = jets.pt / np.maximum(n_ghost, 1) / ghost_area
    out = np.zeros(np.asarray(counts).size)
    starts = np.concatenate([[0], np.cumsum(jets.counts)])
    for i in range(out.size):
        here = slice(starts[i], starts[i + 1])
        pt, values = jets.pt[here][keep[here]], density[here][keep[here]]
        if exclude_leading:
            values = values[np.argsort(-pt, kind="stable")[exclude_leading:]]
        out[i] = np.median(values) if values.size else 0.0
    return out


def exclusive_kt(
    counts: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
) -> dict[str, np.ndarray]:
    """Exclusive kt reclustering of each group of inputs (one group per jet, each with at
    least three inputs): the kt splitting scales sqrt(d12), sqrt(d23) and the axes of
    the two and three exclusive subjets, as (groups, n) arrays of px, py, pz, E."""
    ak, fastjet = _modules()
    groups = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": e}), counts)
    sequence = fastjet.ClusterSequence(groups, fastjet.JetDefinition(fastjet.kt_algorithm, 1.0))
    with warnings.catch_warnings():
        # fastjet's awkward interface warns about exclusive jets whatever the algorithm;
        # this is the kt algorithm, for which they are well defined.
        warnings.filterwarnings("ignore", message="dcut and exclusive jets", category=UserWarning)
        out: dict[str, np.ndarray] = {
            "d12": np.asarray(sequence.exclusive_dmerge(njets=1), dtype=float),
            "d23": np.asarray(sequence.exclusive_dmerge(njets=2), dtype=float),
        }
        for k in (2, 3):
            sub = sequence.exclusive_jets(n_jets=k)
            for name in ("px", "py", "pz", "E"):
                out[f"sub{k}_{name}"] = np.asarray(ak.to_numpy(sub[name]), dtype=float)
    return out
