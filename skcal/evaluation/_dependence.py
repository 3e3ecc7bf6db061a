"""Robustness checks of a calibration: flavour, pile-up and spectrum dependence.

All are derived from filled :class:`ResponseHistogram` objects (no pass over jets):

- flavour: the closure table per flavour class (gluon, light, charm, bottom);
- pile-up: in each (pT_true, |eta_true|) cell, the straight-line slope of the
  calibrated response mode against the mean NPV (or mu) of its NPV (mu) bins, fitted by
  weighted least squares on the modes' errors (the test of the ATLAS calibration: a
  calibration free of pile-up dependence has slopes compatible with zero);
- spectrum: the closure with the sample re-weighted to a flat spectrum of a truth
  variable (``e_true``), against the unweighted closure. The weight of a jet depends
  only on its truth-energy bin, so the re-weighted histogram is a weighted sum of the
  per-bin histograms, with the weights of
  :func:`skcal.preprocessing.reweight_to_spectrum` (computed by the same function).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from skcal.preprocessing._weights import spectrum_bin_weights
from skcal.response import ResponseHistogram, table_from_histogram


def flavour_table(hist: ResponseHistogram, names: list[str], **options: Any) -> pd.DataFrame:
    """The closure table of a histogram binned in ``flavour_class``, with the class names."""
    table = table_from_histogram(hist, **options)
    table.insert(0, "flavour", [names[int(i)] for i in table.pop("flavour_class_low")])
    return table.drop(columns="flavour_class_high")


def pileup_slopes(
    hist: ResponseHistogram, variable: str, *, min_entries: float = 50.0, **options: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slope of the calibrated response mode against ``variable`` in each cell.

    Returns
    -------
    slopes : DataFrame
        Per (pT_true, |eta_true|) cell: ``slope`` (per unit of the variable),
        ``slope_err``, ``offset`` (the mode at the variable's mean), ``chi2``, ``ndf``,
        ``n_points``, ``significance = slope / slope_err``, ``span`` (the distance
        between the mean values of the variable in the top and the bottom 10% of the
        cell's jets, :func:`decile_span`), and ``shift = slope * span`` with its error
        ``shift_err``: the change of the response between the two deciles that the
        slope implies. Cells with fewer than two usable points have NaN slopes.
    points : DataFrame
        The modes per bin of ``variable`` with the mean value of the variable there
        (what the slopes are fitted to; ``used`` marks the points in the fit).
    """
    points = table_from_histogram(hist, min_entries=min_entries, **options)
    sumw = hist.sumw.sum(axis=-1).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        points[f"mean_{variable}"] = np.where(
            sumw > 0, hist.extra_sums[variable].ravel() / sumw, np.nan
        )
    points["used"] = (
        (points["status"] == "ok")
        & (points["n_effective"] >= min_entries)
        & np.isfinite(points["mode_err"])
        & (points["mode_err"] > 0)
    )
    points["sumw"] = sumw
    keys = ["pt_true_low", "pt_true_high", "abs_eta_true_low", "abs_eta_true_high"]
    rows = []
    for key, group in points.groupby(keys, sort=True):
        use = group[group["used"]]
        fit = _line_fit(
            use[f"mean_{variable}"].to_numpy(),
            use["mode"].to_numpy(),
            use["mode_err"].to_numpy(),
        )
        span = decile_span(group[f"mean_{variable}"].to_numpy(), group["sumw"].to_numpy())
        fit |= {"span": span, "shift": fit["slope"] * span, "shift_err": fit["slope_err"] * span}
        rows.append(dict(zip(keys, key, strict=True)) | fit)
    return pd.DataFrame(rows), points.drop(columns="sumw")


def decile_span(means: np.ndarray, sumw: np.ndarray, fraction: float = 0.1) -> float:
    """Distance between the mean values of the top and the bottom ``fraction`` of the jets.

    From the bins of the variable (their mean values and summed weights): the lowest
    (highest) bins up to ``fraction`` of the weight, the last one in part. A slope times
    this span is the shift of the response between the top and the bottom decile.
    """
    ok = np.isfinite(means) & (sumw > 0)
    if ok.sum() < 2:
        return float("nan")
    order = np.argsort(means[ok])
    x, w = means[ok][order], sumw[ok][order] / sumw[ok].sum()

    def lowest(x: np.ndarray, w: np.ndarray) -> float:
        take = np.clip(fraction - (np.cumsum(w) - w), 0.0, w)
        return float(np.sum(take * x) / np.sum(take))

    return lowest(-x[::-1], w[::-1]) * -1.0 - lowest(x, w)


def _line_fit(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, float]:
    """Weighted least-squares straight line, centred on the weighted mean of x."""
    out = {
        "slope": np.nan,
        "slope_err": np.nan,
        "offset": np.nan,
        "chi2": np.nan,
        "ndf": 0,
        "n_points": int(x.size),
        "significance": np.nan,
    }
    if x.size < 2 or np.ptp(x) == 0:
        return out
    w = 1.0 / err**2
    x0 = float(np.sum(w * x) / np.sum(w))
    dx = x - x0
    sxx = float(np.sum(w * dx * dx))
    slope = float(np.sum(w * dx * y) / sxx)
    offset = float(np.sum(w * y) / np.sum(w))
    resid = y - offset - slope * dx
    out.update(
        slope=slope,
        slope_err=float(np.sqrt(1.0 / sxx)),
        offset=offset,
        chi2=float(np.sum(w * resid**2)),
        ndf=int(x.size - 2),
    )
    out["significance"] = out["slope"] / out["slope_err"]
    return out


def spectrum_tables(
    hist: ResponseHistogram, counts: np.ndarray, edges: np.ndarray, **options: Any
) -> pd.DataFrame:
    """Closure unweighted and re-weighted to a flat spectrum, per (pT_true, |eta_true|) bin.

    ``hist`` is binned in ``spectrum_bin`` (the index of each jet's truth-energy bin)
    first. Returns one row per cell with ``mode`` and ``mode_err`` of both, and
    ``shift = mode_flat - mode``.
    """
    weights = np.zeros(counts.size)
    if counts.sum() > 0:
        weights = spectrum_bin_weights(counts, np.diff(edges), clip=1000.0)
    plain = hist.summed_over("spectrum_bin")
    flat = hist.summed_over("spectrum_bin", weights)
    unweighted = table_from_histogram(plain, **options)
    reweighted = table_from_histogram(flat, **options)
    keys = [c for c in unweighted.columns if c.endswith(("_low", "_high"))]
    out = unweighted[keys + ["entries", "mode", "mode_err", "status"]].copy()
    out["mode_flat"] = reweighted["mode"].to_numpy()
    out["mode_flat_err"] = reweighted["mode_err"].to_numpy()
    out["status_flat"] = reweighted["status"].to_numpy()
    out["shift"] = out["mode_flat"] - out["mode"]
    return out
