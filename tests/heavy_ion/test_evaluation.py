"""delta_pt_table and fake_fraction."""

from __future__ import annotations

import numpy as np
import pytest

from skcal.exceptions import DataError
from skcal.heavy_ion import delta_pt_table, fake_fraction


def test_widths_mean_and_errors_per_radius_and_bin():
    rng = np.random.default_rng(0)
    n = 16_000
    pt_true = rng.uniform(20, 60, n)
    radius = np.where(rng.random(n) < 0.5, 0.2, 0.6)
    width = np.where(radius == 0.2, 4.0, 12.0)
    pred = pt_true + 1.5 + rng.normal(0, 1, n) * width
    table = delta_pt_table(pt_true, pred, [20, 40, 60], radius=radius, n_bootstrap=30)
    assert table[["radius", "pt_low"]].to_numpy().tolist() == [
        [0.2, 20.0],
        [0.2, 40.0],
        [0.6, 20.0],
        [0.6, 40.0],
    ]
    np.testing.assert_allclose(table["sigma"], [4, 4, 12, 12], rtol=0.05)
    np.testing.assert_allclose(table["iqr"], 1.349 * table["sigma"], rtol=0.05)
    np.testing.assert_allclose(table["mean"], 1.5, atol=0.4)
    # The bootstrap error of the mean is sigma / sqrt(n).
    np.testing.assert_allclose(table["mean_err"], table["sigma"] / np.sqrt(table["n"]), rtol=0.3)


def test_bad_inputs_are_named():
    with pytest.raises(DataError, match="pt_pred"):
        delta_pt_table([20.0, 30.0], [np.nan, 1.0], [0, 50])
    with pytest.raises(DataError, match="bins must be increasing"):
        delta_pt_table([20.0, 30.0], [20.0, 30.0], [50, 0])


def test_fake_fraction_counts_jets_above_the_threshold():
    assert fake_fraction([30.0, 25.0, 5.0, 40.0], [1, 0, 1, 0], 20.0) == (1 / 3, 3)
    assert fake_fraction([1.0], [1], 20.0) == (0.0, 0)
