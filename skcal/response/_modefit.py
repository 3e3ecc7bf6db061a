r"""Mode, quantiles and resolution of response histograms, vectorised over many histograms.

Every function takes a stack of histograms on common response edges: ``sumw`` and
``sumw2`` of shape ``(n_hist, n_bins + 2)``, where column 0 is the underflow and the
last column the overflow, so that quantiles count every jet.

The Gaussian core fit is a binned Poisson maximum-likelihood fit (as ROOT's ``Fit``
with option ``L``) of :math:`\exp(a + b t + c t^2)` to the bins whose centres lie in
the window, solved by iteratively reweighted least squares for all histograms at once.
Weighted histograms are fitted as effective counts :math:`w \sum w / \sum w^2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import savgol_filter
from scipy.special import ndtr

#: Status of a mode estimate: the method worked, or a documented fallback was used.
STATUS = ("ok", "few_entries", "fit_failed", "empty")
OK, FEW_ENTRIES, FIT_FAILED, EMPTY = range(4)
METHODS = ("gauss_iter", "median", "kde")
#: The probabilities of the central 68% interval: q16 and q84 of a Gaussian, exactly.
P_LOW, P_HIGH = float(ndtr(-1.0)), float(ndtr(1.0))
CONTENT_68 = P_HIGH - P_LOW
_ROWS_PER_BATCH = 4096
_MAX_IRLS = 50


@dataclass(frozen=True)
class ModeArrays:
    """Modes of a stack of histograms, one entry per histogram."""

    mode: np.ndarray
    error: np.ndarray
    sigma: np.ndarray  # the fitted Gaussian width (gauss_iter) or the 68% half-width
    status: np.ndarray  # int codes indexing STATUS

    @property
    def fallback(self) -> np.ndarray:
        return self.status != OK


def effective_entries(sumw: np.ndarray, sumw2: np.ndarray) -> np.ndarray:
    """Kish's effective number of entries :math:`(\\sum w)^2 / \\sum w^2` per histogram."""
    total, total2 = sumw.sum(axis=-1), sumw2.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total2 > 0, total**2 / np.where(total2 > 0, total2, 1.0), 0.0)


def _cdf_at_edges(sumw: np.ndarray) -> np.ndarray:
    """CDF at the response edges (n_hist, n_bins + 1), counting the flow bins."""
    total = sumw.sum(axis=-1, keepdims=True)
    cum = np.cumsum(sumw[:, :-1], axis=-1)  # underflow + bins up to each upper edge
    with np.errstate(invalid="ignore", divide="ignore"):
        return cum / np.where(total > 0, total, 1.0)


def quantiles(sumw: np.ndarray, edges: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles linearly interpolated within bins; NaN where one falls in a flow bin."""
    probs = np.asarray(probs, dtype=np.float64)
    cdf = _cdf_at_edges(sumw)
    out = np.full((sumw.shape[0], probs.size), np.nan)
    for i, row in enumerate(cdf):
        if row[-1] <= 0:
            continue
        inside = (probs >= row[0]) & (probs <= row[-1])
        # The CDF is flat across empty bins: interpolate within the filled bins only, from
        # the lower to the upper edge of each (not across the empty bins before one).
        rises = np.diff(row) > 0
        keep = np.concatenate(([True], rises)) | np.concatenate((rises, [False]))
        keep[0] = keep[0] and not (row[1] == row[0] and keep[1])
        out[i, inside] = np.interp(probs[inside], row[keep], edges[keep])
    return out


def shortest_width(
    sumw: np.ndarray, edges: np.ndarray, content: float = CONTENT_68, n_grid: int = 256
) -> np.ndarray:
    """Width of the shortest interval holding ``content`` of each histogram; NaN if unknown."""
    cdf = _cdf_at_edges(sumw)
    out = np.full(sumw.shape[0], np.nan)
    for i, row in enumerate(cdf):
        if row[-1] <= 0 or row[-1] - row[0] < content:
            continue
        keep = np.concatenate(([True], np.diff(row) > 0))
        p = np.linspace(row[0], row[-1] - content, n_grid)
        width = np.interp(p + content, row[keep], edges[keep]) - np.interp(
            p, row[keep], edges[keep]
        )
        out[i] = width.min()
    return out


def _half_width_68(sumw: np.ndarray, edges: np.ndarray) -> np.ndarray:
    q = quantiles(sumw, edges, np.array([P_LOW, P_HIGH]))
    return 0.5 * (q[:, 1] - q[:, 0])


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Savitzky-Golay smoothing (quadratic) along the last axis, clipped at zero."""
    window = int(window) | 1
    if window < 5 or y.shape[-1] < window:
        return y
    return np.clip(savgol_filter(y, window, 2, axis=-1, mode="constant"), 0.0, None)


def _effective_counts(sumw: np.ndarray, sumw2: np.ndarray) -> np.ndarray:
    total, total2 = sumw.sum(axis=-1, keepdims=True), sumw2.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total2 > 0, total / np.where(total2 > 0, total2, 1.0), 0.0)
    return np.clip(sumw * scale, 0.0, None)


