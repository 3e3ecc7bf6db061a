"""Bootstrap replicas of an unfolding: in sequence, or one task per replica on a client.

Replica ``k`` of the data (or of the simulation) multiplies the data's (the
simulation's) weights by Poisson(1) weights per event and unfolds again from scratch.
Its seed gives both the Poisson weights and every classifier's seed, so a replica is
the same computation here and on a worker: with the same seeds, the parallel and the
sequential replicas give the same weights. On a worker, each replica runs with one
OpenMP thread. In-memory inputs are scattered to the
workers once (``broadcast=True``), not sent with every replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skcal._chunks import bootstrap_weights
from skcal.unfolding._inputs import UnfoldingInputs
from skcal.unfolding._iterate import Settings, unfold

__all__ = ["replica", "run_replicas"]


def replica(inputs: UnfoldingInputs, settings: Settings, of: str, seed: int) -> np.ndarray:
    """The final particle-level weights of one bootstrap replica (Poisson factor included)."""
    poisson_seed, fit_seed = np.random.SeedSequence(int(seed)).generate_state(2)
    if of == "data":
        w = bootstrap_weights(inputs.data_reco, inputs.data_weights, int(poisson_seed))
        varied = inputs.replace(data_weights=w)
    else:
        w = bootstrap_weights(inputs.sim_reco, inputs.sim_weights, int(poisson_seed))
        varied = inputs.replace(sim_weights=w)
    _, pushes = unfold(varied, settings, int(fit_seed))
    return np.asarray(pushes[-1])


def replica_on_worker(
    inputs: UnfoldingInputs, settings: Settings, of: str, seed: int
) -> np.ndarray:
    # The replicas are the parallelism there: one OpenMP thread per task, so that the
    # worker processes do not oversubscribe the cores (the weights do not depend on it).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return replica(inputs, settings, of, seed)


def run_replicas(
    inputs: UnfoldingInputs,
    settings: Settings,
    of: str,
    seeds: Sequence[int],
    client: Any = None,
) -> np.ndarray:
    """Every replica's weights, shape ``(len(seeds), n_sim)``; on ``client`` if given."""
    if client is None:
        return np.asarray([replica(inputs, settings, of, s) for s in seeds])
    [shared] = client.scatter([inputs], broadcast=True, hash=False)
    futures = [
        client.submit(replica_on_worker, shared, settings, of, int(s), pure=False) for s in seeds
    ]
    return np.asarray(client.gather(futures))
