"""The heavy-ion benchmark's checks over training seeds: median, worst seed, every seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def checks(benchmark_module):
    return benchmark_module("_heavy_ion_checks")


@pytest.fixture(scope="module")
def closure(benchmark_module):
    return benchmark_module("_heavy_ion_closure")


def _rows(estimator: str, seed: int, sample: str, sigma: float, means: list[float]) -> list:
    return [
        {
            "radius": r,
            "pt_low": lo,
            "pt_high": lo + 20.0,
            "n": 100,
            "mean": m,
            "sigma": sigma * (1.0 + r),
            "iqr": 1.3 * sigma * (1.0 + r),
            "mean_err": 0.1,
            "sigma_err": 0.1,
            "iqr_err": 0.1,
            "estimator": estimator,
            "sample": sample,
            "seed": seed,
        }
        for r in (0.2, 0.4, 0.6)
        for lo, m in zip((10.0, 20.0, 40.0), means, strict=True)
    ]


def _table(checks, shift: float = 0.0) -> pd.DataFrame:
    rows = _rows("rho*A", checks.BASELINE_SEED, "default", 10.0, [0.0, -2.0, -2.0])
    rows += _rows("rho*A", checks.BASELINE_SEED, "soft", 10.0, [0.0, -1.0, -1.0])
    # seed 2 is the worst: a 1.5 GeV residual mean in the 40 GeV bins (the 10 GeV bin,
    # below 20 GeV, does not count however large its mean).
    for seed, worst in ((0, 0.4), (1, 0.6), (2, 1.5)):
        for est in checks.ML:
            sigma = 5.0 + 1.5 * seed
            rows += _rows(est, seed, "default", sigma, [9.0, 0.2, worst])
            rows += _rows(est, seed, "soft", sigma, [9.0, 0.2 + shift, worst])
    return pd.DataFrame(rows)


def test_quality_checks_give_the_median_and_worst_seed_and_pass_only_if_every_seed_does(
    checks,
) -> None:
    rows = {r["check"]: r for r in checks.quality_checks(_table(checks))}
    sigma = rows["LightGBM: R=0.4, 20-40 GeV, delta pT sigma narrower than rho*A"]
    # widths 5, 6.5 and 8 against rho*A's 10: gains 0.5, 0.35 and 0.2 (seed 2 fails).
    assert (sigma["value"], sigma["min"], sigma["max"]) == (0.35, 0.2, 0.5)
    assert (sigma["worst"], sigma["worst_seed"], sigma["pass"]) == (0.2, 2, False)
    assert sigma["seeds"].startswith("0: 0.500 +- ")
    mean = rows["LightGBM: |residual mean| in every pT_true bin from 20 GeV, every R"]
    assert (mean["worst"], mean["worst_seed"], mean["min"]) == (1.5, 2, 0.4)
    assert mean["value"] == 0.6 and mean["error"] == 0.1
    assert mean["worst_at"].endswith("40 GeV") and not mean["pass"]
    growth = rows["point: gain (1 - sigma ratio) at 20-40 GeV, R=0.6 minus R=0.2"]
    assert growth["pass"] is False  # every radius gets the same gain in this table


def test_shift_checks_report_the_seed_median_beside_rho_a(checks) -> None:
    (row,) = [r for r in checks.shift_checks(_table(checks, shift=-0.5)) if "R=0.4" in r["check"]]
    assert row["value"].startswith("rho*A +1.00 +- 0.14; LightGBM -0.50 +- 0.14 (seeds")
    assert row["pass"] is None


def test_mean_closure_takes_off_a_smooth_residual_in_bins_of_truth(closure) -> None:
    rng = np.random.default_rng(0)
    t = rng.uniform(5.0, 200.0, 40_000)
    e = t + 2.0 - 0.04 * t + rng.normal(0.0, 5.0, t.size)  # +1.2 GeV at 20, -2 at 100 GeV
    fitted = closure.MeanClosure().fit(t, e)
    corrected = fitted.predict(e)
    for lo, hi in ((20.0, 40.0), (60.0, 80.0), (80.0, 120.0)):
        inside = (t >= lo) & (t < hi)
        assert abs((e - t)[inside].mean()) > 0.5  # the residual before
        assert abs((corrected - t)[inside].mean()) < 0.25
    # Beyond the fitted range the correction is frozen at its end value.
    end = fitted.curve_[-1] - fitted.grid_[-1]
    assert fitted.predict(np.array([500.0])) == pytest.approx(500.0 - end)


def test_mean_closure_merges_sparse_bins_and_needs_two(closure) -> None:
    rng = np.random.default_rng(1)
    t = rng.uniform(10.0, 150.0, 120)
    assert len(closure._merged(t, 50)) == 2
    with pytest.raises(ValueError, match="2 pT_true bins"):
        closure.MeanClosure().fit(t[:60], t[:60])


def test_mean_closure_refuses_an_estimate_that_does_not_rise_with_truth(closure) -> None:
    t = np.random.default_rng(2).uniform(10.0, 150.0, 5000)
    with pytest.raises(ValueError, match="does not rise with pT_true"):
        closure.MeanClosure().fit(t, 200.0 - t)
