"""Detector level: calorimeter response, pile-up, measured direction and inputs.

See :mod:`skcal.datasets.synthetic` for the physics and its sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skcal.datasets._shower import Shower

#: Hadronic to electromagnetic response of the (non-compensating) calorimeters.
H_OVER_E = 0.45
#: Response of neutral hadrons relative to charged pions (more invisible energy).
NEUTRAL_HADRON_SCALE = 0.9
#: Calorimeter transitions (|eta|): barrel / end-cap crack, end-cap / forward.
CRACK, FORWARD = 1.45, 3.2
#: Energy resolution: stochastic (GeV^1/2, central and forward), noise (GeV), constant.
STOCHASTIC, STOCHASTIC_FORWARD, NOISE, CONSTANT = 0.55, 0.90, 1.5, 0.03
#: Acceptance of the tracker, the tile calorimeter and the LAr EM calorimeter.
TRACKER_EDGE, TILE_EDGE, LAR_EDGE = 2.5, 1.7, 3.2
#: Efficiency of reconstructing a charged particle as a track.
TRACK_EFFICIENCY = 0.92


def gauss(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - centre) / width) ** 2)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def region_scale(abs_eta: np.ndarray) -> np.ndarray:
    """Dips at the transitions (dead material, cracks) and the forward calorimeter's scale."""
    dips = 1.0 - 0.15 * gauss(abs_eta, CRACK, 0.07) - 0.12 * gauss(abs_eta, FORWARD, 0.10)
    forward = 1.0 - 0.07 * sigmoid((abs_eta - FORWARD) / 0.05)
    return dips * forward


def eta_bias(eta: np.ndarray) -> np.ndarray:
    """Jets near a transition are reconstructed away from it (energy lost in the gap)."""
    a = np.abs(eta)
    push = sum(
        np.tanh((a - c) / w) * gauss(a, c, 2 * w) for c, w in ((CRACK, 0.07), (FORWARD, 0.10))
    )
    return 0.03 * np.sign(eta) * push


def pileup_residuals(abs_eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset per extra vertex (in-time) and per interaction (out-of-time), GeV of pT.

    The out-of-time term turns negative in the forward region, where the LAr pulse
    shaping subtracts more than it adds.
    """
    alpha = 0.15 * (1.0 - abs_eta / 6.0)
    beta = 0.08 - 0.08 * (abs_eta / FORWARD) ** 2
    return alpha, beta


@dataclass(frozen=True)
class Event:
    """Event-level pile-up conditions of each jet's event."""

    mu: np.ndarray
    npv: np.ndarray
    rho: np.ndarray


def sample_event(rng: np.random.Generator, n: int, mu_range: tuple[float, float]) -> Event:
    """Interactions per crossing, primary vertices (Poisson, 65% reconstructed) and rho."""
    mu = rng.uniform(*mu_range, n)
    npv = 1 + rng.poisson(0.65 * mu)
    rho = np.maximum(0.6 * (npv - 1) + 0.1 * mu + rng.normal(0.0, 1.0, n), 0.0)
    return Event(mu, npv.astype(np.int32), rho)


def calorimeter(
    rng: np.random.Generator,
    e_true: np.ndarray,
    pt_true: np.ndarray,
    eta_true: np.ndarray,
    shower: Shower,
    radius: float,
) -> dict[str, np.ndarray]:
    """Deterministic calorimeter response to the shower, before any stochastic smearing.

    Returns the detected energy, the EM and hadronic parts, the punch-through leak and
    the measured direction.
    """
    n = e_true.size
    abs_eta = np.abs(eta_true)
    e_visible = e_true * (1.0 - shower.f_invisible)
    # Out-of-cone showering and charged particles bent out of the cone by the field.
    ooc = (
        0.10 * (shower.width / (0.22 * radius)) * (25.0 / pt_true) ** 0.9 * (0.5 + shower.f_charged)
    )
    e_in_cone = e_visible * (1.0 - np.minimum(ooc * (0.4 / radius), 0.3))
    # Non-compensation: pi/e = f_em + (1 - f_em) h/e; photons respond at the EM scale.
    hadronic = shower.f_charged + NEUTRAL_HADRON_SCALE * shower.f_neutral_had
    e_em = e_in_cone * (shower.f_photon + hadronic * shower.f_em_had)
    e_had = e_in_cone * hadronic * (1.0 - shower.f_em_had) * H_OVER_E
    # Punch-through: in a fraction of jets, growing with energy and largest in the
    # shallower central calorimeter, the hadronic shower's tail leaks out of the back.
    p_punch = np.minimum(0.25 * np.sqrt(e_true / 1000.0) / np.cosh(eta_true) ** 2, 0.8)
    punched = rng.random(n) < p_punch
    leak = np.where(punched, np.minimum(rng.exponential(0.12, n), 0.6), 0.0) * (
        1.0 - shower.f_em_had
    )
    e_det = (e_em + e_had * (1.0 - leak)) * region_scale(abs_eta)
    eta_reco = (
        eta_true
        + eta_bias(eta_true)
        + rng.normal(0.0, 1.0, n) * np.minimum(0.005 + 0.5 / pt_true, 0.1)
    )
    return {
        "e_det": e_det,
        "e_em": e_em,
        "e_had": e_had,
        "leak": leak,
        "e_leaked": e_had * leak,
        "eta_reco": eta_reco,
    }


def smear(
    rng: np.random.Generator,
    e_det: np.ndarray,
    eta_reco: np.ndarray,
    offset_pt: np.ndarray,
    area: np.ndarray,
    mu: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The reconstructed energy: oracle (noise-free) and measured (with stochastic terms).

    Calorimeter resolution a/sqrt(E) + b/E + c (in quadrature) and pile-up fluctuations
    inside the jet area are the irreducible part that no calibration can remove.
    """
    n = e_det.size
    cosh = np.cosh(eta_reco)
    a = np.where(np.abs(eta_reco) > FORWARD, STOCHASTIC_FORWARD, STOCHASTIC)
    e_pos = np.maximum(e_det, 1.0)
    rel = np.sqrt(a**2 / e_pos + (NOISE / e_pos) ** 2 + CONSTANT**2)
    sigma_pileup_pt = 0.4 * np.sqrt(mu * area / 0.5)
    e_oracle = e_det + offset_pt * cosh
    e_reco = (
        e_det * (1.0 + np.clip(rel * rng.standard_normal(n), -0.8, None))
        + (offset_pt + sigma_pileup_pt * rng.standard_normal(n)) * cosh
    )
    # A physical energy is positive; the clip touches far less than 1e-4 of jets.
    floor = 0.1 * np.maximum(e_oracle, e_det)
    return np.maximum(e_oracle, floor), np.maximum(e_reco, floor)
