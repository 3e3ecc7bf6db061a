"""A weighted histogram of a response in cells of binning variables, filled chunk by chunk.

Histograms of separate chunks add (``h1 + h2``), so a sample that does not fit in
memory is histogrammed one chunk (or one Dask partition) at a time; the result does
not depend on the chunking except for the order of floating-point additions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skcal._validation import as_finite_vector, as_response, as_weights
from skcal.exceptions import DataError


def check_edges(edges: Any, name: str) -> np.ndarray:
    """Bin edges as a strictly increasing finite float64 array of at least two values."""
    array = np.asarray(edges, dtype=np.float64)
    if (
        array.ndim != 1
        or array.size < 2
        or not np.isfinite(array).all()
        or np.any(np.diff(array) <= 0)
    ):
        raise DataError(
            f"bins of {name!r} must be at least two finite, strictly increasing "
            f"edges; got {edges!r}"
        )
    return array


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of each value's bin, half-open ``[lo, hi)``; -1 or len(edges)-1 outside."""
    return np.searchsorted(edges, values, side="right") - 1


class ResponseHistogram:
    """Weighted histograms of a response in the cells of one or more binning variables.

    The response axis has an underflow and an overflow bin, so that quantiles count
    every jet; jets outside the binning variables' ranges are not filled but counted
    (``n_outside``, ``sumw_outside``).

    Parameters
    ----------
    bins : mapping of str to array-like
        Edges of each binning variable, in order (for example ``{"pt_true": [...],
        "abs_eta_true": [...]}``). Bins are half-open, ``[lo, hi)``.
    response_edges : array-like
        Edges of the response axis.
    extras : sequence of str, default ()
        Names of per-jet quantities whose weighted sums are kept per cell (for example
        the mean log energy of the jets in a bin).

    Attributes
    ----------
    sumw, sumw2 : ndarray of shape (*cells, n_response_bins + 2)
        Sum of weights and of squared weights; index 0 of the last axis is the
        underflow, index -1 the overflow.
    entries : ndarray of shape cells
        Number of jets (unweighted) per cell.
    extra_sums : dict of str to ndarray of shape cells
        Weighted sums of each ``extras`` quantity.
    n_outside, sumw_outside : int, float
        Jets outside the binning variables' ranges and their summed weight.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.evaluation import ResponseHistogram
    >>> h = ResponseHistogram({"pt": [20, 50, 100]}, np.linspace(0, 2, 41))
    >>> _ = h.fill([0.9, 1.0, 1.1], {"pt": [30.0, 60.0, 500.0]})
    >>> _ = h.fill([1.0], {"pt": [25.0]})  # a second chunk
    >>> h.entries.tolist(), h.n_outside
    ([2, 1], 1)
    """

    def __init__(
        self, bins: Mapping[str, Any], response_edges: Any, extras: Sequence[str] = ()
    ) -> None:
        if not bins:
            raise DataError("bins must name at least one binning variable")
        self.edges = {str(name): check_edges(e, str(name)) for name, e in bins.items()}
        self.response_edges = check_edges(response_edges, "response")
        self.extras = tuple(extras)
        self.shape = tuple(e.size - 1 for e in self.edges.values())
        n_cells = int(np.prod(self.shape))
        n_r = self.response_edges.size + 1  # bins + underflow + overflow
        self.sumw = np.zeros((*self.shape, n_r))
        self.sumw2 = np.zeros((*self.shape, n_r))
        self.entries = np.zeros(self.shape, dtype=np.int64)
        self.extra_sums = {name: np.zeros(self.shape) for name in self.extras}
        self.n_outside = 0
        self.sumw_outside = 0.0
        widths = np.diff(self.response_edges)
        self._uniform = bool(np.allclose(widths, widths[0], rtol=1e-12, atol=0))
        self._n_cells = n_cells

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the binning variables, in order."""
        return tuple(self.edges)

    def _response_index(self, response: np.ndarray) -> np.ndarray:
        edges = self.response_edges
        n = edges.size - 1
        if self._uniform:
            index = np.floor((response - edges[0]) * (n / (edges[-1] - edges[0])))
            np.clip(index, -1, n, out=index)
            return index.astype(np.intp) + 1
        return np.clip(_bin_index(response, edges), -1, n) + 1

    def fill(
        self,
        response: Any,
        variables: Mapping[str, Any],
        weight: Any = None,
        extras: Mapping[str, Any] | None = None,
        *,
        checked: bool = False,
    ) -> ResponseHistogram:
        """Add a chunk of jets; returns ``self``.

        Parameters
        ----------
        response : array-like of shape (n,)
            Responses, finite and positive.
        variables : mapping of str to array-like
            The binning variables of these jets, one array per name of ``bins``.
        weight : array-like of shape (n,), optional
            Non-negative weights; unit weights when omitted.
        extras : mapping of str to array-like, optional
            The per-jet quantities named in ``extras``.
        checked : bool, default False
            Skip the checks of finite and positive values (for callers that made them).
        """
        if checked:
            r = np.asarray(response, dtype=np.float64)
        else:
            r = as_response(response, "response")
        n = r.shape[0]
        w = (
            None
            if weight is None
            else (
                np.asarray(weight, dtype=np.float64) if checked else as_weights(weight, n, "weight")
            )
        )
        cell = np.zeros(n, dtype=np.intp)
        inside = np.ones(n, dtype=bool)
        for name, edges in self.edges.items():
            if name not in variables:
                raise DataError(f"binning variable {name!r} is missing from the chunk")
            values = (
                np.asarray(variables[name], dtype=np.float64)
                if checked
                else as_finite_vector(variables[name], name, n=n)
            )
            index = _bin_index(values, edges)
            inside &= (index >= 0) & (index < edges.size - 1)
            cell = cell * (edges.size - 1) + index
        n_r = self.response_edges.size + 1
        if not inside.all():
            self.n_outside += int(n - inside.sum())
            self.sumw_outside += float(n - inside.sum()) if w is None else float(w[~inside].sum())
            cell, r = cell[inside], r[inside]
            w = None if w is None else w[inside]
        flat = cell * n_r + self._response_index(r)
        size = self._n_cells * n_r
        counts = np.bincount(flat, weights=w, minlength=size)
        self.sumw += counts.reshape(self.sumw.shape)
        if w is None:
            self.sumw2 += counts.reshape(self.sumw.shape)
        else:
            self.sumw2 += np.bincount(flat, weights=w * w, minlength=size).reshape(self.sumw.shape)
        self.entries += np.bincount(cell, minlength=self._n_cells).reshape(self.shape)
        for name in self.extras:
            if extras is None or name not in extras:
                raise DataError(f"extra quantity {name!r} is missing from the chunk")
            values = np.asarray(extras[name], dtype=np.float64)
            values = values if checked else as_finite_vector(values, name, n=n)
            values = values[inside] if values.shape[0] == n and not inside.all() else values
            contrib = values if w is None else values * w
            self.extra_sums[name] += np.bincount(
                cell, weights=contrib, minlength=self._n_cells
            ).reshape(self.shape)
        return self

    def _check_compatible(self, other: ResponseHistogram) -> None:
        same = (
            isinstance(other, ResponseHistogram)
            and self.extras == other.extras
            and self.edges.keys() == other.edges.keys()
            and all(np.array_equal(self.edges[k], other.edges[k]) for k in self.edges)
            and np.array_equal(self.response_edges, other.response_edges)
        )
        if not same:
            raise DataError("cannot add response histograms with different binnings")

    def __iadd__(self, other: ResponseHistogram) -> ResponseHistogram:
        self._check_compatible(other)
        self.sumw += other.sumw
        self.sumw2 += other.sumw2
        self.entries += other.entries
        for name in self.extras:
            self.extra_sums[name] += other.extra_sums[name]
        self.n_outside += other.n_outside
        self.sumw_outside += other.sumw_outside
        return self

    def __add__(self, other: ResponseHistogram) -> ResponseHistogram:
        out = self.empty_like()
        out += self
        out += other
        return out

    def empty_like(self) -> ResponseHistogram:
        """An empty histogram with the same binning."""
        return ResponseHistogram(self.edges, self.response_edges, self.extras)

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """``sumw`` and ``sumw2`` with the cells flattened: (n_cells, n_response_bins + 2)."""
        n_r = self.response_edges.size + 1
        return self.sumw.reshape(-1, n_r), self.sumw2.reshape(-1, n_r)

    def __repr__(self) -> str:
        axes = ", ".join(f"{k}: {v.size - 1}" for k, v in self.edges.items())
        return (
            f"ResponseHistogram({axes}; response: {self.response_edges.size - 1} bins; "
            f"{int(self.entries.sum())} jets, {self.n_outside} outside)"
        )


def tree_sum(histograms: Sequence[ResponseHistogram]) -> ResponseHistogram:
    """Sum of histograms (pairwise, so that partial sums stay balanced)."""
    items = list(histograms)
    if not items:
        raise DataError("no histograms to add: the input has no chunks")
    while len(items) > 1:
        items = [
            items[i] + items[i + 1] if i + 1 < len(items) else items[i]
            for i in range(0, len(items), 2)
        ]
    return items[0]
