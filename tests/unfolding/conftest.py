"""Small Gaussian toys and a fast classifier for the unfolding tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from skcal.unfolding import make_gaussian_toy


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """One OpenMP thread: the trees are fast and the shared cores are not oversubscribed."""
    with threadpool_limits(1):
        yield


def fast_classifier() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=20, learning_rate=0.3, early_stopping=False)


@pytest.fixture(scope="session")
def toy() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return make_gaussian_toy(2500, random_state=3)


@pytest.fixture(scope="session")
def toy_with_misses_and_fakes() -> dict:
    """10% of the simulated truth missed at reco, 5% fakes; the data likewise."""
    rng = np.random.default_rng(4)
    sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(4000, random_state=4)
    missed = rng.random(len(sim_reco)) < 0.1
    sim_reco.loc[missed, "x"] = np.nan
    fakes = pd.DataFrame({"x": rng.normal(0.0, 1.5, 300)})
    sim_reco = pd.concat([sim_reco, fakes], ignore_index=True)
    sim_truth = pd.concat([sim_truth, pd.DataFrame({"x": np.full(300, np.nan)})], ignore_index=True)
    data_seen = rng.random(len(data_reco)) >= 0.1
    data_fakes = pd.DataFrame({"x": rng.normal(0.0, 1.5, 300)})
    data = pd.concat([data_reco[data_seen], data_fakes], ignore_index=True)
    return {
        "sim_reco": sim_reco,
        "sim_truth": sim_truth,
        "data_reco": data,
        "data_truth": data_truth,
        "reco_mask": sim_reco["x"].notna().to_numpy(),
        "truth_mask": sim_truth["x"].notna().to_numpy(),
    }
