"""Bootstrap replicas: in sequence and on a two-worker LocalCluster, the same weights."""

from __future__ import annotations

import distributed
import numpy as np
import pytest

from skcal.unfolding import MultiFold, covariance
from tests.unfolding.conftest import fast_classifier

EDGES = np.linspace(-2.5, 2.5, 6)


@pytest.fixture(scope="module")
def fitted(toy):
    sim_reco, sim_truth, data_reco, _ = toy
    return MultiFold(fast_classifier(), n_iterations=2, random_state=0).fit(
        sim_reco, sim_truth, data_reco
    )


@pytest.fixture(scope="module")
def sequential(fitted):
    return {of: fitted.bootstrap(2, of=of, random_state=5) for of in ("data", "sim")}


def test_replicas_of_the_data_and_of_the_simulation(toy, fitted, sequential) -> None:
    sim_truth = toy[1]
    data, sim = sequential["data"], sequential["sim"]
    assert data.shape == sim.shape == (2, len(sim_truth))
    assert fitted.bootstrap_weights_["data"] is data
    assert not np.array_equal(data[0], data[1])
    # the simulation's replicas carry the Poisson factor: some events count 0 times
    assert (sim == 0).any() and not (data == 0).any()
    cov = covariance(sim_truth, EDGES, data)
    assert cov.shape == (5, 5) and (np.diag(cov) > 0).all()
    # each replica is an unfolding of the same size
    assert np.allclose(data.sum(axis=1) / fitted.unfolded_weights().sum(), 1, atol=0.05)


def test_the_same_seeds_give_the_same_replicas(fitted, sequential) -> None:
    np.testing.assert_array_equal(fitted.bootstrap(2, random_state=5), sequential["data"])


@pytest.mark.slow
def test_replicas_on_a_local_cluster_equal_the_sequential_ones(fitted, sequential) -> None:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as stream:
            parallel = {
                of: fitted.bootstrap(2, of=of, random_state=5, client=client)
                for of in ("data", "sim")
            }
        workers = {t["worker"] for t in stream.data if "replica" in str(t["key"])}
    assert len(workers) == 2  # the replicas ran on both worker processes
    for of in ("data", "sim"):
        np.testing.assert_array_equal(parallel[of], sequential[of])
