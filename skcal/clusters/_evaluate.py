"""The topo-cluster seed's evaluation: signal linearity, relative resolution and pulls.

Definitions (the 2025 topo-cluster talk), for a calibration ``k`` with
``E_k = E_EM / R_k`` and in each bin of a variable (``E_dep`` or any feature):

- signal linearity ``Delta_E = median(E_k / E_dep) - 1``;
- relative local resolution ``sigma_rel = Q68^w(E_k / E_dep) / (2 median(E_k / E_dep))``,
  with ``Q68^w`` the weighted central 68% interquantile range ``q84 - q16``;
- the pull in log space ``t^log = R_k ln10 (log10 R_k - log10 R_EM) / sigma_tot``, for the
  density calibrations (``sigma_tot`` from ``predict_uncertainty``).

The statistics are those of :func:`skcal.response.closure_table` (the median as the
centre, the ``iqr68`` resolution, Poisson-bootstrap errors) and the pull table of the
evaluation report, so that the cluster figures mean what the jet figures mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from skcal._validation import as_response, as_weights
from skcal.evaluation._apply import predict_response, total_uncertainty
from skcal.evaluation._pulls import pull_table, pulls
from skcal.exceptions import DataError, ParameterError
from skcal.response import ResponseHistogram, closure_table

__all__ = ["DEFAULT_E_DEP_EDGES", "EM_SCALE", "cluster_performance"]

#: The model name that stands for no calibration (``R = 1``: the EM scale).
EM_SCALE = "em"
#: Bins of the deposited energy (GeV) of the evaluation.
DEFAULT_E_DEP_EDGES = np.array([0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 2000.0])
RESPONSE_EDGES = np.linspace(0.0, 4.0, 2001)
PULL_EDGES = np.linspace(-10.0, 10.0, 801)


def _training_space(model: Any) -> str:
    tail = model[-1] if isinstance(model, Pipeline) else model
    return str(getattr(tail, "training_space_", getattr(tail, "training_space", "response")))


def cluster_performance(
    models: Mapping[str, Any],
    table: pd.DataFrame,
    *,
    by: str = "e_dep",
    edges: Sequence[float] | None = None,
    energy: str = "e_em",
    truth: str = "e_dep",
    weights: str | None = None,
    n_bootstrap: int = 50,
    random_state: int = 0,
) -> pd.DataFrame:
    """Signal linearity, relative resolution and pull widths per bin of ``by``.

    Parameters
    ----------
    models : mapping of str to fitted model, array or ``"em"``
        The calibrations side by side: anything whose ``predict`` gives the response
        ``E_EM / E_dep`` from the table's columns (a pipeline, LCW), the responses it
        predicted (an array of one per cluster; then no pulls), or the string ``"em"``
        for the EM scale (``R = 1``).
    table : DataFrame
        Held-out clusters with the models' inputs, ``energy`` and ``truth``.
    by : str, default "e_dep"
        The variable of the bins (``e_dep``, or a feature such as ``lambda_clus``).
    edges : sequence of float, optional
        Its bin edges; default :data:`DEFAULT_E_DEP_EDGES` for ``e_dep``, else the
        deciles of the column.
    energy, truth : str
        The columns of ``E_EM`` and ``E_dep``.
    weights : str, optional
        A column of per-cluster weights (the ``w`` of ``Q68^w``).
    n_bootstrap : int, default 50
        Poisson-bootstrap replicas for the resolution's error.
    random_state : int, default 0

    Returns
    -------
    DataFrame
        One row per model and bin: ``model``, ``<by>_low``, ``<by>_high``,
        ``entries``, ``linearity`` and ``linearity_err``, ``resolution`` and
        ``resolution_err``, and for density calibrations ``pull_mean``, ``pull_std``
        and ``pull_width68`` (half the central 68% of ``t^log``; NaN otherwise).

    Examples
    --------
    >>> from skcal.clusters import cluster_performance
    >>> from skcal.datasets import make_clusters
    >>> clusters = make_clusters(5000, random_state=0)
    >>> table = cluster_performance({"em": "em"}, clusters, edges=[1, 10, 100], n_bootstrap=0)
    >>> table[["model", "e_dep_low", "entries"]].shape
    (2, 3)
    >>> bool((table["linearity"] < 0).all())  # the EM scale is below the deposited energy
    True
    """
    if not models:
        raise ParameterError("models must name at least one calibration")
    for column in (energy, truth, by, *([weights] if weights else [])):
        if column not in table.columns:
            raise DataError(f"the cluster table lacks the column {column!r}")
    raw = as_response(table[energy].to_numpy() / table[truth].to_numpy(), f"{energy} / {truth}")
    w = None if weights is None else as_weights(table[weights].to_numpy(), len(table), weights)
    if edges is not None:
        by_edges = np.asarray(edges, dtype=np.float64)
    elif by == truth:
        by_edges = DEFAULT_E_DEP_EDGES
    else:
        by_edges = np.unique(np.quantile(table[by].to_numpy(), np.linspace(0, 1, 11)))
        by_edges[-1] = np.nextafter(by_edges[-1], np.inf)  # the largest value inside
    bins = {by: by_edges}
    data = {by: table[by].to_numpy(dtype=np.float64)}
    out = []
    for name, model in models.items():
        is_em = isinstance(model, str)
        given = isinstance(model, np.ndarray | pd.Series)
        if is_em and model != EM_SCALE:
            raise ParameterError(f"models[{name!r}] is the string {model!r}; only 'em' is known")
        if is_em:
            predicted = np.ones(len(table))
        elif given:
            predicted = as_response(np.asarray(model, dtype=np.float64), name, n=len(table))
        else:
            predicted = predict_response(model, table)
        closure = closure_table(
            raw / predicted,
            bins=bins,
            data=data,
            weights=w,
            response_edges=RESPONSE_EDGES,
            method="median",
            n_bootstrap=n_bootstrap,
            random_state=random_state,
        )
        rows = closure[[f"{by}_low", f"{by}_high", "entries"]].copy()
        rows.insert(0, "model", name)
        rows["linearity"] = closure["mode"] - 1.0
        rows["linearity_err"] = closure["mode_err"]
        rows["resolution"] = closure["resolution"]
        rows["resolution_err"] = closure["resolution_err"]
        rows[["pull_mean", "pull_std", "pull_width68"]] = np.nan
        sigma = None if is_em or given else total_uncertainty(model)
        if sigma is not None:
            t = pulls(predicted, raw, sigma(table), _training_space(model))
            hist = ResponseHistogram(bins, PULL_EDGES, extras=("pull", "pull2"))
            hist.fill(t, data, w, extras={"pull": t, "pull2": t * t}, checked=True)
            table_p = pull_table(hist)
            rows["pull_mean"] = table_p["mean"].to_numpy()
            rows["pull_std"] = table_p["std"].to_numpy()
            rows["pull_width68"] = table_p["width68"].to_numpy()
        out.append(rows)
    return pd.concat(out, ignore_index=True)
