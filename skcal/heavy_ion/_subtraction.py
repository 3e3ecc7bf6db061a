"""The area-based background subtraction, ``pT_corr = pT - rho * A``: the baseline."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from skcal._contract import TableContract
from skcal._validation import check_finite, default_feature_names, is_dask, resolve_columns
from skcal.exceptions import DataError

__all__ = ["AreaBasedSubtraction"]


class AreaBasedSubtraction(TableContract, RegressorMixin, BaseEstimator):
    """Subtract the event's background density times the jet area from the jet pT.

    ``predict`` returns ``pT_corr = pT - rho * A`` (GeV), the standard correction of
    jets in heavy-ion collisions (Cacciari and Salam, Phys. Lett. B 659 (2008) 119):
    an estimate of the true jet pT, to be compared with it (``delta pT = pT_corr -
    pT_true``). Nothing is fitted from the data; ``fit`` checks the table and records
    its columns. Unlike :class:`~skcal.inversion.PileupOffset` (a multiplicative
    factor, bounded below), the corrected pT is not clipped: in a heavy-ion event
    ``rho * A`` is often larger than a soft jet's pT and the negative values are the
    lower tail of the delta pT distribution.

    Parameters
    ----------
    pt : str or int, default "pt_reco"
        Column of the jet pT before subtraction (GeV).
    rho : str or int, default "rho"
        Column of the event's background density (GeV per unit area), at least 0.
    area : str or int, default "area"
        Column of the jet area, at least 0.

    Attributes
    ----------
    columns_ : list of int
        Positions of the pt, rho and area columns.
    n_features_in_, feature_names_in_
        The input columns at fit.

    Notes
    -----
    A NaN or infinite value, a negative rho or area, or a missing column is a
    :class:`~skcal.exceptions.DataError` naming the column; over Dask, when the chunk
    is computed.

    Examples
    --------
    >>> import pandas as pd
    >>> from skcal.heavy_ion import AreaBasedSubtraction
    >>> jets = pd.DataFrame({"pt_reco": [130.0, 60.0], "rho": [200.0, 100.0],
    ...                      "area": [0.5, 0.5]})
    >>> AreaBasedSubtraction().fit(jets).predict(jets)
    array([30., 10.])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "pt": [str, int],
        "rho": [str, int],
        "area": [str, int],
    }

    def __init__(self, pt: str | int = "pt_reco", rho: str | int = "rho", area: str | int = "area"):
        self.pt = pt
        self.rho = rho
        self.area = area

    def fit(self, X: Any, y: Any = None) -> AreaBasedSubtraction:
        """Check the parameters and the table; record its columns.

        Parameters
        ----------
        X : DataFrame, array-like or Dask collection of shape (n_jets, n_features)
            The jet table (positions for ``pt``, ``rho`` and ``area`` if unnamed).
        y : ignored

        Returns
        -------
        self : AreaBasedSubtraction
        """
        self._validate_params()
        values = self._validate_table(X, reset=True)
        names = getattr(self, "feature_names_in_", None)
        self.columns_ = [
            resolve_columns(getattr(self, p), names, self.n_features_in_, param=p)[0]
            for p in ("pt", "rho", "area")
        ]
        if not is_dask(values):
            self._check_values(values)
        return self

    def _check_values(self, values: np.ndarray) -> None:
        names = default_feature_names(self)
        for j in self.columns_[1:]:
            bad = values[:, j] < 0
            if bad.any():
                raise DataError(
                    f"AreaBasedSubtraction: column {names[j]!r} must be >= 0 (a density or "
                    f"an area), got {int(bad.sum())} negative values (first "
                    f"{float(values[np.argmax(bad), j])!r} at row {int(np.argmax(bad))})"
                )

    def predict(self, X: Any) -> Any:
        """The subtracted pT, ``pt - rho * area`` (GeV), shape (n_jets,).

        Parameters
        ----------
        X : DataFrame, array-like or Dask collection
            A table with the columns seen at fit.

        Returns
        -------
        pt_corr : ndarray or Dask array of shape (n_jets,)
        """
        self._check_fitted()
        values = self._validate_table(X, reset=False)
        if is_dask(values):
            return self._map_chunks(values, "_predict_chunk")
        return self._predict_chunk(values, None)

    def _predict_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        values = np.asarray(chunk, dtype=np.float64)
        check_finite(values, default_feature_names(self))
        self._check_values(values)
        p, r, a = self.columns_
        return values[:, p] - values[:, r] * values[:, a]
