"""SymmetricScaler: the [-1, 1] map, clipping, inverse, and the chunked quantiles."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing import SymmetricScaler
from skcal.preprocessing._quantiles import GRID_SIZE


def test_full_range_maps_the_fit_data_onto_minus_one_one(features):
    scaler = SymmetricScaler(quantile_range=(0.0, 100.0)).fit(features)
    out = scaler.transform(features)
    np.testing.assert_allclose(out.min(axis=0), -1.0, atol=1e-12)
    np.testing.assert_allclose(out.max(axis=0), 1.0, atol=1e-12)


def test_robust_quantiles_map_most_of_the_data_into_minus_one_one(features):
    out = SymmetricScaler().fit_transform(features)  # 1% and 99%
    inside = np.mean((out >= -1.0) & (out <= 1.0), axis=0)
    assert ((inside > 0.97) & (inside < 0.99)).all()  # discrete n_trk sits exactly on its quantiles
    assert (np.abs(out) > 1.0).any()  # not clipped: the tails go on linearly
    clipped = SymmetricScaler(clip=True).fit_transform(features)
    assert clipped.min() == -1.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(clipped, np.clip(out, -1.0, 1.0))


def test_quantiles_centre_and_scale(features):
    scaler = SymmetricScaler(quantile_range=(5.0, 95.0)).fit(features)
    low, high = np.percentile(features.to_numpy(), [5.0, 95.0], axis=0)
    np.testing.assert_allclose(scaler.quantiles_, [low, high])
    np.testing.assert_allclose(scaler.centre_, (low + high) / 2)
    np.testing.assert_allclose(scaler.scale_, (high - low) / 2)
    assert scaler.n_samples_seen_ == len(features)
    assert scaler.get_feature_names_out().tolist() == features.columns.tolist()


def test_constant_feature_is_centred_not_divided_by_zero():
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    out = SymmetricScaler().fit_transform(X)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    assert np.isfinite(out).all()


def test_inverse_transform_round_trip(features):
    scaler = SymmetricScaler().fit(features)
    back = scaler.inverse_transform(scaler.transform(features))
    np.testing.assert_allclose(back, features, rtol=1e-12)


@pytest.mark.parametrize(
    "quantile_range", [(99.0, 1.0), (-1.0, 50.0), (1.0, 101.0), (50.0,), "wide"]
)
def test_bad_quantile_range_is_refused(quantile_range):
    with pytest.raises(ParameterError, match="quantile_range"):
        SymmetricScaler(quantile_range=quantile_range).fit(np.ones((3, 1)))


def test_one_chunk_dask_fit_is_exact(features):
    X = features.to_numpy()
    in_memory = SymmetricScaler().fit(X)
    chunked = SymmetricScaler().fit(da.from_array(X, chunks=(len(X), 5)))
    np.testing.assert_allclose(chunked.quantiles_, in_memory.quantiles_, rtol=1e-12)


@pytest.mark.parametrize("order", ["shuffled", "sorted"])
@pytest.mark.parametrize("chunk_rows", [300, 2500])  # below and above the sketch grid
def test_chunked_quantiles_are_within_the_documented_rank_error(order, chunk_rows):
    rng = np.random.default_rng(3)
    n = 12000
    X = np.column_stack(
        [rng.lognormal(4.0, 1.0, n), rng.normal(0.0, 1.0, n), rng.poisson(4.0, n).astype(float)]
    )
    if order == "sorted":  # chunks as unlike as can be: a sample stored pT slice by pT slice
        X = X[np.argsort(X[:, 0])]
    probs = np.array([0.01, 0.99])
    scaler = SymmetricScaler().fit(da.from_array(X, chunks=(chunk_rows, 3)))
    n_chunks = -(-n // chunk_rows)
    bound = 1.0 / (GRID_SIZE - 1) + n_chunks / n
    for j in range(2):  # continuous columns: the rank of the estimate
        for q, estimate in zip(probs, scaler.quantiles_[:, j]):
            assert abs(np.mean(X[:, j] < estimate) - q) <= bound
    # The integer column has ties: the quantiles land on the same counts as numpy's.
    np.testing.assert_allclose(scaler.quantiles_[:, 2], np.quantile(X[:, 2], probs), atol=0.5)


def test_empty_dask_input_is_refused():
    with pytest.raises(DataError, match="0 sample"):
        SymmetricScaler().fit(da.zeros((0, 2), chunks=(1, 2)))
