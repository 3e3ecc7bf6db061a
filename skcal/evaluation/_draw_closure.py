"""The report's closure figures: closure and resolution against the truth, per flavour,
pile-up and spectrum."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from skcal.evaluation._style import (
    CLOSURE_LABEL,
    COLOURS,
    ETA_LABEL,
    MARKERS,
    PT_LABEL,
    PlotStyle,
    bin_centres,
    bin_xerr,
    closure_ylim,
    draw_bands,
    drawn_points,
    figure,
    finish,
    finite_max,
    log_pt_axis,
    slice_label,
)


def plot_binned(
    tables: Mapping[str, pd.DataFrame],
    *,
    x: str,
    y: str,
    yerr: str,
    slice_var: str,
    slice_range: tuple[float, float],
    path: Path,
    style: PlotStyle,
    ylabel: str,
    closure: bool,
    bands: tuple[float, ...] = (0.01, 0.05),
) -> Path:
    """Closure (with bands) or resolution against ``x`` for each model, in one slice."""
    log = x == "pt_true"
    with figure(style) as (fig, (ax,)):
        values = []
        for i, (name, table) in enumerate(tables.items()):
            t = drawn_points(
                table[
                    (table[f"{slice_var}_low"] == slice_range[0])
                    & (table[f"{slice_var}_high"] == slice_range[1])
                ]
            )
            xc = bin_centres(t, x, log)
            ax.errorbar(
                xc,
                t[y],
                xerr=bin_xerr(t, x, xc),
                yerr=t[yerr],
                fmt=MARKERS[i % len(MARKERS)],
                color=COLOURS[i % len(COLOURS)],
                label=name,
                ms=7,
                capsize=0,
            )
            values.append(t[y].to_numpy())
        if closure:
            draw_bands(ax, bands=bands)
            closure_ylim(ax, values)
        else:
            top = max([finite_max(v) for v in values] + [0.05])
            ax.set_ylim(0, 1.6 * top)
        edges = next(iter(tables.values()))
        if log:
            log_pt_axis(ax, float(edges[f"{x}_low"].min()), float(edges[f"{x}_high"].max()))
            ax.set_xlabel(PT_LABEL)
        else:
            ax.set_xlim(float(edges[f"{x}_low"].min()), float(edges[f"{x}_high"].max()))
            ax.set_xlabel(ETA_LABEL)
        ax.set_ylabel(ylabel)
        unit = "GeV" if slice_var == "pt_true" else ""
        return finish(fig, ax, style, path, slice_label(slice_var, *slice_range, unit=unit))


def plot_flavour(
    table: pd.DataFrame,
    model: str,
    path: Path,
    style: PlotStyle,
    bands: tuple[float, ...] = (0.01, 0.05),
) -> Path:
    """Closure against pT_true per flavour class, for one model."""
    with figure(style) as (fig, (ax,)):
        values = []
        for i, (flavour, t) in enumerate(table.groupby("flavour", sort=False)):
            t = drawn_points(t)
            xc = bin_centres(t, "pt_true", True)
            ax.errorbar(
                xc,
                t["mode"],
                xerr=bin_xerr(t, "pt_true", xc),
                yerr=t["mode_err"],
                fmt=MARKERS[i],
                color=COLOURS[i],
                label=flavour,
                ms=7,
            )
            values.append(t["mode"].to_numpy())
        draw_bands(ax, bands=bands)
        closure_ylim(ax, values)
        log_pt_axis(ax, float(table["pt_true_low"].min()), float(table["pt_true_high"].max()))
        ax.set_xlabel(PT_LABEL)
        ax.set_ylabel(CLOSURE_LABEL)
        eta = (float(table["abs_eta_true_low"].iloc[0]), float(table["abs_eta_true_high"].iloc[0]))
        return finish(fig, ax, style, path, f"{model}, " + slice_label("abs_eta_true", *eta))


def plot_pileup(
    slopes: Mapping[str, pd.DataFrame],
    variable: str,
    pt_range: tuple[float, float],
    path: Path,
    style: PlotStyle,
    band: float = 0.01,
) -> Path:
    """Slope of the calibrated response against NPV or mu, per |eta_true| bin, per model.

    The grey band holds the slopes that shift the response by less than ``band``
    between the top and the bottom 10% of NPV (mu) in each bin (``band / span``).
    """
    symbol = {"npv": r"N_{\mathrm{PV}}", "mu": r"\langle\mu\rangle"}.get(variable, variable)
    with figure(style) as (fig, (ax,)):
        n = len(slopes)
        top = 0.0
        for i, (name, table) in enumerate(slopes.items()):
            t = table[
                (table["pt_true_low"] == pt_range[0]) & (table["pt_true_high"] == pt_range[1])
            ]
            low, high = t["abs_eta_true_low"].to_numpy(), t["abs_eta_true_high"].to_numpy()
            width = high - low
            if i == 0:
                half = band / t["span"].to_numpy()
                edges = np.append(low, high[-1:])
                label = rf"$\pm${100 * band:g}% between NPV deciles"
                if variable == "mu":
                    label = rf"$\pm${100 * band:g}% between $\mu$ deciles"
                ax.stairs(half, edges, baseline=-half, fill=True, color="0.85", label=label)
                top = max(top, finite_max(half))
            xc = low + width * (i + 0.5) / n  # models side by side within each bin
            ax.errorbar(
                xc,
                t["slope"],
                yerr=t["slope_err"],
                xerr=0.5 * width / n,
                fmt=MARKERS[i % len(MARKERS)],
                color=COLOURS[i % len(COLOURS)],
                label=name,
                ms=7,
            )
            finite = np.abs(t["slope"].to_numpy()) + np.nan_to_num(t["slope_err"].to_numpy())
            top = max(top, finite_max(finite))
        ax.axhline(0.0, color="black", ls="--", lw=1)
        ax.set_xlim(float(t["abs_eta_true_low"].min()), float(t["abs_eta_true_high"].max()))
        top = max(top, 1e-4)
        ax.set_ylim(-1.3 * top, 2.2 * top)
        ax.set_xlabel(r"$|\eta^{\mathrm{true}}|$")
        ax.set_ylabel(
            rf"$\partial R / \partial {symbol}$ "
            r"(mode of $E^{\mathrm{calib}}/E^{\mathrm{true}}$)"
        )
        return finish(fig, ax, style, path, slice_label("pt_true", *pt_range, unit="GeV"))


def plot_spectrum(
    table: pd.DataFrame,
    model: str,
    path: Path,
    style: PlotStyle,
    bands: tuple[float, ...] = (0.01,),
) -> Path:
    """Shift of the closure when the sample is re-weighted to a flat energy spectrum."""
    with figure(style) as (fig, (ax,)):
        values = []
        groups = table.groupby(["abs_eta_true_low", "abs_eta_true_high"], sort=True)
        for i, ((low, high), t) in enumerate(groups):
            t = t[(t["status"] == "ok") & (t["status_flat"] == "ok")]
            xc = bin_centres(t, "pt_true", True)
            ax.errorbar(
                xc * (1 + 0.02 * i),
                t["shift"],
                yerr=t["mode_flat_err"],
                fmt=MARKERS[i % len(MARKERS)],
                color=COLOURS[i % len(COLOURS)],
                label=slice_label("abs_eta_true", low, high),
                ms=6,
            )
            values.append(t["shift"].to_numpy() + 1.0)
        draw_bands(ax, centre=0.0, bands=bands)
        closure_ylim(ax, values, span=0.02)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 1.0, hi - 1.0)
        log_pt_axis(ax, float(table["pt_true_low"].min()), float(table["pt_true_high"].max()))
        ax.set_xlabel(PT_LABEL)
        ax.set_ylabel(r"$R_{\mathrm{flat}\ E} - R_{\mathrm{nominal}}$ (closure shift)")
        return finish(
            fig,
            ax,
            style,
            path,
            f"{model}: test sample re-weighted to a flat $E^{{\\mathrm{{true}}}}$ spectrum",
            size="x-small",
        )
