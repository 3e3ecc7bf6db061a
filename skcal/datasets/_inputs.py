"""The calibration inputs a real detector measures, as noisy functions of the shower.

See :mod:`skcal.datasets.synthetic` for the physics and its sources.
"""

from __future__ import annotations

import numpy as np

from skcal.datasets._detector import LAR_EDGE, TILE_EDGE, TRACK_EFFICIENCY, TRACKER_EDGE
from skcal.datasets._shower import Shower


def calorimeter_inputs(
    rng: np.random.Generator, calo: dict[str, np.ndarray], shower: Shower, npv: np.ndarray
) -> dict[str, np.ndarray]:
    """EM fraction, layer fractions, width, N90, muon segments and detector eta."""
    n = shower.n_const.size
    eta_reco = calo["eta_reco"]
    abs_eta = np.abs(eta_reco)
    e_had_seen = calo["e_had"] * (1.0 - calo["leak"])
    em_share = calo["e_em"] / (calo["e_em"] + e_had_seen)
    noise = rng.standard_normal((6, n))
    em_frac = np.clip(em_share + 0.02 * noise[0], 0.0, 1.0)
    # Early hadronic showers deposit in the last EM layer and the first tile layer;
    # showers that punch through developed late, leaving less in the first tile layer.
    em3 = 0.01 + 0.10 * (1.0 - em_share) + 0.05 * (1.0 - shower.f_em_had) + 0.015 * noise[1]
    tile0 = 0.30 * (1.0 - em_share) * (1.0 - 3.0 * calo["leak"]) * np.exp(0.15 * noise[2])
    width = shower.width * np.exp(0.12 * noise[3]) + 0.0005 * npv
    return {
        "em_frac": em_frac,
        "em3_frac": np.where(abs_eta < LAR_EDGE, np.clip(em3, 0.0, 1.0), 0.0),
        "tile0_frac": np.where(abs_eta < TILE_EDGE, np.clip(tile0, 0.0, 1.0), 0.0),
        "width": width,
        "n90": np.maximum(1, np.rint(0.45 * shower.n_const * np.exp(0.15 * noise[4]))).astype(
            np.int32
        ),
        "n_muon_segments": rng.poisson(0.1 * calo["e_leaked"] + 0.02).astype(np.int32),
        "detector_eta": eta_reco + 0.005 * noise[5],
    }


def track_inputs(
    rng: np.random.Generator,
    shower: Shower,
    pt_true: np.ndarray,
    pt_reco: np.ndarray,
    eta_reco: np.ndarray,
) -> dict[str, np.ndarray]:
    """Track-based inputs inside the tracker (|eta| < 2.5); zero beyond, as in real files.

    The charged fraction is the tracks' pT over the jet's *reco* (uncalibrated) pT, so
    it carries the calorimeter response and the pile-up energy in the jet, as the
    stored ratio in the experiments' files. Only tracks from the hard-scatter vertex
    enter the three inputs (pile-up tracks are removed by the vertex association), so
    none of them counts pile-up tracks.
    """
    n = pt_true.size
    inside = np.abs(eta_reco) < TRACKER_EDGE
    n_charged = rng.binomial(shower.n_const, 0.62)
    mean_charged_pt = pt_true * shower.f_charged / np.maximum(n_charged, 1)
    above_1gev = 1.0 - np.exp(-mean_charged_pt / 1.0)
    n_trk = rng.binomial(n_charged, TRACK_EFFICIENCY * above_1gev)
    charged = (
        shower.f_charged
        * TRACK_EFFICIENCY
        * pt_true
        / pt_reco
        * np.exp(0.05 * rng.standard_normal(n))
    )
    trk_width = shower.width * np.exp(0.15 * rng.standard_normal(n))
    has_tracks = inside & (n_trk > 0)
    return {
        "charged_frac": np.where(inside, charged, 0.0),
        "n_trk": np.where(inside, n_trk, 0).astype(np.int32),
        "trk_width": np.where(has_tracks, trk_width, 0.0),
    }
