"""Per-jet weights that give a sample a chosen spectrum of a truth variable.

The posterior that a density calibrator learns from simulation carries the prior of
the training sample: its truth spectrum. Weights ``w proportional to 1 / p(pT_true)``
make that prior flat (prior flattening), and weights ``target(E_true) / p(E_true)``
re-weight a test sample to another spectrum (flat in energy for the ATLAS
spectrum-dependence check). ``p`` is estimated by a histogram, in bins equally spaced
in the log of the variable by default, since truth spectra span decades.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import dask
import numpy as np
import pandas as pd

from skcal._chunks import map_chunks
from skcal._params import Interval, check_params
from skcal._validation import dask_kind, is_dask, resolve_columns
from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing._spectrum_bins import (
    Binning,
    Target,
    as_values,
    check_values,
    chunk_counts,
    chunk_range,
    lookup,
)
from skcal.response._edges import check_edges


def flat_prior_weights(
    values: Any,
    *,
    column: str | int = "pt_true",
    bins: int | Sequence[float] = 50,
    log: bool = True,
    clip: float | None = 1000.0,
) -> Any:
    """Per-jet weights that make the distribution of a truth variable flat.

    Each jet gets ``w = 1 / p(v)``, with ``p`` the histogram estimate of the density
    of ``v`` (pT_true by default) in the jet's bin, normalised so that the weights
    average 1. The weighted distribution of ``v`` is then flat (uniform in ``v``
    itself, whatever the binning), up to the clipping of rare bins.

    Parameters
    ----------
    values : array-like, Series, DataFrame or Dask collection
        The truth variable, one value per jet: a 1-D array or Series, or a table
        (pandas or Dask DataFrame) from which ``column`` is taken.
    column : str or int, default="pt_true"
        The column (name or position) to flatten when ``values`` is a table.
    bins : int or sequence of float, default=50
        The number of bins between the smallest and largest value, or the bin edges
        (increasing, in the variable's units, covering every value).
    log : bool, default=True
        Space the bins equally in ``log(v)`` (``v`` must then be positive). This
        chooses the histogram only; the weights flatten ``v`` either way.
    clip : float or None, default=1000.0
        The largest ratio of two weights: a bin whose weight would exceed ``clip``
        times the smallest weight (that of the most densely filled bin) gets that
        much, so that a handful of jets in a sparse bin cannot dominate a training.
        ``None`` for no clipping (an exactly flat weighted histogram).

    Returns
    -------
    weights : ndarray, Series or Dask collection of shape (n_jets,)
        Non-negative weights with mean 1: a Series named ``"prior_weight"`` (with the
        input's index) for pandas input, a Dask Series or Array (lazy) for Dask input.

    Raises
    ------
    DataError
        For an unknown column, an empty input, NaN or infinite values, non-positive
        values with ``log=True``, values outside explicit bin edges, or bad parameters.

    Notes
    -----
    For Dask input the histogram is filled in one pass over the data (two when
    ``bins`` is a number: one more for the range), and the weights are returned as
    a lazy Dask collection that looks each value up in it.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.preprocessing import flat_prior_weights
    >>> pt = np.array([20.0, 21.0, 22.0, 25.0, 80.0])
    >>> w = flat_prior_weights(pt, bins=[20.0, 50.0, 80.0], log=False)
    >>> w.round(3).tolist()  # 4 jets share the first bin, 1 jet fills the second
    [0.625, 0.625, 0.625, 0.625, 2.5]
    >>> float(w.mean())
    1.0
    """
    return _spectrum_weights(
        values, None, column, bins, log, clip, "prior_weight", "flat_prior_weights"
    )


def reweight_to_spectrum(
    values: Any,
    target: str | Target = "flat",
    *,
    column: str | int = "e_true",
    bins: int | Sequence[float] = 50,
    log: bool = True,
    clip: float | None = 1000.0,
) -> Any:
    """Per-jet weights that give a sample a target spectrum of a truth variable.

    Each jet gets ``w = T_b / n_b``, the target's share of the jet's bin over the
    number of jets in it, normalised to mean 1: the weighted histogram of the
    variable then follows the target. The ATLAS spectrum-dependence check compares
    closures of a test sample before and after re-weighting it to a flat energy
    spectrum (the default: ``target="flat"`` on ``e_true``).

    Parameters
    ----------
    values : array-like, Series, DataFrame or Dask collection
        The truth variable, one value per jet, or a table holding ``column``.
    target : "flat" or callable, default="flat"
        The target density of the variable, in the variable's own units (not its
        log): ``"flat"``, or a function mapping an array of values to non-negative
        densities (up to a constant), integrated over each bin numerically.
    column : str or int, default="e_true"
        The column (name or position) to re-weight when ``values`` is a table.
    bins : int or sequence of float, default=50
        The number of bins, or the bin edges (covering every value).
    log : bool, default=True
        Space the bins equally in ``log(v)``.
    clip : float or None, default=1000.0
        The largest ratio of two non-zero weights (see :func:`flat_prior_weights`).

    Returns
    -------
    weights : ndarray, Series or Dask collection of shape (n_jets,)
        Non-negative weights with mean 1 (a Series named ``"spectrum_weight"`` for
        pandas input; lazy Dask output for Dask input).

    Raises
    ------
    DataError
        As :func:`flat_prior_weights`, and for a target that is negative, not finite,
        or zero wherever there are jets.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.preprocessing import reweight_to_spectrum
    >>> e = np.array([10.0, 12.0, 30.0, 35.0])
    >>> w = reweight_to_spectrum(e, lambda x: 1.0 / x, bins=[10.0, 20.0, 40.0], log=False)
    >>> w.round(3).tolist()  # density 1/E (flat in log E): [10, 20] and [20, 40] alike
    [1.0, 1.0, 1.0, 1.0]
    >>> reweight_to_spectrum(e, bins=[10.0, 20.0, 40.0], log=False).round(3).tolist()
    [0.667, 0.667, 1.333, 1.333]
    """
    if isinstance(target, str):
        if target != "flat":
            raise ParameterError(f"target: expected 'flat' or a callable density, got {target!r}")
        density = None
    elif callable(target):
        density = target
    else:
        raise ParameterError(f"target: expected 'flat' or a callable density, got {target!r}")
    return _spectrum_weights(
        values, density, column, bins, log, clip, "spectrum_weight", "reweight_to_spectrum"
    )


#: The parameters shared by the spectrum weights (values are checked against them first).
_CONSTRAINTS: dict[str, list[Any]] = {
    "bins": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "log": ["boolean"],
    "clip": [Interval(Real, 1, None, closed="left"), None],
}


def _check_parameters(bins: Any, log: bool, clip: float | None, caller: str) -> None:
    check_params(_CONSTRAINTS, {"bins": bins, "log": log, "clip": clip}, caller)
    if clip is not None and not np.isfinite(clip):
        raise ParameterError(f"clip: expected None or a finite ratio of weights, got {clip!r}")
    if isinstance(bins, Integral):
        return
    edges = check_edges(bins, "bins")
    if log and edges[0] <= 0:
        raise ParameterError(
            f"bins: with log=True the edges must be positive, got {edges.tolist()}"
        )


def _select(values: Any, column: str | int) -> tuple[Any, str]:
    """The 1-D variable to weight, and its name for messages."""
    kind = dask_kind(values)
    if kind == "dataframe" or isinstance(values, pd.DataFrame):
        if not isinstance(column, (str, int, np.integer)) or isinstance(column, bool):
            raise ParameterError(f"column: expected one column name or position, got {column!r}")
        columns = list(values.columns)
        (position,) = resolve_columns(column, columns, len(columns), param="column")
        return values[columns[position]], str(columns[position])
    if kind == "series" or isinstance(values, pd.Series):
        return values, str(values.name) if values.name is not None else "values"
    if kind == "array":
        if values.ndim != 1:
            raise DataError(f"values: expected one value per jet (1-D), got shape {values.shape}")
        return values, "values"
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"values: expected numbers, got {type(values).__name__}: {exc}") from exc
    if array.ndim != 1:
        raise DataError(
            f"values: expected one value per jet (1-D), got shape {array.shape}; pass a "
            "DataFrame and column= to pick a column of a table"
        )
    return array, "values"


def _spectrum_weights(
    values: Any,
    density: Target | None,
    column: str | int,
    bins: Any,
    log: bool,
    clip: float | None,
    name: str,
    caller: str,
) -> Any:
    _check_parameters(bins, log, clip, caller)
    data, label = _select(values, column)
    lazy = is_dask(data)
    chunks = []
    if lazy:
        delayed = data.to_delayed()
        chunks = list(delayed.ravel() if dask_kind(data) == "array" else delayed)

    if not lazy:
        v = as_values(data)
        check_values(v, label, log)
    if isinstance(bins, (int, np.integer)):
        if lazy:
            ranges = dask.compute(
                *(dask.delayed(chunk_range)(c, label, log, i) for i, c in enumerate(chunks))
            )
            n_rows = sum(r[0] for r in ranges)
            low, high = min(r[1] for r in ranges), max(r[2] for r in ranges)
        else:
            n_rows = v.size
            low, high = (v.min(), v.max()) if n_rows else (np.inf, -np.inf)
        if n_rows == 0:
            raise DataError(f"{label!r} is empty: there are no jets to weight")
        if low == high:  # a single value: nothing to flatten
            binning = Binning(np.array([-np.inf, np.inf]), False, False, label)
            return _finish(data, lazy, binning, np.ones(1), name)
        space = np.log if log else (lambda x: x)
        edges = np.linspace(space(low), space(high), int(bins) + 1)
        binning = Binning(edges, log, False, label)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        binning = Binning(np.log(edges) if log else edges, log, True, label)

    if lazy:
        tasks = (dask.delayed(chunk_counts)(c, binning, i) for i, c in enumerate(chunks))
        counts = sum(dask.compute(*tasks))
    else:
        counts = np.bincount(binning.index(v), minlength=len(binning.edges) - 1)
    if int(counts.sum()) == 0:
        raise DataError(f"{label!r} is empty: there are no jets to weight")
    per_bin = spectrum_bin_weights(counts, binning.target_mass(density), clip)
    return _finish(data, lazy, binning, per_bin, name)


def spectrum_bin_weights(counts: Any, mass: Any, clip: float | None) -> np.ndarray:
    """The weight of a jet in each bin: the target's mass there over the bin's count.

    Clipped at ``clip`` times the smallest non-zero weight, and normalised so that the
    jets' weights average 1 (bins without jets get 0). The one computation of
    :func:`reweight_to_spectrum` and of the report's spectrum check, which re-weights
    filled histograms by the bins of the truth variable.

    Parameters
    ----------
    counts : array-like of shape (n_bins,)
        Jets per bin, at least one in all.
    mass : array-like of shape (n_bins,)
        The target spectrum's mass in each bin (for a flat spectrum: the bin widths).
    clip : float or None
        The largest ratio of two non-zero weights.

    Examples
    --------
    >>> from skcal.preprocessing._weights import spectrum_bin_weights
    >>> spectrum_bin_weights([1, 3, 0], [10.0, 10.0, 10.0], None).round(4).tolist()
    [2.0, 0.6667, 0.0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    mass = np.asarray(mass, dtype=np.float64)
    filled = counts > 0
    per_bin = np.zeros(counts.size)
    per_bin[filled] = mass[filled] / counts[filled]
    positive = per_bin > 0
    if not positive.any():
        raise DataError("target: the target density is zero in every bin that holds jets")
    if clip is not None:
        per_bin = np.minimum(per_bin, clip * per_bin[positive].min())
    return per_bin / ((counts * per_bin).sum() / counts.sum())  # mean weight over the jets: 1


def _finish(data: Any, lazy: bool, binning: Binning, per_bin: np.ndarray, name: str) -> Any:
    if not lazy:
        return lookup(data, None, binning, per_bin, name)
    meta = None if dask_kind(data) == "array" else pd.Series(dtype=np.float64, name=name)
    return map_chunks(data, lookup, binning, per_bin, name, meta=meta)
