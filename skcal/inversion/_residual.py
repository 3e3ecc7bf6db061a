"""A residual numerical inversion on top of any calibrator: closure in bins of truth.

A calibrator that predicts the most probable response given the reconstructed jet,
``mode(P(r | x_reco))``, does not close in bins of the *true* energy: the mode depends
on the training sample's truth spectrum (the prior), and the closure is defined with
truth fixed (``docs/design.md`` section 2). Numerical inversion closes in bins of truth
by construction. :class:`ResidualInversion` chains the two: it fits the calibrator,
applies it to the training jets, and fits a numerical inversion to what remains, in
bins of the true energy and cells of the reco |eta| and mu, as the last stage of the
standard chain does after the pile-up offset.

Why a wrapper and not a step inside the network: the inversion needs the energy of
each jet in physical units (to form ``E_true = E_reco / y`` and bin it), and a neural
calibrator at the end of a preprocessing pipeline sees only scaled features. The
wrapper sees the jet table itself.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone

from skcal._contract import TableContract
from skcal._params import HasMethods
from skcal._validation import is_dask
from skcal.exceptions import DataError
from skcal.inversion._ni_params import DEFAULT_CONDITION
from skcal.inversion._numerical import NumericalInversion
from skcal.inversion._stage import ColumnSpec, check_momentum

__all__ = ["ResidualInversion", "residual_condition"]

#: The widths tried for the mu cells over [0, 200], finest first (200: one cell).
MU_CELL_WIDTHS: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0)
#: The training jets that each default (|eta|, mu) cell must have on average.
MIN_JETS_PER_CELL = 5000


def residual_condition(n_jets: int, mu_range: tuple[float, float] | None) -> dict[ColumnSpec, Any]:
    """The default inversion's cells: |eta| (NumericalInversion's 0.1-wide bins), and mu
    as finely as the sample allows.

    The mu cells take off the pile-up dependence that a network leaves at low pT, where
    the resolution, and with it the distance between the mode given the reco jet and the
    mode at fixed truth, grows with pile-up (``benchmarks/results/pileup*.md``). Their
    width is the finest of :data:`MU_CELL_WIDTHS` that leaves :data:`MIN_JETS_PER_CELL`
    jets per cell on average over the cells that the training jets' mu range covers
    (cells starved of jets make the inversion worse than |eta| alone); mu beyond 200
    falls in the last cell. |eta| alone without a ``mu`` column (``mu_range`` None), or
    where no width gives two cells with enough jets each.

    Examples
    --------
    >>> from skcal.inversion import residual_condition
    >>> residual_condition(1_000_000, (0.0, 200.0))["mu"]
    (0.0, 50.0, 100.0, 150.0, 200.0)
    >>> list(residual_condition(400_000, (10.0, 70.0)))
    ['abs_eta']
    """
    condition: dict[ColumnSpec, Any] = dict(DEFAULT_CONDITION)
    if mu_range is None:
        return condition
    low, high = min(mu_range[0], 200.0), min(mu_range[1], 200.0)
    n_eta = len(DEFAULT_CONDITION["abs_eta"]) - 1
    for width in MU_CELL_WIDTHS[:-1]:
        covered = max(math.ceil(high / width) - math.floor(low / width), 1)
        if covered > 1 and n_jets >= MIN_JETS_PER_CELL * n_eta * covered:
            condition["mu"] = tuple(float(e) for e in np.arange(0.0, 200.0 + width / 2, width))
            break
    return condition


class ResidualInversion(TableContract, RegressorMixin, BaseEstimator):
    """A calibrator followed by a numerical inversion of its residual non-closure.

    ``fit(X, y)`` fits ``calibrator`` on the jet table ``X`` (or on its ``features``
    columns) and the response ``y = E_reco / E_true``, calibrates the same jets with
    it, and fits ``inversion`` on the calibrated jets: the response modes of the
    calibrated energy in bins of true energy and cells of reco |eta| and mu, fitted and
    inverted as :class:`NumericalInversion` always does. ``predict(X)`` applies both and returns
    the response of the uncalibrated jet, so that ``E_reco / predict(X)`` is the
    calibrated energy.

    The inversion corrects what the calibrator's prior leaves (a few per cent at the
    low edge of the training spectrum, a per cent of negative bias where the spectrum
    falls steeply, several per cent at 20-30 GeV at high pile-up); its correction is a
    smooth function of the calibrated energy in each cell, so it keeps the calibrator's
    resolution.

    Parameters
    ----------
    calibrator : estimator
        Any regressor of the response from jet features, typically a pipeline ending in
        a neural calibrator, such as
        ``make_pipeline(EtaAnnotation(), SymmetricScaler(), MDNCalibrator())``.
        Cloned in ``fit``.
    inversion : NumericalInversion, optional
        The residual stage (cloned in ``fit``); default: bins of E_true in cells of
        reco |eta| and, where ``X`` has a ``mu`` column, of mu, as finely as the
        training sample allows (:func:`residual_condition`; ``inversion_.condition``
        shows the cells chosen). Its ``momentum`` columns are the ones scaled by the
        calibrator's correction before it is fitted, and its ``scale_column`` records
        that correction.
    features : list of str, optional
        The columns of ``X`` that the calibrator reads (default: all of them). The
        inversion reads its own columns (``e_reco``, ``eta``, ``mu``) from ``X``.

    Attributes
    ----------
    calibrator_ : estimator
        The fitted calibrator.
    inversion_ : NumericalInversion
        The fitted residual inversion (its ``bin_table_`` shows the residual closure
        of the calibrator on the training jets).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    ``X`` is a jet table with named columns: a pandas DataFrame, or a Dask DataFrame
    (with ``y`` and ``sample_weight`` Dask Series of the same partitions); a Dask fit
    reads the jets once for the calibrator's own passes and once for the inversion's
    histograms (and the default inversion's cells read the ``mu`` column once more, for
    its range and count). ``sample_weight`` weights the inversion's histograms; weights for
    the calibrator are routed through ``fit_params`` as its own ``fit`` names them
    (for a pipeline: ``mdncalibrator__sample_weight=...``).

    Minimum sample size: the calibrator's, and for the inversion at least
    ``min_points`` (3) E_true bins' worth of ``min_entries`` (100) jets in one cell;
    other cells (for example the mu cells above the training sample's mu range) borrow
    the nearest fitted curve (``inversion_.cell_status_``).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from skcal.datasets import make_jets
    >>> from skcal.inversion import NumericalInversion, ResidualInversion
    >>> jets = make_jets(20_000, random_state=0)
    >>> features = ["e_reco", "pt_reco", "eta", "em_frac", "charged_frac"]
    >>> coarse = NumericalInversion(condition={"abs_eta": [0.0, 1.5, 3.0, 4.5]})
    >>> model = ResidualInversion(LinearRegression(), coarse, features=features)
    >>> model = model.fit(jets, jets.e_reco / jets.e_true)
    >>> R = model.predict(jets)
    >>> bool((R > 0).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "calibrator": [HasMethods(["fit", "predict"])],
        "inversion": [NumericalInversion, None],
        "features": ["array-like", None],
    }

    def __init__(
        self,
        calibrator: Any,
        inversion: NumericalInversion | None = None,
        *,
        features: Any = None,
    ) -> None:
        self.calibrator = calibrator
        self.inversion = inversion
        self.features = features

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "inversion_")

    def _columns(self, X: Any) -> Any:
        if not hasattr(X, "columns"):
            raise DataError(
                "ResidualInversion needs a jet table with named columns (a pandas or Dask "
                f"DataFrame), got {type(X).__name__}"
            )
        if self.features is None:
            return X
        missing = [c for c in self.features if c not in X.columns]
        if missing:
            raise DataError(f"features: column(s) {missing} are not in X: {list(X.columns)}")
        return X[list(self.features)]

    @staticmethod
    def _stage(X: Any, response: Any, inversion: NumericalInversion) -> Any:
        """The jet table calibrated by ``response``: the input of ``inversion``."""
        factor = 1.0 / response
        columns: dict[str, Any] = {}
        for spec in check_momentum(inversion.momentum):
            if not isinstance(spec, str) or spec not in X.columns:
                raise DataError(
                    f"inversion.momentum: column {spec!r} is not in X: {list(X.columns)}"
                )
            columns[spec] = X[spec] * factor  # by name: the wrapper takes jet tables only
        if inversion.scale_column is not None:
            scale = X[inversion.scale_column] if inversion.scale_column in X.columns else 1.0
            columns[inversion.scale_column] = scale * factor
        return X.assign(**columns)

    def _inversion(self, X: Any) -> NumericalInversion:
        """The given inversion, or the default one with cells for the training jets ``X``."""
        if self.inversion is not None:
            return self.inversion
        if "mu" not in X.columns:  # |eta| alone, whatever the size: no pass over the jets
            return NumericalInversion(condition=residual_condition(0, None), clip_condition=True)
        stats = (X["mu"].min(), X["mu"].max(), X["mu"].count())
        if is_dask(X):
            import dask

            stats = dask.compute(*stats)
        condition = residual_condition(int(stats[2]), (float(stats[0]), float(stats[1])))
        return NumericalInversion(condition=condition, clip_condition=True)

    def _response(self, columns: Any, **kwargs: Any) -> Any:
        """The calibrator's response (and width) on the columns it reads."""
        response = self.calibrator_.predict(columns, **kwargs)
        if isinstance(response, tuple):
            response, sigma = response
        else:
            sigma = None
        if not is_dask(columns):  # on the jets' own index, whatever the calibrator returned
            response = pd.Series(np.asarray(response, dtype=np.float64), index=columns.index)
        return response, sigma

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> Any:
        """Fit the calibrator, then the inversion on the jets that it calibrates.

        Parameters
        ----------
        X : DataFrame or Dask DataFrame of shape (n_jets, n_columns)
            The jet table.
        y : array-like or Dask Series of shape (n_jets,)
            The response ``E_reco / E_true`` of the uncalibrated jets.
        sample_weight : array-like or Dask Series of shape (n_jets,), optional
            Weights of the inversion's histograms.
        **fit_params
            Passed to the calibrator's ``fit``.

        Returns
        -------
        self
        """
        self._validate_params()
        columns = self._columns(X)
        for attr in ("calibrator_", "inversion_"):
            self.__dict__.pop(attr, None)
        self.calibrator_ = clone(self.calibrator).fit(columns, y, **fit_params)
        if not is_dask(X):
            y = np.asarray(y, dtype=np.float64)
        response, _ = self._response(columns)
        inversion = clone(self._inversion(X))
        self.inversion_ = inversion.fit(self._stage(X, response, inversion), y, sample_weight)
        self.n_features_in_ = int(X.shape[1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The response of each uncalibrated jet after the calibrator and the inversion.

        Parameters
        ----------
        X : DataFrame or Dask DataFrame
            The jet table, with the columns of ``fit``.
        return_std : bool, default False
            Also return the calibrator's width, scaled by the inversion's correction
            (the calibrator must support ``return_std``).

        Returns
        -------
        R : Series or Dask Series
            The response; ``E_reco / R`` is the calibrated energy.
        sigma : Series or Dask Series
            Only with ``return_std``.
        """
        self._check_fitted()
        kwargs = {"return_std": True} if return_std else {}
        response, sigma = self._response(self._columns(X), **kwargs)
        total = self.inversion_.predict(self._stage(X, response, self.inversion_))
        if not return_std:
            return total
        if not is_dask(X):
            sigma = pd.Series(np.asarray(sigma, dtype=np.float64), index=X.index)
        return total, sigma * (total / response)
