"""Pulls of density calibrators: ``(R_pred - r) / sigma_tot`` per jet, summarised per bin.

``sigma_tot`` is the model's total uncertainty (``predict_uncertainty``); for a model
trained in a log space the pull is taken there, ``(ln R_pred - ln r) / (sigma_tot /
R_pred)`` (the width of ``ln R`` to first order; the pull in ``log10`` is the same).

A calibrator whose predicted widths are right gives pulls of width 1; a symmetric
density centred on the truth gives mean 0 (a skewed one shifts the mean, since
``R_pred`` is the mode). Both the moments (from exact per-bin sums) and the robust
half-width of the central 68% (from the pull histogram) are given: the moments are
sensitive to the tails, the robust width is not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skcal.response import ResponseHistogram, _modefit


def pulls(
    predicted: np.ndarray, response: np.ndarray, std: np.ndarray, training_space: str
) -> np.ndarray:
    """The pull of each jet: ``(R_pred - r) / sigma`` for a model trained on ``r``, or
    in its log space ``(ln R_pred - ln r) / (sigma / R_pred)`` (the width of ``ln R``
    to first order; ``log10`` gives the same pull, the topo-cluster seed's ``t^log``)."""
    if training_space == "response":
        return (predicted - response) / std
    return np.log(predicted / response) / (std / predicted)


def pull_table(hist: ResponseHistogram) -> pd.DataFrame:
    """Per cell: ``entries``, ``mean``, ``mean_err``, ``std`` and ``width68`` of the pulls.

    ``hist`` holds the pulls on its response axis with the extras ``pull`` and ``pull2``
    (their weighted sums).
    """
    sumw, sumw2 = hist.flat()
    total = sumw.sum(axis=1)
    n_eff = _modefit.effective_entries(sumw, sumw2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = hist.extra_sums["pull"].ravel() / total
        std = np.sqrt(np.maximum(hist.extra_sums["pull2"].ravel() / total - mean**2, 0.0))
        mean_err = std / np.sqrt(n_eff)
    q = _modefit.quantiles(sumw, hist.response_edges, np.array([_modefit.P_LOW, _modefit.P_HIGH]))
    grids = np.meshgrid(*[np.arange(e.size - 1) for e in hist.edges.values()], indexing="ij")
    out: dict[str, np.ndarray] = {}
    for grid, (name, e) in zip(grids, hist.edges.items(), strict=True):
        out[f"{name}_low"] = e[grid.ravel()]
        out[f"{name}_high"] = e[grid.ravel() + 1]
    out.update(
        entries=hist.entries.ravel(),
        n_effective=n_eff,
        mean=mean,
        mean_err=mean_err,
        std=std,
        width68=0.5 * (q[:, 1] - q[:, 0]),
    )
    return pd.DataFrame(out)


def inclusive_pulls(hist: ResponseHistogram) -> dict[str, object]:
    """The pull distribution summed over all cells: edges, density, mean, std, width68."""
    sumw = hist.sumw.reshape(-1, hist.sumw.shape[-1]).sum(axis=0)
    total = sumw.sum()
    edges = hist.response_edges
    mean = float(hist.extra_sums["pull"].sum() / total) if total > 0 else float("nan")
    second = float(hist.extra_sums["pull2"].sum() / total) if total > 0 else float("nan")
    q = _modefit.quantiles(sumw[None, :], edges, np.array([_modefit.P_LOW, _modefit.P_HIGH]))[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        density = sumw[1:-1] / (total * np.diff(edges))
    return {
        "edges": edges,
        "density": density,
        "mean": mean,
        "std": float(np.sqrt(max(second - mean**2, 0.0))),
        "width68": float(0.5 * (q[1] - q[0])),
        "underflow": float(sumw[0] / total) if total else 0.0,
        "overflow": float(sumw[-1] / total) if total else 0.0,
    }
