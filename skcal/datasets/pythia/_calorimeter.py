r"""The parametric calorimeter: per-particle showers, vectorised over all particles of a
batch of events, summed into towers.

- **Geometry.** Particles hit a cylinder of radius 1.5 m from their own vertex (the
  detector eta differs from the physics eta by the vertex z); charged particles are
  bent by the 2 T solenoid (radius 1.2 m, half-length 2.65 m) by
  :math:`\arcsin(0.3 B r / 2 p_T)`, and those that cannot reach its radius loop in the
  tracker and deposit nothing. Towers are a grid of 0.1 in eta by 2 pi / 64 in phi up
  to :math:`|\eta| = 4.9`; the transitions at :math:`|\eta|` = 1.45 and 3.2 lose energy
  (``skcal.datasets._detector.region_scale``, the synthetic generator's dips).
- **Response.** Photons and electrons respond 1 (the EM scale). Hadrons deposit their
  kinetic energy (plus twice the mass for antibaryons), with an EM fraction from
  Groom's parametrisation :math:`f_{em} = 1 - (E/E_0)^{m-1}`, m = 0.83,
  :math:`E_0` = 1 GeV for mesons and 2.6 GeV for baryons (NIM A 572 (2007) 633),
  Beta-distributed per particle, and respond :math:`f_{em} + (1 - f_{em})\,h/e` with
  :math:`h/e = 0.65` (a non-compensating sampling calorimeter at the EM scale). Muons
  deposit at most 3 GeV (a minimum-ionising particle). Neutrinos escape.
- **Longitudinal layers.** EM showers follow the gamma profile of the PDG (Longo and
  Sestili, :math:`b = 0.5`, :math:`t_{max} = \ln(E/E_c) \mp 0.5`, :math:`E_c` = 20 MeV)
  in radiation lengths: the LAr EM calorimeter is 24 X0 deep, its third layer (EM3)
  the last 2 X0. Hadrons start showering after an exponential depth (one interaction
  length on average) and deposit along a gamma profile of shape 2 with its maximum at
  :math:`0.2 \ln(E/\mathrm{GeV}) + 0.7` interaction lengths; the EM calorimeter is 1.2
  lambda deep (EM3 its last 0.1), the first tile layer (Tile0, :math:`|\eta| < 1.7`)
  the next 1.5 lambda, the whole calorimeter 9.7 lambda. What passes its back is lost
  (punch-through) and leaves Poisson(E/2 GeV) muon-spectrometer segments; a muon leaves 3.
- **Resolution.** Per particle :math:`a/\sqrt{E} \oplus c`: a = 0.10, c = 0.007 for EM
  showers, a = 0.50 (0.94 forward), c = 0.03 for hadrons; per tower a Gaussian noise
  of 0.15 GeV (barrel), 0.3 GeV (end-cap) and 1.5 GeV (forward) in energy, and towers
  below three times the noise are dropped.

Sources: the PDG review of particle detectors (section 34.9, EM and hadronic shower
profiles), ATLAS calorimeter performance (JINST 3 (2008) S08003), Groom's EM fraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc

from skcal.datasets._detector import FORWARD, LAR_EDGE, TILE_EDGE, region_scale
from skcal.datasets.pythia._cluster import delta_phi
from skcal.datasets.pythia._pileup import Event

#: Tower grid.
N_ETA, N_PHI, ETA_EDGE = 98, 64, 4.9
N_CELLS = N_ETA * N_PHI
CELL_AREA = (2 * ETA_EDGE / N_ETA) * (2 * np.pi / N_PHI)
#: Calorimeter front radius, solenoid radius and half-length (m), field (T).
R_CALO, R_SOLENOID, Z_SOLENOID, FIELD = 1.5, 1.2, 2.65, 2.0
H_OVER_E = 0.65
#: Depths in interaction lengths: EM calorimeter, EM3 start, Tile0 end, total.
EM_DEPTH, EM3_START, TILE0_END, TOTAL_DEPTH = 1.2, 1.1, 2.7, 9.7
#: EM calorimeter depth and EM3 start in radiation lengths.
EM_X0, EM3_X0 = 24.0, 22.0
NOISE_SIGMAS = 3.0
NEUTRINOS = (12, 14, 16)
_POSITIVE = (211, 321, 2212, 3222, -11, -13, -3112, -3312, -3334, -24)


def charge(pid: np.ndarray) -> np.ndarray:
    """The electric charge (units of e) of the stable particles Pythia leaves."""
    q = np.zeros(pid.size)
    q[np.isin(pid, _POSITIVE)] = 1.0
    q[np.isin(-pid, _POSITIVE)] = -1.0
    return q


def noise_sigma(abs_eta: np.ndarray) -> np.ndarray:
    return np.select([abs_eta < 1.5, abs_eta < FORWARD], [0.15, 0.3], 1.5)


def cell_eta_phi() -> tuple[np.ndarray, np.ndarray]:
    """Detector eta and phi of every tower centre (length N_CELLS)."""
    eta = -ETA_EDGE + (np.arange(N_ETA) + 0.5) * (2 * ETA_EDGE / N_ETA)
    phi = -np.pi + (np.arange(N_PHI) + 0.5) * (2 * np.pi / N_PHI)
    return np.repeat(eta, N_PHI), np.tile(phi, N_ETA)


@dataclass(frozen=True)
class Towers:
    """Tower channels per event, shape (events, N_CELLS); energies in GeV."""

    e: np.ndarray  # measured (smeared, with noise; zero below threshold)
    e_oracle: np.ndarray  # the same towers without stochastic smearing and noise
    em: np.ndarray
    em3: np.ndarray
    tile0: np.ndarray
    segments: np.ndarray  # muon-spectrometer segments behind each tower
    has_track: np.ndarray  # a reconstructed track's impact point lies in the tower


def impact(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, q: np.ndarray, vertex_z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detector eta and phi where each particle reaches the calorimeter, and whether it does."""
    eta_det = np.arcsinh(np.sinh(eta) + vertex_z / R_CALO)
    r_bend = np.minimum(R_SOLENOID, Z_SOLENOID / np.maximum(np.abs(np.sinh(eta)), 1e-9))
    arg = 0.3 * FIELD * r_bend / (2.0 * np.maximum(pt, 1e-9))
    reaches = (q == 0) | (arg < 1.0)
    phi_det = delta_phi(phi - q * np.arcsin(np.minimum(arg, 1.0)))
    return eta_det, phi_det, reaches


