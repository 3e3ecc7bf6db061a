"""dask-ml with skcal's calibrators: what works with the current Dask, and the remainder.

``dask_ml.wrappers.ParallelPostFit`` and ``Incremental`` take skcal's estimators as they
are (a neural calibrator's ``partial_fit`` trains on one block at a time). dask-ml's
incremental searches (``IncrementalSearchCV``, ``HyperbandSearchCV``, ...) call
``dask.persist`` inside the coroutine that runs them, where current Dask refuses the
running client ("Attempting to use an asynchronous Client in a synchronous context");
:func:`fit_search` runs them with that client as the scheduler, so that ``persist``
goes to its workers. dask-ml's ``r2_score`` (the default ``score`` of a regressor) fails
on arrays of unknown chunk sizes, which ``predict`` over Dask gives;
:func:`log_likelihood_score` is the scorer for density calibrators: the mean log
density of the true responses, higher is better.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skcal._optional import import_optional
from skcal.exceptions import DataError, SkcalError

__all__ = ["fit_search", "log_likelihood_score"]


def log_likelihood_score(estimator: Any, X: Any, y: Any) -> float:
    """The mean log density of the responses ``y`` under the calibrator's prediction.

    A scikit-learn scorer (``scoring=log_likelihood_score``) for density calibrators
    (GDN, MDN, an ensemble, or a pipeline ending in one): higher is better, and it is
    finite for any response inside the predicted densities' support.

    Raises
    ------
    DataError
        If the score is not finite (a response outside every predicted density).

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import GDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2)).astype(np.float32)
    >>> y = np.exp(0.1 * X[:, 0] + 0.05 * rng.normal(size=500))
    >>> gdn = GDNCalibrator(max_epochs=2, random_state=0).fit(X, y)
    >>> bool(np.isfinite(log_likelihood_score(gdn, X, y)))
    True
    """
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    Xt = estimator[:-1].transform(X) if hasattr(estimator, "steps") else X
    if not hasattr(final, "predict_dist"):
        raise SkcalError(
            f"log_likelihood_score needs a density calibrator (predict_dist); "
            f"{type(final).__name__} has none: use a regression scorer such as "
            "'neg_median_absolute_error'"
        )
    # a copy: dask-ml hands read-only blocks to the workers, which torch warns about
    log_pdf = final.predict_dist(Xt).log_pdf(np.array(y, dtype=np.float64))
    score = float(np.mean(log_pdf))
    if not np.isfinite(score):
        raise DataError(
            f"log_likelihood_score is {score}: {int(np.sum(~np.isfinite(log_pdf)))} of "
            f"{len(log_pdf)} responses lie outside the predicted densities"
        )
    return score


def fit_search(search: Any, X: Any, y: Any = None, *, client: Any = None, **fit_params: Any) -> Any:
    """Fit a dask-ml incremental search on a ``distributed`` cluster; return the search.

    Parameters
    ----------
    search : dask_ml.model_selection.IncrementalSearchCV, HyperbandSearchCV, ...
        The search, over an estimator with ``partial_fit`` (skcal's neural calibrators).
    X, y : dask arrays (or Dask DataFrame and Series)
        The jets and their responses, in blocks; dask-ml trains on one block per call.
    client : distributed.Client, optional
        The cluster's client; by default the current one (:func:`start_cluster`).
    **fit_params
        Passed to the search's ``fit`` (and on to ``partial_fit``).

    Raises
    ------
    SkcalError
        Without a running ``distributed.Client``: dask-ml's searches need one.
    MissingDependencyError
        Without dask-ml (``pip install 'skcal[daskml]'``).
    """
    import_optional("dask_ml", purpose="fit_search")
    import dask
    import distributed

    if client is None:
        try:
            client = distributed.default_client()
        except ValueError as exc:
            raise SkcalError(
                "fit_search needs a running distributed.Client (for example inside "
                "skcal.distributed.start_cluster); dask-ml's searches run only on one"
            ) from exc
    with dask.config.set(scheduler=client.get):
        search.fit(X, y, **fit_params)
    return search
