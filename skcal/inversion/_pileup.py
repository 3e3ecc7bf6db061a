"""The area-based pile-up offset correction, with its residual NPV and mu terms."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from skcal._params import Interval, StrOptions
from skcal._validation import check_positive_vector
from skcal.exceptions import ParameterError
from skcal.inversion._pileup_fit import UNFITTED, solve_offsets
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
    does not depend on pile-up.

    Policies: jets whose true pT is outside ``pt_true_bins`` do not enter the fit
    (``n_outside_``); |eta| beyond the bins uses the outermost bin. An |eta| bin is
    fitted only with at least ``min_jets`` jets, spread in NPV and in mu at fixed true
    pT (a within-bin variance of at least 1e-6 of the mean square) and NPV and mu not
    proportional (condition number of their correlation matrix below 1e8); these checks
    do not depend on the units or the size of the sample. A bin that fails them (its
    reason in ``eta_reason_``) follows ``unfitted``: ``"borrow"`` takes the nearest
    fitted bin's alpha and beta (``eta_status_ == "borrowed"``; a ``DataError`` if no
    bin is fitted), ``"zero"`` the conservative alpha = beta = 0, which subtracts only
    ``rho*A`` (``"zero"``), and ``"raise"`` refuses with a ``DataError`` that names each
    such bin, its number of jets and the missing spread. The factor applied to a jet is
    bounded to ``[min_scale, max_scale]``: a jet whose offset exceeds its pT (soft jets at
    high mu) is scaled by ``min_scale``; one that the correction would scale up by more
    than ``max_scale`` (only possible with negative alpha or beta) is scaled by
    ``max_scale``, with a warning that counts them.

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
    max_scale : float, default 1.5
        Highest factor applied to a jet (above 1 only where alpha or beta is negative).
    min_jets : int, default 500
        Fewest jets (with a true pT inside ``pt_true_bins``) that an |eta| bin is fitted on.
    unfitted : {"borrow", "zero", "raise"}, default "borrow"
        What a bin that cannot be fitted gets (see the policies above).
    chunk_size : int, default 2**20
        Rows per chunk of an in-memory fit.

    Attributes
    ----------
    alpha_, beta_ : ndarray of shape (n_eta_bins,)
        Fitted coefficients per |eta| bin (GeV).
    alpha_err_, beta_err_ : ndarray of shape (n_eta_bins,)
        Their standard errors (NaN for borrowed bins).
    eta_status_ : ndarray of str
        ``"fitted"``, ``"borrowed"`` or ``"zero"`` per |eta| bin.
    eta_reason_ : ndarray of str
        Why each bin was not fitted (its jets and the missing spread; ``""`` if fitted).
    n_jets_ : ndarray of int
        Jets per |eta| bin in the fit.
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
        "max_scale": [Interval(Real, 1, None, closed="left")],
        "min_jets": [Interval(Integral, 1, None, closed="left")],
        "unfitted": [StrOptions(set(UNFITTED))],
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
        max_scale: float = 1.5,
        min_jets: int = 500,
        unfitted: str = "borrow",
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
        self.max_scale = max_scale
        self.min_jets = min_jets
        self.unfitted = unfitted
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
        fit = solve_offsets(
            s,
            use_npv=self.npv is not None,
            use_mu=self.mu is not None,
            min_jets=int(self.min_jets),
            unfitted=self.unfitted,
            eta_edges=self.abs_eta_edges_,
        )
        self.n_jets_ = np.asarray(s["count"], dtype=np.int64)
        self.eta_reason_ = fit.reason
        self.alpha_, self.beta_ = fit.alpha, fit.beta
        self.alpha_err_, self.beta_err_ = fit.alpha_err, fit.beta_err
        self.eta_status_ = fit.status

    def _factor(self, frame: Frame) -> np.ndarray:
        pt = self._pt(frame)
        e_bin, _ = bin_lookup(np.abs(frame.get(self.eta, "eta")), self.abs_eta_edges_)
        area_term, n, m = self._offset_terms(frame)
        corrected = pt - area_term - self.alpha_[e_bin] * n - self.beta_[e_bin] * m
        factor = corrected / pt
        high = factor > self.max_scale
        if high.any():
            warnings.warn(
                f"PileupOffset: the offset would scale {int(high.sum())} of {factor.size} jets "
                f"up by more than max_scale={self.max_scale:g} (largest factor "
                f"{float(factor.max()):.3g}); they are scaled by max_scale. Check alpha_ and "
                f"beta_ (eta_status_)",
                UserWarning,
                stacklevel=2,
            )
        return np.clip(factor, self.min_scale, self.max_scale)

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
