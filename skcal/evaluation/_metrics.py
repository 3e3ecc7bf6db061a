"""The content of ``metrics.json``: definitions, binnings, summaries and every table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from skcal.evaluation._accumulate import ReportFill
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._flags import model_summary
from skcal.evaluation._pulls import inclusive_pulls
from skcal.evaluation._tables import response_distributions


def report_metrics(
    filled: ReportFill,
    tables: dict[str, dict[str, pd.DataFrame]],
    bins: ReportBins,
    tolerances: tuple[float, float],
    flag_sigma: float,
    pileup_sigma: float,
    min_entries: float,
    importance: dict[str, pd.Series],
    shap_values: dict[str, pd.Series],
) -> dict[str, Any]:
    names = list(filled.models)
    metrics: dict[str, Any] = {
        "models": names,
        "n_jets": filled.n_jets,
        "definitions": {
            "closure": (
                "mode (iterative Gaussian core fit) of E_calib / E_true per bin of true quantities"
            ),
            "resolution": "(q84 - q16) / (2 * mode) of E_calib / E_true",
            "pileup_slope": (
                "weighted straight-line slope of the closure mode against the mean NPV (mu)"
            ),
            "spectrum_shift": (
                f"closure re-weighted to a flat {bins.spectrum_column} spectrum minus nominal"
            ),
            "pull": (
                "(R_pred - r) / sigma_tot per jet, r = E_reco / E_true; for a model trained "
                "in a log space (ln R_pred - ln r) / (sigma_tot / R_pred)"
            ),
            "importance": (
                "mean over jets of |R(x +- 0.01 std_j) - R(x)| / R(x), averaged over both signs"
            ),
        },
        "tolerances": list(tolerances),
        "binning": {k: np.asarray(v).tolist() for k, v in vars(bins).items()},
        "summary": {
            name: model_summary(
                name, filled, tables, tolerances, flag_sigma, pileup_sigma, min_entries
            )
            for name in names
        },
    }
    for section, per_model in tables.items():
        metrics[section] = {
            name: table.to_dict(orient="records") for name, table in per_model.items()
        }
    metrics["response_distributions"] = response_distributions(filled, bins)
    metrics["pulls_inclusive"] = {
        name: inclusive_pulls(fill.prediction.pulls)
        for name, fill in filled.models.items()
        if fill.prediction is not None
    }
    metrics["importance"] = {name: series.to_dict() for name, series in importance.items()}
    if shap_values:
        metrics["shap"] = {name: series.to_dict() for name, series in shap_values.items()}
    return metrics


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value if value is None or isinstance(value, str) else str(value)
