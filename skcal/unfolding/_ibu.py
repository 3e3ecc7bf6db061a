"""The binned baseline: iterative Bayesian unfolding (D'Agostini) from a response matrix.

On the same events as :class:`~skcal.unfolding.MultiFold`: the simulated pairs fill the
response ``R[i, j] = P(reco bin i | truth bin j)`` (a truth event outside the reco bins,
or a miss, counts in the truth bin only: the efficiency), the simulation's fakes (and
reco events whose truth is outside the truth bins) give each reco bin's fake fraction,
which is removed from the data first. From the simulation's truth as prior ``p``, each
iteration is ``p_j <- (p_j / eps_j) * sum_i R[i, j] d_i / sum_k R[i, k] p_k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np

from skcal._chunks import bootstrap_weights
from skcal._params import StrictInterval, check_params
from skcal.exceptions import DataError
from skcal.unfolding._binned import Bins, _n_bins, bin_index
from skcal.unfolding._inputs import as_mask, positive_weights

__all__ = ["IBUResult", "iterative_bayesian_unfolding"]


@dataclass
class IBUResult:
    """The unfolded counts per flat truth bin, with what they were made from.

    ``replicas_data`` and ``replicas_sim``: the unfolded counts of each bootstrap
    replica (shape (n_replicas, n_truth_bins); empty without ``n_replicas``).
    """

    counts: np.ndarray
    response: np.ndarray
    efficiency: np.ndarray
    fake_fraction: np.ndarray
    prior: np.ndarray
    replicas_data: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    replicas_sim: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def covariance(self) -> np.ndarray:
        """The statistical covariance: of the data replicas plus of the simulation's."""
        total = np.zeros((self.counts.size, self.counts.size))
        for replicas in (self.replicas_data, self.replicas_sim):
            if replicas.shape[0] >= 2:
                total += np.atleast_2d(np.cov(replicas, rowvar=False, ddof=1))
        return total


def _as_values(table: Any, name: str, n: int | None = None) -> np.ndarray:
    array = np.asarray(table.compute() if hasattr(table, "dask") else table, dtype=np.float64)
    array = array.reshape(-1, 1) if array.ndim == 1 else array
    if n is not None and array.shape[0] != n:
        raise DataError(f"{name} has {array.shape[0]} rows but sim_reco has {n}")
    return array


def _unfold(
    rb: np.ndarray, tb: np.ndarray, w_sim: np.ndarray, db: np.ndarray, w_data: np.ndarray,
    n_reco: int, n_truth: int, n_iterations: int,
) -> tuple[np.ndarray, ...]:  # fmt: skip
    pair = (rb >= 0) & (tb >= 0)
    joint = np.zeros((n_reco, n_truth))
    np.add.at(joint, (rb[pair], tb[pair]), w_sim[pair])
    truth = np.bincount(tb[tb >= 0], weights=w_sim[tb >= 0], minlength=n_truth)
    reco = np.bincount(rb[rb >= 0], weights=w_sim[rb >= 0], minlength=n_reco)
    with np.errstate(invalid="ignore", divide="ignore"):
        response = np.where(truth > 0, joint / truth, 0.0)
        fakes = np.where(reco > 0, 1.0 - joint.sum(axis=1) / reco, 0.0)
    efficiency = response.sum(axis=0)
    data = np.bincount(db[db >= 0], weights=w_data[db >= 0], minlength=n_reco) * (1.0 - fakes)
    p = truth.copy()
    for _ in range(n_iterations):
        folded = response @ p
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(folded > 0, data / folded, 0.0)
            p = np.where(efficiency > 0, p * (response.T @ ratio) / efficiency, 0.0)
    return p, response, efficiency, fakes, truth


def iterative_bayesian_unfolding(
    sim_reco: Any,
    sim_truth: Any,
    data_reco: Any,
    reco_bins: Bins,
    truth_bins: Bins,
    *,
    n_iterations: int = 4,
    sim_weights: Any = None,
    data_weights: Any = None,
    reco_mask: Any = None,
    truth_mask: Any = None,
    n_replicas: int = 0,
    random_state: int | None = None,
) -> IBUResult:
    """Unfold the binned data with the simulation's response (D'Agostini's iterations).

    Parameters
    ----------
    sim_reco, sim_truth, data_reco : array-like or DataFrame of shape (n, n_columns)
        As in :meth:`MultiFold.fit` (one or more columns).
    reco_bins, truth_bins : edges, or one array of edges per column
    n_iterations : int, default=4
    sim_weights, data_weights, reco_mask, truth_mask : optional
        As in :meth:`MultiFold.fit`.
    n_replicas : int, default=0
        Bootstrap replicas (Poisson(1) weights) of the data and, separately, of the
        simulation, unfolded the same way (:meth:`IBUResult.covariance`).
    random_state : int, optional
        Seeds the replicas.

    Returns
    -------
    IBUResult

    Examples
    --------
    >>> from skcal.unfolding import make_gaussian_toy
    >>> sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(20000, random_state=1)
    >>> edges = [-3, -1, 0, 1, 3]
    >>> out = iterative_bayesian_unfolding(sim_reco, sim_truth, data_reco, edges, edges)
    >>> out.counts.shape, bool(abs(out.counts.sum() / 20000 - 1) < 0.05)
    ((4,), True)
    """
    check_params(
        {
            "n_iterations": [StrictInterval(Integral, 1, None, closed="left")],
            "n_replicas": [StrictInterval(Integral, 0, None, closed="left")],
        },
        {"n_iterations": n_iterations, "n_replicas": n_replicas},
        "iterative_bayesian_unfolding",
    )
    reco = _as_values(sim_reco, "sim_reco")
    n = reco.shape[0]
    gen = _as_values(sim_truth, "sim_truth", n)
    data = _as_values(data_reco, "data_reco")
    r_mask, t_mask = as_mask(reco_mask, n, "reco_mask"), as_mask(truth_mask, n, "truth_mask")
    w_sim = positive_weights(sim_weights, n, "sim_weights")
    w_data = positive_weights(data_weights, data.shape[0], "data_weights")
    rb = np.where(r_mask, bin_index(np.where(r_mask[:, None], reco, 0.0), reco_bins), -1)
    tb = np.where(t_mask, bin_index(np.where(t_mask[:, None], gen, 0.0), truth_bins), -1)
    db = bin_index(data, reco_bins)
    sizes = (_n_bins(reco_bins, reco), _n_bins(truth_bins, gen), int(n_iterations))
    counts, response, eff, fakes, prior = _unfold(rb, tb, w_sim, db, w_data, *sizes)
    result = IBUResult(counts, response, eff, fakes, prior)
    if n_replicas:
        seeds = np.random.SeedSequence(random_state).generate_state(2 * n_replicas)
        result.replicas_data = np.asarray(
            [
                _unfold(rb, tb, w_sim, db, bootstrap_weights(data, w_data, int(s)), *sizes)[0]
                for s in seeds[:n_replicas]
            ]
        )
        result.replicas_sim = np.asarray(
            [
                _unfold(rb, tb, bootstrap_weights(reco, w_sim, int(s)), db, w_data, *sizes)[0]
                for s in seeds[n_replicas:]
            ]
        )
    return result
