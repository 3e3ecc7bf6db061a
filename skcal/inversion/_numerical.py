"""Numerical inversion: the standard Monte-Carlo jet energy (and mass) scale calibration."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin

from skcal.evaluation import _modefit
from skcal.evaluation._histogram import ResponseHistogram
from skcal.exceptions import DataError
from skcal.inversion._stage import (
    ColumnSpec,
    Frame,
    StageMixin,
    bin_lookup,
    check_edges_param,
    check_momentum,
    condition_items,
    spec_name,
)

#: Default binning: |eta| in steps of 0.1 up to 4.5.
DEFAULT_CONDITION: dict[str, np.ndarray] = {"abs_eta": np.round(np.linspace(0.0, 4.5, 46), 10)}
#: Default truth-level bins of the calibrated quantity: 40 logarithmic bins from 10 GeV to 10 TeV.
DEFAULT_TARGET_BINS = np.geomspace(10.0, 10_000.0, 41)
#: Default response histogram: 0 to 3 in steps of 0.005 (plus flow bins).
DEFAULT_RESPONSE_EDGES = np.linspace(0.0, 3.0, 601)
_TARGET = "__target_true"
_LOG = "__log_target_true"


def _add_parts(
    a: tuple[ResponseHistogram, int], b: tuple[ResponseHistogram, int]
) -> tuple[ResponseHistogram, int]:
    """Add two chunks' (histogram, number of clipped jets)."""
    return a[0] + b[0], a[1] + b[1]


