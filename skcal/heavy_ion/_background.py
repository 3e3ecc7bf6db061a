"""A thermal heavy-ion background: the soft particles of a Pb-Pb event at 5.02 TeV.

Each event gets a centrality drawn flat in the requested range (percent), the mean
charged-particle density ``dN_ch/deta`` of that centrality (interpolated in the ALICE
measurement at 5.02 TeV, Phys. Rev. Lett. 116 (2016) 222302: 1943 in 0-5%, 1587 in
5-10%, ...), and a Poisson number of particles about it in ``|eta| < eta_max``: the
multiplicity fluctuates from event to event through both. Each particle has a pT from
a Gamma(2, <pT>/2) distribution, ``dN/dpT ~ pT exp(-2 pT / <pT>)`` (the Boltzmann-like
spectrum of the ALICE and CMS thermal toy backgrounds, <pT> = 0.7 GeV by default), a
flat eta, and an azimuth from ``1 + 2 v2 cos(2 (phi - Psi))`` about a random
event-plane angle Psi (v2 = 0 by default: no flow). Particles are charged pions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: ALICE dN_ch/deta in Pb-Pb at 5.02 TeV, at the centres of its centrality classes (%).
_CENTRALITY = np.array([1.25, 3.75, 6.25, 8.75, 15.0, 25.0, 35.0, 45.0, 55.0, 65.0, 75.0, 85.0])
_DNDETA = np.array(
    [2035.0, 1850.0, 1666.0, 1505.0, 1180.0, 786.0, 512.0, 318.0, 183.0, 96.3, 44.9, 17.5]
)
#: The centralities (percent) that the interpolation covers.
CENTRALITY_RANGE = (0.0, 90.0)
PION_MASS = 0.13957


def dndeta(centrality: np.ndarray | float) -> np.ndarray:
    """The mean charged-particle density per unit eta at a centrality (percent).

    Examples
    --------
    >>> from skcal.heavy_ion._background import dndeta
    >>> round(float(dndeta(5.0)), 0)
    1758.0
    """
    return np.asarray(np.interp(centrality, _CENTRALITY, _DNDETA), dtype=float)


@dataclass(frozen=True)
class ThermalBackground:
    """The background model: centrality range (percent), <pT> (GeV), v2 and |eta| reach."""

    centrality: tuple[float, float] = (0.0, 10.0)
    mean_pt: float = 0.7
    v2: float = 0.0
    eta_max: float = 0.9

    def generate(self, rng: np.random.Generator, n_events: int) -> BackgroundEvents:
        """``n_events`` background events."""
        cent = rng.uniform(*self.centrality, n_events)
        mean_n = dndeta(cent) * 2.0 * self.eta_max
        counts = rng.poisson(mean_n).astype(np.int64)
        n = int(counts.sum())
        pt = rng.gamma(2.0, self.mean_pt / 2.0, n)
        eta = rng.uniform(-self.eta_max, self.eta_max, n)
        psi = rng.uniform(-np.pi, np.pi, n_events)
        phi = _flow_azimuth(rng, np.repeat(psi, counts), self.v2)
        return BackgroundEvents(counts, pt, eta, phi, cent, psi)

    def density(self, events: BackgroundEvents) -> np.ndarray:
        """The input pT density per unit area (GeV) of each event: its scalar pT sum
        over the area ``2 eta_max x 2 pi``."""
        event = np.repeat(np.arange(events.counts.size), events.counts)
        total = np.bincount(event, weights=events.pt, minlength=events.counts.size)
        return total / (2.0 * self.eta_max * 2.0 * np.pi)


@dataclass(frozen=True)
class BackgroundEvents:
    """Flat background particles (pT, eta, phi) with their counts per event."""

    counts: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    centrality: np.ndarray  # per event (percent)
    event_plane: np.ndarray  # Psi per event


def _flow_azimuth(rng: np.random.Generator, psi: np.ndarray, v2: float) -> np.ndarray:
    """Azimuths from ``1 + 2 v2 cos(2 (phi - psi))`` by acceptance-rejection."""
    phi = rng.uniform(-np.pi, np.pi, psi.size)
    if v2 == 0.0:
        return phi
    todo = np.arange(psi.size)
    while todo.size:
        trial = rng.uniform(-np.pi, np.pi, todo.size)
        accept = rng.uniform(0.0, 1.0 + 2.0 * v2, todo.size) < 1.0 + 2.0 * v2 * np.cos(
            2.0 * (trial - psi[todo])
        )
        phi[todo[accept]] = trial[accept]
        todo = todo[~accept]
    return np.mod(phi + np.pi, 2.0 * np.pi) - np.pi
