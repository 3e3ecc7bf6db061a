"""The figures of the report: which are drawn, from which tables, into which files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skcal.evaluation._accumulate import ReportFill
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._draw_closure import plot_binned, plot_flavour, plot_pileup, plot_spectrum
from skcal.evaluation._draw_importance import plot_importance
from skcal.evaluation._draw_response import plot_distribution, plot_pull_distribution, plot_pulls
from skcal.evaluation._flags import pileup_tolerance
from skcal.evaluation._result import CalibrationReport
from skcal.evaluation._style import CLOSURE_LABEL, RESOLUTION_LABEL, PlotStyle


def _slices(edges: np.ndarray) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def draw_report(
    result: CalibrationReport,
    filled: ReportFill,
    bins: ReportBins,
    style: PlotStyle,
    tolerances: tuple[float, float],
    importance: dict[str, pd.Series],
) -> list[Path]:
    out, tables, figures = result.output_dir, result.tables, []
    for i, sl in enumerate(_slices(bins.abs_eta)):
        figures.append(
            plot_binned(
                tables["closure_pt"],
                x="pt_true",
                y="mode",
                yerr="mode_err",
                slice_var="abs_eta_true",
                slice_range=sl,
                path=out / f"closure_pt_eta{i}.png",
                style=style,
                ylabel=CLOSURE_LABEL,
                closure=True,
                bands=tolerances,
            )
        )
        figures.append(
            plot_binned(
                tables["closure_pt"],
                x="pt_true",
                y="resolution",
                yerr="resolution_err",
                slice_var="abs_eta_true",
                slice_range=sl,
                path=out / f"resolution_pt_eta{i}.png",
                style=style,
                ylabel=RESOLUTION_LABEL,
                closure=False,
            )
        )
    for i, sl in enumerate(_slices(bins.eta_pt)):
        figures.append(
            plot_binned(
                tables["closure_eta"],
                x="eta_true",
                y="mode",
                yerr="mode_err",
                slice_var="pt_true",
                slice_range=sl,
                path=out / f"closure_eta_pt{i}.png",
                style=style,
                ylabel=CLOSURE_LABEL,
                closure=True,
                bands=tolerances,
            )
        )
    for i, entry in enumerate(result.metrics["response_distributions"]):
        hists = {
            name: (entry["density"][name], entry["density_err"][name]) for name in entry["density"]
        }
        figures.append(
            plot_distribution(
                hists,
                entry["predicted_density"],
                bins.density_response,
                bins.density_bins[i],
                out / f"response_{i}.png",
                style,
            )
        )
    for k, (name, table) in enumerate(tables.get("flavour", {}).items()):
        figures.append(plot_flavour(table, name, out / f"flavour_{k}.png", style, bands=tolerances))
    for variable in ("npv", "mu"):
        slopes = tables.get(f"pileup_{variable}")
        if slopes:
            for i, sl in enumerate(_slices(bins.pileup_pt)):
                band = float(pileup_tolerance(sl[1], tolerances[0]))
                path = out / f"pileup_{variable}_pt{i}.png"
                figures.append(plot_pileup(slopes, variable, sl, path, style, band=band))
    for k, (name, table) in enumerate(tables["spectrum"].items()):
        figures.append(
            plot_spectrum(table, name, out / f"spectrum_{k}.png", style, bands=(tolerances[0],))
        )
    inclusive = result.metrics["pulls_inclusive"]
    for k, (name, table) in enumerate(tables.get("pulls", {}).items()):
        figures.append(plot_pulls(table, inclusive[name], name, out / f"pulls_{k}.png", style))
    if inclusive:
        figures.append(plot_pull_distribution(inclusive, out / "pulls.png", style))
    if importance:
        figures.append(plot_importance(importance, out / "importance.png", style))
    return figures
