"""dask-ml with skcal's calibrators, with the current dask: ParallelPostFit, Incremental
and an incremental search on a real LocalCluster of two worker processes; and the two
parts of dask-ml that fail with the current dask, as docs/distributed.md records them."""

from __future__ import annotations

import os
import weakref
from typing import Any

import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.distributed import fit_search, log_likelihood_score
from skcal.exceptions import SkcalError
from skcal.inversion import NumericalInversion
from skcal.neural import MDNCalibrator
from skcal.preprocessing import SymmetricScaler

dask_ml = pytest.importorskip("dask_ml")
from dask_ml.model_selection import HyperbandSearchCV, IncrementalSearchCV  # noqa: E402
from dask_ml.wrappers import Incremental, ParallelPostFit  # noqa: E402

FEATURES = ["e_reco", "pt_reco", "eta", "mu"]
ETA_BINS = {"abs_eta": [0.0, 1.5, 3.0, 4.5]}


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def jets() -> pd.DataFrame:
    return make_jets(30_000, random_state=0)


@pytest.fixture(scope="module")
def scaled(jets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Inputs scaled to [-1, 1] (an incremental search fits a bare calibrator) and y."""
    X = SymmetricScaler().fit_transform(jets[FEATURES]).astype(np.float32)
    return X[:8000], (jets.e_reco / jets.e_true).to_numpy()[:8000]


def _mdn(**params: Any) -> MDNCalibrator:
    kwargs = {"n_components": 2, "max_epochs": 1, "batch_size": 256, "random_state": 0}
    return MDNCalibrator(**{**kwargs, "module__hidden_sizes": (16,), **params})


def test_parallel_post_fit_predicts_a_dask_table_as_skcal_does(jets: pd.DataFrame) -> None:
    X, y = jets[FEATURES], jets.e_reco / jets.e_true
    lazy = dd.from_pandas(X, npartitions=5)
    ni = NumericalInversion(condition=ETA_BINS).fit(X, y)
    wrapped_ni = ParallelPostFit(NumericalInversion(condition=ETA_BINS)).fit(X, y)
    np.testing.assert_array_equal(
        np.asarray(wrapped_ni.predict(lazy).compute()), ni.predict(lazy).compute()
    )
    pipe = make_pipeline(SymmetricScaler(), _mdn()).set_output(transform="pandas")
    pipe.fit(X[:5000], y[:5000])
    wrapped = ParallelPostFit(pipe).fit(X[:5000], y[:5000])  # the same seed: the same net
    predicted = wrapped.predict(lazy)
    assert isinstance(predicted, da.Array | dd.Series)  # lazy, one task per partition
    values = np.asarray(predicted.compute())
    np.testing.assert_array_equal(values, pipe.predict(X))
    np.testing.assert_array_equal(values, pipe.predict(lazy).compute())


def test_incremental_trains_an_mdn_block_by_block(scaled: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = scaled
    Xd, yd = da.from_array(X, chunks=(2000, 4)), da.from_array(y, chunks=2000)
    inc = Incremental(_mdn(), shuffle_blocks=False).fit(Xd, yd)
    by_hand = _mdn()
    for start in range(0, len(y), 2000):  # what Incremental should do: partial_fit per block
        by_hand.partial_fit(X[start : start + 2000], y[start : start + 2000])
    model = inc.estimator_
    assert len(model.history) == 4  # one epoch per block
    losses = model.history[:, "train_loss"]
    assert losses[-1] < losses[0]
    for a, b in zip(model.module_.state_dict().values(), by_hand.module_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    predicted = inc.predict(Xd)
    assert isinstance(predicted, da.Array)
    r = predicted.compute()
    np.testing.assert_array_equal(r, by_hand.predict(X))
    assert np.all(np.isfinite(r)) and np.all(r > 0)


def test_fit_search_needs_a_client_and_the_scorer_a_density(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    search = HyperbandSearchCV(_mdn(), {"lr": [1e-3]}, max_iter=1)
    # no default client here, even where another test's is alive (pytest-xdist)
    monkeypatch.setattr(distributed.client, "_global_clients", weakref.WeakValueDictionary())
    with pytest.raises(SkcalError, match="needs a running distributed.Client"):
        fit_search(search, da.ones((10, 2)), da.ones(10))
    ni = NumericalInversion(condition=ETA_BINS)
    with pytest.raises(SkcalError, match="NumericalInversion has none"):
        log_likelihood_score(ni, None, None)


@pytest.fixture(scope="module")
def client() -> Any:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _pid() -> int:
    return os.getpid()


@pytest.mark.slow
def test_a_hyperband_search_on_two_worker_processes_returns_a_fitted_best_calibrator(
    scaled: tuple[np.ndarray, np.ndarray], client: Any
) -> None:
    X, y = scaled
    Xd, yd = da.from_array(X, chunks=(1000, 4)), da.from_array(y, chunks=1000)
    space = {"lr": [1e-3, 1e-2, 3e-2], "n_components": [1, 2]}
    search = HyperbandSearchCV(
        _mdn(), space, max_iter=3, scoring=log_likelihood_score, random_state=0
    )
    assert fit_search(search, Xd, yd) is search  # the running client by default
    assert len(set(client.run(_pid).values())) == 2
    best = search.best_estimator_
    assert isinstance(best, MDNCalibrator) and best.__sklearn_is_fitted__()
    assert search.best_params_["lr"] in space["lr"]
    assert search.best_params_["n_components"] in space["n_components"]
    scores = pd.DataFrame(search.cv_results_)["test_score"]
    assert np.isfinite(search.best_score_) and search.best_score_ == scores.max()
    r = best.predict(X[:500])
    assert np.all(np.isfinite(r)) and np.all(r > 0)


def test_dask_ml_searches_fail_with_the_current_dask_without_fit_search(
    scaled: tuple[np.ndarray, np.ndarray], client: Any
) -> None:
    """Recorded in docs/distributed.md; when this fails, dask-ml or dask has changed."""
    X, y = scaled
    Xd, yd = da.from_array(X, chunks=(2000, 4)), da.from_array(y, chunks=2000)
    search = IncrementalSearchCV(
        _mdn(), {"lr": [1e-3, 1e-2]}, n_initial_parameters=2, max_iter=1, decay_rate=None
    )
    with pytest.raises(RuntimeError, match="asynchronous Client in a synchronous context"):
        search.fit(Xd, yd)


def test_dask_ml_r2_score_fails_on_predictions_of_unknown_chunk_sizes(
    scaled: tuple[np.ndarray, np.ndarray],
) -> None:
    from dask_ml.metrics import r2_score

    X, y = scaled
    model = ParallelPostFit(_mdn()).fit(X, y)
    # a Dask table's columns as an array (to_dask_array without lengths): unknown chunks
    Xd = dd.from_array(X, chunksize=2000).to_dask_array()
    yd = da.from_array(y, chunks=2000)
    predicted = model.predict(Xd)
    assert np.isnan(predicted.shape[0])
    # the message depends on which chunk sizes are unknown (docs/distributed.md)
    with pytest.raises(ValueError, match="cannot broadcast|cannot convert float NaN to integer"):
        r2_score(yd, predicted)
