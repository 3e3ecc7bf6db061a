"""The look of the report's figures: the mplhep style, labels, axes and bands.

Figures are drawn on :class:`matplotlib.figure.Figure` objects directly (never
``pyplot``), so that no global backend or figure registry is touched: a report
written from a notebook or a batch job leaves matplotlib as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skcal._params import StrOptions, check_params

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

    Examples
    --------
    >>> from skcal.evaluation import PlotStyle
    >>> style = PlotStyle(style="CMS", status="Simulation Preliminary")
    >>> style.experiment, style.status
    ('skcal', 'Simulation Preliminary')
    """

    style: str = "ATLAS"
    experiment: str = "skcal"
    status: str = "Simulation"
    sample: str = ""


def check_style(style: PlotStyle) -> None:
    """ParameterError unless ``style`` names an mplhep style and its labels are strings."""
    import mplhep

    styles = {name for name in mplhep.style.__all__ if name not in ("set_style", "use")}
    check_params(
        {"style": [StrOptions(styles)], "experiment": [str], "status": [str], "sample": [str]},
        vars(style),
        "PlotStyle",
    )


@contextmanager
def figure(style: PlotStyle, nrows: int = 1, height_ratios: Any = None) -> Iterator[Any]:
    """A new figure in ``style`` (checked by :func:`check_style`) and its column of axes."""
    import matplotlib.style
    import mplhep
    from matplotlib.figure import Figure

    rc = getattr(mplhep.style, style.style)
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


def draw_label(ax: Any, style: PlotStyle) -> None:
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


def save(fig: Any, path: Path) -> Path:
    """Write ``fig`` to ``path`` (PNG, 100 dpi) and return the path."""
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def finish(
    fig: Any, ax: Any, style: PlotStyle, path: Path, title: str, *, size: str = "small"
) -> Path:
    """The closing of every binned plot: a two-column legend titled ``title``, the
    experiment label, and the file written."""
    ax.legend(title=title, loc="upper right", ncol=2, fontsize=size, title_fontsize=size)
    draw_label(ax, style)
    return save(fig, path)


def log_pt_axis(ax: Any, low: float, high: float) -> None:
    """A logarithmic pT axis from ``low`` to ``high`` with round-number ticks."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks = [
        t for t in (20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000) if low <= t <= high
    ]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def draw_bands(ax: Any, centre: float = 1.0, bands: tuple[float, ...] = (0.01, 0.05)) -> None:
    """Grey tolerance bands ``centre +- width`` and a dashed line at ``centre``."""
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


def closure_ylim(ax: Any, values: list[np.ndarray], span: float = 0.08) -> None:
    """A y range around 1 holding ``values``, with room for the labels above."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.array([1.0])])
    low = max(min(1 - span, finite.min() - 0.02), 0.3)
    high = min(max(1 + span, finite.max() + 0.02), 1.7)
    ax.set_ylim(low, high + 0.45 * (high - low))  # room for the labels and legend


def bin_centres(table: pd.DataFrame, var: str, log: bool) -> np.ndarray:
    """Bin centres of ``var`` (geometric with ``log``) from its ``_low`` and ``_high`` columns."""
    low, high = table[f"{var}_low"].to_numpy(), table[f"{var}_high"].to_numpy()
    return np.sqrt(low * high) if log else 0.5 * (low + high)


def bin_xerr(table: pd.DataFrame, var: str, x: np.ndarray) -> np.ndarray:
    """The horizontal error bars from ``x`` to the bin edges of ``var``."""
    return np.vstack([x - table[f"{var}_low"].to_numpy(), table[f"{var}_high"].to_numpy() - x])


def slice_label(name: str, low: float, high: float, unit: str = "") -> str:
    """The mathtext label ``low <= name < high`` of a slice."""
    symbols = {
        "abs_eta_true": r"|\eta^{\mathrm{true}}|",
        "pt_true": r"p_{\mathrm{T}}^{\mathrm{true}}",
    }
    unit = rf"\ \mathrm{{{unit}}}" if unit else ""
    return rf"${low:g} \leq {symbols.get(name, name)} < {high:g}{unit}$"


def finite_max(values: Any) -> float:
    """The largest finite value, or 0."""
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[np.isfinite(array)]
    return float(array.max()) if array.size else 0.0


def drawn_points(table: pd.DataFrame) -> pd.DataFrame:
    """The bins of ``table`` that hold jets."""
    return table[table["status"] != "empty"]
