"""One real local Ray instance (2 CPUs) for the whole session, and a small MDN sweep set-up."""

from __future__ import annotations

import os

import pytest
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.neural import MDNCalibrator
from skcal.preprocessing import LogTransformer, SymmetricScaler

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray = pytest.importorskip("ray", reason="the tune extra (ray[tune]) is not installed")

FEATURES = ["e_reco", "pt_reco", "eta", "mu"]
#: The closure figure of merit of the validation jets, in bins of true pT.
BINS = {"pt_true": [20, 60, 200, 3000]}


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray with 2 CPUs, started once and shut down at the end."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="session")
def jets():
    """3000 small-R jets: features, response, truth."""
    table = make_jets(3000, random_state=7)
    return table[FEATURES], (table.e_reco / table.e_true).to_numpy(), table[["pt_true", "eta_true"]]


def mdn_pipeline(max_epochs: int = 4):
    """A tiny MDN pipeline: log energies, scaled inputs, two components, one small layer."""
    return make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco"]),
        SymmetricScaler(clip=True),
        MDNCalibrator(
            n_components=2,
            training_space="log",
            max_epochs=max_epochs,
            batch_size=256,
            lr=3e-3,
            random_state=0,
            module__hidden_sizes=(8,),
        ),
    ).set_output(transform="pandas")
