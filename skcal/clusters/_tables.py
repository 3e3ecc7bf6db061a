"""The binned tables of the local hadronic calibration: cells, statistics, fallbacks.

A table holds one value per cell of a few binning variables (the EM probability, a
hadronic weight, a correction factor). It is filled from
:class:`~skcal.response.ResponseHistogram` objects, which add across chunks and Dask
partitions; a cell with fewer than ``min_entries`` clusters takes the value of the
table summed over its last variable, then its last two, and so on (the coarser cell
around it), so that no cell is left without a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from skcal.response import ResponseHistogram, _modefit, bin_lookup, check_edges

__all__ = [
    "DEFAULT_EDGES",
    "RESPONSE_EDGES",
    "CellTable",
    "cell_index",
    "em_fraction",
    "fit_table",
    "median",
]

#: Default edges of the binning variables: |y|, and log10 of the energy (GeV), the
#: depth lambda_clus (mm) and the cell density rho_cell (GeV / mm^3).
DEFAULT_EDGES: dict[str, np.ndarray] = {
    "abs_y": np.array([0.0, 0.4, 0.8, 1.2, 1.35, 1.55, 1.8, 2.2, 2.6, 3.0, 3.35, 3.8, 5.0]),
    "log_e": np.arange(-1.0, 3.51, 0.25),
    "log_lambda": np.arange(1.0, 3.91, 0.15),
    "log_rho": np.arange(-9.0, -1.99, 0.35),
}
#: Edges of the response histograms whose medians the tables hold.
RESPONSE_EDGES = np.linspace(0.0, 4.0, 1601)
#: The response axis of the classification: a hadron fills bin 0, an EM cluster bin 1.
CLASS_EDGES = np.array([0.0, 1.0, 2.0])


@dataclass
class CellTable:
    """One value per cell of ``variables`` (edges ``edges``); ``level``: the fallback
    of each cell (0: its own entries, k: summed over its last k variables)."""

    variables: tuple[str, ...]
    edges: tuple[np.ndarray, ...]
    values: np.ndarray
    level: np.ndarray

    def lookup(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The value of each cluster's cell (values outside the edges: the edge cell)."""
        return self.values[cell_index(columns, self.variables, self.edges)]


def cell_index(
    columns: Mapping[str, np.ndarray], variables: Sequence[str], edges: Sequence[np.ndarray]
) -> tuple[np.ndarray, ...]:
    """The (clipped) cell of each cluster, as a tuple of index arrays."""
    return tuple(bin_lookup(columns[v], e)[0] for v, e in zip(variables, edges, strict=True))


def new_histogram(
    variables: Sequence[str], edges: Mapping[str, np.ndarray], response_edges: np.ndarray
) -> ResponseHistogram:
    """An empty histogram over the cells of ``variables``."""
    return ResponseHistogram({v: check_edges(edges[v], v) for v in variables}, response_edges)


def median(sumw: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The weighted median of each row of response histograms (with flow bins)."""
    return _modefit.quantiles(sumw, edges, np.array([0.5]))[:, 0]


def em_fraction(sumw: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The weighted fraction of EM clusters of each row of classification histograms."""
    total = sumw[:, 1] + sumw[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sumw[:, 2] / total, np.nan)


def fit_table(
    hist: ResponseHistogram,
    stat: Callable[[np.ndarray, np.ndarray], np.ndarray],
    min_entries: float,
) -> CellTable:
    """``stat`` of each cell's histogram, falling back to coarser cells where it is sparse.

    The caller makes sure that the whole table holds at least ``min_entries`` clusters.
    """
    sumw, counts = hist.sumw, hist.entries.astype(np.float64)
    n_cells = len(hist.shape)
    values = np.full(hist.shape, np.nan)
    level = np.full(hist.shape, -1, dtype=np.int8)
    for k in range(n_cells + 1):
        axes = tuple(range(n_cells - k, n_cells))
        sw = sumw.sum(axis=axes, keepdims=True) if axes else sumw
        n = counts.sum(axis=axes, keepdims=True) if axes else counts
        v = stat(sw.reshape(-1, sw.shape[-1]), hist.response_edges).reshape(n.shape)
        fill = (level < 0) & np.broadcast_to((n >= min_entries) & np.isfinite(v), hist.shape)
        values[fill] = np.broadcast_to(v, hist.shape)[fill]
        level[fill] = k
    if (level < 0).any():  # the caller's count check makes this unreachable
        raise AssertionError("a table cell has no value")
    return CellTable(tuple(hist.variables), tuple(hist.edges.values()), values, level)
