"""Large-R jets: the reconstructed mass and the substructure inputs of the ATLAS DNN.

See :mod:`skcal.datasets.synthetic` for the physics and its sources.
"""

from __future__ import annotations

import numpy as np

from skcal.datasets._detector import TRACK_EFFICIENCY
from skcal.datasets._shower import Shower, beta_with_mean


def reco_mass(
    rng: np.random.Generator,
    m_true: np.ndarray,
    pt_true: np.ndarray,
    prongs: np.ndarray,
    energy_scale: np.ndarray,
    shower: Shower,
    n_eff: np.ndarray,
    mu: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Oracle and measured jet mass.

    The mass follows the energy scale, is broadened by the angular resolution of the
    clusters (worse with neutral particles and fewer constituents), and gets a floor
    from that resolution and from pile-up left after grooming: low masses are pushed
    up. The measured mass is smeared in log m by a split normal, twice as wide above
    the mode as below (a high tail), and loses a prong in a few per cent of
    multi-prong jets (a low tail): wider and more asymmetric than the energy response.
    """
    n = m_true.size
    neutral = shower.f_photon + shower.f_neutral_had
    broadening = 1.0 + 0.04 * neutral / 0.4
    sigma_theta = 0.02 * np.sqrt(40.0 / n_eff) * (1.0 + neutral)
    floor_sq = (pt_true * sigma_theta) ** 2 + (0.15 * mu) ** 2
    m_oracle = energy_scale * np.sqrt((m_true * broadening) ** 2 + floor_sq)
    sigma = 0.06 + 1.5 / np.sqrt(pt_true)
    z = rng.standard_normal(n)
    smearing = np.exp(np.where(z > 0, 1.6, 0.8) * sigma * z)
    lost_prong = (prongs > 1) & (rng.random(n) < 0.04)
    m_reco = m_oracle * smearing * np.where(lost_prong, rng.uniform(0.3, 0.7, n), 1.0)
    return m_oracle, m_reco


def substructure_inputs(
    rng: np.random.Generator,
    prongs: np.ndarray,
    m_true: np.ndarray,
    m_reco: np.ndarray,
    pt_true: np.ndarray,
    pt_reco: np.ndarray,
    shower: Shower,
    n_eff: np.ndarray,
    mu: np.ndarray,
) -> dict[str, np.ndarray]:
    """Table 2 of the ATLAS paper: groomed mass ratio, width, splitting scales, energy
    correlation ratios, N-subjettiness ratios, Qw, effective constituents, fractions."""
    n = m_true.size
    one, two, three = prongs == 1, prongs == 2, prongs == 3
    noise = rng.standard_normal((9, n))
    neutral = shower.f_photon + shower.f_neutral_had
    return {
        "groom_m_ratio": beta_with_mean(rng, np.where(one, 0.72, 0.9) * (1.0 - 0.002 * mu), 30.0),
        "width": 0.45 * m_reco / pt_reco * np.exp(0.15 * noise[0]),
        "split12": m_reco * np.where(one, 0.35, 0.5) * np.exp(0.2 * noise[1]),
        "split23": m_reco * np.where(three, 0.3, 0.12) * np.exp(0.3 * noise[2]),
        "c2": np.exp(np.log(np.select([two, three], [0.13, 0.20], 0.27)) + 0.3 * noise[3]),
        "d2": np.exp(np.log(np.select([two, three], [1.1, 1.9], 2.4)) + 0.35 * noise[4]),
        "tau21": beta_with_mean(rng, np.select([two, three], [0.35, 0.5], 0.65), 20.0),
        "tau32": beta_with_mean(rng, np.where(three, 0.45, 0.72), 20.0),
        "qw": m_reco * np.where(three, 0.47, 0.35) * np.exp(0.15 * noise[5]),
        "eff_n_consts": n_eff * np.exp(0.05 * noise[6]),
        "neutral_frac": np.clip(neutral + 0.02 * noise[7], 0.0, 1.0),
        "charged_pt_frac": shower.f_charged
        * TRACK_EFFICIENCY
        * pt_true
        / pt_reco
        * np.exp(0.05 * noise[8]),
        "charged_m_frac": shower.f_charged**0.7
        * m_true
        / m_reco
        * np.exp(0.1 * rng.standard_normal(n)),
    }
