"""A weighted histogram of a response in cells of binning variables, filled chunk by chunk.

Built on boost-histogram: one histogram over the binning variables and the response,
with weighted storage (sum of weights and of squared weights; boost-histogram's
"variance" of a weighted fill is exactly the sum of squared weights, and of an
unweighted fill the count). Every axis keeps its flow bins, so that jets outside the
binning variables are counted and the quantiles of the response count every jet.

Histograms of separate chunks add (``h1 + h2``), so a sample that does not fit in
memory is histogrammed one chunk (or one Dask partition) at a time; the result does
not depend on the chunking except for the order of floating-point additions.

The speed: the binning variables get variable axes (a binary search, exactly the
``[lo, hi)`` bins of their edges); a uniform response axis gets a regular axis (one
multiplication; a response within rounding of an edge may fall on either side of it).
The first ``extras`` quantity rides on the same fill (weighted-mean storage), the
others fill a histogram over the binning variables each; the number of jets per cell
comes from the sum of weights of an unweighted fill and from a count histogram of a
weighted one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import boost_histogram as bh
import numpy as np

from skcal._validation import as_finite_vector, as_response, as_weights
from skcal.exceptions import DataError, ParameterError
from skcal.response._edges import axis, check_edges


class ResponseHistogram:
    """Weighted histograms of a response in the cells of one or more binning variables.

    The response axis has an underflow and an overflow bin, so that quantiles count
    every jet; jets outside the binning variables' ranges are not used but counted
    (``n_outside``, ``sumw_outside``).

    Parameters
    ----------
    bins : mapping of str to array-like or int
        Edges of each binning variable, in order (for example ``{"pt_true": [...],
        "abs_eta_true": [...]}``). Bins are half-open, ``[lo, hi)``. An integer ``n``
        instead of edges makes the variable an index ``0 .. n - 1`` (a cell number),
        binned without a search.
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

    Raises
    ------
    ParameterError
        If ``bins`` is empty or any edges are not strictly increasing.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.response import ResponseHistogram
    >>> h = ResponseHistogram({"pt": [20, 50, 100]}, np.linspace(0, 2, 41))
    >>> _ = h.fill([0.9, 1.0, 1.1], {"pt": [30.0, 60.0, 500.0]})
    >>> _ = h.fill([1.0], {"pt": [25.0]})  # a second chunk
    >>> h.entries.tolist(), h.n_outside
    ([2, 1], 1)
    """

    def __init__(
        self, bins: Mapping[str, Any], response_edges: Any, extras: Sequence[str] = ()
    ) -> None:
        if not isinstance(bins, Mapping) or not bins:
            raise ParameterError("bins must map at least one binning variable to its edges")
        self.edges: dict[str, np.ndarray] = {}
        self._indices: set[str] = set()  # variables binned by an integer index
        for key, spec in bins.items():
            name = str(key)
            if isinstance(spec, int | np.integer) and not isinstance(spec, bool):
                if spec < 1:
                    raise ParameterError(
                        f"bins[{name!r}]: an index needs at least 1 bin, got {spec}"
                    )
                self.edges[name] = np.arange(int(spec) + 1, dtype=np.float64) - 0.5
                self._indices.add(name)
            else:
                self.edges[name] = check_edges(spec, f"bins[{name!r}]")
        self.response_edges = check_edges(response_edges, "response_edges")
        self.extras = tuple(str(name) for name in extras)
        self.shape = tuple(e.size - 1 for e in self.edges.values())
        self._axes = [
            bh.axis.Integer(0, e.size - 1) if name in self._indices else axis(e, regular=False)
            for name, e in self.edges.items()
        ]
        self._hist = self._new_main()
        self._counts = np.zeros(tuple(n + 2 for n in self.shape), dtype=np.int64)
        self._more = {name: self._new_cells(bh.storage.Double()) for name in self.extras[1:]}
        self.n_outside = 0
        self.sumw_outside = 0.0

    def _new_main(self) -> bh.Histogram[Any]:
        storage = bh.storage.WeightedMean() if self.extras else bh.storage.Weight()
        return bh.Histogram(*self._axes, axis(self.response_edges, regular=True), storage=storage)

    def _new_cells(self, storage: bh.storage.Storage) -> bh.Histogram[Any]:
        return bh.Histogram(*self._axes, storage=storage)

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the binning variables, in order."""
        return tuple(self.edges)

    def _view(self, field: str) -> np.ndarray:
        """A field of the main histogram: flow bins on the response axis only."""
        inner = tuple(slice(1, -1) for _ in self.shape)
        view: Any = self._hist.view(flow=True)  # a structured view of the weighted storage
        return np.ascontiguousarray(view[field][inner])

    @property
    def sumw(self) -> np.ndarray:
        """Sum of weights per cell and response bin (with the response flow bins)."""
        return self._view("sum_of_weights" if self.extras else "value")

    @property
    def sumw2(self) -> np.ndarray:
        """Sum of squared weights per cell and response bin (with the response flow bins)."""
        return self._view("sum_of_weights_squared" if self.extras else "variance")

    @property
    def entries(self) -> np.ndarray:
        """Number of jets per cell."""
        return self._counts[tuple(slice(1, -1) for _ in self.shape)]

    @property
    def extra_sums(self) -> dict[str, np.ndarray]:
        """Weighted sums of each ``extras`` quantity per cell."""
        if not self.extras:
            return {}
        inner = tuple(slice(1, -1) for _ in self.shape)
        view: Any = self._hist.view(flow=True)
        first = np.nan_to_num(view["value"] * view["sum_of_weights"]).sum(axis=-1)[inner]
        rest = {name: h.view(flow=True)[inner] for name, h in self._more.items()}
        return {self.extras[0]: first} | rest

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
        r = np.asarray(response, dtype=np.float64) if checked else as_response(response, "response")
        n = r.shape[0]
        w = None
        if weight is not None:
            w = np.asarray(weight, dtype=np.float64) if checked else as_weights(weight, n, "weight")

        def values(source: Mapping[str, Any] | None, name: str, what: str) -> np.ndarray:
            if source is None or name not in source:
                raise DataError(f"{what} {name!r} is missing from the chunk")
            if checked:
                return np.asarray(source[name], dtype=np.float64)
            return as_finite_vector(source[name], name, n=n)

        columns = [
            self._index(values(variables, name, "binning variable"), name, checked)
            if name in self._indices
            else values(variables, name, "binning variable")
            for name in self.edges
        ]
        more = {name: values(extras, name, "extra quantity") for name in self.extras}
        empty = not self._counts.any() and not any(h.sum() for h in self._more.values())
        chunk = self._hist if empty else self._new_main()  # allocating costs as much as filling
        if self.extras:
            chunk.fill(*columns, r, weight=w, sample=more.pop(self.extras[0]))
            view: Any = chunk.view(flow=True)
            cell_sumw = view["sum_of_weights"].sum(axis=-1)
        else:
            chunk.fill(*columns, r, weight=w)
            view = chunk.view(flow=True)
            cell_sumw = view["value"].sum(axis=-1)
        if w is None:
            counts = np.rint(cell_sumw).astype(np.int64)
        else:
            counts = self._new_cells(bh.storage.Int64()).fill(*columns).view(flow=True)
        for name, hist in self._more.items():
            product = more[name] if w is None else more[name] * w
            hist.fill(*columns, weight=product)
        inner = tuple(slice(1, -1) for _ in self.shape)
        self.n_outside += int(counts.sum() - counts[inner].sum())
        self.sumw_outside += float(cell_sumw.sum() - cell_sumw[inner].sum())
        if chunk is not self._hist:
            self._hist += chunk
        self._counts += counts
        return self

    @staticmethod
    def _index(values: np.ndarray, name: str, checked: bool) -> np.ndarray:
        """The values of an index variable as integers (refused unless whole numbers)."""
        index = values.astype(np.int64)
        if not checked and not np.array_equal(index, values):
            raise DataError(f"binning variable {name!r} is an index: its values must be integers")
        return index

    def _bins(self) -> dict[str, Any]:
        """The ``bins`` argument that gives this histogram's binning."""
        return {k: e.size - 1 if k in self._indices else e for k, e in self.edges.items()}

    def _check_compatible(self, other: ResponseHistogram) -> None:
        same = (
            isinstance(other, ResponseHistogram)
            and self.extras == other.extras
            and self._indices == other._indices
            and self.edges.keys() == other.edges.keys()
            and all(np.array_equal(self.edges[k], other.edges[k]) for k in self.edges)
            and np.array_equal(self.response_edges, other.response_edges)
        )
        if not same:
            raise DataError("cannot add response histograms with different binnings")

    def __iadd__(self, other: ResponseHistogram) -> ResponseHistogram:
        self._check_compatible(other)
        self._hist += other._hist
        self._counts += other._counts
        for name, hist in self._more.items():
            hist += other._more[name]
        self.n_outside += other.n_outside
        self.sumw_outside += other.sumw_outside
        return self

    def __add__(self, other: ResponseHistogram) -> ResponseHistogram:
        out = copy.deepcopy(self)
        out += other
        return out

    def empty_like(self) -> ResponseHistogram:
        """An empty histogram with the same binning."""
        return ResponseHistogram(self._bins(), self.response_edges, self.extras)

    def summed_over(self, variable: str, weights: Any = None) -> ResponseHistogram:
        """The histogram summed over the bins of one binning variable (at least two remain).

        With ``weights`` (one per bin of ``variable``), each bin's weights are scaled by
        its weight first: the histogram of the jets re-weighted by a function of that
        variable. The extras are not kept; the jets outside are those of ``self``.
        """
        names = self.variables
        if variable not in names or len(names) < 2:
            raise ParameterError(f"variable must be one of {names[:-1] if names else names}")
        position = names.index(variable)
        factor = np.ones(self.shape[position]) if weights is None else np.asarray(weights, float)
        shape = [1] * (len(self.shape) + 1)
        shape[position] = factor.size
        factor = factor.reshape(shape)
        out = ResponseHistogram(
            {k: e for k, e in self._bins().items() if k != variable}, self.response_edges
        )
        inner = tuple(slice(1, -1) for _ in out.shape)
        view: Any = out._hist.view(flow=True)
        view["value"][inner] = (self.sumw * factor).sum(axis=position)
        view["variance"][inner] = (self.sumw2 * factor**2).sum(axis=position)
        out._counts[inner] = self.entries.sum(axis=position)
        out.n_outside, out.sumw_outside = self.n_outside, self.sumw_outside
        return out

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
