"""The response curves of a numerical inversion: modes per bin, fit per cell, inversion.

From the response histograms in bins of (condition cell, true value of the quantity),
:func:`bin_modes` takes the mode of each bin; :func:`fit_cells` fits the modes of each
condition cell against ``log t_true`` and inverts the curve on a grid (``t_reco =
t_true * R(t_true)``, correction ``1 / R``); :func:`borrow_nearest` gives the cells
that could not be fitted the curve of the nearest fitted cell; :func:`bin_table`
lays the bins out for inspection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from skcal.inversion._stage import ColumnSpec, spec_name
from skcal.response import ResponseHistogram
from skcal.response import _modefit as modefit

#: The histogram axis of the true value of the quantity, and its extra sum (log t_true).
TRUE_AXIS = "__target_true"
LOG_TRUE = "__log_target_true"


@dataclass
class BinModes:
    """Per bin (flat, cell-major): the mode, its error, mean ``log t_true``, usability."""

    mode: np.ndarray
    error: np.ndarray
    mean_log: np.ndarray
    n_effective: np.ndarray
    status: np.ndarray
    usable: np.ndarray


@dataclass
class CellCurves:
    """Per condition cell: status, fitted parameters, fit range and inversion grid."""

    status: np.ndarray
    params: list[np.ndarray | None]
    fit_range: np.ndarray
    log_reco: np.ndarray
    response: np.ndarray


def bin_modes(hist: ResponseHistogram, *, method: str, min_entries: float) -> BinModes:
    """The response mode of every bin, and whether it may enter the fit of R."""
    sumw, sumw2 = hist.flat()
    est = modefit.estimate_modes(
        sumw, sumw2, hist.response_edges, method=method, min_entries=min_entries
    )
    total = sumw.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_log = hist.extra_sums[LOG_TRUE].ravel() / np.where(total > 0, total, 1.0)
    n_eff = modefit.effective_entries(sumw, sumw2)
    error = est.error
    if method == "kde":  # the kde has no analytic error: use the median's
        error = np.sqrt(np.pi / 2) * est.sigma / np.sqrt(np.maximum(n_eff, 1.0))
    usable = (est.status == modefit.OK) & (n_eff >= min_entries) & np.isfinite(error) & (error > 0)
    return BinModes(est.mode, error, mean_log, n_eff, est.status, usable)


def curve(
    params: np.ndarray, log_t: np.ndarray, fit_function: Callable[..., Any] | None
) -> np.ndarray:
    """R at ``log_t``: the polynomial of coefficients ``params``, or ``fit_function``."""
    if fit_function is None:
        return np.polynomial.polynomial.polyval(log_t, params)
    return np.asarray(fit_function(log_t, *params), dtype=np.float64) * np.ones_like(log_t)


def _fit_cell(
    x: np.ndarray,
    mode: np.ndarray,
    err: np.ndarray,
    poly_order: int,
    fit_function: Callable[..., Any] | None,
    fit_p0: Sequence[float] | None,
) -> np.ndarray | None:
    if fit_function is None:
        order = 0 if np.ptp(x) == 0 else int(min(poly_order, x.size - 1))
        return np.polynomial.Polynomial.fit(x, mode, order, w=1.0 / err).convert().coef
    try:
        p, _ = curve_fit(
            fit_function,
            x,
            mode,
            p0=np.asarray(fit_p0, dtype=np.float64),
            sigma=err,
            absolute_sigma=True,
            maxfev=20_000,
        )
    except (RuntimeError, ValueError, TypeError):
        return None
    return np.asarray(p, dtype=np.float64)


def fit_cells(
    modes: BinModes,
    n_cells: int,
    *,
    poly_order: int,
    fit_function: Callable[..., Any] | None,
    fit_p0: Sequence[float] | None,
    min_points: int,
    n_grid: int,
) -> CellCurves:
    """Fit R against ``log t_true`` in each cell with enough usable bins, and invert it.

    A cell that cannot be fitted (too few bins, a failed fit, a curve that is not
    finite and positive over its range) is ``"borrowed"``, its arrays NaN.
    """
    mode = modes.mode.reshape(n_cells, -1)
    err = modes.error.reshape(n_cells, -1)
    x = modes.mean_log.reshape(n_cells, -1)
    usable = modes.usable.reshape(n_cells, -1)
    status = np.full(n_cells, "borrowed", dtype=object)
    params: list[np.ndarray | None] = [None] * n_cells
    fit_range = np.full((n_cells, 2), np.nan)
    log_reco = np.full((n_cells, n_grid), np.nan)
    response = np.full((n_cells, n_grid), np.nan)
    for c in range(n_cells):
        use = usable[c]
        if use.sum() < min_points:
            continue
        p = _fit_cell(x[c, use], mode[c, use], err[c, use], poly_order, fit_function, fit_p0)
        if p is None:
            continue
        lo, hi = x[c, use].min(), x[c, use].max()
        grid = np.linspace(lo, hi, n_grid) if hi > lo else np.full(n_grid, lo)
        r = curve(p, grid, fit_function)
        if not (np.isfinite(r).all() and (r > 0).all()):
            continue
        reco = grid + np.log(r)
        status[c] = "fitted"
        if np.any(np.diff(reco) <= 0):
            status[c] = "non_monotonic"
            reco = np.maximum.accumulate(reco)
        # np.interp needs increasing abscissae: separate equal values by a rounding error.
        reco = reco + np.arange(reco.size) * 1e-12
        params[c], fit_range[c] = p, (lo, hi)
        log_reco[c], response[c] = reco, r
    return CellCurves(status, params, fit_range, log_reco, response)


def borrow_nearest(curves: CellCurves, shape: Sequence[int]) -> np.ndarray:
    """Give each borrowed cell the grid of the nearest fitted one; the source of each cell.

    Distance is counted in bins of the condition grid of ``shape``; ties go to the
    lower index. At least one cell must be fitted.
    """
    n_cells = curves.status.size
    fitted = np.flatnonzero(curves.status != "borrowed")
    source = np.arange(n_cells)
    coords = np.stack(np.unravel_index(np.arange(n_cells), shape), axis=1).astype(np.float64)
    for c in np.flatnonzero(curves.status == "borrowed"):
        distance = np.linalg.norm(coords[fitted] - coords[c], axis=1)
        source[c] = fitted[int(np.argmin(distance))]
        curves.log_reco[c] = curves.log_reco[source[c]]
        curves.response[c] = curves.response[source[c]]
        curves.fit_range[c] = curves.fit_range[source[c]]
    return source


def bin_table(
    hist: ResponseHistogram,
    condition: Sequence[tuple[ColumnSpec, np.ndarray]],
    modes: BinModes,
) -> pd.DataFrame:
    """Per (condition cell, bin of t_true): edges, entries, mode, status, use in the fit."""
    n_cells, n_t = hist.shape
    shape = [e.size - 1 for _, e in condition] or [1]
    cell_idx = np.repeat(np.arange(n_cells), n_t)
    t_idx = np.tile(np.arange(n_t), n_cells)
    out: dict[str, Any] = {"cell": cell_idx}
    for (spec, edges), index in zip(condition, np.unravel_index(cell_idx, shape), strict=False):
        out[f"{spec_name(spec)}_low"] = edges[index]
        out[f"{spec_name(spec)}_high"] = edges[index + 1]
    t_edges = hist.edges[TRUE_AXIS]
    out["target_true_low"] = t_edges[t_idx]
    out["target_true_high"] = t_edges[t_idx + 1]
    out["entries"] = hist.entries.ravel()
    out["n_effective"] = modes.n_effective
    out["mean_log_target_true"] = modes.mean_log
    out["mode"] = modes.mode
    out["mode_err"] = modes.error
    out["status"] = np.asarray(modefit.STATUS, dtype=object)[modes.status]
    out["used_in_fit"] = modes.usable
    return pd.DataFrame(out)


def invert(
    log_t: np.ndarray, cell: np.ndarray, log_reco: np.ndarray, response: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R at each jet's ``log t`` (reco) in its cell's grid; whether it is beyond the grid.

    Beyond a cell's grid R is frozen at the grid's end values.
    """
    out = np.empty(log_t.size)
    outside = np.zeros(log_t.size, dtype=bool)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(log_reco.shape[0] + 1))
    for c in np.unique(cell):
        rows = order[bounds[c] : bounds[c + 1]]
        grid = log_reco[c]
        out[rows] = np.interp(log_t[rows], grid, response[c])
        outside[rows] = (log_t[rows] < grid[0]) | (log_t[rows] > grid[-1])
    return out, outside
