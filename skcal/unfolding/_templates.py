"""Systematic templates: reweighting one sample to another, and the track-efficiency variation."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from skcal._params import Interval, check_params
from skcal._validation import as_finite_vector, check_finite, default_feature_names
from skcal.unfolding._inputs import positive_weights
from skcal.unfolding._iterate import density_ratio

__all__ = ["reweight", "track_efficiency_mask"]


def _table(values: Any, name: str) -> tuple[np.ndarray, list[str]]:
    array = np.asarray(values, dtype=np.float64)
    array = array.reshape(-1, 1) if array.ndim == 1 else array
    names = list(values.columns) if isinstance(values, pd.DataFrame) else None
    names = names or list(default_feature_names(type("T", (), {"n_features_in_": array.shape[1]})))
    check_finite(array, names, what=name)
    return array, names


def reweight(
    source: Any,
    target: Any,
    *,
    classifier: Any = None,
    source_weights: Any = None,
    target_weights: Any = None,
    max_weight: float = 50.0,
    random_state: int | None = None,
) -> np.ndarray:
    """Per-event weights that make ``source`` distributed as ``target`` (a template).

    A classifier's likelihood ratio (as in a MultiFold step, clipped to
    ``[1 / max_weight, max_weight]``), normalised so that the weighted ``source`` keeps
    its sum of weights. The mismodelling template of an unfolding: the nominal
    simulation's truth reweighted to an alternative generator's, passed as
    ``sim_weights=w0 * reweight(...)`` to :meth:`MultiFold.systematic`.

    Parameters
    ----------
    source, target : array-like or DataFrame of shape (n, n_columns)
        The events to reweight and the events to match, with the same columns.
    classifier : classifier, optional
        As in :class:`MultiFold` (default: :func:`default_classifier`).
    source_weights, target_weights : array-like, optional
        Strictly positive event weights.
    max_weight : float, default=50.0
    random_state : int, optional
        The classifier's seed.

    Returns
    -------
    weights : ndarray of shape (n_source,)
        The ratio, to multiply ``source_weights`` by.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> rng = np.random.default_rng(0)
    >>> source, target = rng.normal(0, 1, (2000, 1)), rng.normal(0.5, 1, (2000, 1))
    >>> trees = HistGradientBoostingClassifier(max_iter=10)
    >>> w = reweight(source, target, classifier=trees, random_state=0)
    >>> round(float(w.mean()), 6), bool(np.average(source[:, 0], weights=w) > 0.1)
    (1.0, True)
    """
    from skcal.unfolding._multifold import default_classifier

    check_params(
        {"max_weight": [Interval(Real, 1, None, closed="neither")]},
        {"max_weight": float(max_weight)},
        "reweight",
    )
    X0, _ = _table(source, "source")
    X1, _ = _table(target, "target")
    w0 = positive_weights(source_weights, X0.shape[0], "source_weights")
    w1 = positive_weights(target_weights, X1.shape[0], "target_weights")
    seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
    ratio = density_ratio(
        default_classifier() if classifier is None else classifier,
        X0, w0, X1, w1, X0, seed=seed, max_weight=float(max_weight),
    )  # fmt: skip
    return np.asarray(ratio * (w0.sum() / (w0 * ratio).sum()))


def track_efficiency_mask(
    track_pt: Any,
    *,
    threshold: float = 20.0,
    loss_below: float = 0.021,
    loss_above: float = 0.01,
    random_state: int | None = None,
) -> np.ndarray:
    """Which tracks survive the track-efficiency variation (True: kept).

    The variation of the review seed: 2.1% of the tracks below ``threshold`` GeV and 1%
    above are dropped at random. Recompute the detector-level observables from the kept
    tracks and pass them as ``sim_reco`` to :meth:`MultiFold.systematic`.

    Examples
    --------
    >>> import numpy as np
    >>> keep = track_efficiency_mask(np.full(100000, 5.0), random_state=0)
    >>> round(float(1 - keep.mean()), 3)
    0.021
    """
    check_params(
        {"loss_below": [Interval(Real, 0, 1, closed="both")],
         "loss_above": [Interval(Real, 0, 1, closed="both")]},
        {"loss_below": float(loss_below), "loss_above": float(loss_above)},
        "track_efficiency_mask",
    )  # fmt: skip
    pt = as_finite_vector(track_pt, "track_pt")
    loss = np.where(pt < threshold, loss_below, loss_above)
    return np.asarray(np.random.default_rng(random_state).random(pt.shape[0]) >= loss)
