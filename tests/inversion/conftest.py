"""A toy jet generator with a known response curve, for the calibration tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

ALPHA, BETA = 0.15, 0.05  # residual pile-up per vertex and per interaction (GeV)


def true_response(e_true: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """The known mode of the response: rising with log E, lower at larger |eta|."""
    return (1.0 - 0.9 / np.log(e_true)) * (1.0 - 0.05 * np.abs(eta))


def make_toy(
    n: int, seed: int, *, pileup: bool = False, informative: bool = False
) -> tuple[pd.DataFrame, pd.Series]:
    """Jets with a Gaussian core and a 10% low tail around ``true_response``.

    ``informative``: a jet property ``f`` in [0, 1] shifts the response by +-10%;
    ``pileup``: a pT offset ``rho*A + ALPHA*(NPV - 1) + BETA*mu`` plus fluctuations.
    Returns the jet table (truth columns included) and the response ``e_reco / e_true``.
    """
    rng = np.random.default_rng(seed)
    e_true = np.exp(rng.uniform(np.log(20.0), np.log(3000.0), n))
    eta = rng.uniform(-3.0, 3.0, n)
    f = rng.uniform(0.0, 1.0, n)
    sigma = np.hypot(0.6 / np.sqrt(e_true), 0.04)
    r = true_response(e_true, eta) * rng.normal(1.0, sigma)
    if informative:
        r *= 1.0 + 0.2 * (f - 0.5)
    tail = rng.uniform(size=n) < 0.1
    r[tail] *= 1.0 - rng.exponential(0.15, tail.sum())
    r = np.clip(r, 0.05, None)
    pt_true = e_true / np.cosh(eta)
    pt = pt_true * r
    mu = rng.uniform(10.0, 70.0, n)
    npv = 1.0 + rng.poisson(0.65 * mu)
    rho = np.clip(0.6 * (npv - 1) + 0.1 * mu + rng.normal(0, 1.0, n), 0, None)
    area = rng.normal(0.5, 0.02, n)
    if pileup:
        offset = rho * area + ALPHA * (npv - 1) + BETA * mu + rng.normal(0, 0.4 * np.sqrt(mu), n)
        pt = np.clip(pt + offset, 1.0, None)
    e_reco = pt * np.cosh(eta)
    jets = pd.DataFrame(
        {
            "e_reco": e_reco,
            "pt_reco": pt,
            "eta": eta,
            "f": f,
            "mu": mu,
            "npv": npv,
            "rho": rho,
            "area": area,
            "e_true": e_true,
            "pt_true": pt_true,
            "eta_true": eta,
        }
    )
    return jets, pd.Series(e_reco / e_true, name="response")


RECO = ["e_reco", "pt_reco", "eta", "f", "mu", "npv", "rho", "area"]


@pytest.fixture(scope="session")
def toy() -> tuple[pd.DataFrame, pd.Series]:
    return make_toy(300_000, seed=1)


@pytest.fixture(scope="session")
def toy_test() -> tuple[pd.DataFrame, pd.Series]:
    return make_toy(200_000, seed=2)


@pytest.fixture(scope="session")
def toy_maker():
    """The generator itself, for tests that need their own sample."""
    return make_toy


@pytest.fixture(scope="session")
def reco_columns() -> list[str]:
    return list(RECO)
