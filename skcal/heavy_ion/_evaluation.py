"""The delta pT figures of a jet pT estimator: widths, residual mean and fake fraction.

``delta pT = pT_pred - pT_true`` per jet, in bins of pT_true (and of R, where the
table holds several radii): its standard deviation ``sigma``, its interquartile range
``iqr`` (q75 - q25; 1.349 sigma for a Gaussian, and insensitive to the tails), its
mean (the residual mean), each with a bootstrap error (the standard deviation over
``n_bootstrap`` resamples of the jets of the bin). The fake fraction: of the jets whose
estimate is above a threshold, the share that has no truth jet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from skcal._validation import as_finite_vector
from skcal.exceptions import DataError

__all__ = ["delta_pt_table", "fake_fraction"]

_STATS = ("mean", "sigma", "iqr")


def _stats(delta: np.ndarray) -> np.ndarray:
    """mean, sigma and IQR along the last axis."""
    q25, q75 = np.quantile(delta, [0.25, 0.75], axis=-1)
    return np.stack([delta.mean(axis=-1), delta.std(axis=-1), q75 - q25])


def delta_pt_table(
    pt_true: Any,
    pt_pred: Any,
    bins: Sequence[float],
    *,
    radius: Any = None,
    n_bootstrap: int = 100,
    random_state: int = 0,
) -> pd.DataFrame:
    """The delta pT widths and residual mean per (radius and) pT_true bin.

    Parameters
    ----------
    pt_true, pt_pred : array-like of shape (n_jets,)
        The truth and the estimated jet pT (GeV); finite.
    bins : sequence of float
        Increasing pT_true edges (GeV).
    radius : array-like of shape (n_jets,), optional
        Each jet's radius: the table is then per radius too.
    n_bootstrap : int, default 100
        Bootstrap resamples for the errors (0: no errors).
    random_state : int, default 0
        Seed of the resampling.

    Returns
    -------
    DataFrame
        One row per (radius, bin) with at least 2 jets: ``radius`` (NaN without),
        ``pt_low``, ``pt_high``, ``n``, ``mean``, ``sigma``, ``iqr`` and their
        ``*_err``.

    Raises
    ------
    DataError
        For non-finite or mismatched inputs, or edges that are not increasing.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.heavy_ion import delta_pt_table
    >>> rng = np.random.default_rng(0)
    >>> pt_true = rng.uniform(20, 60, 20_000)
    >>> table = delta_pt_table(pt_true, pt_true + rng.normal(0, 5, 20_000), [20, 40, 60],
    ...                        n_bootstrap=0)
    >>> table[["pt_low", "sigma"]].round(0).to_numpy().tolist()
    [[20.0, 5.0], [40.0, 5.0]]
    """
    true = as_finite_vector(pt_true, "pt_true")
    pred = as_finite_vector(pt_pred, "pt_pred", n=true.size)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise DataError(f"bins must be increasing pT_true edges (GeV), got {list(bins)!r}")
    radii = np.full(true.size, np.nan) if radius is None else as_finite_vector(radius, "radius")
    if radii.size != true.size:
        raise DataError(f"radius has {radii.size} values for {true.size} jets")
    rng = np.random.default_rng(random_state)
    rows: list[dict[str, Any]] = []
    for r in np.unique(radii) if radius is not None else [np.nan]:
        of_r = np.isnan(radii) if np.isnan(r) else np.isclose(radii, r)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            delta = (pred - true)[of_r & (true >= lo) & (true < hi)]
            if delta.size < 2:
                continue
            row: dict[str, Any] = {"radius": r, "pt_low": lo, "pt_high": hi, "n": delta.size}
            row |= dict(zip(_STATS, _stats(delta).tolist(), strict=True))
            if n_bootstrap:
                picks = rng.integers(0, delta.size, (n_bootstrap, delta.size))
                errors = _stats(delta[picks]).std(axis=1)
                row |= {f"{s}_err": float(e) for s, e in zip(_STATS, errors, strict=True)}
            rows.append(row)
    return pd.DataFrame(rows)


def fake_fraction(pt_pred: Any, fake: Any, threshold: float) -> tuple[float, int]:
    """Of the jets with ``pt_pred > threshold``, the fraction that are fakes, and their number.

    Examples
    --------
    >>> from skcal.heavy_ion import fake_fraction
    >>> fake_fraction([30.0, 25.0, 5.0, 40.0], [1, 0, 1, 0], 20.0)
    (0.3333333333333333, 3)
    """
    pred = as_finite_vector(pt_pred, "pt_pred")
    is_fake = as_finite_vector(fake, "fake", n=pred.size) > 0
    above = pred > threshold
    n = int(above.sum())
    return (float(is_fake[above].mean()) if n else 0.0), n
