"""Where the stages get their binning and response histograms from: one module.

The bin-edge check of parameters, the bin lookup, the default response axis and the
response histogram and mode fit of :mod:`skcal.evaluation` are imported by the
stages from here only, so that moving them to their public home is one edit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skcal.evaluation import _modefit
from skcal.evaluation._histogram import ResponseHistogram
from skcal.exceptions import ParameterError

__all__ = [
    "DEFAULT_RESPONSE_EDGES",
    "ResponseHistogram",
    "bin_lookup",
    "check_edges_param",
    "modefit",
]

#: The mode fit of the response histograms (``estimate_modes``, ``METHODS``, ...).
modefit = _modefit

#: Default response histogram: 0 to 3 in steps of 0.005 (plus flow bins).
DEFAULT_RESPONSE_EDGES = np.linspace(0.0, 3.0, 601)


def check_edges_param(edges: Any, name: str) -> np.ndarray:
    """Edges given as a parameter: at least two finite, strictly increasing values.

    Examples
    --------
    >>> check_edges_param([0, 1, 2], "abs_eta_bins").tolist()
    [0.0, 1.0, 2.0]
    >>> check_edges_param([1, 0], "abs_eta_bins")
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: abs_eta_bins must be at least two finite, strictly \
increasing edges; got [1, 0]
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
    """Bin index of each value, clipped into range; and whether it was outside.

    Examples
    --------
    >>> index, outside = bin_lookup(np.array([-1.0, 0.5, 1.5, 9.0]), np.array([0.0, 1.0, 2.0]))
    >>> index.tolist(), outside.tolist()
    ([0, 0, 1, 1], [True, False, False, True])
    """
    index = np.searchsorted(edges, values, side="right") - 1
    outside = (index < 0) | (index >= edges.size - 1)
    return np.clip(index, 0, edges.size - 2), outside
