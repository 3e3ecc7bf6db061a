"""Issue 18, failure 5: finite input never gives inf or NaN, parameters stay float64."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from skcal.exceptions import DataError
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

BIG = np.finfo(np.float64).max


def test_centre_near_the_float64_maximum_does_not_overflow() -> None:
    X = np.array([[0.99 * BIG], [0.98 * BIG], [0.97 * BIG]])
    scaler = SymmetricScaler(quantile_range=(0, 100)).fit(X)
    assert np.isfinite(scaler.centre_).all() and np.isfinite(scaler.scale_).all()
    np.testing.assert_allclose(scaler.transform(X).ravel(), [1.0, 0.0, -1.0], atol=1e-12)


def test_opposite_extremes_scale_to_minus_one_and_one_and_back() -> None:
    X = np.array([[-0.99 * BIG], [0.0], [0.99 * BIG]])
    scaler = SymmetricScaler(quantile_range=(0, 100)).fit(X)
    out = scaler.transform(X)
    np.testing.assert_allclose(out.ravel(), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(scaler.inverse_transform(out), X, rtol=1e-12)


def test_dask_fit_near_the_maximum_is_finite() -> None:
    X = np.linspace(-0.9, 0.9, 300)[:, None] * BIG
    scaler = SymmetricScaler(quantile_range=(0, 100)).fit(da.from_array(X, chunks=100))
    assert np.isfinite(scaler.centre_).all()
    np.testing.assert_allclose(scaler.scale_, [0.9 * BIG], rtol=1e-6)


@pytest.mark.parametrize("size", [1e300, 1e-50])
def test_parameters_stay_float64_for_float32_input(size: float) -> None:
    scaler = SymmetricScaler().fit(np.array([[1.0], [2.0], [3.0]]) * size)
    X32 = np.array([[0.0]], dtype=np.float32)
    out = scaler.transform(X32) if size > 1 else None
    assert scaler.centre_.dtype == np.float64 and scaler.scale_.dtype == np.float64
    if out is not None:  # 0 scaled by 1e300 is a finite float32 number
        assert out.dtype == np.float32 and np.isfinite(out).all()
        np.testing.assert_allclose(out, [[-2.0 / 0.98]], rtol=1e-5)
    assert scaler.centre_[0] == pytest.approx(2.0 * size)


def test_float32_output_beyond_its_range_is_refused_naming_the_column() -> None:
    scaler = SymmetricScaler().fit(np.array([[1.0], [2.0], [3.0]]) * 1e-50)
    with pytest.raises(DataError, match=r"beyond the range of float32.*column 'x0'"):
        scaler.transform(np.array([[1.0]], dtype=np.float32))
    with pytest.raises(DataError, match="beyond the range of float32"):
        scaler.transform(da.from_array(np.ones((4, 1), dtype=np.float32), chunks=2)).compute()


def test_float64_output_beyond_its_range_is_refused() -> None:
    scaler = SymmetricScaler(quantile_range=(0, 100)).fit(np.array([[0.0], [1e-300]]))
    with pytest.raises(DataError, match="beyond the range of float64"):
        scaler.transform(np.array([[1e300]]))


def test_log_inverse_that_overflows_is_a_clear_error() -> None:
    log = LogTransformer().fit(np.array([[1.0], [2.0]]))
    with pytest.raises(
        DataError, match=r"LogTransformer.inverse_transform .*float64.*'x0' has 1 inf"
    ):
        log.inverse_transform(np.array([[1000.0]]))
    np.testing.assert_allclose(log.inverse_transform(np.array([[700.0]])), np.exp([[700.0]]))


def test_eta_annotation_far_from_every_centre_is_zero_not_nan() -> None:
    out = EtaAnnotation(column=0).fit(np.array([[0.0]])).transform(np.array([[1e300]]))
    assert np.isfinite(out).all() and (out[:, 1:] == 0).all()
