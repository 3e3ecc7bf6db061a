"""The mode and the resolution of a response distribution (``docs/design.md`` section 2)."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import boost_histogram as bh
import numpy as np

from skcal._params import Interval, StrOptions, check_params
from skcal._validation import as_response, as_weights
from skcal.exceptions import DataError, ParameterError
from skcal.response import _modefit
from skcal.response._edges import axis, check_edges

#: The constraints of the mode estimator's options, shared by every function taking them.
MODE_CONSTRAINTS: dict[str, list[Any]] = {
    "method": [StrOptions(set(_modefit.METHODS))],
    "min_entries": [Interval(Real, 0, None, closed="left")],
    "n_sigma": [Interval(Real, 0, None, closed="neither")],
    "n_iter": [Interval(Integral, 1, None, closed="left")],
    "smooth": [Interval(Integral, 1, None, closed="left"), None],
}
#: The resolution estimators.
RESOLUTION_KINDS = StrOptions({"iqr68", "shortest68"})

_MAX_AUTO_BINS = 4000


@dataclass(frozen=True)
class ModeEstimate:
    """The mode of a response distribution.

    Attributes
    ----------
    value : float
        The mode (or the median where ``fallback`` is True).
    error : float
        Its standard error: from the fit's covariance (``gauss_iter``), asymptotic
        (``median``), or the bootstrap (``kde``, or any method with ``n_bootstrap``).
    method : str
        The method asked for.
    status : str
        ``"ok"``, ``"few_entries"`` or ``"fit_failed"`` (the median was used instead).
    n_entries : int
        Number of jets.
    n_effective : float
        Effective number of jets, :math:`(\\sum w)^2 / \\sum w^2`.
    sigma : float
        Width of the fitted Gaussian core (``gauss_iter``), else the half-width of the
        central 68% interval.
    """

    value: float
    error: float
    method: str
    status: str
    n_entries: int
    n_effective: float
    sigma: float

    @property
    def fallback(self) -> bool:
        """Whether the median was used in place of the asked method."""
        return self.status != "ok"

    def __float__(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class ResolutionEstimate:
    """The relative resolution of a response distribution.

    Attributes
    ----------
    value : float
        ``width / (2 * mode)``.
    error : float
        Bootstrap standard error (NaN when ``n_bootstrap=0``).
    kind : str
        ``"iqr68"`` (width ``q84 - q16``) or ``"shortest68"`` (the shortest interval
        holding 68.27%).
    width : float
        The interval's width.
    mode : ModeEstimate
        The mode it is relative to.
    """

    value: float
    error: float
    kind: str
    width: float
    mode: ModeEstimate

    def __float__(self) -> float:
        return float(self.value)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray | None, probs: Any) -> np.ndarray:
    """Quantiles of weighted values (the weighted CDF interpolated at mid-points)."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    w = np.ones_like(v) if weights is None else weights[order]
    cum = np.cumsum(w)
    if cum[-1] <= 0:
        raise DataError("the weights sum to zero")
    cdf = (cum - 0.5 * w) / cum[-1]
    return np.interp(np.asarray(probs, dtype=np.float64), cdf, v)


