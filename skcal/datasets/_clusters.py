"""The physics of the synthetic topo-clusters: one block of single-particle clusters.

The formulas and their sources are listed in :mod:`skcal.datasets.clusters`; lengths
are in mm, energies in GeV, times in ns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skcal.columns import CLUSTER_INPUTS, CLUSTER_TRUTH
from skcal.datasets._detector import H_OVER_E, sample_event

__all__ = ["EM_CODES", "cluster_block"]

#: Particle codes (PDG) and their shares of the sample: pi+-, pi0, photons, neutrons, protons.
PARTICLES = np.array([211, -211, 111, 22, 2112, 2212])
SHARES = np.array([0.175, 0.175, 0.2, 0.15, 0.15, 0.15])
#: The codes of electromagnetic showers.
EM_CODES = (22, 111)
E_RANGE = (0.2, 2000.0)  # particle energy, log-uniform
Y_MAX = 4.5
X0 = 18.0  # effective radiation length of the EM calorimeters
E_CRITICAL = 0.01  # critical energy (GeV)
LAMBDA_I = 250.0  # effective nuclear interaction length
EM_DEPTH = 1.2 * LAMBDA_I  # depth of the EM calorimeter, in front of the hadronic one
SIGNIFICANCE_CUT = 2.0  # clusters below 2 sigma_noise are not formed
_OVERSAMPLE = 1.6


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    mean = np.clip(mean, 0.02, 0.98)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration)


def _lognormal(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    return np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma**2)


def _front_distance(abs_y: np.ndarray) -> np.ndarray:
    """Distance from the nominal vertex to the calorimeter's front face along the direction:
    barrel at r = 1.5 m, end-caps at |z| = 3.7 m, forward calorimeter at |z| = 4.7 m."""
    barrel = 1500.0 * np.cosh(abs_y)
    endcap = np.where(abs_y < 3.2, 3700.0, 4700.0) / np.tanh(np.maximum(abs_y, 1e-3))
    return np.where(abs_y < 1.475, barrel, endcap)


def _candidates(rng: np.random.Generator, n: int, mu_range: tuple[float, float]) -> pd.DataFrame:
    particle = rng.choice(PARTICLES, size=n, p=SHARES)
    em = np.isin(particle, EM_CODES)
    baryon = np.isin(particle, (2112, 2212))
    e_part = np.exp(rng.uniform(np.log(E_RANGE[0]), np.log(E_RANGE[1]), n))
    y_true = rng.uniform(-Y_MAX, Y_MAX, n)
    abs_y = np.abs(y_true)
    log_e = np.log(e_part)

    # The leading cluster's share of the particle's energy (hadron showers split more).
    lead = np.where(em, 0.93, np.clip(0.82 - 0.02 * np.log10(e_part), 0.6, 0.85))
    e_dep = e_part * _beta(rng, lead, 30.0)

    # Hadron showers: EM fraction after Groom, 1 - (E / 1 GeV)^-0.18 (baryons -0.15),
    # Beta-distributed per shower; pi/e = f_em + (1 - f_em) h/e; neutrons 10% lower.
    exponent = np.where(baryon, -0.15, -0.18)
    f_em = np.where(em, 1.0, _beta(rng, np.maximum(1.0 - e_part**exponent, 0.05), 6.0))
    h_over_e = np.where(particle == 2112, 0.9 * H_OVER_E, H_OVER_E)
    r_vis = f_em + (1.0 - f_em) * h_over_e

    # Depth of the centre of gravity from the front face (shower maximum + start).
    start = np.where(em, rng.exponential(9.0 / 7.0 * X0, n), rng.exponential(LAMBDA_I, n))
    depth_em = X0 * (np.log(e_part / E_CRITICAL) + 0.5) * _lognormal(rng, 0.1, n)
    depth_had = LAMBDA_I * (0.25 * log_e + 0.7) * _lognormal(rng, 0.25, n)
    lam = np.maximum(start + np.where(em, depth_em, np.maximum(depth_had, 20.0)), 5.0)

    # Energy in the EM calorimeter: EM showers leak a little at high energy; hadron
    # showers by where their centre lies against the EM calorimeter's depth.
    f_emc_em = 1.0 - 0.02 * (e_part / 100.0) ** 0.3 * _lognormal(rng, 0.3, n)
    f_emc_had = 1.0 / (1.0 + np.exp((lam - EM_DEPTH) / (0.35 * LAMBDA_I)))
    f_emc = np.clip(np.where(em, f_emc_em, f_emc_had + 0.05 * rng.standard_normal(n)), 0.0, 1.0)

    # Moments, density, cells: EM showers are compact and dense.
    f_had = 1.0 - f_em
    m_long2 = _beta(rng, np.where(em, 0.12, 0.25 + 0.35 * f_had), 12.0)
    m_lat2 = _beta(rng, np.where(em, 0.20, 0.35 + 0.35 * f_had), 12.0)
    n_cells = np.where(em, 2.0 + 5.0 * np.sqrt(e_dep), 3.0 + 10.0 * np.sqrt(e_dep))
    n_cells = np.maximum(n_cells * _lognormal(rng, 0.3, n), 2.0)
    volume_em = np.pi * 35.0**2 * 15.0 * X0 * (e_dep / 10.0) ** 0.1
    volume_had = np.pi * 120.0**2 * 1.5 * LAMBDA_I * (e_dep / 10.0) ** 0.2
    volume = volume_em**f_em * volume_had**f_had
    ptd = np.clip(_lognormal(rng, 0.1, n) / np.sqrt(1.0 + np.where(em, 0.3, 0.5) * n_cells), 0, 1)

    # Losses: out-of-cluster (below the cells' thresholds; only the isolated part of the
    # boundary loses it, the rest reaches a neighbouring cluster) and dead material
    # (presampler and cryostats in front, the cryostat between EM and hadronic
    # calorimeters, the crack at |y| = 1.45 and the transition at 3.2, back leakage).
    event = sample_event(rng, n, mu_range)
    f_iso = _beta(rng, 0.85 - 0.003 * event.mu - np.where(em, 0.0, 0.1), 8.0)
    ooc = np.where(em, 0.04, 0.12) * e_dep ** (-0.35) * (0.5 + m_lat2)
    f_ooc = np.clip(ooc * _lognormal(rng, 0.3, n), 0.0, 0.6) * f_iso
    transitions = 0.12 * np.exp(-0.5 * ((abs_y - 1.45) / 0.08) ** 2) + 0.10 * np.exp(
        -0.5 * ((abs_y - 3.2) / 0.1) ** 2
    )
    front = np.where(em, 0.05 * e_dep ** (-0.2), 0.02)
    cryostat = np.where(em, 0.0, 0.24 * f_emc * (1.0 - f_emc))
    leak = np.where(em, 0.0, 0.03 * (e_dep / 100.0) ** 0.3 * np.exp((lam - 2 * LAMBDA_I) / 800.0))
    f_dm = np.clip((front + cryostat + leak + transitions) * _lognormal(rng, 0.3, n), 0.0, 0.5)

    # Signal at the EM scale, with sampling fluctuations, noise and pile-up.
    signal = e_dep * r_vis * (1.0 - f_ooc) * (1.0 - f_dm)
    sampling = np.where(em, 0.10, 0.35) / np.sqrt(e_dep)
    sigma_cell = 0.02 * (1.0 + abs_y / 3.0)
    sigma_pu = 0.01 * np.sqrt(event.mu / 40.0) * (1.0 + (abs_y / 2.0) ** 2)
    sigma_noise = np.sqrt(n_cells * (sigma_cell**2 + sigma_pu**2))
    pileup_shift = 0.002 * np.sqrt(n_cells) * (event.npv - 1 - 0.65 * event.mu)
    e_em = (
        signal * (1.0 + np.hypot(sampling, 0.01) * rng.standard_normal(n))
        + pileup_shift
        + sigma_noise * rng.standard_normal(n)
    )
    zeta = e_em / sigma_noise
    pu_share = sigma_pu / np.hypot(sigma_cell, sigma_pu)

    t_clus = 0.4 * f_had + np.sqrt(0.3**2 + (2.0 / np.maximum(zeta, 1.0)) ** 2) * (
        rng.standard_normal(n)
    )
    var_t = (0.2 + 2.0 * f_had**2 + 3.0 * pu_share**2) * _lognormal(rng, 0.4, n)
    y_clus = y_true + (0.01 + 0.05 / np.sqrt(e_dep)) * rng.standard_normal(n)
    c_clus = _front_distance(np.abs(y_clus)) + lam + 5.0 * rng.standard_normal(n)
    table = {
        "e_em": e_em,
        "y_clus": y_clus,
        "zeta_clus": zeta,
        "t_clus": t_clus,
        "var_t_cell": var_t,
        "lambda_clus": lam,
        "c_clus": c_clus,
        "f_emc": f_emc,
        "rho_cell": np.maximum(e_em, 1e-3) / volume * _lognormal(rng, 0.3, n),
        "m_long2": m_long2,
        "m_lat2": m_lat2,
        "ptd": ptd,
        "f_iso": f_iso,
        "npv": event.npv,
        "mu": event.mu,
        "e_dep": e_dep,
        "particle": particle.astype(np.int32),
        "y_true": y_true,
    }
    frame = pd.DataFrame({name: table[name] for name in (*CLUSTER_INPUTS, *CLUSTER_TRUTH)})
    return frame[zeta >= SIGNIFICANCE_CUT]


def cluster_block(
    rng: np.random.Generator, n: int, *, mu_range: tuple[float, float]
) -> pd.DataFrame:
    """``n`` clusters that pass the significance cut (candidates drawn until enough do)."""
    parts: list[pd.DataFrame] = []
    held = 0
    while held < n:
        part = _candidates(rng, int(_OVERSAMPLE * (n - held)) + 16, mu_range)
        parts.append(part)
        held += len(part)
    return pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)
