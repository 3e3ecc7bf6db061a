"""Binned views of weighted events: histograms, replica covariances, chi2 and a drawing.

Bins are one array of edges per column (one array for a single column); a flat bin
index runs over all of them in C order (the last column fastest). Events outside the
edges fall in no bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skcal.exceptions import DataError

__all__ = [
    "bin_index",
    "chi2",
    "covariance",
    "histogram",
    "plot_covariance",
    "replica_histograms",
]

Bins = Sequence[float] | np.ndarray | Sequence[Sequence[float] | np.ndarray]


def _edges(bins: Bins, n_columns: int) -> list[np.ndarray]:
    arrays = [np.asarray(bins, dtype=np.float64)]
    if arrays[0].ndim != 1 or arrays[0].dtype == object:
        arrays = [np.asarray(b, dtype=np.float64) for b in bins]
    if len(arrays) != n_columns:
        raise DataError(f"{len(arrays)} arrays of bin edges for {n_columns} column(s)")
    for i, e in enumerate(arrays):
        if e.ndim != 1 or e.size < 2 or not (np.diff(e) > 0).all():
            raise DataError(f"bin edges {i} must be at least two increasing numbers, got {e}")
    return arrays


def bin_index(values: Any, bins: Bins) -> np.ndarray:
    """The flat bin of every event, -1 for one outside the edges (or NaN).

    Examples
    --------
    >>> bin_index([0.5, 1.5, 7.0], [0, 1, 2]).tolist()
    [0, 1, -1]
    """
    array = np.asarray(values, dtype=np.float64)
    array = array.reshape(-1, 1) if array.ndim == 1 else array
    edges = _edges(bins, array.shape[1])
    inside = np.ones(array.shape[0], dtype=bool)
    parts = []
    for column, e in zip(array.T, edges):
        i = np.searchsorted(e, column, side="right") - 1
        inside &= (i >= 0) & (i < e.size - 1) & np.isfinite(column)
        parts.append(np.clip(i, 0, e.size - 2))
    shape = tuple(e.size - 1 for e in edges)
    return np.where(inside, np.ravel_multi_index(tuple(parts), shape), -1)


def _n_bins(bins: Bins, values: Any) -> int:
    array = np.asarray(values, dtype=np.float64)
    n_columns = 1 if array.ndim == 1 else array.shape[1]
    return int(np.prod([e.size - 1 for e in _edges(bins, n_columns)]))


def histogram(values: Any, bins: Bins, weights: Any = None) -> np.ndarray:
    """The weighted counts in each flat bin.

    Examples
    --------
    >>> histogram([0.5, 1.5, 1.6], [0, 1, 2], weights=[1.0, 2.0, 0.5]).tolist()
    [1.0, 2.5]
    """
    return replica_histograms(values, bins, np.ones((1, len(values))) if weights is None else
                              np.asarray(weights, dtype=np.float64)[None, :])[0]  # fmt: skip


def replica_histograms(values: Any, bins: Bins, replica_weights: Any) -> np.ndarray:
    """The histogram of each row of ``replica_weights``: shape (n_replicas, n_bins)."""
    index = bin_index(values, bins)
    weights = np.atleast_2d(np.asarray(replica_weights, dtype=np.float64))
    if weights.shape[1] != index.shape[0]:
        raise DataError(f"{weights.shape[1]} weights per replica for {index.shape[0]} events")
    inside = index >= 0
    n_bins = _n_bins(bins, values)
    return np.asarray(
        [np.bincount(index[inside], weights=w[inside], minlength=n_bins) for w in weights]
    )


def covariance(values: Any, bins: Bins, replica_weights: Any) -> np.ndarray:
    """The covariance of the binned counts over the replicas (``ddof=1``).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.random.default_rng(0).poisson(1.0, size=(200, 1000))
    >>> cov = covariance(np.linspace(0, 1, 1000), [0, 0.5, 1.0], w)
    >>> cov.shape, bool(400 < cov[0, 0] < 600)
    ((2, 2), True)
    """
    h = replica_histograms(values, bins, replica_weights)
    if h.shape[0] < 2:
        raise DataError("a covariance needs at least two replicas")
    return np.atleast_2d(np.cov(h, rowvar=False, ddof=1))


def chi2(observed: Any, expected: Any, cov: Any, *, dof: int | None = None) -> tuple[float, int]:
    """``(d^T C^+ d, ndf)`` with ``d = observed - expected``; ndf is the rank of ``C``.

    The pseudo-inverse ``C^+`` leaves out the directions in which the replicas do not
    vary (an empty bin).

    A covariance estimated from replicas is noisy, and the inverse of a noisy
    covariance is biased high: with ``dof`` degrees of freedom (``n_replicas - 1`` for
    one set of replicas; for a sum of covariances, the sum of theirs, a good
    approximation when they are of similar size), the expected chi2 is ``ndf * dof /
    (dof - ndf - 1)``: 3.5 times ``ndf`` for 9 bins from 8 + 8 replicas. Given ``dof``,
    the chi2 is multiplied by ``(dof - ndf - 1) / dof`` (Hartlap, Simon and Schneider
    2007, A&A 464, 399), which removes that bias; it needs ``dof > ndf + 1`` and
    should still be a few times ``ndf``, as the correction does not remove the noise.

    Examples
    --------
    >>> chi2([1.0, 2.0], [0.0, 0.0], [[1.0, 0.0], [0.0, 4.0]])
    (2.0, 2)
    >>> chi2([1.0, 2.0], [0.0, 0.0], [[1.0, 0.0], [0.0, 4.0]], dof=10)
    (1.4, 2)
    """
    d = np.asarray(observed, dtype=np.float64) - np.asarray(expected, dtype=np.float64)
    c = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    if c.shape != (d.size, d.size):
        raise DataError(f"a covariance of shape {c.shape} for {d.size} bins")
    value = float(d @ np.linalg.pinv(c, hermitian=True) @ d)
    ndf = int(np.linalg.matrix_rank(c, hermitian=True))
    if dof is not None:
        if dof <= ndf + 1:
            raise DataError(
                f"dof={dof}: a covariance of rank {ndf} needs more than {ndf + 1} degrees "
                "of freedom (replicas) for its chi2 to be corrected"
            )
        value *= (dof - ndf - 1) / dof
    return value, ndf


def plot_covariance(cov: Any, *, ax: Any = None, title: str = "") -> Any:
    """Draw a covariance and its correlation matrix side by side; return the figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = plot_covariance([[1.0, 0.5], [0.5, 2.0]])
    >>> len(fig.axes)  # two panels and their colour bars
    4
    """
    import matplotlib.pyplot as plt

    c = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    sigma = np.sqrt(np.clip(np.diag(c), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(np.outer(sigma, sigma) > 0, c / np.outer(sigma, sigma), 0.0)
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    else:
        fig = ax[0].figure
    limit = float(np.abs(c).max()) or 1.0
    for a, m, name, v in ((ax[0], c, "covariance", limit), (ax[1], corr, "correlation", 1.0)):
        image = a.imshow(m, origin="lower", cmap="RdBu_r", vmin=-v, vmax=v)
        a.set(xlabel="bin", ylabel="bin", title=f"{title} {name}".strip())
        fig.colorbar(image, ax=a)
    return fig