class NumericalInversion(RegressorMixin, TransformerMixin, StageMixin, BaseEstimator):
    """The numerical-inversion calibration of ATLAS and CMS, as an estimator.

    ``fit(X, y)`` takes the jet table ``X`` and the response ``y = E_reco / E_true``
    of the uncalibrated jets. The true value of the calibrated quantity is
    ``t_true = t / (y * scale)`` (``t`` the ``target`` column as it reaches this stage,
    ``scale`` the product of earlier corrections). The response modes (an iterative
    Gaussian core fit, :func:`skcal.evaluation.response_mode`) are taken in bins of
    ``t_true`` and of the ``condition`` columns (reco level, for example |eta|); in
    each condition cell the modes are fitted against ``log t_true`` (a polynomial of
    order ``poly_order``, or ``fit_function``); and the fitted curve is inverted:
    every point ``t_true`` of the fit range gives ``t_reco = t_true * R(t_true)`` and
    the correction ``1 / R``, interpolated at the jet's ``t``.

    ``predict(X)`` returns the response of the uncalibrated jet, so that
    ``E_reco / predict(X)`` is the calibrated energy; ``transform(X)`` applies the
    correction to the ``momentum`` columns (for a following stage, such as the GSC).

    The defaults calibrate the energy in bins of (E, |eta|). The jet mass of large-R
    jets is calibrated after the energy with ``target="m_reco"``, ``momentum=
    ("m_reco",)``, its own ``scale_column``, the mass response as ``y``, and
    ``condition`` on the calibrated energy and |eta| (``target_bins`` then bins the
    true mass).

    Policies:

    - Jets whose ``t_true`` is outside ``target_bins``, or whose condition values
      are outside their edges, are not used in the fit (counted in ``n_outside_``);
      with ``clip_condition=True`` the condition values are instead clipped into the
      outermost bins and used (counted in ``n_clipped_``; the GSC does this for the
      tails of its variables).
    - A bin with fewer than ``min_entries`` effective jets, or whose Gaussian fit
      fails, is not used in the fit of R (its median is shown in ``bin_table_``,
      flagged). A condition cell with fewer than ``min_points`` usable bins takes the
      curve of the nearest fitted cell (``cell_status_ == "borrowed"``).
    - Outside a cell's fit range the correction is frozen at its end values; in
      ``predict``, condition values outside the edges use the outermost bins.
      :meth:`outside_range` tells which jets this concerns. ``predict`` never
      returns NaN.

    The histograms are filled chunk by chunk (``chunk_size`` rows in memory, one
    partition at a time for a Dask DataFrame, whose ``y`` and ``sample_weight`` are
    Dask Series with the same partitions), so a Dask fit reads each partition once
    and gives the in-memory fit's correction.

    Parameters
    ----------
    target : str or int, default "e_reco"
        Column of the calibrated quantity (by name for a DataFrame, by position for
        an array).
    condition : mapping of str or int to array-like, optional
        Reco-level binning columns and their edges; default ``{"abs_eta": 0 to 4.5
        in steps of 0.1}``. A name ``abs_<col>`` absent from X means ``|col|``.
    target_bins : array-like, optional
        Edges in the true value of ``target``; default 40 logarithmic bins from 10
        to 10,000 (GeV).
    poly_order : int, default 4
        Order of the polynomial in ``log t_true`` fitted to the modes (reduced to the
        number of usable bins minus one).
    fit_function : callable, optional
        ``f(log_t_true, *params) -> R`` fitted instead of the polynomial, starting
        from ``fit_p0``.
    fit_p0 : sequence of float, optional
        Starting parameters of ``fit_function`` (required with it).
    method : {"gauss_iter", "median", "kde"}, default "gauss_iter"
        Mode estimator of each bin.
    min_entries : float, default 100
        Minimum effective number of jets for a bin to enter the fit.
    min_points : int, default 3
        Minimum usable bins for a condition cell to be fitted.
    response_edges : array-like, optional
        Edges of the response histograms; default 0 to 3 in steps of 0.005.
    momentum : str, int or sequence, default ("e_reco", "pt_reco")
        Columns scaled by the correction in ``transform`` (the jet four-momentum).
    scale_column : str or None, default "calib_scale"
        Column holding the product of earlier corrections (read if present; written
        by ``transform`` for DataFrames).
    clip_condition : bool, default False
        Drop jets whose condition values are outside the edges from the fit (False),
        or clip the values into the outermost bins (True). ``predict`` always clips.
    n_grid : int, default 512
        Points of the inversion grid per condition cell.
    chunk_size : int, default 2**20
        Rows per chunk of an in-memory fit.

    Attributes
    ----------
    bin_table_ : DataFrame
        Per (condition cell, target bin): edges, entries, mean ``log t_true``, mode,
        its error, status, and whether it entered the fit.
    cell_status_ : ndarray of str
        Per condition cell: ``"fitted"``, ``"non_monotonic"`` (fitted; the reco value
        was made monotonic for the inversion) or ``"borrowed"``.
    cell_source_ : ndarray of int
        The cell whose curve each cell uses.
    fit_range_ : ndarray of shape (n_cells, 2)
        Range of ``log t_true`` fitted per cell.
    params_ : list of ndarray
        Fitted parameters per fitted cell (polynomial coefficients in ``log t_true``,
        lowest order first, or the parameters of ``fit_function``).
    n_outside_, n_clipped_ : int
        Jets outside the target bins (not used), and jets whose condition was clipped.
    feature_names_in_ : ndarray of str
        Columns of X at fit (DataFrame input).
    n_features_in_ : int
        Number of columns of X at fit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcal.inversion import NumericalInversion
    >>> rng = np.random.default_rng(0)
    >>> e_true = np.exp(rng.uniform(np.log(20), np.log(2000), 200_000))
    >>> eta = rng.uniform(-2, 2, e_true.size)
    >>> r = (1 - 0.8 / np.log(e_true)) * rng.normal(1, 0.08, e_true.size)
    >>> jets = pd.DataFrame({"e_reco": e_true * r, "pt_reco": e_true * r / np.cosh(eta), "eta": eta})
    >>> ni = NumericalInversion(condition={"abs_eta": [0, 1, 2]}).fit(jets, r)
    >>> closure = jets["e_reco"] / ni.predict(jets) / e_true
    >>> bool(abs(np.median(closure[e_true > 100]) - 1) < 0.01)
    True
    """

    def __init__(
        self,
        target: ColumnSpec = "e_reco",
        *,
        condition: Mapping[ColumnSpec, Any] | None = None,
        target_bins: Any = None,
        poly_order: int = 4,
        fit_function: Callable[..., Any] | None = None,
        fit_p0: Sequence[float] | None = None,
        method: str = "gauss_iter",
        min_entries: float = 100.0,
        min_points: int = 3,
        response_edges: Any = None,
        momentum: ColumnSpec | Sequence[ColumnSpec] = ("e_reco", "pt_reco"),
        scale_column: str | None = "calib_scale",
        clip_condition: bool = False,
        n_grid: int = 512,
        chunk_size: int = 1 << 20,
    ) -> None:
        self.target = target
        self.condition = condition
        self.target_bins = target_bins
        self.poly_order = poly_order
        self.fit_function = fit_function
        self.fit_p0 = fit_p0
        self.method = method
        self.min_entries = min_entries
        self.min_points = min_points
        self.response_edges = response_edges
        self.momentum = momentum
        self.scale_column = scale_column
        self.clip_condition = clip_condition
        self.n_grid = n_grid
        self.chunk_size = chunk_size

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.regressor_tags.poor_score = True
        tags.input_tags.allow_nan = False
        return tags

    # ---- parameters ---------------------------------------------------------------------
    def _condition(self) -> list[tuple[ColumnSpec, np.ndarray]]:
        return condition_items(DEFAULT_CONDITION if self.condition is None else self.condition)

    def _required_columns(self) -> list[ColumnSpec]:
        return [
            self.target,
            *(spec for spec, _ in self._condition()),
            *check_momentum(self.momentum),
        ]

    def _check_params(self) -> None:
        if self.method not in _modefit.METHODS:
            raise DataError(f"method must be one of {_modefit.METHODS}, got {self.method!r}")
        if not isinstance(self.poly_order, int | np.integer) or self.poly_order < 0:
            raise DataError(f"poly_order must be a non-negative integer, got {self.poly_order!r}")
        if self.fit_function is not None and (
            not callable(self.fit_function) or self.fit_p0 is None
        ):
            raise DataError("fit_function must be callable f(log_t, *params), with fit_p0 given")
        if not isinstance(self.min_points, int | np.integer) or self.min_points < 1:
            raise DataError(f"min_points must be a positive integer, got {self.min_points!r}")
        if not isinstance(self.n_grid, int | np.integer) or self.n_grid < 2:
            raise DataError(f"n_grid must be an integer >= 2, got {self.n_grid!r}")
        if not np.isfinite(self.min_entries) or self.min_entries < 0:
            raise DataError(f"min_entries must be >= 0, got {self.min_entries!r}")
        if not isinstance(self.chunk_size, int | np.integer) or self.chunk_size < 1:
            raise DataError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")

    def _target_edges(self) -> np.ndarray:
        edges = check_edges_param(
            DEFAULT_TARGET_BINS if self.target_bins is None else self.target_bins, "target_bins"
        )
        if edges[0] <= 0:
            raise DataError(f"target_bins must be positive (they bin log t_true), got {edges[0]!r}")
        return edges

    # ---- fit -------------------------------------------------------------------------------
    def _cells(
        self, frame: Frame, condition: list[tuple[ColumnSpec, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flat condition-cell index of each jet (clipped) and whether it was outside."""
        cell = np.zeros(frame.n, dtype=np.intp)
        outside = np.zeros(frame.n, dtype=bool)
        for spec, edges in condition:
            index, out = bin_lookup(frame.get(spec, "condition"), edges)
            cell = cell * (edges.size - 1) + index
            outside |= out
        return cell, outside

    def _fill(
        self, frame: Frame, y: np.ndarray, w: np.ndarray | None
    ) -> tuple[ResponseHistogram, int]:
        condition = self._condition()
        t = frame.get(self.target, "target")
        if np.any(t <= 0):
            bad = int(np.flatnonzero(t <= 0)[0])
            raise DataError(
                f"target column {spec_name(self.target)!r} must be > 0 (Negative values "
                f"in data are refused): {t[bad]!r} at row {bad}"
            )
        response = y * frame.scale(self.scale_column)
        t_true = t / response
        cell, outside = self._cells(frame, condition)
        keep = ~outside if not self.clip_condition else np.ones(frame.n, dtype=bool)
        n_clipped = int(outside.sum()) if self.clip_condition else 0
        n_cells = int(np.prod([e.size - 1 for _, e in condition])) if condition else 1
        hist = ResponseHistogram(
            {"cell": np.arange(n_cells + 1, dtype=np.float64) - 0.5, _TARGET: self._target_edges()},
            self._response_edges(),
            extras=(_LOG,),
        )
        dropped = int((~keep).sum())
        if dropped:
            response, t_true, cell = response[keep], t_true[keep], cell[keep]
            w = None if w is None else w[keep]
        hist.fill(
            response,
            {"cell": cell.astype(np.float64), _TARGET: t_true},
            w,
            {_LOG: np.log(t_true)},
            checked=True,
        )
        hist.n_outside += dropped
        return hist, n_clipped

    def _response_edges(self) -> np.ndarray:
        return check_edges_param(
            DEFAULT_RESPONSE_EDGES if self.response_edges is None else self.response_edges,
            "response_edges",
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NumericalInversion:
        """Fit the response curves and their inversion.

        Parameters
        ----------
        X : DataFrame, array of shape (n_jets, n_features), or Dask DataFrame
            The jet table (reco-level columns).
        y : array-like of shape (n_jets,), or Dask Series
            Response of the uncalibrated jets, ``E_reco / E_true`` (finite, > 0).
        sample_weight : array-like of shape (n_jets,), or Dask Series, optional
            Non-negative event weights.

        Returns
        -------
        self
        """
        self._check_params()
        condition = self._condition()
        self._target_edges()

        hist, n_clipped = self._reduce(
            self._fill, X, y, sample_weight, combine=_add_parts, chunk_size=int(self.chunk_size)
        )
        self.n_outside_ = int(hist.n_outside)
        self.n_clipped_ = int(n_clipped)
        self.condition_edges_ = [edges for _, edges in condition]
        self.target_edges_ = self._target_edges()
        self._fit_curves(hist, condition)
        return self

    def _fit_curves(
        self, hist: ResponseHistogram, condition: list[tuple[ColumnSpec, np.ndarray]]
    ) -> None:
        sumw, sumw2 = hist.flat()
        n_cells, n_t = hist.shape
        est = _modefit.estimate_modes(
            sumw,
            sumw2,
            hist.response_edges,
            method=self.method,
            min_entries=float(self.min_entries),
        )
        total = sumw.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_log = hist.extra_sums[_LOG].ravel() / np.where(total > 0, total, 1.0)
        n_eff = _modefit.effective_entries(sumw, sumw2)
        error = est.error
        if self.method == "kde":  # the kde has no analytic error: use the median's
            error = np.sqrt(np.pi / 2) * est.sigma / np.sqrt(np.maximum(n_eff, 1.0))
        usable = (
            (est.status == _modefit.OK)
            & (n_eff >= self.min_entries)
            & np.isfinite(error)
            & (error > 0)
        )
        self.bin_table_ = self._bin_table(hist, condition, est, error, mean_log, n_eff, usable)

        mode = est.mode.reshape(n_cells, n_t)
        err = error.reshape(n_cells, n_t)
        x = mean_log.reshape(n_cells, n_t)
        usable = usable.reshape(n_cells, n_t)
        status = np.full(n_cells, "borrowed", dtype=object)
        params: list[np.ndarray | None] = [None] * n_cells
        fit_range = np.full((n_cells, 2), np.nan)
        log_reco = np.full((n_cells, int(self.n_grid)), np.nan)
        response = np.full((n_cells, int(self.n_grid)), np.nan)
        for c in range(n_cells):
            use = usable[c]
            if use.sum() < self.min_points:
                continue
            p = self._fit_cell(x[c, use], mode[c, use], err[c, use])
            if p is None:
                continue
            lo, hi = x[c, use].min(), x[c, use].max()
            grid = (
                np.linspace(lo, hi, int(self.n_grid)) if hi > lo else np.full(int(self.n_grid), lo)
            )
            r = self._curve(p, grid)
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
        fitted = np.flatnonzero(status != "borrowed")
        if fitted.size == 0:
            raise DataError(
                f"no condition cell has {self.min_points} bins with {self.min_entries} "
                f"effective jets: the sample is too small for this binning "
                f"({hist.entries.sum()} jets used, {hist.n_outside} outside the target bins)"
            )
        source = np.arange(n_cells)
        shape = [e.size - 1 for _, e in condition] or [1]
        coords = np.stack(np.unravel_index(np.arange(n_cells), shape), axis=1).astype(np.float64)
        for c in np.flatnonzero(status == "borrowed"):
            distance = np.linalg.norm(coords[fitted] - coords[c], axis=1)
            source[c] = fitted[int(np.argmin(distance))]  # ties: the lower index
            log_reco[c], response[c], fit_range[c] = (
                log_reco[source[c]],
                response[source[c]],
                fit_range[source[c]],
            )
        self.cell_status_ = status.astype(str)
        self.cell_source_ = source
        self.fit_range_ = fit_range
        self.params_ = params
        self.log_reco_grid_ = log_reco
        self.response_grid_ = response

    def _fit_cell(self, x: np.ndarray, mode: np.ndarray, err: np.ndarray) -> np.ndarray | None:
        if self.fit_function is None:
            order = int(min(self.poly_order, x.size - 1))
            if np.ptp(x) == 0:
                order = 0
            poly = np.polynomial.Polynomial.fit(x, mode, order, w=1.0 / err)
            return poly.convert().coef
        try:
            p, _ = curve_fit(
                self.fit_function,
                x,
                mode,
                p0=np.asarray(self.fit_p0, dtype=np.float64),
                sigma=err,
                absolute_sigma=True,
                maxfev=20_000,
            )
        except (RuntimeError, ValueError, TypeError):
            return None
        return np.asarray(p, dtype=np.float64)

    def _curve(self, params: np.ndarray, log_t: np.ndarray) -> np.ndarray:
        if self.fit_function is None:
            return np.polynomial.polynomial.polyval(log_t, params)
        return np.asarray(self.fit_function(log_t, *params), dtype=np.float64) * np.ones_like(log_t)

    def _bin_table(
        self,
        hist: ResponseHistogram,
        condition: list[tuple[ColumnSpec, np.ndarray]],
        est: _modefit.ModeArrays,
        error: np.ndarray,
        mean_log: np.ndarray,
        n_eff: np.ndarray,
        usable: np.ndarray,
    ) -> pd.DataFrame:
        n_cells, n_t = hist.shape
        shape = [e.size - 1 for _, e in condition] or [1]
        cell_idx = np.repeat(np.arange(n_cells), n_t)
        t_idx = np.tile(np.arange(n_t), n_cells)
        out: dict[str, Any] = {"cell": cell_idx}
        for (spec, edges), index in zip(condition, np.unravel_index(cell_idx, shape), strict=False):
            out[f"{spec_name(spec)}_low"] = edges[index]
            out[f"{spec_name(spec)}_high"] = edges[index + 1]
        t_edges = hist.edges[_TARGET]
        out["target_true_low"] = t_edges[t_idx]
        out["target_true_high"] = t_edges[t_idx + 1]
        out["entries"] = hist.entries.ravel()
        out["n_effective"] = n_eff
        out["mean_log_target_true"] = mean_log
        out["mode"] = est.mode
        out["mode_err"] = error
        out["status"] = np.asarray(_modefit.STATUS, dtype=object)[est.status]
        out["used_in_fit"] = usable
        return pd.DataFrame(out)

    # ---- predict ---------------------------------------------------------------------------
    def _stage_response(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """This stage's response at the jet's current value, and the outside-range flags."""
        condition = [
            (spec, edges)
            for (spec, _), edges in zip(self._condition(), self.condition_edges_, strict=True)
        ]
        cell, outside = self._cells(frame, condition)
        t = frame.get(self.target, "target")
        if np.any(t <= 0):
            bad = int(np.flatnonzero(t <= 0)[0])
            raise DataError(
                f"target column {spec_name(self.target)!r} must be > 0 (Negative values "
                f"in data are refused): {t[bad]!r} at row {bad}"
            )
        log_t = np.log(t)
        out = np.empty(frame.n)
        order = np.argsort(cell, kind="stable")
        bounds = np.searchsorted(cell[order], np.arange(self.log_reco_grid_.shape[0] + 1))
        for c in np.unique(cell):
            rows = order[bounds[c] : bounds[c + 1]]
            grid = self.log_reco_grid_[c]
            out[rows] = np.interp(log_t[rows], grid, self.response_grid_[c])
            outside[rows] |= (log_t[rows] < grid[0]) | (log_t[rows] > grid[-1])
        return out, outside

    def predict(self, X: Any) -> Any:
        """Response of the uncalibrated jets: ``E_reco / predict(X)`` is calibrated.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table, with the columns used at fit.

        Returns
        -------
        ndarray of shape (n_jets,), or Dask Series
            ``R_stage / scale``: this stage's response divided by the earlier
            corrections' product (1 when there are none).
        """

        def func(frame: Frame) -> Any:
            values = self._stage_response(frame)[0] / frame.scale(self.scale_column)
            return pd.Series(values, index=frame.X.index) if frame.is_frame else values

        return self._map(X, func, meta=pd.Series(dtype=np.float64))

    def transform(self, X: Any) -> Any:
        """X with the ``momentum`` columns calibrated and ``scale_column`` updated.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table, with the columns used at fit.

        Returns
        -------
        DataFrame, ndarray or Dask DataFrame
            A copy of X; the scale column is added or updated for DataFrames.
        """

        def func(frame: Frame) -> Any:
            return self._apply_factor(frame, 1.0 / self._stage_response(frame)[0])

        meta = self._transform_meta(X) if hasattr(X, "_meta") else None
        return self._map(X, func, meta=meta)

    def outside_range(self, X: Any) -> Any:
        """Whether each jet is outside the calibrated range (condition clipped or target frozen).

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table.

        Returns
        -------
        ndarray of bool of shape (n_jets,), or Dask Series
        """

        def func(frame: Frame) -> Any:
            flags = self._stage_response(frame)[1]
            return pd.Series(flags, index=frame.X.index) if frame.is_frame else flags

        return self._map(X, func, meta=pd.Series(dtype=bool))

    def response_curve(self, log_t_true: Any, cell: int = 0) -> np.ndarray:
        """The fitted response ``R`` at ``log t_true`` in a condition cell (frozen outside its range).

        Parameters
        ----------
        log_t_true : array-like
            Natural logarithm of the true value of the target.
        cell : int, default 0
            Flat index of the condition cell (row-major over the condition edges).

        Returns
        -------
        ndarray
        """
        self._check_fitted()
        source = int(self.cell_source_[cell])
        lo, hi = self.fit_range_[source]
        x = np.clip(np.asarray(log_t_true, dtype=np.float64), lo, hi)
        return self._curve(self.params_[source], x)
