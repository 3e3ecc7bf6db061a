"""The report's figures, in the style of the LHC experiments (mplhep).

Figures are drawn on :class:`matplotlib.figure.Figure` objects directly (never
``pyplot``), so that no global backend or figure registry is touched: a report
written from a notebook or a batch job leaves matplotlib as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PT_LABEL = r"$p_{\mathrm{T}}^{\mathrm{true}}$ [GeV]"
ETA_LABEL = r"$\eta^{\mathrm{true}}$"
CLOSURE_LABEL = r"Mode of $E^{\mathrm{calib}} / E^{\mathrm{true}}$"
RESOLUTION_LABEL = r"Resolution $\sigma_{R} / R$"
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">")
#: The colour-blind-friendly Petroff 10 palette.
COLOURS = (
    "#3f90da",
    "#ffa90e",
    "#bd1f01",
    "#94a4a2",
    "#832db6",
    "#a96b59",
    "#e76300",
    "#b9ac70",
    "#717581",
    "#92dadd",
)


@dataclass(frozen=True)
class PlotStyle:
    """The look of the figures: the mplhep style and the experiment label.

    Attributes
    ----------
    style : str
        An mplhep style: ``"ATLAS"``, ``"CMS"``, ``"LHCb2"``, ``"ROOT"``, ...
    experiment : str
        The bold label of the top-left corner (``"ATLAS"`` only for ATLAS results).
    status : str
        The text after it, for example ``"Simulation"`` or ``"Simulation Internal"``.
    sample : str
        The top-right label (the sample, for example ``"anti-kt R = 0.4, synthetic"``).
    """

    style: str = "ATLAS"
    experiment: str = "skcal"
    status: str = "Simulation"
    sample: str = ""


@contextmanager
def _figure(style: PlotStyle, nrows: int = 1, height_ratios: Any = None) -> Iterator[Any]:
    import matplotlib
    import mplhep
    from matplotlib.figure import Figure

    rc = getattr(mplhep.style, style.style, None)
    if rc is None:
        from skcal.exceptions import DataError

        raise DataError(f"unknown mplhep style {style.style!r}; try 'ATLAS', 'CMS' or 'ROOT'")
    # Mathtext tick labels cost a parse each (most of the drawing time); plain ones look the same.
    with matplotlib.style.context([rc, {"axes.formatter.use_mathtext": False}]):
        fig = Figure(figsize=(10, 8 if nrows == 1 else 10))
        axes = fig.subplots(
            nrows,
            1,
            sharex=True,
            squeeze=False,
            gridspec_kw={"height_ratios": height_ratios, "hspace": 0.05} if nrows > 1 else None,
        )
        yield fig, list(axes[:, 0])


def _label(ax: Any, style: PlotStyle) -> None:
    """The experiment label of mplhep's layout: bold italic name, then the status; sample top right.

    Drawn as two texts, the second anchored to the first at draw time (mplhep's own
    ``exp_label`` draws the figure once more to place them, which doubles the cost).
    """
    name = ax.text(
        0.04,
        0.955,
        style.experiment,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontweight="bold",
        fontstyle="italic",
        fontsize="large",
    )
    ax.annotate(
        f" {style.status}", xy=(1.0, 0.0), xycoords=name, ha="left", va="bottom", fontsize="large"
    )
    if style.sample:
        ax.text(
            1.0,
            1.01,
            style.sample,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize="medium",
        )


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def _log_pt_axis(ax: Any, low: float, high: float) -> None:
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks = [
        t for t in (20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000) if low <= t <= high
    ]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _bands(ax: Any, centre: float = 1.0, bands: tuple[float, ...] = (0.01, 0.05)) -> None:
    for width, alpha in zip(sorted(bands, reverse=True), (0.12, 0.28, 0.4), strict=False):
        ax.axhspan(
            centre - width,
            centre + width,
            color="grey",
            alpha=alpha,
            lw=0,
            label=rf"$\pm{100 * width:g}\%$",
        )
    ax.axhline(centre, color="black", ls="--", lw=1)


def _closure_ylim(ax: Any, values: list[np.ndarray], span: float = 0.08) -> None:
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.array([1.0])])
    low = max(min(1 - span, finite.min() - 0.02), 0.3)
    high = min(max(1 + span, finite.max() + 0.02), 1.7)
    ax.set_ylim(low, high + 0.45 * (high - low))  # room for the labels and legend


def _centres(table: pd.DataFrame, var: str, log: bool) -> np.ndarray:
    low, high = table[f"{var}_low"].to_numpy(), table[f"{var}_high"].to_numpy()
    return np.sqrt(low * high) if log else 0.5 * (low + high)


def _xerr(table: pd.DataFrame, var: str, x: np.ndarray) -> np.ndarray:
    return np.vstack([x - table[f"{var}_low"].to_numpy(), table[f"{var}_high"].to_numpy() - x])


def _slice_label(name: str, low: float, high: float, unit: str = "") -> str:
    symbols = {
        "abs_eta_true": r"|\eta^{\mathrm{true}}|",
        "pt_true": r"p_{\mathrm{T}}^{\mathrm{true}}",
    }
    unit = rf"\ \mathrm{{{unit}}}" if unit else ""
    return rf"${low:g} \leq {symbols.get(name, name)} < {high:g}{unit}$"


def _top(values: Any) -> float:
    """The largest finite value, or 0."""
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[np.isfinite(array)]
    return float(array.max()) if array.size else 0.0


def _points(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] != "empty"]


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
    with _figure(style) as (fig, (ax,)):
        values = []
        for i, (name, table) in enumerate(tables.items()):
            t = _points(
                table[
                    (table[f"{slice_var}_low"] == slice_range[0])
                    & (table[f"{slice_var}_high"] == slice_range[1])
                ]
            )
            xc = _centres(t, x, log)
            ax.errorbar(
                xc,
                t[y],
                xerr=_xerr(t, x, xc),
                yerr=t[yerr],
                fmt=MARKERS[i % len(MARKERS)],
                color=COLOURS[i % len(COLOURS)],
                label=name,
                ms=7,
                capsize=0,
            )
            values.append(t[y].to_numpy())
        if closure:
            _bands(ax, bands=bands)
            _closure_ylim(ax, values)
        else:
            top = max([_top(v) for v in values] + [0.05])
            ax.set_ylim(0, 1.6 * top)
        edges = next(iter(tables.values()))
        if log:
            _log_pt_axis(ax, float(edges[f"{x}_low"].min()), float(edges[f"{x}_high"].max()))
            ax.set_xlabel(PT_LABEL)
        else:
            ax.set_xlim(float(edges[f"{x}_low"].min()), float(edges[f"{x}_high"].max()))
            ax.set_xlabel(ETA_LABEL)
        ax.set_ylabel(ylabel)
        unit = "GeV" if slice_var == "pt_true" else ""
        ax.legend(
            title=_slice_label(slice_var, *slice_range, unit=unit),
            loc="upper right",
            ncol=2,
            fontsize="small",
            title_fontsize="small",
        )
        _label(ax, style)
        return _save(fig, path)


def _populated_range(
    edges: np.ndarray, densities: list[np.ndarray], tail: float = 1e-3
) -> tuple[float, float]:
    """The x range holding all but ``tail`` of every density at each end (the core, not the empty tails)."""
    widths = np.diff(edges)
    lows, highs = [], []
    for density in densities:
        cdf = np.cumsum(np.nan_to_num(density) * widths)
        if cdf[-1] <= 0:
            continue
        cdf /= cdf[-1]
        lows.append(edges[np.searchsorted(cdf, tail)])
        highs.append(edges[min(np.searchsorted(cdf, 1 - tail) + 1, len(edges) - 1)])
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
    with _figure(style) as (fig, (ax,)):
        top = 0.0
        for i, (name, (density, err)) in enumerate(hists.items()):
            colour = COLOURS[i % len(COLOURS)]
            ax.stairs(density, edges, color=colour, lw=2, label=f"{name}")
            ax.errorbar(centres, density, yerr=err, fmt="none", color=colour, lw=1)
            top = max(top, _top(density))
            if name in predicted:
                ax.plot(
                    centres,
                    predicted[name],
                    color=colour,
                    ls="--",
                    lw=2,
                    label=f"{name}: predicted density",
                )
                top = max(top, _top(predicted[name]))
        ax.axvline(1.0, color="black", ls=":", lw=1)
        ax.set_xlim(*_populated_range(edges, [density for density, _ in hists.values()]))
        ax.set_ylim(0, 1.5 * top if top > 0 else 1)
        ax.set_xlabel(r"$E^{\mathrm{calib}} / E^{\mathrm{true}}$")
        ax.set_ylabel("Probability density")
        title = (
            _slice_label("pt_true", box[0], box[1], "GeV")
            + ", "
            + _slice_label("abs_eta_true", box[2], box[3])
        )
        ax.legend(title=title, loc="upper right", fontsize="small", title_fontsize="small")
        _label(ax, style)
        return _save(fig, path)


def plot_flavour(
    table: pd.DataFrame,
    model: str,
    path: Path,
    style: PlotStyle,
    bands: tuple[float, ...] = (0.01, 0.05),
) -> Path:
    """Closure against pT_true per flavour class, for one model."""
    with _figure(style) as (fig, (ax,)):
        values = []
        for i, (flavour, t) in enumerate(table.groupby("flavour", sort=False)):
            t = _points(t)
            xc = _centres(t, "pt_true", True)
            ax.errorbar(
                xc,
                t["mode"],
                xerr=_xerr(t, "pt_true", xc),
                yerr=t["mode_err"],
                fmt=MARKERS[i],
                color=COLOURS[i],
                label=flavour,
                ms=7,
            )
            values.append(t["mode"].to_numpy())
        _bands(ax, bands=bands)
        _closure_ylim(ax, values)
        _log_pt_axis(ax, float(table["pt_true_low"].min()), float(table["pt_true_high"].max()))
        ax.set_xlabel(PT_LABEL)
        ax.set_ylabel(CLOSURE_LABEL)
        eta = (float(table["abs_eta_true_low"].iloc[0]), float(table["abs_eta_true_high"].iloc[0]))
        ax.legend(
            title=f"{model}, " + _slice_label("abs_eta_true", *eta),
            loc="upper right",
            ncol=2,
            fontsize="small",
            title_fontsize="small",
        )
        _label(ax, style)
        return _save(fig, path)


def plot_pileup(
    slopes: Mapping[str, pd.DataFrame],
    variable: str,
    pt_range: tuple[float, float],
    path: Path,
    style: PlotStyle,
) -> Path:
    """Slope of the calibrated response against NPV or mu, per |eta_true| bin, per model."""
    symbol = {"npv": r"N_{\mathrm{PV}}", "mu": r"\langle\mu\rangle"}.get(variable, variable)
    with _figure(style) as (fig, (ax,)):
        n = len(slopes)
        top = 0.0
        for i, (name, table) in enumerate(slopes.items()):
            t = table[
                (table["pt_true_low"] == pt_range[0]) & (table["pt_true_high"] == pt_range[1])
            ]
            low, high = t["abs_eta_true_low"].to_numpy(), t["abs_eta_true_high"].to_numpy()
            width = high - low
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
            top = max(top, _top(finite))
        ax.axhline(0.0, color="black", ls="--", lw=1)
        ax.set_xlim(float(t["abs_eta_true_low"].min()), float(t["abs_eta_true_high"].max()))
        top = max(top, 1e-4)
        ax.set_ylim(-1.3 * top, 2.2 * top)
        ax.set_xlabel(r"$|\eta^{\mathrm{true}}|$")
        ax.set_ylabel(
            rf"$\partial R / \partial {symbol}$ (mode of $E^{{\mathrm{{calib}}}}/E^{{\mathrm{{true}}}}$)"
        )
        ax.legend(
            title=_slice_label("pt_true", *pt_range, unit="GeV"),
            loc="upper right",
            ncol=2,
            fontsize="small",
            title_fontsize="small",
        )
        _label(ax, style)
        return _save(fig, path)


def plot_spectrum(
    table: pd.DataFrame,
    model: str,
    path: Path,
    style: PlotStyle,
    bands: tuple[float, ...] = (0.01,),
) -> Path:
    """Shift of the closure when the sample is re-weighted to a flat energy spectrum."""
    with _figure(style) as (fig, (ax,)):
        values = []
        groups = table.groupby(["abs_eta_true_low", "abs_eta_true_high"], sort=True)
        for i, ((low, high), t) in enumerate(groups):
            t = t[(t["status"] == "ok") & (t["status_flat"] == "ok")]
            xc = _centres(t, "pt_true", True)
            ax.errorbar(
                xc * (1 + 0.02 * i),
                t["shift"],
                yerr=t["mode_flat_err"],
                fmt=MARKERS[i % len(MARKERS)],
                color=COLOURS[i % len(COLOURS)],
                label=_slice_label("abs_eta_true", low, high),
                ms=6,
            )
            values.append(t["shift"].to_numpy() + 1.0)
        _bands(ax, centre=0.0, bands=bands)
        _closure_ylim(ax, values, span=0.02)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 1.0, hi - 1.0)
        _log_pt_axis(ax, float(table["pt_true_low"].min()), float(table["pt_true_high"].max()))
        ax.set_xlabel(PT_LABEL)
        ax.set_ylabel(r"$R_{\mathrm{flat}\ E} - R_{\mathrm{nominal}}$ (closure shift)")
        ax.legend(
            title=f"{model}: test sample re-weighted to a flat $E^{{\\mathrm{{true}}}}$ spectrum",
            loc="upper right",
            ncol=2,
            fontsize="x-small",
            title_fontsize="x-small",
        )
        _label(ax, style)
        return _save(fig, path)


def plot_pulls(
    table: pd.DataFrame, inclusive: Mapping[str, Any], model: str, path: Path, style: PlotStyle
) -> Path:
    """Pull mean and width against pT_true per |eta_true| slice (top), and the inclusive pull distribution."""
    import mplhep  # noqa: F401  (styles registered)

    with _figure(style, nrows=2, height_ratios=[1, 1]) as (fig, (top, bottom)):
        groups = table.groupby(["abs_eta_true_low", "abs_eta_true_high"], sort=True)
        for i, ((low, high), t) in enumerate(groups):
            t = t[t["entries"] > 0]
            xc = _centres(t, "pt_true", True) * (1 + 0.02 * i)
            colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
            top.errorbar(
                xc,
                t["mean"],
                yerr=t["mean_err"],
                fmt=marker,
                color=colour,
                ms=6,
                label=_slice_label("abs_eta_true", low, high),
            )
            bottom.plot(xc, t["width68"], marker=marker, color=colour, ls="none", ms=6)
        top.axhline(0.0, color="black", ls="--", lw=1)
        bottom.axhline(1.0, color="black", ls="--", lw=1)
        top.set_ylim(-1.5, 2.0)
        bottom.set_ylim(0.0, 2.0)
        _log_pt_axis(bottom, float(table["pt_true_low"].min()), float(table["pt_true_high"].max()))
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
        _label(top, style)
        return _save(fig, path)


def plot_pull_distribution(
    inclusive: Mapping[str, Mapping[str, Any]], path: Path, style: PlotStyle
) -> Path:
    """The inclusive pull distribution of each density model, with the unit normal."""
    with _figure(style) as (fig, (ax,)):
        edges = None
        top = 0.0
        for i, (name, pulls) in enumerate(inclusive.items()):
            edges = pulls["edges"]
            ax.stairs(
                pulls["density"],
                edges,
                color=COLOURS[i % len(COLOURS)],
                lw=2,
                label=f"{name}: mean {pulls['mean']:.2f}, width {pulls['width68']:.2f}",
            )
            top = max(top, _top(pulls["density"]))
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
        _label(ax, style)
        return _save(fig, path)


def plot_importance(importance: Mapping[str, pd.Series], path: Path, style: PlotStyle) -> Path:
    """Horizontal bars of each model's feature importance (mean relative change of the prediction)."""
    features = sorted(
        {f for s in importance.values() for f in s.index},
        key=lambda f: -max(s.get(f, 0.0) for s in importance.values()),
    )
    from matplotlib.ticker import NullLocator

    n_models = len(importance)
    with _figure(style) as (fig, (ax,)):
        fig.set_size_inches(10, max(6, 0.45 * len(features) * max(n_models, 1) + 2))
        y = np.arange(len(features))
        height = 0.8 / max(n_models, 1)
        for i, (name, series) in enumerate(importance.items()):
            values = [100 * series.get(f, np.nan) for f in features]  # in percent
            ax.barh(
                y + (i - (n_models - 1) / 2) * height,
                values,
                height=height,
                color=COLOURS[i % len(COLOURS)],
                label=name,
            )
        ax.set_yticks(y, features)
        ax.yaxis.set_minor_locator(NullLocator())
        ax.invert_yaxis()
        values = np.array([v for s in importance.values() for v in s.to_numpy()], dtype=np.float64)
        if (
            values.size
            and np.isfinite(values).all()
            and (values > 0).all()
            and values.max() > 20 * values.min()
        ):
            ax.set_xscale("log")
        ax.set_xlabel(r"Mean $|\Delta R| / R$ [%], input moved by $\pm 1\%$ of its std. dev.")
        ax.legend(loc="lower right", fontsize="small")
        _label(ax, style)
        return _save(fig, path)
