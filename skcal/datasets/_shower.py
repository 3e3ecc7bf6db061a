"""Latent shower properties of each jet: what the detector response depends on.

See :mod:`skcal.datasets.synthetic` for the physics and its sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skcal.columns import BOTTOM, CHARM, GLUON

#: Mean energy fractions of charged hadrons, photons (from pi0 decays), neutral hadrons.
COMPOSITION = np.array([0.60, 0.27, 0.13])
#: Groom's parametrisation of the EM fraction of a hadron shower: 1 - (E / E0)^(k - 1).
GROOM_E0, GROOM_K = 1.0, 0.82
#: Probability of a semileptonic (e or mu) decay in the heavy-flavour chain.
SEMILEPTONIC = {BOTTOM: 0.35, CHARM: 0.20}


@dataclass(frozen=True)
class Shower:
    """Per-jet latent properties (arrays of one length)."""

    n_const: np.ndarray  # stable particles in the jet
    width: np.ndarray  # pT-weighted angular width
    f_charged: np.ndarray  # energy fractions by particle type (sum to 1)
    f_photon: np.ndarray
    f_neutral_had: np.ndarray
    f_em_had: np.ndarray  # EM fraction of the hadron showers (pi0 fluctuations)
    f_invisible: np.ndarray  # fraction carried by neutrinos and muons of semileptonic decays


def beta_with_mean(
    rng: np.random.Generator, mean: np.ndarray, concentration: np.ndarray | float
) -> np.ndarray:
    """Beta variates of the given mean; variance mean (1 - mean) / (concentration + 1)."""
    return rng.beta(mean * concentration, (1 - mean) * concentration)


def sample_shower(
    rng: np.random.Generator, e_true: np.ndarray, pt: np.ndarray, flavour: np.ndarray, radius: float
) -> Shower:
    """Draw the shower of each jet: multiplicity, width, composition, invisible energy."""
    n = e_true.size
    gluon = flavour == GLUON
    # Multiplicity grows logarithmically with energy; gluons radiate more (C_A / C_F).
    n_mean = (1.2 + 3.0 * np.log(np.maximum(e_true, 2.0) / 2.0)) * np.where(gluon, 1.6, 1.0)
    n_mean *= 1.0 if radius < 0.5 else 1.8
    n_const = 2 + rng.poisson(rng.gamma(10.0, n_mean / 10.0))

    # Angular width falls with pT; gluon jets are wider.
    width_mean = radius * 0.22 * (30.0 / pt) ** 0.35 * np.where(gluon, 1.45, 1.0)
    width = np.clip(width_mean * np.exp(0.35 * rng.standard_normal(n)), 0.005, 0.8 * radius)

    # Composition: Dirichlet around the mean with fluctuations shrinking as 1/N.
    gammas = rng.gamma(COMPOSITION[None, :] * (3.0 * n_const)[:, None])
    fractions = gammas / gammas.sum(axis=1, keepdims=True)
    f_charged, f_photon, f_neutral_had = fractions.T

    # Hadron-shower EM fraction (Groom): rises with the mean hadron energy; it fluctuates
    # per shower (pi0 production) and averages down over the jet's hadrons.
    n_had = np.maximum(0.75 * n_const, 1.0)
    e_had = e_true * (f_charged + f_neutral_had) / n_had
    groom = 1.0 - np.maximum(e_had / GROOM_E0, 1.0) ** (GROOM_K - 1.0)
    f_em_had = beta_with_mean(rng, np.clip(groom, 0.02, 0.95), 5.0 * n_had)

    # Semileptonic b and c decays: a neutrino (and, half the time, a muon that leaves
    # only ~3 GeV in the calorimeter) carry a fraction of the hadron's energy away.
    p_semi = np.select(
        [flavour == BOTTOM, flavour == CHARM], [SEMILEPTONIC[BOTTOM], SEMILEPTONIC[CHARM]], 0.0
    )
    semi = rng.random(n) < p_semi
    x_hadron = np.where(flavour == BOTTOM, rng.beta(7.0, 2.0, n), rng.beta(4.0, 2.0, n))
    f_nu = x_hadron * rng.beta(1.5, 8.0, n)
    f_mu = np.where(rng.random(n) < 0.5, x_hadron * rng.beta(1.5, 8.0, n), 0.0)
    f_mu_lost = np.maximum(f_mu - 3.0 / e_true, 0.0)
    f_invisible = np.where(semi, np.clip(f_nu + f_mu_lost, 0.0, 0.8), 0.0)

    return Shower(
        n_const.astype(np.int32), width, f_charged, f_photon, f_neutral_had, f_em_had, f_invisible
    )
