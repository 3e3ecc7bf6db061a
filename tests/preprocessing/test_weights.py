"""Prior-flattening and target-spectrum weights."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing import flat_prior_weights, reweight_to_spectrum


def falling_spectrum(
    n: int = 20000, low: float = 20.0, high: float = 1000.0, seed: int = 1
) -> np.ndarray:
    """pT_true with density proportional to pT^-2 on [low, high]."""
    u = np.random.default_rng(seed).uniform(size=n)
    return 1.0 / (1.0 / low - u * (1.0 / low - 1.0 / high))


def flatness_chi2(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> float:
    """Chi-square of a weighted histogram against a constant, with sqrt(sum w^2) errors."""
    content, _ = np.histogram(values, edges, weights=weights)
    variance, _ = np.histogram(values, edges, weights=weights**2)
    return float(((content - content.mean()) ** 2 / variance).sum())


def test_flat_prior_weights_flatten_the_spectrum():
    pt = falling_spectrum()
    weights = flat_prior_weights(pt, bins=40, clip=None)
    # Ten equal bins in pT, not aligned with the 40 log-spaced bins of the weights.
    edges = np.linspace(pt.min(), pt.max(), 11)
    assert stats.chi2.sf(flatness_chi2(pt, weights, edges), df=9) > 0.01
    # The same test sees the unweighted spectrum, and weights flat in log(pT), as not flat.
    assert stats.chi2.sf(flatness_chi2(pt, np.ones_like(pt), edges), df=9) < 1e-6
    flat_in_log = reweight_to_spectrum(pt, lambda x: 1.0 / x, bins=40, clip=None)
    assert stats.chi2.sf(flatness_chi2(pt, flat_in_log, edges), df=9) < 1e-6


def test_weights_have_mean_one_and_follow_the_histogram():
    pt = falling_spectrum(n=5000)
    weights = flat_prior_weights(pt, bins=20, log=False, clip=None)
    assert weights.shape == pt.shape
    assert weights.mean() == pytest.approx(1.0)
    assert (weights > 0).all()
    # Jets in a bin share one weight, proportional to 1 / (jets in the bin).
    counts, edges = np.histogram(pt, bins=20)
    first, last = pt < edges[1], pt >= edges[-2]
    assert np.ptp(weights[first]) == 0.0
    assert weights[last][0] / weights[first][0] == pytest.approx(counts[0] / counts[-1])


def test_clip_bounds_the_ratio_of_weights():
    pt = falling_spectrum(n=5000)
    free = flat_prior_weights(pt, bins=30, clip=None)
    clipped = flat_prior_weights(pt, bins=30, clip=10.0)
    assert free.max() / free.min() > 100.0
    assert clipped.max() / clipped.min() == pytest.approx(10.0)
    assert clipped.mean() == pytest.approx(1.0)


def test_dataframe_input_uses_pt_true_and_keeps_the_index(jets):
    jets = jets.set_index(jets.index + 100)
    weights = flat_prior_weights(jets, bins=10)
    assert isinstance(weights, pd.Series)
    assert weights.name == "prior_weight"
    assert weights.index.equals(jets.index)
    from_array = flat_prior_weights(jets["pt_true"].to_numpy(), bins=10)
    np.testing.assert_allclose(weights.to_numpy(), from_array)
    by_position = flat_prior_weights(jets, column=jets.columns.get_loc("pt_true"), bins=10)
    pd.testing.assert_series_equal(by_position, weights)


def test_reweight_to_flat_energy(jets):
    weights = reweight_to_spectrum(jets, bins=25, clip=None)
    assert weights.name == "spectrum_weight"
    e = jets["e_true"].to_numpy()
    edges = np.linspace(e.min(), e.max(), 6)
    assert stats.chi2.sf(flatness_chi2(e, weights.to_numpy(), edges), df=4) > 0.01


def test_reweight_to_a_target_density():
    pt = falling_spectrum(n=20000)
    target = lambda x: np.exp(-x / 200.0)  # noqa: E731
    weights = reweight_to_spectrum(pt, target, bins=40, clip=None)
    edges = np.linspace(20.0, 1000.0, 8)
    content, _ = np.histogram(pt, edges, weights=weights)
    expected = -np.diff(np.exp(-edges / 200.0))
    np.testing.assert_allclose(content / content.sum(), expected / expected.sum(), atol=0.01)


def test_explicit_edges_and_a_single_value():
    assert flat_prior_weights(np.full(4, 50.0)).tolist() == [1.0] * 4
    weights = flat_prior_weights([30.0, 40.0, 300.0], bins=[10.0, 100.0, 1000.0])
    # Equal-width bins in log: [10, 100] holds 2 jets for 90 GeV, [100, 1000] 1 jet for 900 GeV.
    raw = np.array([90 / 2, 90 / 2, 900 / 1])
    np.testing.assert_allclose(weights, raw / raw.mean())


@pytest.mark.parametrize("kind", ["series", "array"])
def test_dask_weights_match_and_are_lazy(jets, kind):
    expected = flat_prior_weights(jets, bins=15)
    if kind == "series":
        values = dd.from_pandas(jets, npartitions=4)
        lazy = flat_prior_weights(values, bins=15)
        assert isinstance(lazy, dd.Series)
        computed = lazy.compute()
        assert computed.index.equals(jets.index)
        computed = computed.to_numpy()
    else:
        lazy = flat_prior_weights(da.from_array(jets["pt_true"].to_numpy(), chunks=700), bins=15)
        assert isinstance(lazy, da.Array)
        computed = lazy.compute()
    np.testing.assert_allclose(computed, expected.to_numpy(), rtol=1e-12)


def test_dask_bad_values_name_the_chunk():
    values = np.array([20.0, 30.0, np.nan, 40.0])
    with pytest.raises(DataError, match=r"'values' \(chunk 1\) has 1 NaN"):
        flat_prior_weights(da.from_array(values, chunks=2))


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        (pd.DataFrame({"pt_tru": [1.0]}), {}, r"column 'pt_true' \(did you mean 'pt_tru'\?\)"),
        (pd.Series([20.0, np.nan], name="pt_true"), {}, r"'pt_true' has 1 NaN"),
        (np.array([20.0, np.inf]), {}, "1 inf"),
        (np.array([20.0, 0.0, -3.0]), {}, r"2 non-positive values in 3 rows \(smallest -3\)"),
        (np.array([]), {}, "empty"),
        (np.array([]), {"bins": [1.0, 2.0]}, "empty"),
        (np.array([5.0, 50.0]), {"bins": [10.0, 100.0]}, r"1 of 2 values lie outside"),
        (np.ones((3, 2)), {}, "1-D"),
        (np.ones(3), {"clip": 0.5}, "clip"),
        (np.ones(3), {"bins": 0}, "bins"),
        (np.ones(3), {"bins": [2.0, 1.0]}, "increasing"),
        (np.ones(3), {"bins": [0.0, 1.0]}, "positive"),
        (np.ones(3), {"log": "yes"}, "log"),
        (pd.DataFrame({"pt_true": [1.0]}), {"column": ["pt_true"]}, "one column name"),
    ],
)
def test_bad_input_is_refused(values, kwargs, match):
    # the values are data; bad bins, log, clip and the type of column are parameters
    parameter = {"clip", "bins", "increasing", "positive", "log", "one column name"}
    error = ParameterError if match in parameter else DataError
    with pytest.raises(error, match=match):
        flat_prior_weights(values, **kwargs)


def test_bad_targets_are_refused():
    e = np.array([10.0, 20.0])
    with pytest.raises(ParameterError, match="'flat' or a callable"):
        reweight_to_spectrum(e, "gaussian")
    with pytest.raises(ParameterError, match="non-negative"):
        reweight_to_spectrum(e, lambda x: -x)
    with pytest.raises(DataError, match="zero in every bin"):
        reweight_to_spectrum(e, lambda x: 0.0 * x)
