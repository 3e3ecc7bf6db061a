"""Bin edges: the default response binning, the one check of edges and the one bin lookup.

Bins are half-open, ``[lo, hi)``, everywhere in skcal. Edges are always a parameter
(of a function or an estimator), so bad edges raise
:class:`~skcal.exceptions.ParameterError`, never :class:`~skcal.exceptions.DataError`.
"""

from __future__ import annotations

from typing import Any

import boost_histogram as bh
import numpy as np

from skcal.exceptions import ParameterError

#: Response edges of the response histograms: 0 to 3 in steps of 0.005 (plus flow bins).
DEFAULT_RESPONSE_EDGES = np.linspace(0.0, 3.0, 601)


def check_edges(edges: Any, name: str) -> np.ndarray:
    """Bin edges as a strictly increasing finite float64 array of at least two values.

    Parameters
    ----------
    edges : array-like
        The edges.
    name : str
        The parameter that holds them, for the message.

    Returns
    -------
    ndarray of shape (n_bins + 1,)

    Raises
    ------
    ParameterError
        If the edges are not one-dimensional, finite and strictly increasing, or fewer
        than two.

    Examples
    --------
    >>> from skcal.response import check_edges
    >>> check_edges([20, 50, 100], "bins").tolist()
    [20.0, 50.0, 100.0]
    >>> check_edges([1, 1], "response_edges")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: response_edges must be at least two finite, ...
    """
    try:
        array = np.asarray(edges, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.empty(0)
    if (
        array.ndim != 1
        or array.size < 2
        or not np.isfinite(array).all()
        or np.any(np.diff(array) <= 0)
    ):
        raise ParameterError(
            f"{name} must be at least two finite, strictly increasing edges; got {edges!r}"
        )
    return array


def bin_lookup(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each value, clipped into range, and whether the value was outside.

    Parameters
    ----------
    values : ndarray of shape (n,)
        The values.
    edges : ndarray of shape (n_bins + 1,)
        Checked edges (:func:`check_edges`).

    Returns
    -------
    index : ndarray of int of shape (n,)
        The bin ``[lo, hi)`` of each value, clipped to ``0 .. n_bins - 1``.
    outside : ndarray of bool of shape (n,)
        Whether the value was below the first edge or at or above the last.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.response import bin_lookup
    >>> values, edges = np.array([5.0, 20.0, 60.0, 100.0]), np.array([20.0, 50, 100])
    >>> index, outside = bin_lookup(values, edges)
    >>> index.tolist(), outside.tolist()
    ([0, 0, 1, 1], [True, False, False, True])
    """
    index = np.searchsorted(edges, values, side="right") - 1
    outside = (index < 0) | (index >= edges.size - 1)
    return np.clip(index, 0, edges.size - 2), outside


def axis(edges: np.ndarray, *, regular: bool) -> bh.axis.Regular | bh.axis.Variable:
    """A boost-histogram axis with flow bins on checked ``edges``.

    A variable axis bins exactly as ``[lo, hi)`` on the edges (a binary search). With
    ``regular``, uniform edges get a regular axis instead (one multiplication per
    value), which may put a value within rounding of an edge on either side of it.
    """
    widths = np.diff(edges)
    if regular and np.allclose(widths, widths[0], rtol=1e-12, atol=0):
        return bh.axis.Regular(edges.size - 1, float(edges[0]), float(edges[-1]))
    return bh.axis.Variable(edges)
