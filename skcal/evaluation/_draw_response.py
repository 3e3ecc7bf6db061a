"""The report's response figures: calibrated-response distributions and pulls."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skcal.evaluation._style import (
    COLOURS,
    MARKERS,
    PT_LABEL,
    PlotStyle,
    bin_centres,
    draw_label,
    figure,
    finite_max,
    log_pt_axis,
    save,
    slice_label,
)


def _populated_range(
    edges: np.ndarray, densities: list[np.ndarray], tail: float = 1e-3
) -> tuple[float, float]:
    """The x range holding all but ``tail`` of every density at each end (the core)."""
    widths = np.diff(edges)
    lows: list[float] = []
    highs: list[float] = []
    for density in densities:
        cdf = np.cumsum(np.nan_to_num(density) * widths)
        if cdf[-1] <= 0:
            continue
        cdf /= cdf[-1]
        lows.append(float(edges[int(np.searchsorted(cdf, tail))]))
        highs.append(float(edges[min(int(np.searchsorted(cdf, 1 - tail)) + 1, len(edges) - 1)]))
    if not lows:
        return float(edges[0]), float(edges[-1])
    return float(min(lows)), float(max(highs))


def plot_distribution(
    hists: Mapping[str, tuple[np.ndarray, np.ndarray]],
    predicted: Mapping[str, np.ndarray],
    edges: np.ndarray,
    box: tuple[float, float, float, float],
    path: Path,
    style: PlotStyle,
) -> Path:
    """Normalised calibrated-response histograms per model, with predicted densities (dashed)."""
    centres = 0.5 * (edges[1:] + edges[:-1])
    with figure(style) as (fig, (ax,)):
        top = 0.0
        for i, (name, (density, err)) in enumerate(hists.items()):
            colour = COLOURS[i % len(COLOURS)]
            ax.stairs(density, edges, color=colour, lw=2, label=f"{name}")
            ax.errorbar(centres, density, yerr=err, fmt="none", color=colour, lw=1)
            top = max(top, finite_max(density))
            if name in predicted:
                ax.plot(
                    centres,
                    predicted[name],
                    color=colour,
                    ls="--",
                    lw=2,
                    label=f"{name}: predicted density",
                )
                top = max(top, finite_max(predicted[name]))
        ax.axvline(1.0, color="black", ls=":", lw=1)
        ax.set_xlim(*_populated_range(edges, [density for density, _ in hists.values()]))
        ax.set_ylim(0, 1.5 * top if top > 0 else 1)
        ax.set_xlabel(r"$E^{\mathrm{calib}} / E^{\mathrm{true}}$")
        ax.set_ylabel("Probability density")
        title = (
            slice_label("pt_true", box[0], box[1], "GeV")
            + ", "
            + slice_label("abs_eta_true", box[2], box[3])
        )
        ax.legend(title=title, loc="upper right", fontsize="small", title_fontsize="small")
        draw_label(ax, style)
        return save(fig, path)


def plot_pulls(
    table: pd.DataFrame, inclusive: Mapping[str, Any], model: str, path: Path, style: PlotStyle
) -> Path:
    """Pull mean (top) and width (bottom) against pT_true per |eta_true| slice."""
    with figure(style, nrows=2, height_ratios=[1, 1]) as (fig, (top, bottom)):
        groups = table.groupby(["abs_eta_true_low", "abs_eta_true_high"], sort=True)
        for i, ((low, high), t) in enumerate(groups):
            t = t[t["entries"] > 0]
            xc = bin_centres(t, "pt_true", True) * (1 + 0.02 * i)
            colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
            top.errorbar(
                xc,
                t["mean"],
                yerr=t["mean_err"],
                fmt=marker,
                color=colour,
                ms=6,
                label=slice_label("abs_eta_true", low, high),
            )
            bottom.plot(xc, t["width68"], marker=marker, color=colour, ls="none", ms=6)
        top.axhline(0.0, color="black", ls="--", lw=1)
        bottom.axhline(1.0, color="black", ls="--", lw=1)
        top.set_ylim(-1.5, 2.0)
        bottom.set_ylim(0.0, 2.0)
        log_pt_axis(bottom, float(table["pt_true_low"].min()), float(table["pt_true_high"].max()))
        top.set_ylabel("Pull mean")
        bottom.set_ylabel(r"Pull width (68% / 2)")
        bottom.set_xlabel(PT_LABEL)
        top.legend(
            title=f"{model}: pull $(R_{{\\mathrm{{pred}}}} - r) / \\sigma_{{\\mathrm{{pred}}}}$, "
            f"inclusive mean {inclusive['mean']:.2f}, width {inclusive['width68']:.2f}",
            loc="upper right",
            ncol=3,
            fontsize="x-small",
            title_fontsize="x-small",
        )
        draw_label(top, style)
        return save(fig, path)


def plot_pull_distribution(
    inclusive: Mapping[str, Mapping[str, Any]], path: Path, style: PlotStyle
) -> Path:
    """The inclusive pull distribution of each density model, with the unit normal."""
    edges = np.asarray(next(iter(inclusive.values()))["edges"])  # the same for every model
    with figure(style) as (fig, (ax,)):
        top = 0.0
        for i, (name, pulls) in enumerate(inclusive.items()):
            ax.stairs(
                pulls["density"],
                pulls["edges"],
                color=COLOURS[i % len(COLOURS)],
                lw=2,
                label=f"{name}: mean {pulls['mean']:.2f}, width {pulls['width68']:.2f}",
            )
            top = max(top, finite_max(pulls["density"]))
        grid = np.linspace(edges[0], edges[-1], 400)
        ax.plot(
            grid,
            np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi),
            color="black",
            ls="--",
            label="Normal(0, 1)",
        )
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0, 1.5 * max(top, 0.4))
        ax.set_xlabel(r"Pull $(R_{\mathrm{pred}} - r) / \sigma_{\mathrm{pred}}$")
        ax.set_ylabel("Probability density")
        ax.legend(loc="upper right", fontsize="small")
        draw_label(ax, style)
        return save(fig, path)
