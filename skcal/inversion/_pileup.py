"""The area-based pile-up offset correction, with its residual NPV and mu terms."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from skcal._params import Interval
from skcal._validation import check_positive_vector
from skcal.exceptions import DataError, ParameterError
from skcal.inversion._stage import STAGE_CONSTRAINTS, ColumnSpec, Frame, StageMixin, spec_name
from skcal.response import bin_lookup, check_edges

#: Default |eta| bins of alpha and beta: 0 to 4.5 in steps of 0.5.
DEFAULT_ABS_ETA_BINS = np.linspace(0.0, 4.5, 10)
#: Default true-pT bins of the fit's intercepts: 30 logarithmic bins from 10 GeV to 5 TeV.
DEFAULT_PT_TRUE_BINS = np.geomspace(10.0, 5000.0, 31)
_PER_BIN = ("w", "wn", "wm", "wd")
_PER_ETA = ("wnn", "wnm", "wmm", "wnd", "wmd", "wdd", "count")


class PileupOffset(StageMixin, BaseEstimator):
    r"""Pile-up offset: ``pT_corr = pT - rho*A - alpha*(NPV - 1) - beta*mu``, per |eta| bin.

    The jet four-momentum (``momentum``) is scaled by ``pT_corr / pT``, as in ATLAS:
    this is the first stage of the standard chain.

    What is fitted, and why it is honest: the offset that remains after the
    ``rho*A`` subtraction, ``d = pT - rho*A - pT_true``, has a part from the
    calorimeter response, ``(R - 1) pT_true``, that does not depend on pile-up, and the
    residual pile-up ``alpha (NPV - 1) + beta mu``. In each |eta| bin, ``alpha`` and
    ``beta`` are the slopes of ``d`` against ``NPV - 1`` and ``mu`` *at fixed true pT*:
    a weighted least-squares fit with a free intercept in each bin of true pT (which
    absorbs the response term), weights ``sample_weight / pT_true**2`` (the spread of
    ``d`` grows with pT). The true pT is ``pT / (y * scale)`` with ``y`` the energy
    response: exact for jets whose reco and true directions agree, and the difference
    does not depend on pile-up. ``rho``, ``NPV`` and ``mu`` must vary in the sample.

    Policies: jets whose true pT is outside ``pt_true_bins`` do not enter the fit
    (``n_outside_``); |eta| beyond the bins uses the outermost bin; an |eta| bin with
    too few jets (fewer than 10) or without spread in NPV and mu takes the nearest
    fitted bin's alpha and beta (``eta_status_ == "borrowed"``); the correction never
    scales a jet below ``min_scale`` (jets where it would are scaled by ``min_scale``).

    Parameters
    ----------
    pt : str or int, default "pt_reco"
        Column of the jet pT (GeV).
    eta, rho, area, npv, mu : str, int or None
        Columns of eta, the event's pile-up density (GeV per unit area), the jet
        area, the number of primary vertices and the interactions per crossing.
        ``rho`` or ``area`` None drops the area term; ``npv`` (``mu``) None fixes alpha
        (beta) at 0.
    abs_eta_bins : array-like, optional
        |eta| edges of alpha and beta; default 0 to 4.5 in steps of 0.5.
    pt_true_bins : array-like, optional
        True-pT edges of the fit's intercepts; default 30 logarithmic bins, 10 GeV to
        5 TeV.
    momentum : str, int or sequence, default ("pt_reco", "e_reco")
        Columns scaled by ``pT_corr / pT``.
    scale_column : str or None, default "calib_scale"
        Column holding the product of corrections (written for DataFrames).
    min_scale : float, default 0.1
        Lowest factor applied to a jet.
    chunk_size : int, default 2**20
        Rows per chunk of an in-memory fit.

    Attributes
    ----------
    alpha_, beta_ : ndarray of shape (n_eta_bins,)
        Fitted coefficients per |eta| bin (GeV).
    alpha_err_, beta_err_ : ndarray of shape (n_eta_bins,)
        Their standard errors (NaN for borrowed bins).
    eta_status_ : ndarray of str
        ``"fitted"`` or ``"borrowed"`` per |eta| bin.
    abs_eta_edges_ : ndarray
        The |eta| edges.
    n_outside_ : int
        Jets outside ``pt_true_bins``, not used.
    feature_names_in_, n_features_in_
        The input columns at fit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcal.inversion import PileupOffset
    >>> rng = np.random.default_rng(0)
    >>> n = 50_000
    >>> pt_true = rng.uniform(20, 200, n)
    >>> mu = rng.uniform(10, 70, n); npv = 1 + rng.poisson(0.65 * mu)
    >>> rho = 0.6 * (npv - 1) + 0.1 * mu; area = np.full(n, 0.5)
    >>> pt = 0.8 * pt_true * rng.normal(1, 0.1, n) + rho * area + 0.15 * (npv - 1) + 0.05 * mu
    >>> jets = pd.DataFrame({"pt_reco": pt, "e_reco": pt * 1.2, "eta": rng.uniform(-1, 1, n),
    ...                      "rho": rho, "area": area, "npv": npv, "mu": mu})
    >>> offset = PileupOffset(abs_eta_bins=[0, 1]).fit(jets, pt / pt_true)
    >>> round(float(offset.alpha_[0]), 2), round(float(offset.beta_[0]), 2)
    (0.15, 0.05)
    >>> corrected = offset.transform(jets)
    >>> sorted(set(corrected.columns) - set(jets.columns))
    ['calib_scale']
    """

    _fitted_attribute: ClassVar[str] = "alpha_"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "pt": [str, Integral],
        "eta": [str, Integral],
        "rho": [str, Integral, None],
        "area": [str, Integral, None],
        "npv": [str, Integral, None],
        "mu": [str, Integral, None],
        "abs_eta_bins": ["array-like", None],
        "pt_true_bins": ["array-like", None],
        "min_scale": [Interval(Real, 0, 1, closed="right")],
        **STAGE_CONSTRAINTS,
    }

    def __init__(
        self,
        pt: ColumnSpec = "pt_reco",
        *,
        eta: ColumnSpec = "eta",
        rho: ColumnSpec | None = "rho",
        area: ColumnSpec | None = "area",
        npv: ColumnSpec | None = "npv",
        mu: ColumnSpec | None = "mu",
        abs_eta_bins: Any = None,
        pt_true_bins: Any = None,
        momentum: ColumnSpec | tuple[ColumnSpec, ...] = ("pt_reco", "e_reco"),
        scale_column: str | None = "calib_scale",
        min_scale: float = 0.1,
        chunk_size: int = 1 << 20,
    ) -> None:
        self.pt = pt
        self.eta = eta
        self.rho = rho
        self.area = area
        self.npv = npv
        self.mu = mu
        self.abs_eta_bins = abs_eta_bins
        self.pt_true_bins = pt_true_bins
        self.momentum = momentum
        self.scale_column = scale_column
        self.min_scale = min_scale
        self.chunk_size = chunk_size

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.positive_only = True
        return tags

    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        eta = check_edges(
            DEFAULT_ABS_ETA_BINS if self.abs_eta_bins is None else self.abs_eta_bins, "abs_eta_bins"
        )
        pt = check_edges(
            DEFAULT_PT_TRUE_BINS if self.pt_true_bins is None else self.pt_true_bins, "pt_true_bins"
        )
        return eta, pt

    def _check_params(self) -> None:
        """What the constraints cannot say: rho and area go together; the edges."""
        if (self.rho is None) != (self.area is None):
            raise ParameterError("rho and area must both be columns, or both None")
        self._edges()

    def _offset_terms(self, frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``rho * A``, ``NPV - 1`` and ``mu`` (zeros for the terms not used)."""
        zeros = np.zeros(frame.n)
        area_term = (
            zeros
            if self.rho is None or self.area is None
            else frame.get(self.rho, "rho") * frame.get(self.area, "area")
        )
        n = zeros if self.npv is None else frame.get(self.npv, "npv") - 1.0
        m = zeros if self.mu is None else frame.get(self.mu, "mu")
        return area_term, n, m

    def _pt(self, frame: Frame) -> np.ndarray:
        return check_positive_vector(frame.get(self.pt, "pt"), f"pt column {spec_name(self.pt)!r}")

    def _stats(self, frame: Frame, y: np.ndarray, w: np.ndarray | None) -> dict[str, Any]:
        eta_edges, pt_edges = self._edges()
        pt = self._pt(frame)
        pt_true = pt / (y * frame.scale(self.scale_column))
        area_term, n, m = self._offset_terms(frame)
        d = pt - area_term - pt_true
        e_bin, _ = bin_lookup(np.abs(frame.get(self.eta, "eta")), eta_edges)
        k_bin, outside = bin_lookup(pt_true, pt_edges)
        keep = ~outside
        weight = (np.ones(frame.n) if w is None else w) / pt_true**2
        n_k = pt_edges.size - 1
        n_e = eta_edges.size - 1
        cell = (e_bin * n_k + k_bin)[keep]
        e_bin = e_bin[keep]
        weight, n, m, d = weight[keep], n[keep], m[keep], d[keep]
        stats: dict[str, Any] = {"n_outside": int(outside.sum())}
        for name, values in zip(
            _PER_BIN, (weight, weight * n, weight * m, weight * d), strict=True
        ):
            stats[name] = np.bincount(cell, weights=values, minlength=n_e * n_k).reshape(n_e, n_k)
        per_eta = (
            weight * n * n,
            weight * n * m,
            weight * m * m,
            weight * n * d,
            weight * m * d,
            weight * d * d,
            np.ones_like(d),
        )
        for name, values in zip(_PER_ETA, per_eta, strict=True):
            stats[name] = np.bincount(e_bin, weights=values, minlength=n_e)
        return stats

    @staticmethod
    def _add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {key: a[key] + b[key] for key in a}

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PileupOffset:
        """Fit alpha and beta per |eta| bin.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table.
        y : array-like or Dask Series
            Response of the uncalibrated jets, ``E_reco / E_true``.
        sample_weight : array-like or Dask Series, optional
            Non-negative event weights.

        Returns
        -------
        self
        """
        self._validate_params()
        self._check_params()
        stats = self._reduce(self._stats, X, y, sample_weight, combine=self._add)
        eta_edges, _ = self._edges()
        self.abs_eta_edges_ = eta_edges
        self.n_outside_ = int(stats["n_outside"])
        self._solve(stats)
        return self

    def _solve(self, s: dict[str, Any]) -> None:
        n_e = s["w"].shape[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            inv_w = np.where(s["w"] > 0, 1.0 / np.where(s["w"] > 0, s["w"], 1.0), 0.0)
        # Eliminate the per-true-pT intercepts (the "within" sums of squares and products).
        snn = s["wnn"] - (s["wn"] ** 2 * inv_w).sum(axis=1)
        snm = s["wnm"] - (s["wn"] * s["wm"] * inv_w).sum(axis=1)
        smm = s["wmm"] - (s["wm"] ** 2 * inv_w).sum(axis=1)
        snd = s["wnd"] - (s["wn"] * s["wd"] * inv_w).sum(axis=1)
        smd = s["wmd"] - (s["wm"] * s["wd"] * inv_w).sum(axis=1)
        sdd = s["wdd"] - (s["wd"] ** 2 * inv_w).sum(axis=1)
        use_n, use_m = self.npv is not None, self.mu is not None
        alpha, beta = np.zeros(n_e), np.zeros(n_e)
        alpha_err, beta_err = np.full(n_e, np.nan), np.full(n_e, np.nan)
        fitted = np.zeros(n_e, dtype=bool)
        for e in range(n_e):
            n_jets = s["count"][e]
            n_groups = int((s["w"][e] > 0).sum())
            matrix = np.array([[snn[e], snm[e]], [snm[e], smm[e]]])[
                np.ix_([use_n, use_m], [use_n, use_m])
            ]
            rhs = np.array([snd[e], smd[e]])[[use_n, use_m]]
            dof = n_jets - n_groups - matrix.shape[0]
            if matrix.size == 0:
                fitted[e] = n_jets > 0
                continue
            if n_jets < 10 or dof <= 0 or not np.all(np.isfinite(matrix)):
                continue
            if np.linalg.cond(matrix) > 1e12 or np.any(np.diag(matrix) <= 0):
                continue
            coef = np.linalg.solve(matrix, rhs)
            rss = max(sdd[e] - coef @ rhs, 0.0)
            errors = np.sqrt(np.diag(np.linalg.inv(matrix)) * rss / dof)
            values = iter(zip(coef, errors, strict=True))
            if use_n:
                alpha[e], alpha_err[e] = next(values)
            if use_m:
                beta[e], beta_err[e] = next(values)
            fitted[e] = True
        if not fitted.any():
            raise DataError(
                "no |eta| bin has enough jets with spread in NPV and mu to fit alpha and beta"
            )
        status = np.where(fitted, "fitted", "borrowed")
        for e in np.flatnonzero(~fitted).tolist():
            source = np.flatnonzero(fitted)[np.argmin(np.abs(np.flatnonzero(fitted) - e))]
            alpha[e], beta[e] = alpha[source], beta[source]
        self.alpha_, self.beta_ = alpha, beta
        self.alpha_err_, self.beta_err_ = alpha_err, beta_err
        self.eta_status_ = status.astype(str)

    def _factor(self, frame: Frame) -> np.ndarray:
        pt = self._pt(frame)
        e_bin, _ = bin_lookup(np.abs(frame.get(self.eta, "eta")), self.abs_eta_edges_)
        area_term, n, m = self._offset_terms(frame)
        corrected = pt - area_term - self.alpha_[e_bin] * n - self.beta_[e_bin] * m
        return np.maximum(corrected / pt, self.min_scale)

    def transform(self, X: Any) -> Any:
        """X with ``pT`` offset-corrected and the other ``momentum`` columns scaled alike.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table.

        Returns
        -------
        DataFrame, ndarray or Dask DataFrame
            A copy of X; ``scale_column`` is added or updated for DataFrames. Dask
            input gives lazy Dask output, also under ``set_output(transform="pandas")``.
        """
        return self._transform(X)

    def offset(self, X: Any) -> Any:
        """The subtracted pT, ``rho*A + alpha*(NPV - 1) + beta*mu``, per jet (GeV).

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table.

        Returns
        -------
        Series or ndarray of shape (n_jets,), or Dask Series
        """
        return self._apply(X, "_offset_chunk")

    def _offset_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        frame = Frame(chunk)
        e_bin, _ = bin_lookup(np.abs(frame.get(self.eta, "eta")), self.abs_eta_edges_)
        area_term, n, m = self._offset_terms(frame)
        return area_term + self.alpha_[e_bin] * n + self.beta_[e_bin] * m
