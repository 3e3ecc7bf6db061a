"""The histogram behind the spectrum weights: its bins, and one chunk's values in them.

A :class:`Binning` bins a truth variable in its own units or in its log; the chunk
functions check a chunk's values, count them per bin and look each jet's weight up,
for in-memory arrays and for the chunks of Dask collections alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import trapezoid

from skcal.exceptions import DataError, ParameterError

Target = Callable[[np.ndarray], np.ndarray]

#: Points per bin of the trapezoidal integral of a target density.
_QUADRATURE_POINTS = 33


class Binning:
    """Bins in the space of ``v`` or ``log v``; ``edges`` are in that space."""

    def __init__(self, edges: np.ndarray, log: bool, explicit: bool, label: str) -> None:
        self.edges = edges
        self.log = log
        self.explicit = explicit
        self.label = label

    def space(self, v: np.ndarray) -> np.ndarray:
        return np.log(v) if self.log else v

    def index(self, v: np.ndarray) -> np.ndarray:
        """The bin of each value; values outside explicit edges are an error."""
        t = self.space(v)
        n_bins = len(self.edges) - 1
        idx = np.searchsorted(self.edges, t, side="right") - 1
        idx[t == self.edges[-1]] = n_bins - 1  # the last bin includes its upper edge
        outside = (idx < 0) | (idx >= n_bins)
        if outside.any():
            if self.explicit:
                low, high = self._units(self.edges[[0, -1]])
                raise DataError(
                    f"{self.label!r}: {int(outside.sum())} of {len(v)} values lie outside the "
                    f"bin edges [{low:g}, {high:g}] (e.g. {v[outside][0]:g}); widen the bins"
                )
            idx = np.clip(idx, 0, n_bins - 1)  # rounding at the data's own extremes
        return idx

    def _units(self, t: np.ndarray) -> np.ndarray:
        return np.exp(t) if self.log else t

    def target_mass(self, density: Target | None) -> np.ndarray:
        """The integral of the target density over each bin, in the variable's units."""
        if density is None:
            return np.diff(self._units(self.edges))
        nodes = np.linspace(self.edges[:-1], self.edges[1:], _QUADRATURE_POINTS, axis=1)
        x = self._units(nodes)
        try:
            f = np.asarray(density(x.ravel()), dtype=np.float64).reshape(x.shape)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"target: the density cannot be evaluated on an array: {exc}"
            ) from exc
        if not np.isfinite(f).all() or (f < 0).any():
            raise ParameterError(
                "target: the density must be finite and non-negative over the bins "
                f"[{x.min():g}, {x.max():g}]"
            )
        return trapezoid(f, x, axis=1)


def check_values(v: np.ndarray, label: str, log: bool, chunk: str = "") -> None:
    bad = ~np.isfinite(v)
    if bad.any():
        n_nan = int(np.isnan(v).sum())
        counts = " and ".join(
            f"{n} {word}" for n, word in ((n_nan, "NaN"), (int(bad.sum()) - n_nan, "inf")) if n
        )
        raise DataError(
            f"{label!r}{chunk} has {counts} (first at row {int(np.argmax(bad))}); weights "
            "need finite values"
        )
    if log and (v <= 0).any():
        n_bad = int((v <= 0).sum())
        raise DataError(
            f"{label!r}{chunk} has {n_bad} non-positive values in {len(v)} rows (smallest "
            f"{v.min():g}); log=True bins need positive values (or pass log=False)"
        )


def as_values(chunk: Any) -> np.ndarray:
    try:
        return np.asarray(chunk, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise DataError(f"values: expected numbers: {exc}") from exc


def chunk_range(chunk: Any, label: str, log: bool, number: int) -> tuple[int, float, float]:
    v = as_values(chunk)
    check_values(v, label, log, f" (chunk {number})")
    if v.size == 0:
        return 0, np.inf, -np.inf
    return v.size, float(v.min()), float(v.max())


def chunk_counts(chunk: Any, binning: Binning, number: int) -> np.ndarray:
    v = as_values(chunk)
    check_values(v, binning.label, binning.log, f" (chunk {number})")
    return np.bincount(binning.index(v), minlength=len(binning.edges) - 1)


def lookup(chunk: Any, rows: Any, binning: Binning, per_bin: np.ndarray, name: str) -> Any:
    """The weight of each jet of a chunk (a Series named ``name`` for pandas input)."""
    v = as_values(chunk)
    weights = per_bin[binning.index(v)] if v.size else np.empty(0)
    if isinstance(chunk, pd.Series):
        return pd.Series(weights, index=chunk.index, name=name)
    return weights
