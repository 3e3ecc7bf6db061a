"""The tables the report derives from its histograms: one per section and model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from skcal.evaluation._accumulate import ReportFill
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._dependence import flavour_table, pileup_slopes, spectrum_tables
from skcal.evaluation._pulls import pull_table
from skcal.evaluation._truth import FLAVOURS
from skcal.response import table_from_histogram


def report_tables(
    filled: ReportFill, bins: ReportBins, options: dict[str, Any]
) -> dict[str, dict[str, pd.DataFrame]]:
    tables: dict[str, dict[str, pd.DataFrame]] = {
        key: {}
        for key in (
            "closure_pt",
            "closure_eta",
            "flavour",
            "pileup_npv",
            "pileup_npv_points",
            "pileup_mu",
            "pileup_mu_points",
            "spectrum",
            "pulls",
        )
    }
    no_boot = {**options, "n_bootstrap": 0}
    for name, fill in filled.models.items():
        tables["closure_pt"][name] = table_from_histogram(fill.closure_pt, **options)
        tables["closure_eta"][name] = table_from_histogram(fill.closure_eta, **options)
        if fill.flavour is not None:
            tables["flavour"][name] = flavour_table(fill.flavour, list(FLAVOURS), **no_boot)
        for variable, hist in fill.pileup.items():
            slopes, points = pileup_slopes(hist, variable, **no_boot)
            tables[f"pileup_{variable}"][name] = slopes
            tables[f"pileup_{variable}_points"][name] = points
        tables["spectrum"][name] = spectrum_tables(
            fill.spectrum, filled.spectrum_counts, bins.spectrum, **no_boot
        )
        if fill.prediction is not None:
            tables["pulls"][name] = pull_table(fill.prediction.pulls)
    return {k: v for k, v in tables.items() if v}


def response_distributions(filled: ReportFill, bins: ReportBins) -> list[dict[str, Any]]:
    edges = bins.density_response
    out = []
    for k, box in enumerate(bins.density_bins):
        entry: dict[str, Any] = {
            "pt_true": list(box[:2]),
            "abs_eta_true": list(box[2:]),
            "edges": edges,
            "density": {},
            "density_err": {},
            "predicted_density": {},
        }
        for name, fill in filled.models.items():
            hist = fill.density[k]
            sumw, sumw2 = hist.sumw.reshape(-1)[1:-1], hist.sumw2.reshape(-1)[1:-1]
            total = hist.sumw.sum()
            norm = total * np.diff(edges) if total > 0 else np.ones(edges.size - 1)
            entry["density"][name] = sumw / norm
            entry["density_err"][name] = np.sqrt(sumw2) / norm
            if fill.prediction is not None and fill.prediction.weight[k] > 0:
                entry["predicted_density"][name] = (
                    fill.prediction.density[k] / fill.prediction.weight[k]
                )
        out.append(entry)
    return out
