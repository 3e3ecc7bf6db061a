"""Small synthetic jet tables for the preprocessing tests (no generator needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_jets(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Jets with a falling pT_true spectrum, eta over the calorimeter, a skewed response."""
    rng = np.random.default_rng(seed)
    pt_true = 20.0 * (1.0 - rng.uniform(size=n)) ** (-1.0 / 2.0)  # p(pT) ~ pT^-3 above 20 GeV
    pt_true = np.minimum(pt_true, 3000.0)
    eta_true = rng.uniform(-4.5, 4.5, size=n)
    response = rng.lognormal(np.log(0.95), 0.1, size=n)
    e_true = pt_true * np.cosh(eta_true)
    m_true = 0.1 * pt_true * rng.uniform(0.2, 1.0, size=n)
    return pd.DataFrame(
        {
            "e_reco": e_true * response,
            "pt_reco": pt_true * response,
            "eta": eta_true + rng.normal(0.0, 0.01, size=n),
            "m_reco": m_true * rng.lognormal(0.0, 0.15, size=n),
            "n_trk": rng.poisson(5.0, size=n).astype(np.float64),
            "e_true": e_true,
            "pt_true": pt_true,
        }
    )


@pytest.fixture
def jets() -> pd.DataFrame:
    return make_jets()


@pytest.fixture
def features(jets: pd.DataFrame) -> pd.DataFrame:
    """The reco-level inputs (no truth columns)."""
    return jets[["e_reco", "pt_reco", "eta", "m_reco", "n_trk"]]


@pytest.fixture
def many_features() -> pd.DataFrame:
    """Enough jets for chunked quantile sketches to match the exact quantiles closely."""
    return make_jets(40_000, seed=3)[["e_reco", "pt_reco", "eta", "m_reco", "n_trk"]]
