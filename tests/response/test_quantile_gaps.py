"""Quantiles of histograms whose filled bins follow empty ones interpolate within them."""

from __future__ import annotations

import numpy as np
import pytest

from skcal.response import _modefit


def test_lone_filled_bin_gives_quantiles_inside_it() -> None:
    edges = np.linspace(0.0, 1.0, 11)
    sumw = np.zeros((1, 12))
    sumw[0, 7] = 5.0  # the bin [0.6, 0.7) (index 0 is the underflow)
    q = _modefit.quantiles(sumw, edges, np.array([0.16, 0.5, 0.84]))[0]
    np.testing.assert_allclose(q, [0.616, 0.65, 0.684])


def test_dense_histogram_quantiles_are_unchanged() -> None:
    r = np.random.default_rng(0).normal(1.0, 0.1, 100_000)
    edges = np.linspace(0.0, 2.0, 401)
    counts = np.histogram(r, edges)[0].astype(float)
    sumw = np.concatenate(([0.0], counts, [0.0]))[None, :]
    q = _modefit.quantiles(sumw, edges, np.array([0.15865, 0.5, 0.84135]))[0]
    assert q == pytest.approx(np.quantile(r, [0.15865, 0.5, 0.84135]), abs=2e-3)
