"""``predict_uncertainty``: the statistical and the systematic width of each prediction.

Two uncertainties of a predicted response are kept apart (issue 21; the topo-cluster
calibration's definitions):

- ``sigma_syst``, the width (standard deviation) of the predicted response density:
  the spread of the response of jets like this one, which more training jets do not
  remove;
- ``sigma_stat``, the spread of the prediction over the network's weights: what a
  finite training sample leaves uncertain, which falls as the sample grows. One
  network has one set of weights and so gives ``sigma_stat = 0``; an ensemble
  (:class:`~skcal.neural.EnsembleCalibrator`) gives the spread of its members' modes.

``sigma_tot = sqrt(sigma_stat**2 + sigma_syst**2)`` is what ``predict(X,
return_std=True)`` returns.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from skcal._contract import TableContract
from skcal._validation import as_response, is_dask

__all__ = [
    "UNCERTAINTY_COLUMNS",
    "UncertaintyMixin",
    "predict_with_spread",
    "uncertainty_names",
    "validation_pull_width",
]

#: The columns of ``predict_uncertainty`` for one response.
UNCERTAINTY_COLUMNS: tuple[str, ...] = ("sigma_stat", "sigma_syst", "sigma_tot")


def uncertainty_names(targets: tuple[str, ...] = ()) -> list[str]:
    """The columns of ``predict_uncertainty``: three per target, suffixed by its name.

    Examples
    --------
    >>> uncertainty_names()
    ['sigma_stat', 'sigma_syst', 'sigma_tot']
    >>> uncertainty_names(("e", "m"))[:4]
    ['sigma_stat_e', 'sigma_syst_e', 'sigma_tot_e', 'sigma_stat_m']
    """
    if not targets:
        return list(UNCERTAINTY_COLUMNS)
    return [f"{name}_{t}" for t in targets for name in UNCERTAINTY_COLUMNS]


class UncertaintyMixin(TableContract):
    """``predict_uncertainty`` for the density calibrators (not public).

    A subclass names its targets in ``_uncertainty_targets`` (none for one response)
    and gives the widths of a chunk in ``_predict_chunk(chunk, rows, "std")``; an
    ensemble overrides :meth:`_stat_syst`.
    """

    _uncertainty_targets: ClassVar[tuple[str, ...]] = ()

    def _predict_chunk(self, chunk: Any, rows: Any, which: str) -> np.ndarray:
        raise NotImplementedError

    def _stat_syst(self, chunk: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(sigma_stat, sigma_syst)`` of one in-memory chunk: one network has no spread
        over its weights, so ``sigma_stat`` is 0."""
        syst = self._predict_chunk(chunk, None, "std")
        return np.zeros_like(syst), syst

    def _uncertainty_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        stat, syst = self._stat_syst(chunk)
        n = syst.shape[0]
        stat, syst = stat.reshape(n, -1), syst.reshape(n, -1)
        return np.stack([stat, syst, np.hypot(stat, syst)], axis=-1).reshape(n, -1)

    def predict_uncertainty(self, X: Any) -> Any:
        """The statistical and the systematic uncertainty of each predicted response.

        ``sigma_syst`` is the standard deviation of the jet's predicted response
        density; ``sigma_stat`` the spread of the prediction over the network's
        weights. A single network has one set of weights: its ``sigma_stat`` is 0
        (an :class:`~skcal.neural.EnsembleCalibrator` of it estimates it).
        ``sigma_tot = sqrt(sigma_stat**2 + sigma_syst**2)``, the width that
        ``predict(X, return_std=True)`` returns.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)

        Returns
        -------
        DataFrame
            Columns ``sigma_stat``, ``sigma_syst`` and ``sigma_tot`` (with two targets,
            each suffixed by the target: ``sigma_stat_e``, ..., ``sigma_tot_m``), on
            the index of ``X`` where it has one. For Dask input a Dask DataFrame
            (DataFrame in) or a 2-D Dask Array with these columns (Array in).
        """
        self._check_fitted()
        names = uncertainty_names(self._uncertainty_targets)
        if is_dask(X):
            return self._map_chunks(X, "_uncertainty_chunk", names=names)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(self._uncertainty_chunk(X, None), columns=names, index=index)


def predict_with_spread(model: Any, X: Any, return_std: bool) -> Any:
    """``predict`` of a model whose prediction combines several networks (an ensemble's
    members, a Bayesian network's drawn weight sets): its ``_summaries(X)`` gives the
    mode, ``sigma_stat`` and ``sigma_syst``, its ``_predict_chunk`` one of them per chunk."""
    model._check_fitted()
    if is_dask(X):
        mode = model._map_chunks(X, "_predict_chunk", "mode")
        return (mode, model._map_chunks(X, "_predict_chunk", "std")) if return_std else mode
    if not return_std:
        return model._predict_chunk(X, None, "mode")
    mode, stat, syst = model._summaries(X)
    return mode, model._guarded(np.hypot(stat, syst), X, "widths")


def validation_pull_width(model: Any, X_val: Any, y_val: Any) -> float:
    """Half the central 68% interval of the pulls ``(R_pred - r) / sigma_tot`` of
    validation jets: the factor of the post-hoc ``sigma_scaling`` (one for all jets)."""
    mode, sigma = model.predict(X_val, return_std=True)
    if is_dask(mode):
        import dask

        mode, sigma, y_val = dask.compute(mode, sigma, y_val)
    r = as_response(np.asarray(y_val, dtype=np.float64).ravel(), "y_val", n=len(mode))
    q16, q84 = np.quantile((np.asarray(mode) - r) / np.asarray(sigma), [0.16, 0.84])
    return float(0.5 * (q84 - q16))
