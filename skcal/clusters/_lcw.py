"""The local hadronic calibration (LCW) of topo-clusters: ATLAS's binned baseline."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from skcal._params import Interval
from skcal._validation import check_positive_vector
from skcal.clusters._tables import (
    CLASS_EDGES,
    DEFAULT_EDGES,
    RESPONSE_EDGES,
    CellTable,
    em_fraction,
    fit_table,
    median,
    new_histogram,
)
from skcal.datasets.clusters import EM_CODES
from skcal.exceptions import DataError, ParameterError
from skcal.inversion._stage import STAGE_CONSTRAINTS, ColumnSpec, Frame, StageMixin, spec_name
from skcal.response import ResponseHistogram, check_edges

__all__ = ["LocalHadronicCalibration"]

CLASSIFICATION = ("log_e", "log_lambda", "log_rho")
HADRONIC = ("abs_y", "log_e", "log_rho")
CORRECTION = ("abs_y", "log_e", "log_lambda")
ISO_EDGES = np.linspace(1.0, 2.0, 201)  # isolation + 1 (the histograms take positive values)
_COLUMN = [str, Interval(Integral, 0, None, closed="left")]


def _add(a: tuple[ResponseHistogram, ...], b: tuple[ResponseHistogram, ...]) -> tuple[Any, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


class LocalHadronicCalibration(StageMixin, RegressorMixin, BaseEstimator):
    """Local cell weighting (LCW) of topo-clusters, as ATLAS calibrates them since Run 1.

    Four binned steps, each a table fitted from the same cluster table (the ATLAS
    topo-cluster paper, Eur. Phys. J. C 77 (2017) 490, section 6):

    1. classification: the probability ``p`` that a cluster is electromagnetic, the
       fraction of EM clusters (``label`` in ``em_codes``) in bins of (log E,
       log lambda, log rho);
    2. hadronic weights ``w_had = 1 / median(E_EM / E_dep)`` of the hadron clusters in
       bins of (|y|, log E, log rho); a cluster is weighted by ``p + (1 - p) w_had``;
    3. out-of-cluster corrections ``c = 1 / median`` of the weighted response, for EM
       and for hadron clusters, in bins of (|y|, log E, log lambda), applied in
       proportion to the cluster's isolation: ``1 + (f_iso / f_iso_cell) (c - 1)``,
       with ``f_iso_cell`` the cell's median isolation;
    4. dead-material corrections ``1 / median`` of the response after step 3, for EM
       and hadron clusters, in the same bins.

    Steps 3 and 4 combine their EM and hadron tables through ``p`` as step 2 does. The
    energies are binned at the EM scale. Each step is fitted on the response left by
    the steps before it, with the one truth the table holds (``E_dep``), so that the
    chain closes on ``E_dep`` in the bins of its reco-level variables; it ignores the
    correlations between the features beyond its bins, which is what the neural
    calibrations improve on.

    ``predict`` returns the response ``E_EM / E_LCW`` (so ``E_LCW = e_em /
    predict(X)``), ``transform`` the table with ``e_em`` calibrated.

    Parameters
    ----------
    energy, eta, depth, density, isolation : str or int
        The columns of E_clus^EM, the rapidity, lambda_clus, <rho_cell> and f_iso.
    label : str or int, default "particle"
        The truth column that tells EM from hadron clusters; read by ``fit`` only.
    em_codes : sequence of int, default (22, 111)
        The ``label`` values of EM clusters (photons, pi0).
    edges : mapping, optional
        Edges of ``abs_y``, ``log_e``, ``log_lambda`` and ``log_rho`` (log10 of GeV,
        mm and GeV / mm^3) replacing the defaults (:data:`DEFAULT_EDGES`).
    min_entries : float, default 20
        Clusters a table cell needs to keep its own value; a sparser cell takes the
        value of the coarser cell around it.
    momentum : str, int or sequence, default "e_em"
        The columns that ``transform`` calibrates.
    scale_column : str, optional
        Where ``transform`` records the factor applied (none by default).
    chunk_size : int, default 2**20
        Rows per chunk of an in-memory fit.

    Attributes
    ----------
    classification_, hadronic_weight_ : CellTable
    ooc_em_, ooc_had_, iso_em_, iso_had_, dm_em_, dm_had_ : CellTable
        The fitted tables (``values`` per cell, ``level`` its fallback).
    n_em_, n_had_ : int
        The EM and hadron clusters of the fit.

    Notes
    -----
    A fit needs at least ``min_entries`` EM and ``min_entries`` hadron clusters (40
    in all by default); fewer, or a sample of one class only, is a
    :class:`~skcal.exceptions.DataError` naming the counts. Energies, depths and
    densities must be positive. Dask input is streamed in three passes (one per
    group of tables), each partition read once per pass.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.clusters import LocalHadronicCalibration
    >>> from skcal.datasets import make_clusters
    >>> clusters = make_clusters(20_000, random_state=0)
    >>> r = clusters["e_em"] / clusters["e_dep"]
    >>> lcw = LocalHadronicCalibration().fit(clusters, r)
    >>> calibrated = clusters["e_em"] / lcw.predict(clusters) / clusters["e_dep"]
    >>> high = clusters["e_dep"] > 10
    >>> bool(abs(np.median(calibrated[high]) - 1) < abs(np.median(r[high]) - 1))
    True
    """

    _fitted_attribute: ClassVar[str] = "dm_had_"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **STAGE_CONSTRAINTS,
        "energy": _COLUMN,
        "eta": _COLUMN,
        "depth": _COLUMN,
        "density": _COLUMN,
        "isolation": _COLUMN,
        "label": _COLUMN,
        "em_codes": ["array-like"],
        "edges": [dict, None],
        "min_entries": [Interval(Real, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        energy: ColumnSpec = "e_em",
        eta: ColumnSpec = "y_clus",
        depth: ColumnSpec = "lambda_clus",
        density: ColumnSpec = "rho_cell",
        isolation: ColumnSpec = "f_iso",
        label: ColumnSpec = "particle",
        em_codes: Sequence[int] = EM_CODES,
        edges: dict[str, Any] | None = None,
        min_entries: float = 20.0,
        momentum: ColumnSpec | Sequence[ColumnSpec] = "e_em",
        scale_column: str | None = None,
        chunk_size: int = 1 << 20,
    ) -> None:
        self.energy = energy
        self.eta = eta
        self.depth = depth
        self.density = density
        self.isolation = isolation
        self.label = label
        self.em_codes = em_codes
        self.edges = edges
        self.min_entries = min_entries
        self.momentum = momentum
        self.scale_column = scale_column
        self.chunk_size = chunk_size

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.regressor_tags.poor_score = True
        tags.input_tags.allow_nan = False
        return tags

    # ---- the variables ------------------------------------------------------------------
    def _edges(self) -> dict[str, np.ndarray]:
        given = dict(self.edges or {})
        unknown = set(given) - set(DEFAULT_EDGES)
        if unknown:
            raise ParameterError(
                f"edges has unknown variables {sorted(unknown)}; known: {sorted(DEFAULT_EDGES)}"
            )
        return {**DEFAULT_EDGES, **{k: check_edges(v, f"edges[{k!r}]") for k, v in given.items()}}

    def _variables(self, frame: Frame) -> dict[str, np.ndarray]:
        edges = self._edges()

        def positive_log(spec: ColumnSpec, role: str) -> np.ndarray:
            values = frame.get(spec, role)
            return np.log10(check_positive_vector(values, f"{role} column {spec_name(spec)!r}"))

        values = {
            "abs_y": np.abs(frame.get(self.eta, "eta")),
            "log_e": positive_log(self.energy, "energy"),
            "log_lambda": positive_log(self.depth, "depth"),
            "log_rho": positive_log(self.density, "density"),
        }
        # beyond the tables' range a cluster belongs to the edge cell, in the fit as in use
        return {name: _clip(v, edges[name]) for name, v in values.items()}

    def _is_em(self, frame: Frame) -> np.ndarray:
        return np.isin(frame.get(self.label, "label"), np.asarray(self.em_codes, dtype=np.float64))

    # ---- the three passes of the fit -------------------------------------------------------
    def _pass_weights(self, frame: Frame, y: np.ndarray, w: np.ndarray | None) -> tuple[Any, ...]:
        edges, cells = self._edges(), self._variables(frame)
        em = self._is_em(frame)
        cls = new_histogram(CLASSIFICATION, edges, CLASS_EDGES)
        cls.fill(0.5 + em, cells, w, checked=True)
        had = new_histogram(HADRONIC, edges, RESPONSE_EDGES)
        had.fill(y[~em], _rows(cells, ~em), _rows_w(w, ~em), checked=True)
        return cls, had

    def _pass_ooc(self, frame: Frame, y: np.ndarray, w: np.ndarray | None) -> tuple[Any, ...]:
        edges, cells = self._edges(), self._variables(frame)
        em = self._is_em(frame)
        r1 = y * self._weight(cells)[0]
        iso = 1.0 + np.clip(frame.get(self.isolation, "isolation"), 0.0, 1.0)
        out = []
        for rows in (em, ~em):
            hist = new_histogram(CORRECTION, edges, RESPONSE_EDGES)
            out.append(hist.fill(r1[rows], _rows(cells, rows), _rows_w(w, rows), checked=True))
            hist = new_histogram(CORRECTION, edges, ISO_EDGES)
            out.append(hist.fill(iso[rows], _rows(cells, rows), _rows_w(w, rows), checked=True))
        return tuple(out)

    def _pass_dm(self, frame: Frame, y: np.ndarray, w: np.ndarray | None) -> tuple[Any, ...]:
        edges, cells = self._edges(), self._variables(frame)
        em = self._is_em(frame)
        weight, p = self._weight(cells)
        r2 = y * weight * self._ooc(cells, p, frame)
        out = []
        for rows in (em, ~em):
            hist = new_histogram(CORRECTION, edges, RESPONSE_EDGES)
            out.append(hist.fill(r2[rows], _rows(cells, rows), _rows_w(w, rows), checked=True))
        return tuple(out)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LocalHadronicCalibration:
        """Fit the four steps' tables.

        Parameters
        ----------
        X : DataFrame, array of shape (n_clusters, n_features), or Dask DataFrame
            The cluster table, with the feature columns and the ``label`` column.
        y : array-like of shape (n_clusters,), or Dask Series
            The EM-scale response ``E_EM / E_dep`` (finite, > 0).
        sample_weight : array-like of shape (n_clusters,), or Dask Series, optional
            Non-negative weights.

        Returns
        -------
        self
        """
        self._validate_params()
        for attr in ("dm_had_", "classification_"):
            self.__dict__.pop(attr, None)
        self._edges()
        minimum = float(self.min_entries)
        cls, had = self._reduce(self._pass_weights, X, y, sample_weight, combine=_add)
        n_had = int(had.entries.sum())
        n_em = int(cls.entries.sum()) - n_had
        self.n_em_, self.n_had_ = n_em, n_had
        if n_em < minimum or n_had < minimum:
            raise DataError(
                f"{type(self).__name__} needs at least {minimum:g} EM clusters (column "
                f"{spec_name(self.label)!r} in {list(self.em_codes)}) and {minimum:g} hadron "
                f"clusters to fit (min_entries={minimum:g}); got {n_em} EM and {n_had} hadron"
            )
        self.classification_ = fit_table(cls, em_fraction, minimum)
        self.hadronic_weight_ = fit_table(had, _inverse_median, minimum)
        ooc_em, iso_em, ooc_had, iso_had = self._reduce(
            self._pass_ooc, X, y, sample_weight, combine=_add
        )
        self.ooc_em_ = fit_table(ooc_em, _inverse_median, minimum)
        self.ooc_had_ = fit_table(ooc_had, _inverse_median, minimum)
        self.iso_em_ = fit_table(iso_em, _shifted_median, minimum)
        self.iso_had_ = fit_table(iso_had, _shifted_median, minimum)
        dm_em, dm_had = self._reduce(self._pass_dm, X, y, sample_weight, combine=_add)
        self.dm_em_ = fit_table(dm_em, _inverse_median, minimum)
        self.dm_had_ = fit_table(dm_had, _inverse_median, minimum)
        return self

    # ---- applying the tables ---------------------------------------------------------------
    def _weight(self, cells: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p = self.classification_.lookup(cells)
        return p + (1.0 - p) * self.hadronic_weight_.lookup(cells), p

    def _ooc(self, cells: dict[str, np.ndarray], p: np.ndarray, frame: Frame) -> np.ndarray:
        iso = np.clip(frame.get(self.isolation, "isolation"), 0.0, 1.0)

        def one(table: CellTable, iso_table: CellTable) -> np.ndarray:
            reference = np.maximum(iso_table.lookup(cells), 1e-3)
            return 1.0 + iso / reference * (table.lookup(cells) - 1.0)

        return p * one(self.ooc_em_, self.iso_em_) + (1.0 - p) * one(self.ooc_had_, self.iso_had_)

    def _factor(self, frame: Frame) -> np.ndarray:
        cells = self._variables(frame)
        weight, p = self._weight(cells)
        dm = p * self.dm_em_.lookup(cells) + (1.0 - p) * self.dm_had_.lookup(cells)
        return weight * self._ooc(cells, p, frame) * dm

    def _em_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        return self.classification_.lookup(self._variables(Frame(chunk)))

    def em_probability(self, X: Any) -> Any:
        """The classification's probability that each cluster is electromagnetic."""
        return self._apply(X, "_em_chunk")

    def predict(self, X: Any) -> Any:
        """The response ``E_EM / E_LCW`` of each cluster: ``e_em / predict(X)`` is calibrated.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The cluster table, with the feature columns (the label is not needed).

        Returns
        -------
        Series, ndarray of shape (n_clusters,), or Dask Series
        """
        return self._apply(X, "_response_chunk")

    def transform(self, X: Any) -> Any:
        """X with the ``momentum`` columns calibrated (``scale_column`` updated if set)."""
        return self._transform(X)


def _clip(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    inner = np.nextafter(edges[-1], -np.inf)
    return np.clip(values, edges[0], inner)


def _rows(cells: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in cells.items()}


def _rows_w(w: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if w is None else w[rows]


def _inverse_median(sumw: np.ndarray, edges: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 1.0 / median(sumw, edges)


def _shifted_median(sumw: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return median(sumw, edges) - 1.0