def cell_of(eta_det: np.ndarray, phi_det: np.ndarray) -> np.ndarray:
    ieta = np.clip(((eta_det + ETA_EDGE) / (2 * ETA_EDGE) * N_ETA).astype(np.int64), 0, N_ETA - 1)
    iphi = np.clip(((phi_det + np.pi) / (2 * np.pi) * N_PHI).astype(np.int64), 0, N_PHI - 1)
    return ieta * N_PHI + iphi


def _gamma2_cdf(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, 0.0)
    return 1.0 - np.exp(-x) * (1.0 + x)


def _hadron_profile(
    rng: np.random.Generator, e: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fractions of a hadron shower in the EM calorimeter, EM3, Tile0 and beyond the back."""
    t0 = rng.exponential(1.0, e.size)
    theta = 0.2 * np.log(np.maximum(e, 1.0)) + 0.7
    cdf = lambda depth: _gamma2_cdf((depth - t0) / theta)  # noqa: E731 (local shorthand)
    em, em3_start, tile0_end, total = (
        cdf(d) for d in (EM_DEPTH, EM3_START, TILE0_END, TOTAL_DEPTH)
    )
    return em, em - em3_start, tile0_end - em, 1.0 - total


def _em_profile(e: np.ndarray, photon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of an EM shower in EM3 and behind the EM calorimeter."""
    t_max = np.log(np.maximum(e, 0.05) / 0.02) + np.where(photon, 0.5, -0.5)
    a = 0.5 * np.maximum(t_max, 0.1) + 1.0
    inside, before3 = gammainc(a, 0.5 * EM_X0), gammainc(a, 0.5 * EM3_X0)
    return inside - before3, 1.0 - inside


def calorimeter(rng: np.random.Generator, ev: Event, track_cells: np.ndarray) -> Towers:
    """Shower every particle of ``ev`` and sum the deposits into towers.

    ``track_cells`` are the flat (event * N_CELLS + cell) towers that tracks point to.
    """
    p = ev.particles
    pid, apid = p.pid, np.abs(p.pid)
    pt = p.pt
    eta = np.arcsinh(p.pz / np.maximum(pt, 1e-12))
    phi = np.arctan2(p.py, p.px)
    q = charge(pid)
    eta_det, phi_det, reaches = impact(pt, eta, phi, q, ev.vertex_z)
    keep = reaches & (np.abs(eta_det) < ETA_EDGE) & ~np.isin(apid, NEUTRINOS)
    pid, apid, q = pid[keep], apid[keep], q[keep]
    eta_det, phi_det = eta_det[keep], phi_det[keep]
    e, m = p.e[keep], p.m[keep]
    abs_eta = np.abs(eta_det)
    n = e.size

    em_shower = (apid == 22) | (apid == 11)
    muon = apid == 13
    hadron = ~(em_shower | muon)
    baryon = (apid > 1000) & (apid < 10000)
    e_dep = np.where(baryon & (pid > 0), e - m, np.where(baryon, e + m, e))
    e_dep = np.where(muon, np.minimum(e, 3.0), e_dep)

    # Longitudinal fractions (EM calorimeter, EM3, Tile0, behind the back) and response.
    frac_em, frac_em3 = np.full(n, 0.15), np.full(n, 0.02)  # muons: a MIP's path
    frac_tile0, leak = np.full(n, 0.3), np.zeros(n)
    response = np.ones(n)
    h = np.flatnonzero(hadron)
    # EM fraction of the hadron showers (Groom), fluctuating per particle.
    e_h = np.maximum(e_dep[h], 1e-3)
    f_mean = np.clip(1.0 - (e_h / np.where(baryon[h], 2.6, 1.0)) ** (0.83 - 1.0), 0.02, 0.98)
    f_em = rng.beta(10.0 * f_mean, 10.0 * (1.0 - f_mean))
    response[h] = f_em + (1.0 - f_em) * H_OVER_E
    frac_em[h], frac_em3[h], frac_tile0[h], leak[h] = _hadron_profile(rng, e_h)
    g = np.flatnonzero(em_shower)
    g_em3, g_behind = _em_profile(e_dep[g], apid[g] == 22)
    frac_em[g], frac_em3[g], frac_tile0[g] = 1.0 - g_behind, g_em3, g_behind
    response *= region_scale(abs_eta)
    frac_em3 = np.where(abs_eta < LAR_EDGE, frac_em3, 0.0)
    frac_tile0 = np.where(abs_eta < TILE_EDGE, frac_tile0, 0.0)

    base = e_dep * response
    e_oracle = base * (1.0 - leak)
    a = np.where(em_shower, 0.10, np.where(abs_eta > FORWARD, 0.94, 0.50))
    c = np.where(em_shower, 0.007, 0.03)
    rel = np.sqrt(a**2 / np.maximum(e_oracle, 1e-3) + c**2)
    e_meas = np.maximum(e_oracle * (1.0 + rel * rng.standard_normal(n)), 0.0)
    segments = np.where(muon & (e > 4.0), 3, rng.poisson(e_dep * leak / 2.0))

    n_events = p.counts.size
    flat = ev.event[keep] * N_CELLS + cell_of(eta_det, phi_det)
    size = n_events * N_CELLS

    def towers(weights: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=weights, minlength=size).reshape(n_events, N_CELLS)

    cell_eta, _ = cell_eta_phi()
    sigma = noise_sigma(np.abs(cell_eta))
    measured = towers(e_meas) + sigma * rng.standard_normal((n_events, N_CELLS))
    fired = measured > NOISE_SIGMAS * sigma
    oracle = towers(e_oracle)
    scale = np.where(oracle > 0, measured / np.where(oracle > 0, oracle, 1.0), 0.0)
    has_track = np.zeros(size, dtype=bool)
    has_track[track_cells] = True
    return Towers(
        e=np.where(fired, measured, 0.0),
        e_oracle=np.where(fired, oracle, 0.0),
        # The layer energies share the measured tower's fluctuation.
        em=np.where(fired, towers(base * frac_em) * scale, 0.0),
        em3=np.where(fired, towers(base * frac_em3) * scale, 0.0),
        tile0=np.where(fired, towers(base * frac_tile0) * scale, 0.0),
        segments=towers(segments.astype(float)).round().astype(np.int64),
        has_track=has_track.reshape(n_events, N_CELLS),
    )