def auto_edges(r: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Bins of a twentieth of the central 68% half-width, over the 0.05-99.95% range."""
    lo, q16, q84, hi = weighted_quantiles(
        r, weights, [5e-4, _modefit.P_LOW, _modefit.P_HIGH, 1 - 5e-4]
    )
    half = 0.5 * (q84 - q16)
    if not half > 0:
        half = max(abs(q16) * 1e-3, 1e-9)
    lo, hi = lo - 2 * half, hi + 2 * half
    n = int(np.clip(np.ceil((hi - lo) / (half / 20)), 10, _MAX_AUTO_BINS))
    return np.linspace(lo, hi, n + 1)


def histogram_with_flow(
    r: np.ndarray, weights: np.ndarray | None, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``sumw`` and ``sumw2`` with an underflow and an overflow bin (shape ``(1, n + 2)``)."""
    hist = bh.Histogram(axis(edges, regular=False), storage=bh.storage.Weight())
    view = hist.fill(r, weight=weights).view(flow=True)
    return view["value"][None, :].copy(), view["variance"][None, :].copy()


def _prepare(r: Any, weights: Any, bins: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    r = as_response(r, "r")
    if r.size == 0:
        raise DataError("r is empty: no responses to estimate from")
    w = as_weights(weights, r.size, "weights", nonzero_sum=True)
    edges = (
        auto_edges(r, w) if isinstance(bins, str) and bins == "auto" else check_edges(bins, "bins")
    )
    return r, w, edges


def _mode_from_hist(
    sumw: np.ndarray,
    sumw2: np.ndarray,
    edges: np.ndarray,
    n_entries: int,
    *,
    method: str,
    min_entries: float,
    n_sigma: float,
    n_iter: int,
    smooth: int | None,
    n_bootstrap: int | None,
    rng: np.random.Generator,
) -> ModeEstimate:
    options: dict[str, Any] = dict(
        method=method, min_entries=min_entries, n_sigma=n_sigma, n_iter=n_iter, smooth=smooth
    )
    est = _modefit.estimate_modes(sumw, sumw2, edges, **options)
    error = float(est.error[0])
    if n_bootstrap or (method == "kde" and est.status[0] == _modefit.OK):
        reps = _modefit.poisson_replicas(sumw[0], sumw2[0], n_bootstrap or 100, rng)
        boot = _modefit.estimate_modes(reps[0], reps[1], edges, **options).mode
        error = float(np.nanstd(boot, ddof=1))
    return ModeEstimate(
        value=float(est.mode[0]),
        error=error,
        method=method,
        status=_modefit.STATUS[est.status[0]],
        n_entries=n_entries,
        n_effective=float(_modefit.effective_entries(sumw, sumw2)[0]),
        sigma=float(est.sigma[0]),
    )


def response_mode(
    r: Any,
    *,
    weights: Any = None,
    method: str = "gauss_iter",
    bins: Any = "auto",
    min_entries: float = 50.0,
    n_sigma: float = 1.5,
    n_iter: int = 3,
    smooth: int | None = None,
    n_bootstrap: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> ModeEstimate:
    """The most probable value of a response distribution.

    ``gauss_iter`` (the standard of ``docs/design.md`` section 2) fits a Gaussian to the
    core of the histogram of ``r``: seeded at the peak of the Savitzky-Golay-smoothed
    histogram with the half-width of the central 68% interval, each of ``n_iter``
    iterations fits the bins within ``n_sigma`` widths of the previous fit's mean
    (a binned Poisson likelihood). Fallbacks, flagged in ``status``: the median where
    the effective number of entries is below ``min_entries`` (``"few_entries"``) or
    where the fit finds no peak inside its window (``"fit_failed"``).

    Parameters
    ----------
    r : array-like of shape (n,)
        Responses, finite and positive.
    weights : array-like of shape (n,), optional
        Non-negative weights (event weights).
    method : {"gauss_iter", "median", "kde"}, default "gauss_iter"
        The iterative Gaussian core fit, the weighted median, or the peak of a binned
        Gaussian kernel density estimate (bandwidth ``0.9 * s68 * n**(-1/7)``).
    bins : "auto" or array-like, default "auto"
        Histogram edges; ``"auto"`` uses bins of a twentieth of the central 68%
        half-width. Jets outside the edges count in the quantiles, not in the fit.
    min_entries : float, default 50
        Fewer effective entries than this fall back to the median.
    n_sigma : float, default 1.5
        Half-width of the fit window in fitted widths.
    n_iter : int, default 3
        Number of fit iterations.
    smooth : int, optional
        Window (bins, odd) of a quadratic Savitzky-Golay filter applied to the
        histogram before fitting; no smoothing by default.
    n_bootstrap : int, optional
        Replicas for a bootstrap error; by default the fit's error (gauss_iter), the
        asymptotic one (median) or 100 replicas (kde).
    random_state : int or Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    ModeEstimate

    Raises
    ------
    DataError
        For empty input, responses that are NaN, infinite or not positive, negative
        weights, or weights that sum to zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.response import response_mode
    >>> rng = np.random.default_rng(0)
    >>> core = rng.normal(1.0, 0.05, 20_000)
    >>> tail = rng.uniform(0.5, 1.0, 5_000)  # a low tail pulls the mean and median down
    >>> r = np.concatenate([core, tail])
    >>> est = response_mode(r)
    >>> round(est.value, 2), est.status
    (1.0, 'ok')
    >>> round(float(np.median(r)), 3), round(float(np.mean(r)), 3)
    (0.985, 0.95)
    """
    check_params(
        MODE_CONSTRAINTS | {"n_bootstrap": [Interval(Integral, 0, None, closed="left"), None]},
        dict(
            method=method,
            min_entries=min_entries,
            n_sigma=n_sigma,
            n_iter=n_iter,
            smooth=smooth,
            n_bootstrap=n_bootstrap,
        ),
        "response_mode",
    )
    r, w, edges = _prepare(r, weights, bins)
    sumw, sumw2 = histogram_with_flow(r, w, edges)
    return _mode_from_hist(
        sumw,
        sumw2,
        edges,
        r.size,
        method=method,
        min_entries=min_entries,
        n_sigma=n_sigma,
        n_iter=n_iter,
        smooth=smooth,
        n_bootstrap=n_bootstrap,
        rng=np.random.default_rng(random_state),
    )


def resolution(
    r: Any,
    *,
    weights: Any = None,
    kind: str = "iqr68",
    mode: float | None = None,
    mode_method: str = "gauss_iter",
    bins: Any = "auto",
    n_bootstrap: int = 200,
    random_state: int | np.random.Generator | None = None,
    **mode_options: Any,
) -> ResolutionEstimate:
    """The relative resolution ``(q84 - q16) / (2 * mode)`` of a response distribution.

    For a Gaussian this is sigma / mu. ``q16`` and ``q84`` are the 15.87% and 84.13%
    quantiles (one Gaussian sigma either side), interpolated within the bins of the
    histogram of ``r``. The error is the standard deviation over Poisson-bootstrap
    replicas of the histogram, in which the mode is re-estimated.

    Parameters
    ----------
    r : array-like of shape (n,)
        Responses, finite and positive.
    weights : array-like of shape (n,), optional
        Non-negative weights.
    kind : {"iqr68", "shortest68"}, default "iqr68"
        The central 68% interval, or the shortest interval holding 68.27%.
    mode : float, optional
        The mode to divide by; estimated with ``mode_method`` by default (and then
        re-estimated in each bootstrap replica).
    mode_method : str, default "gauss_iter"
        Method of :func:`response_mode`.
    bins : "auto" or array-like, default "auto"
        Histogram edges, as in :func:`response_mode`.
    n_bootstrap : int, default 200
        Bootstrap replicas; 0 for no error (NaN).
    random_state : int or Generator, optional
        Seed of the bootstrap.
    **mode_options
        ``min_entries``, ``n_sigma``, ``n_iter``, ``smooth`` of :func:`response_mode`.

    Returns
    -------
    ResolutionEstimate

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.response import resolution
    >>> r = np.random.default_rng(1).normal(1.0, 0.1, 50_000)
    >>> res = resolution(r)
    >>> round(res.value, 2), bool(res.error < 0.002)
    (0.1, True)
    """
    unknown = set(mode_options) - {"min_entries", "n_sigma", "n_iter", "smooth"}
    if unknown:
        raise ParameterError(f"unknown mode options of resolution: {sorted(unknown)}")
    check_params(
        MODE_CONSTRAINTS
        | {
            "kind": [RESOLUTION_KINDS],
            "mode": [Interval(Real, 0, None, closed="neither"), None],
            "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        },
        {"kind": kind, "mode": mode, "method": mode_method, "n_bootstrap": n_bootstrap}
        | mode_options,
        "resolution",
    )
    r, w, edges = _prepare(r, weights, bins)
    sumw, sumw2 = histogram_with_flow(r, w, edges)
    rng = np.random.default_rng(random_state)
    options = {"min_entries": 50.0, "n_sigma": 1.5, "n_iter": 3, "smooth": None, **mode_options}
    if mode is None:
        mode_est = _mode_from_hist(
            sumw, sumw2, edges, r.size, method=mode_method, n_bootstrap=None, rng=rng, **options
        )
    else:
        mode_est = ModeEstimate(
            float(mode),
            0.0,
            "given",
            "ok",
            r.size,
            float(_modefit.effective_entries(sumw, sumw2)[0]),
            float("nan"),
        )
    value = _modefit.resolution_arrays(sumw, edges, np.array([mode_est.value]), kind)[0]
    error = float("nan")
    if n_bootstrap:
        reps_w, reps_w2 = _modefit.poisson_replicas(sumw[0], sumw2[0], n_bootstrap, rng)
        if mode is None:
            modes = _modefit.estimate_modes(
                reps_w, reps_w2, edges, method=mode_method, **options
            ).mode
        else:
            modes = np.full(n_bootstrap, float(mode))
        boot = _modefit.resolution_arrays(reps_w, edges, modes, kind)
        error = float(np.nanstd(boot, ddof=1))
    width = value * 2 * mode_est.value
    return ResolutionEstimate(
        value=float(value), error=error, kind=kind, width=float(width), mode=mode_est
    )
