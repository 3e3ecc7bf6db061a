"""Numerical inversion: the standard Monte-Carlo jet energy (and mass) scale calibration."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, cast

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from skcal._validation import check_positive_vector
from skcal.exceptions import DataError
from skcal.inversion._curves import bin_modes, bin_table, borrow_nearest, curve, fit_cells, invert
from skcal.inversion._fill import cell_index, fill_histogram
from skcal.inversion._ni_params import (
    NI_CONSTRAINTS,
    NOT_GIVEN,
    check_ni_params,
    condition_of,
    resolve_quantity,
    response_edges_of,
    true_edges_of,
)
from skcal.inversion._stage import ColumnSpec, Frame, StageMixin, spec_name
from skcal.response import ResponseHistogram


def _add_parts(
    a: tuple[ResponseHistogram, int], b: tuple[ResponseHistogram, int]
) -> tuple[ResponseHistogram, int]:
    """Add two chunks' (histogram, number of clipped jets)."""
    return a[0] + b[0], a[1] + b[1]


class NumericalInversion(StageMixin, RegressorMixin, BaseEstimator):
    """The numerical-inversion calibration of ATLAS and CMS, as an estimator.

    ``fit(X, y)`` takes the jet table ``X`` and the response ``y = E_reco / E_true``
    of the uncalibrated jets. The true value of the calibrated quantity is
    ``t_true = t / (y * scale)`` (``t`` the ``quantity`` column as it reaches this
    stage, ``scale`` the product of earlier corrections). The response modes (an iterative
    Gaussian core fit, :func:`skcal.response.response_mode`) are taken in bins of
    ``t_true`` and of the ``condition`` columns (reco level, for example |eta|); in
    each condition cell the modes are fitted against ``log t_true`` (a polynomial of
    order ``poly_order``, or ``fit_function``); and the fitted curve is inverted:
    every point ``t_true`` of the fit range gives ``t_reco = t_true * R(t_true)`` and
    the correction ``1 / R``, interpolated at the jet's ``t``.

    ``predict(X)`` returns the response of the uncalibrated jet, so that
    ``E_reco / predict(X)`` is the calibrated energy; ``transform(X)`` applies the
    correction to the ``momentum`` columns (for a following stage, such as the GSC).

    The defaults calibrate the energy in bins of (E, |eta|). The jet mass of large-R
    jets is calibrated after the energy with ``quantity="m_reco"``, ``momentum=
    ("m_reco",)``, its own ``scale_column``, the mass response as ``y``, and
    ``condition`` on the calibrated energy and |eta| (``target_bins`` then bins the
    true mass).

    Policies:

    - Jets whose ``t_true`` is outside ``target_bins``, or whose condition values
      are outside their edges, are not used in the fit (counted in ``n_outside_``);
      with ``clip_condition=True`` the condition values are instead clipped into the
      outermost bins and used (counted in ``n_clipped_``; the GSC does this for the
      tails of its variables).
    - A bin with fewer than ``min_entries`` effective jets, or whose Gaussian fit
      fails, is not used in the fit of R (its median is shown in ``bin_table_``,
      flagged). A condition cell with fewer than ``min_points`` usable bins takes the
      curve of the nearest fitted cell (``cell_status_ == "borrowed"``).
    - Outside a cell's fit range the correction is frozen at its end values; in
      ``predict``, condition values outside the edges use the outermost bins.
      :meth:`outside_range` tells which jets this concerns. ``predict`` never
      returns NaN.

    The histograms are filled chunk by chunk (``chunk_size`` rows in memory; for a
    Dask DataFrame, whose ``y`` and ``sample_weight`` are Dask Series with the same
    partitions, each partition once), so a Dask fit gives the in-memory correction.

    Parameters
    ----------
    quantity : str or int, default "e_reco"
        Column of the calibrated quantity (by name for a DataFrame, by position for
        an array): the energy, or ``"m_reco"`` for the mass after the energy.
    condition : mapping of str or int to array-like, optional
        Reco-level binning columns and their edges; default ``{"abs_eta": 0 to 4.5
        in steps of 0.1}``. A name ``abs_<col>`` absent from X means ``|col|``.
    target_bins : array-like, optional
        Edges in the true value of ``quantity``; default 40 logarithmic bins from 10
        to 10,000 (GeV).
    poly_order : int, default 4
        Order of the polynomial in ``log t_true`` fitted to the modes (reduced to the
        number of usable bins minus one).
    fit_function : callable, optional
        ``f(log_t_true, *params) -> R`` fitted instead of the polynomial, starting
        from ``fit_p0``.
    fit_p0 : sequence of float, optional
        Starting parameters of ``fit_function`` (required with it).
    method : {"gauss_iter", "median", "kde"}, default "gauss_iter"
        Mode estimator of each bin.
    min_entries : float, default 100
        Minimum effective number of jets for a bin to enter the fit.
    min_points : int, default 3
        Minimum usable bins for a condition cell to be fitted.
    response_edges : array-like, optional
        Edges of the response histograms; default 0 to 3 in steps of 0.005.
    momentum : str, int or sequence, default ("e_reco", "pt_reco")
        Columns scaled by the correction in ``transform`` (the jet four-momentum).
    scale_column : str or None, default "calib_scale"
        Column holding the product of earlier corrections (read if present; written
        by ``transform`` for DataFrames).
    clip_condition : bool, default False
        Drop jets whose condition values are outside the edges from the fit (False),
        or clip the values into the outermost bins (True). ``predict`` always clips.
    n_grid : int, default 512
        Points of the inversion grid per condition cell.
    chunk_size : int, default 2**20
        Rows per chunk of an in-memory fit.
    target : str or int, optional
        Deprecated: the former name of ``quantity`` (a FutureWarning in ``fit``).

    Attributes
    ----------
    bin_table_ : DataFrame
        Per (condition cell, target bin): edges, entries, mean ``log t_true``, mode,
        its error, status, and whether it entered the fit.
    cell_status_ : ndarray of str
        Per condition cell: ``"fitted"``, ``"non_monotonic"`` (fitted; the reco value
        was made monotonic for the inversion) or ``"borrowed"``.
    cell_source_ : ndarray of int
        The cell whose curve each cell uses.
    fit_range_ : ndarray of shape (n_cells, 2)
        Range of ``log t_true`` fitted per cell.
    params_ : list of ndarray
        Fitted parameters per fitted cell (polynomial coefficients in ``log t_true``,
        lowest order first, or the parameters of ``fit_function``).
    n_outside_, n_clipped_ : int
        Jets outside the target bins (not used), and jets whose condition was clipped.
    feature_names_in_ : ndarray of str
        Columns of X at fit (DataFrame input).
    n_features_in_ : int
        Number of columns of X at fit.

    Notes
    -----
    Minimum sample size: 2 jets in memory (fewer is a
    :class:`~skcal.exceptions.DataError`), and in every case, over Dask too, enough
    jets for ``min_entries`` effective jets in at least the bins of one condition cell
    (else a DataError saying that the sample is too small for the binning). Empty
    Dask partitions (a table read with cuts) add nothing and are harmless.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcal.inversion import NumericalInversion
    >>> rng = np.random.default_rng(0)
    >>> e_true = np.exp(rng.uniform(np.log(20), np.log(2000), 200_000))
    >>> eta = rng.uniform(-2, 2, e_true.size)
    >>> r = (1 - 0.8 / np.log(e_true)) * rng.normal(1, 0.08, e_true.size)
    >>> jets = pd.DataFrame(
    ...     {"e_reco": e_true * r, "pt_reco": e_true * r / np.cosh(eta), "eta": eta}
    ... )
    >>> ni = NumericalInversion(condition={"abs_eta": [0, 1, 2]}).fit(jets, r)
    >>> closure = jets["e_reco"] / ni.predict(jets) / e_true
    >>> bool(abs(np.median(closure[e_true > 100]) - 1) < 0.01)
    True
    """

    _fitted_attribute: ClassVar[str] = "response_grid_"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = NI_CONSTRAINTS

    def __init__(
        self,
        quantity: ColumnSpec = "e_reco",
        *,
        condition: Mapping[ColumnSpec, Any] | None = None,
        target_bins: Any = None,
        poly_order: int = 4,
        fit_function: Callable[..., Any] | None = None,
        fit_p0: Sequence[float] | None = None,
        method: str = "gauss_iter",
        min_entries: float = 100.0,
        min_points: int = 3,
        response_edges: Any = None,
        momentum: ColumnSpec | Sequence[ColumnSpec] = ("e_reco", "pt_reco"),
        scale_column: str | None = "calib_scale",
        clip_condition: bool = False,
        n_grid: int = 512,
        chunk_size: int = 1 << 20,
        target: ColumnSpec = NOT_GIVEN,
    ) -> None:
        self.quantity = quantity
        self.condition = condition
        self.target_bins = target_bins
        self.poly_order = poly_order
        self.fit_function = fit_function
        self.fit_p0 = fit_p0
        self.method = method
        self.min_entries = min_entries
        self.min_points = min_points
        self.response_edges = response_edges
        self.momentum = momentum
        self.scale_column = scale_column
        self.clip_condition = clip_condition
        self.n_grid = n_grid
        self.chunk_size = chunk_size
        self.target = target

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.regressor_tags.poor_score = True
        tags.input_tags.allow_nan = False
        return tags

    # ---- parameters ---------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return self.get_params(deep=False)

    def _condition(self) -> list[tuple[ColumnSpec, np.ndarray]]:
        return condition_of(self._params())

    def _quantity_values(self, frame: Frame) -> np.ndarray:
        quantity = resolve_quantity(self._params())
        values = frame.get(quantity, "quantity")
        return check_positive_vector(values, f"quantity column {spec_name(quantity)!r}")

    def _fill(
        self, frame: Frame, y: np.ndarray, w: np.ndarray | None
    ) -> tuple[ResponseHistogram, int]:
        return fill_histogram(
            frame,
            self._quantity_values(frame),
            y * frame.scale(self.scale_column),
            w,
            condition=self._condition(),
            true_edges=true_edges_of(self._params()),
            response_edges=response_edges_of(self._params()),
            clip_condition=bool(self.clip_condition),
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NumericalInversion:
        """Fit the response curves and their inversion.

        Parameters
        ----------
        X : DataFrame, array of shape (n_jets, n_features), or Dask DataFrame
            The jet table (reco-level columns).
        y : array-like of shape (n_jets,), or Dask Series
            Response of the uncalibrated jets, ``E_reco / E_true`` (finite, > 0).
        sample_weight : array-like of shape (n_jets,), or Dask Series, optional
            Non-negative event weights.

        Returns
        -------
        self
        """
        self._validate_params()
        check_ni_params(self._params())
        condition = self._condition()
        hist, n_clipped = self._reduce(self._fill, X, y, sample_weight, combine=_add_parts)
        self.n_outside_ = int(hist.n_outside)
        self.n_clipped_ = int(n_clipped)
        self.condition_edges_ = [edges for _, edges in condition]
        self.target_edges_ = true_edges_of(self._params())
        self._fit_curves(hist, condition)
        return self

    def _fit_curves(
        self, hist: ResponseHistogram, condition: list[tuple[ColumnSpec, np.ndarray]]
    ) -> None:
        modes = bin_modes(hist, method=self.method, min_entries=float(self.min_entries))
        self.bin_table_ = bin_table(hist, condition, modes)
        curves = fit_cells(
            modes,
            hist.shape[0],
            poly_order=int(self.poly_order),
            fit_function=self.fit_function,
            fit_p0=self.fit_p0,
            min_points=int(self.min_points),
            n_grid=int(self.n_grid),
        )
        if (curves.status == "borrowed").all():
            raise DataError(
                f"no condition cell has {self.min_points} bins with {self.min_entries} "
                f"effective jets: the sample is too small for this binning "
                f"({hist.entries.sum()} jets used, {hist.n_outside} outside the target bins)"
            )
        self.cell_source_ = borrow_nearest(curves, [e.size - 1 for _, e in condition] or [1])
        self.cell_status_ = curves.status.astype(str)
        self.fit_range_ = curves.fit_range
        self.params_ = curves.params
        self.log_reco_grid_ = curves.log_reco
        self.response_grid_ = curves.response

    # ---- predict ---------------------------------------------------------------------------
    def _stage_response(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """This stage's response at the jet's current value, and the outside-range flags."""
        condition = [
            (spec, edges)
            for (spec, _), edges in zip(self._condition(), self.condition_edges_, strict=True)
        ]
        cell, outside = cell_index(frame, condition)
        log_t = np.log(self._quantity_values(frame))
        response, beyond = invert(log_t, cell, self.log_reco_grid_, self.response_grid_)
        return response, outside | beyond

    def _factor(self, frame: Frame) -> np.ndarray:
        return 1.0 / self._stage_response(frame)[0]

    def _outside_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        return self._stage_response(Frame(chunk))[1]

    def predict(self, X: Any) -> Any:
        """Response of the uncalibrated jets: ``E_reco / predict(X)`` is calibrated.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table, with the columns used at fit.

        Returns
        -------
        Series, ndarray of shape (n_jets,), or Dask Series
            ``R_stage / scale``: this stage's response divided by the earlier
            corrections' product (1 when there are none); a Series for a DataFrame.
        """
        return self._apply(X, "_response_chunk")

    def transform(self, X: Any) -> Any:
        """X with the ``momentum`` columns calibrated and ``scale_column`` updated.

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table, with the columns used at fit.

        Returns
        -------
        DataFrame, ndarray or Dask DataFrame
            A copy of X; the scale column is added or updated for DataFrames. Dask
            input gives lazy Dask output, also under ``set_output(transform="pandas")``.
        """
        return self._transform(X)

    def outside_range(self, X: Any) -> Any:
        """Whether each jet is outside the calibrated range (condition clipped or frozen).

        Parameters
        ----------
        X : DataFrame, array, or Dask DataFrame
            The jet table.

        Returns
        -------
        Series or ndarray of bool of shape (n_jets,), or Dask Series
        """
        return self._apply(X, "_outside_chunk", dtype=bool)

    def response_curve(self, log_t_true: Any, cell: int = 0) -> np.ndarray:
        """The fitted response ``R`` at ``log t_true`` in a cell (frozen outside its range).

        Parameters
        ----------
        log_t_true : array-like
            Natural logarithm of the true value of the quantity.
        cell : int, default 0
            Flat index of the condition cell (row-major over the condition edges).

        Returns
        -------
        ndarray
        """
        self._check_fitted()
        source = int(self.cell_source_[cell])
        lo, hi = self.fit_range_[source]
        x = np.clip(np.asarray(log_t_true, dtype=np.float64), lo, hi)
        return curve(cast(np.ndarray, self.params_[source]), x, self.fit_function)
