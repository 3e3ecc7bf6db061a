"""Truth level: the particle-level jet (kinematics, flavour, mass, prongs).

See :mod:`skcal.datasets.synthetic` for the physics and its sources.
"""

from __future__ import annotations

import numpy as np

from skcal.columns import BOTTOM, CHARM, GLUON

#: Half the centre-of-mass energy of the LHC (13.6 TeV): no jet carries more energy.
BEAM_ENERGY = 6800.0
#: Index of the falling jet pT spectrum, dsigma/dpT ~ pT^-n.
SPECTRUM_INDEX = 5.0
#: Jet radius of each kind (anti-kt R = 0.4 and R = 1.0).
RADIUS = {"small_r": 0.4, "large_r": 1.0}
#: True mass (GeV) and natural width of the resonances of the large-R topologies.
RESONANCES = {"w": (80.4, 2.1), "z": (91.19, 2.5), "top": (172.5, 1.4), "higgs": (125.1, 0.004)}
#: Prongs of a fully contained resonance decay.
PRONGS = {"w": 2, "z": 2, "higgs": 2, "top": 3}


def sample_pt(
    rng: np.random.Generator, n: int, pt_range: tuple[float, float], spectrum: str
) -> tuple[np.ndarray, np.ndarray]:
    """True pT and the event weight that restores the physical spectrum."""
    lo, hi = pt_range
    k = SPECTRUM_INDEX
    u = rng.random(n)
    norm = (lo ** (1 - k) - hi ** (1 - k)) / (k - 1)  # integral of pT^-k over the range
    if spectrum == "physical":
        # Inverse CDF of pT^-k truncated to the range.
        pt = (lo ** (1 - k) - u * (k - 1) * norm) ** (1 / (1 - k))
        return pt, np.ones(n)
    # Sliced samples are flat in log pT; the weight is p_physical / p_sliced, of mean 1.
    pt = lo * (hi / lo) ** u
    weight = (pt**-k / norm) * (pt * np.log(hi / lo))
    return pt, weight


def sample_eta(rng: np.random.Generator, pt: np.ndarray, eta_max: float) -> np.ndarray:
    """Flat in eta up to the detector edge or the kinematic limit E <= beam energy."""
    limit = np.minimum(eta_max, np.arccosh(np.maximum(BEAM_ENERGY / pt, 1.0)))
    return rng.uniform(-1.0, 1.0, pt.size) * limit


def sample_flavour(rng: np.random.Generator, pt: np.ndarray, topology: str) -> np.ndarray:
    """Truth flavour: gluons dominate at low pT, quarks at high pT (parton luminosities)."""
    n = pt.size
    if topology in ("top", "higgs"):
        return np.full(n, BOTTOM, dtype=np.int32)
    light = rng.choice(np.array([1, 2, 3], dtype=np.int32), size=n, p=[0.45, 0.35, 0.20])
    if topology in ("w", "z"):
        return light
    x = np.clip(np.log(pt / 20.0) / np.log(150.0), 0.0, 1.0)
    p_gluon = 0.72 - 0.42 * x
    u = rng.random(n)
    return np.select(
        [u < p_gluon, u < p_gluon + 0.05, u < p_gluon + 0.08],
        [GLUON, CHARM, BOTTOM],
        light,
    ).astype(np.int32)


def sample_mass(
    rng: np.random.Generator, pt: np.ndarray, flavour: np.ndarray, kind: str, topology: str
) -> tuple[np.ndarray, np.ndarray]:
    """True jet mass and the number of hard prongs (1 for QCD jets)."""
    n = pt.size
    gluon = flavour == GLUON
    radius = RADIUS[kind]
    if kind == "small_r":
        # m/pT of R = 0.4 jets: log-normal, gluon jets heavier (broader radiation).
        ratio = np.exp(rng.normal(np.log(np.where(gluon, 0.10, 0.07)), 0.35))
        return pt * np.clip(ratio, 0.01, 0.35), np.ones(n, dtype=np.int32)
    # QCD large-R jets: rho = m^2 / (pT R)^2 roughly log-normal (Sudakov peak).
    log10_rho = rng.normal(np.where(gluon, -1.45, -1.65), 0.45)
    m_qcd = pt * radius * np.sqrt(10.0 ** np.clip(log10_rho, -4.0, -0.5))
    m_qcd = np.clip(m_qcd, 10.0, 0.6 * pt)
    if topology == "dijet":
        return m_qcd, np.ones(n, dtype=np.int32)
    m0, gamma = RESONANCES[topology]
    m_peak = m0 + gamma / 2 * rng.standard_cauchy(n).clip(-20, 20)
    m_peak *= 1 + 0.04 * rng.standard_normal(n)  # radiation in and out of the jet
    # The decay is contained in the jet when pT > 2 m / R (the opening angle ~ 2m/pT).
    contained = rng.random(n) < 1.0 / (1.0 + np.exp(-(pt - 2 * m0 / radius) / (0.25 * m0)))
    prongs = np.where(contained, PRONGS[topology], 1).astype(np.int32)
    mass = np.where(contained, m_peak, m_qcd)
    if topology == "top":
        # An uncontained top often still holds the W: a two-prong jet at the W mass.
        w_only = ~contained & (rng.random(n) < 0.5)
        mass = np.where(w_only, RESONANCES["w"][0] * (1 + 0.05 * rng.standard_normal(n)), mass)
        prongs = np.where(w_only, 2, prongs).astype(np.int32)
    return mass, prongs