def _normal_equations(
    design: np.ndarray, valid: np.ndarray, y: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """IRLS normal equations of the Poisson log-linear model at ``beta`` (one per row)."""
    eta = np.clip((design @ beta[:, :, None])[:, :, 0], -700.0, 700.0)
    mu = np.exp(eta)
    weight = np.where(valid, mu, 0.0)
    z = eta + (y - mu) / np.maximum(mu, 1e-300)
    weighted = design * weight[:, :, None]
    return weighted.transpose(0, 2, 1) @ design, (weighted * z[:, :, None]).sum(axis=1)


def _poisson_gauss_fit(
    y: np.ndarray, centers: np.ndarray, m: np.ndarray, s: np.ndarray, n_sigma: float
) -> tuple[np.ndarray, ...]:
    """One binned-likelihood Gaussian fit in the window m +- n_sigma * s of every row."""
    lo = np.searchsorted(centers, m - n_sigma * s, side="left")
    hi = np.searchsorted(centers, m + n_sigma * s, side="right")
    # Rows with windows of similar length together: little padding.
    order = np.argsort(hi - lo, kind="stable")
    out = [np.empty(y.shape[0]) for _ in range(3)] + [np.zeros(y.shape[0], dtype=bool)]
    for start in range(0, order.size, 256):
        rows = order[start : start + 256]
        for target, part in zip(
            out,
            _window_fit(y[rows], centers, m[rows], s[rows], lo[rows], hi[rows], n_sigma),
            strict=True,
        ):
            target[rows] = part
    return tuple(out)


def _window_fit(
    y: np.ndarray,
    centers: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n_sigma: float,
) -> tuple[np.ndarray, ...]:
    n_rows, n_bins = y.shape
    length = max(int((hi - lo).max(initial=0)), 1)
    idx = lo[:, None] + np.arange(length)[None, :]
    valid = idx < hi[:, None]
    idx = np.minimum(idx, n_bins - 1)
    yw = np.where(valid, np.take_along_axis(y, idx, axis=1), 0.0)
    t = (centers[idx] - m[:, None]) / s[:, None]
    design = np.stack([np.ones_like(t), t, t * t], axis=-1)
    good = ((yw > 0) & valid).sum(axis=1) >= 4
    beta = np.zeros((n_rows, 3))
    beta[:, 0] = np.log(np.maximum(yw.max(axis=1, initial=0.0), 1e-300))
    beta[:, 2] = -0.5
    eye = np.eye(3)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        active = np.flatnonzero(good)
        for _ in range(_MAX_IRLS):
            if active.size == 0:
                break
            a, rhs = _normal_equations(design[active], valid[active], yw[active], beta[active])
            bad = ~np.isfinite(a).all(axis=(1, 2)) | ~np.isfinite(rhs).all(axis=1)
            a[bad], rhs[bad] = eye, 0.0
            a += 1e-12 * np.trace(a, axis1=1, axis2=2)[:, None, None] * eye
            new = np.linalg.solve(a, rhs[..., None])[..., 0]
            bad |= ~np.isfinite(new).all(axis=1)
            step = np.abs(new - beta[active]).max(axis=1)
            beta[active] = new
            good[active[bad]] = False
            active = active[~bad & (step > 1e-10)]
        good[active] = False  # not converged
        a, _ = _normal_equations(design, valid, yw, beta)
        a[~good] = eye
        b, c = beta[:, 1], beta[:, 2]
        ok = good & (c < 0)
        c_safe = np.where(ok, c, -0.5)
        mode_t = -b / (2 * c_safe)
        ok &= np.abs(mode_t) <= n_sigma
        cov = np.linalg.inv(a)
        grad = np.stack([np.zeros_like(b), -1 / (2 * c_safe), b / (2 * c_safe**2)], axis=-1)
        var_t = (grad[:, None, :] @ cov @ grad[:, :, None])[:, 0, 0]
        sigma_t = np.sqrt(-1 / (2 * c_safe))
    ok &= np.isfinite(var_t) & (var_t >= 0)
    return m + s * mode_t, s * sigma_t, s * np.sqrt(np.where(ok, var_t, np.nan)), ok


def _gauss_iter(
    y: np.ndarray,
    edges: np.ndarray,
    seed_mode: np.ndarray,
    seed_sigma: np.ndarray,
    n_sigma: float,
    n_iter: int,
) -> tuple[np.ndarray, ...]:
    centers = 0.5 * (edges[1:] + edges[:-1])
    m, s = seed_mode.copy(), seed_sigma.copy()
    err = np.full_like(m, np.nan)
    ok = np.isfinite(m) & np.isfinite(s) & (s > 0)
    for _ in range(n_iter):
        rows = np.flatnonzero(ok)
        if rows.size == 0:
            break
        fm, fs, fe, fok = _poisson_gauss_fit(y[rows], centers, m[rows], s[rows], n_sigma)
        ok[rows] = fok
        keep = rows[fok]
        m[keep], s[keep], err[keep] = fm[fok], fs[fok], fe[fok]
    return m, s, err, ok


def _seed(y: np.ndarray, edges: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Peak of each histogram after Savitzky-Golay smoothing over about one half-width."""
    centers = 0.5 * (edges[1:] + edges[:-1])
    out = np.full(y.shape[0], np.nan)
    usable = np.isfinite(half_width) & (y.sum(axis=1) > 0)
    window = np.zeros(y.shape[0], dtype=np.intp)
    in_bins = half_width[usable] / np.median(np.diff(edges))
    window[usable] = np.clip(in_bins, 5, max(y.shape[1] // 2, 5)).astype(np.intp) | 1
    for size in np.unique(window[usable]):  # one filter per window size, over all its rows
        rows = np.flatnonzero(usable & (window == size))
        out[rows] = centers[np.argmax(_smooth(y[rows], int(size)), axis=1)]
    return out


def _kde_mode(
    y: np.ndarray, edges: np.ndarray, half_width: np.ndarray, n_eff: np.ndarray
) -> np.ndarray:
    """Peak of a binned Gaussian kernel density estimate.

    The bandwidth ``0.9 * half_width * n_eff**(-1/7)`` follows the rate that is optimal
    for the mode (not Silverman's ``n**(-1/5)``, which is optimal for the density and
    leaves the peak noisy); the peak is a parabola fitted to the smoothed density
    within one bandwidth of its highest bin.
    """
    width = float(np.median(np.diff(edges)))
    centers = 0.5 * (edges[1:] + edges[:-1])
    out = np.full(y.shape[0], np.nan)
    for i, row in enumerate(y):
        if not np.isfinite(half_width[i]) or n_eff[i] <= 1:
            continue
        bandwidth = 0.9 * half_width[i] * n_eff[i] ** (-1 / 7)
        density = gaussian_filter1d(row, max(bandwidth / width, 1e-3), mode="constant")
        k = int(np.argmax(density))
        reach = max(int(round(bandwidth / width)), 1)
        sl = slice(max(k - reach, 0), min(k + reach + 1, row.size))
        peak = centers[k]
        if sl.stop - sl.start >= 3:
            c2, c1, _ = np.polyfit(centers[sl] - peak, density[sl], 2)
            if c2 < 0 and abs(c1 / (2 * c2)) <= reach * width:
                peak -= c1 / (2 * c2)
        out[i] = peak
    return out


def estimate_modes(
    sumw: np.ndarray,
    sumw2: np.ndarray,
    edges: np.ndarray,
    *,
    method: str = "gauss_iter",
    min_entries: float = 50.0,
    n_sigma: float = 1.5,
    n_iter: int = 3,
    smooth: int | None = None,
) -> ModeArrays:
    """Mode of every histogram, with the documented fallback to the median.

    ``gauss_iter`` falls back to the median (status ``few_entries``) where the
    effective number of entries is below ``min_entries``, and (``fit_failed``) where the
    fit does not converge to a peak inside its window. Empty histograms get a NaN mode,
    status ``empty``.
    """
    sumw = np.atleast_2d(np.asarray(sumw, dtype=np.float64))
    sumw2 = np.atleast_2d(np.asarray(sumw2, dtype=np.float64))
    edges = np.asarray(edges, dtype=np.float64)
    n_hist = sumw.shape[0]
    n_eff = effective_entries(sumw, sumw2)
    half = _half_width_68(sumw, edges)
    median = quantiles(sumw, edges, np.array([0.5]))[:, 0]
    median_err = np.sqrt(np.pi / 2) * half / np.sqrt(np.maximum(n_eff, 1.0))
    mode, error, sigma = median.copy(), median_err.copy(), half.copy()
    status = np.full(n_hist, OK, dtype=np.int8)
    empty = sumw.sum(axis=1) <= 0
    status[empty] = EMPTY
    if method == "median":
        status[~empty & ~np.isfinite(median)] = FIT_FAILED
    else:
        few = ~empty & (n_eff < min_entries)
        status[few] = FEW_ENTRIES
        rows = np.flatnonzero(status == OK)
        y = _effective_counts(sumw[rows], sumw2[rows])[:, 1:-1]
        if smooth:
            y = _smooth(y, smooth)
        if method == "gauss_iter":
            for start in range(0, rows.size, _ROWS_PER_BATCH):
                part = rows[start : start + _ROWS_PER_BATCH]
                yp = y[start : start + _ROWS_PER_BATCH]
                seed = _seed(yp, edges, half[part])
                m, s, e, ok = _gauss_iter(yp, edges, seed, half[part], n_sigma, n_iter)
                mode[part[ok]], sigma[part[ok]], error[part[ok]] = m[ok], s[ok], e[ok]
                status[part[~ok]] = FIT_FAILED
        elif method == "kde":
            peak = _kde_mode(y, edges, half[rows], n_eff[rows])
            ok = np.isfinite(peak)
            mode[rows[ok]] = peak[ok]
            error[rows[ok]] = np.nan  # no analytic error: the caller bootstraps
            status[rows[~ok]] = FIT_FAILED
        else:
            raise ValueError(f"unknown method {method!r}")
        fallback = (status == FEW_ENTRIES) | (status == FIT_FAILED)
        mode[fallback], error[fallback], sigma[fallback] = (
            median[fallback],
            median_err[fallback],
            half[fallback],
        )
    mode[empty] = error[empty] = sigma[empty] = np.nan
    return ModeArrays(mode=mode, error=error, sigma=sigma, status=status)


def poisson_replicas(
    sumw: np.ndarray, sumw2: np.ndarray, n_replicas: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson-bootstrap replicas of weighted histograms, shape (n_replicas, *sumw.shape).

    Each bin holds :math:`n = (\\sum w)^2/\\sum w^2` effective entries of weight
    :math:`\\sum w^2/\\sum w`; a replica draws Poisson(n) of them, which is the bootstrap of
    the jets for any statistic of the histogram.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(sumw2 > 0, sumw**2 / np.where(sumw2 > 0, sumw2, 1.0), 0.0)
        unit = np.where(sumw > 0, sumw2 / np.where(sumw > 0, sumw, 1.0), 0.0)
    counts = rng.poisson(n_eff, size=(n_replicas, *sumw.shape)).astype(np.float64)
    return counts * unit, counts * unit**2


def resolution_arrays(
    sumw: np.ndarray, edges: np.ndarray, mode: np.ndarray, kind: str = "iqr68"
) -> np.ndarray:
    """Relative resolution: the 68% width over twice the mode, per histogram."""
    if kind == "iqr68":
        q = quantiles(sumw, edges, np.array([P_LOW, P_HIGH]))
        width = q[:, 1] - q[:, 0]
    elif kind == "shortest68":
        width = shortest_width(sumw, edges)
    else:
        raise ValueError(f"unknown resolution kind {kind!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return width / (2 * mode)
