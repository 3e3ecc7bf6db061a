"""The mode and resolution estimators on distributions whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from skcal.exceptions import DataError, ParameterError
from skcal.response import resolution, response_mode


def skewed_sample(n: int, seed: int) -> np.ndarray:
    """A Gaussian core N(1, 0.05) (70%) over a broad low tail N(0.75, 0.15) (30%)."""
    rng = np.random.default_rng(seed)
    r = np.where(rng.uniform(size=n) < 0.7, rng.normal(1.0, 0.05, n), rng.normal(0.75, 0.15, n))
    return r[r > 0]


def skewed_true_mode() -> float:
    x = np.linspace(0.9, 1.1, 200_001)
    return float(x[np.argmax(0.7 * norm.pdf(x, 1.0, 0.05) + 0.3 * norm.pdf(x, 0.75, 0.15))])


def test_gaussian_core_mode_recovers_the_peak_where_mean_and_median_do_not():
    r = skewed_sample(50_000, seed=0)
    peak = skewed_true_mode()
    est = response_mode(r)
    assert est.status == "ok" and not est.fallback
    assert abs(est.value - peak) < 0.003
    assert abs(np.median(r) - peak) > 0.015
    assert abs(np.mean(r) - peak) > 0.05
    # The fitted core is the Gaussian's width, not the whole distribution's.
    assert est.sigma == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize("method", ["gauss_iter", "kde", "median"])
def test_every_method_finds_the_centre_of_a_gaussian(method):
    r = np.random.default_rng(1).normal(2.0, 0.2, 40_000)
    est = response_mode(r, method=method, random_state=0)
    assert est.value == pytest.approx(2.0, abs=5 * est.error)
    assert 0 < est.error < 0.01


def test_kde_mode_is_closer_to_the_peak_than_the_median():
    r = skewed_sample(50_000, seed=2)
    peak = skewed_true_mode()
    assert abs(response_mode(r, method="kde").value - peak) < 0.005
    assert abs(response_mode(r, method="median").value - peak) > 0.015


def test_fit_error_matches_the_spread_over_independent_samples():
    values = [response_mode(skewed_sample(5_000, seed)) for seed in range(40)]
    spread = np.std([v.value for v in values], ddof=1)
    mean_error = np.mean([v.error for v in values])
    assert 0.6 < mean_error / spread < 1.6


def test_resolution_of_a_gaussian_is_sigma_over_mu():
    r = np.random.default_rng(2).normal(2.0, 0.3, 100_000)
    for kind in ("iqr68", "shortest68"):
        res = resolution(r, kind=kind, random_state=0)
        assert res.value == pytest.approx(0.15, abs=max(4 * res.error, 0.002))
        assert res.mode.value == pytest.approx(2.0, abs=0.01)


def test_shortest_interval_is_narrower_for_a_skewed_distribution():
    r = skewed_sample(50_000, seed=3)
    assert (
        resolution(r, kind="shortest68", n_bootstrap=0).value < resolution(r, n_bootstrap=0).value
    )


def test_bootstrap_error_of_resolution_matches_independent_samples():
    rng = np.random.default_rng(4)
    results = [
        resolution(rng.normal(1.0, 0.1, 4_000), n_bootstrap=100, random_state=i) for i in range(30)
    ]
    spread = np.std([res.value for res in results], ddof=1)
    mean_error = np.mean([res.error for res in results])
    assert 0.6 < mean_error / spread < 1.6


def test_weights_are_used():
    rng = np.random.default_rng(5)
    low, high = rng.normal(0.8, 0.02, 20_000), rng.normal(1.2, 0.02, 20_000)
    r = np.concatenate([low, high])
    weights = np.concatenate([np.full(low.size, 10.0), np.ones(high.size)])
    assert response_mode(r, weights=weights).value == pytest.approx(0.8, abs=0.005)
    assert response_mode(r, weights=weights[::-1]).value == pytest.approx(1.2, abs=0.005)


def test_few_entries_fall_back_to_the_median_and_say_so():
    r = np.array([0.9, 1.0, 1.05, 1.1, 1.3])
    est = response_mode(r)
    assert est.fallback and est.status == "few_entries"
    assert est.value == pytest.approx(1.05, abs=0.03)
    assert est.n_entries == 5


def test_given_mode_is_used_for_the_resolution():
    r = np.random.default_rng(6).normal(1.0, 0.1, 20_000)
    assert resolution(r, mode=2.0, n_bootstrap=0).value == pytest.approx(0.05, abs=0.002)


@pytest.mark.parametrize(
    "bad, what",
    [
        (np.array([1.0, np.nan, 0.9]), "NaN"),
        (np.array([1.0, np.inf, 0.9]), "NaN or infinite"),
        (np.array([1.0, 0.0, 0.9]), "> 0"),
        (np.array([1.0, -0.5, 0.9]), "-0.5"),
        (np.array([]), "empty"),
    ],
)
def test_bad_responses_are_refused_with_the_value(bad, what):
    with pytest.raises(DataError, match="r") as info:
        response_mode(bad)
    assert what in str(info.value)
    with pytest.raises(DataError):
        resolution(bad)


def test_bad_weights_and_options_are_refused():
    r = np.ones(10)
    with pytest.raises(DataError, match="weights"):
        response_mode(r, weights=-np.ones(10))
    with pytest.raises(DataError, match="10 entries"):
        response_mode(np.ones(11), weights=np.ones(10))
    with pytest.raises(DataError, match="zero"):
        response_mode(r, weights=np.zeros(10))
    with pytest.raises(ParameterError, match="method"):
        response_mode(r, method="mean")
    with pytest.raises(ParameterError, match="kind"):
        resolution(r, kind="rms")
