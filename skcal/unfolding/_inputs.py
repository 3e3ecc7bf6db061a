"""The inputs of an unfolding, validated once: the tables, the weights and the masks.

Simulated events come in pairs of rows (``sim_reco[i]``, ``sim_truth[i]``); an event
without a reco partner (a *miss*: it failed the detector-level selection) is labelled
``reco_mask[i] = False`` and one without a truth partner (a *fake*) ``truth_mask[i] =
False``. The values of a masked side are ignored (they may be NaN); an unlabelled NaN
is an error that says which mask labels it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from skcal._validation import (
    as_finite_vector,
    check_finite,
    check_positive_vector,
    default_feature_names,
    is_dask,
    validate_table,
)
from skcal.exceptions import DataError

__all__ = [
    "TruthColumns",
    "UnfoldingInputs",
    "as_mask",
    "positive_weights",
    "validate_inputs",
    "validate_reco",
]


class TruthColumns(BaseEstimator):
    """Where the particle-level columns are recorded (``n_features_in_``, names)."""


class UnfoldingInputs:
    """The validated arrays of one unfolding (a plain object, cheap to send to a worker)."""

    def __init__(
        self,
        sim_reco: np.ndarray,
        sim_truth: np.ndarray,
        data_reco: np.ndarray,
        sim_weights: np.ndarray,
        data_weights: np.ndarray,
        reco_mask: np.ndarray,
        truth_mask: np.ndarray,
    ) -> None:
        self.sim_reco, self.sim_truth, self.data_reco = sim_reco, sim_truth, data_reco
        self.sim_weights, self.data_weights = sim_weights, data_weights
        self.reco_mask, self.truth_mask = reco_mask, truth_mask

    def replace(self, **changes: Any) -> UnfoldingInputs:
        """A copy with some arrays replaced (a bootstrap replica, a systematic variation)."""
        fields = dict(vars(self))
        fields.update(changes)
        return UnfoldingInputs(**fields)


def _computed(table: Any) -> Any:
    # The classifiers need every event in memory: a Dask table is computed once here.
    return table.compute() if is_dask(table) else table


def as_mask(mask: Any, n: int, name: str) -> np.ndarray:
    """A boolean vector of ``n`` entries (all True where ``mask`` is None)."""
    if mask is None:
        return np.ones(n, dtype=bool)
    array = np.asarray(_computed(mask))
    if array.ndim != 1 or array.shape[0] != n:
        raise DataError(f"{name} has shape {array.shape} where ({n},) was expected")
    if array.dtype != bool:
        raise DataError(
            f"{name} must be boolean (True: the event has that side), got {array.dtype}"
        )
    return array


def positive_weights(weights: Any, n: int, name: str) -> np.ndarray:
    """Finite, strictly positive weights of ``n`` events (ones where ``weights`` is None)."""
    if weights is None:
        return np.ones(n)
    return check_positive_vector(as_finite_vector(_computed(weights), name, n=n), name)


def _check_labelled(values: np.ndarray, mask: np.ndarray, names: Any, what: str, hint: str) -> None:
    rows = np.flatnonzero(mask)
    try:
        check_finite(values[rows], names, index=rows.tolist(), what=what)
    except DataError as exc:
        raise DataError(f"{exc}; {hint}") from None


def validate_inputs(
    est: Any,
    truth: TruthColumns,
    sim_reco: Any,
    sim_truth: Any,
    data_reco: Any,
    sim_weights: Any,
    data_weights: Any,
    reco_mask: Any,
    truth_mask: Any,
) -> UnfoldingInputs:
    """Validate the arguments of ``MultiFold.fit``; record the reco and truth columns."""
    reco = validate_table(est, _computed(sim_reco), reset=True, ensure_finite=False)
    gen = validate_table(truth, _computed(sim_truth), reset=True, ensure_finite=False)
    n = reco.shape[0]
    if gen.shape[0] != n:
        raise DataError(
            f"sim_truth has {gen.shape[0]} rows but sim_reco has {n}: row i of both must be "
            "the same simulated event (label a miss with reco_mask, a fake with truth_mask)"
        )
    data = validate_table(est, _computed(data_reco), reset=False, ensure_finite=False)
    check_finite(data, default_feature_names(est), what="data_reco")
    r_mask = as_mask(reco_mask, n, "reco_mask")
    t_mask = as_mask(truth_mask, n, "truth_mask")
    neither = ~r_mask & ~t_mask
    if neither.any():
        raise DataError(
            f"{int(neither.sum())} simulated event(s) have neither a reco nor a truth side "
            f"(reco_mask and truth_mask both False), the first at row {int(np.argmax(neither))}"
        )
    if not r_mask.any() or not t_mask.any():
        raise DataError("no simulated event has both a reco and a truth side")
    _check_labelled(
        reco,
        r_mask,
        default_feature_names(est),
        "sim_reco",
        "an event without a reco partner (a miss) must be labelled reco_mask=False",
    )
    _check_labelled(
        gen,
        t_mask,
        default_feature_names(truth),
        "sim_truth",
        "an event without a truth partner (a fake) must be labelled truth_mask=False",
    )
    return UnfoldingInputs(
        reco,
        gen,
        data,
        positive_weights(sim_weights, n, "sim_weights"),
        positive_weights(data_weights, data.shape[0], "data_weights"),
        r_mask,
        t_mask,
    )


def validate_reco(est: Any, sim_reco: Any, reco_mask: np.ndarray, n: int) -> np.ndarray:
    """A varied detector level of the ``n`` simulated events of the fit (a systematic)."""
    reco = validate_table(est, _computed(sim_reco), reset=False, ensure_finite=False)
    if reco.shape[0] != n:
        raise DataError(f"sim_reco has {reco.shape[0]} rows but the fit had {n} simulated events")
    _check_labelled(
        reco,
        reco_mask,
        default_feature_names(est),
        "sim_reco",
        "an event without a reco partner (a miss) must be labelled reco_mask=False",
    )
    return reco
