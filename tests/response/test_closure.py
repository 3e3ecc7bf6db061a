"""Closure tables and the chunk-by-chunk response histogram."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import DataError, ParameterError
from skcal.response import ResponseHistogram, closure_table, fill_histogram

BINS = {"pt_true": [20.0, 50.0, 100.0, 200.0], "abs_eta_true": [0.0, 1.0, 2.0, 3.0]}


@pytest.fixture(scope="module")
def jets() -> pd.DataFrame:
    """Responses with a known mode per bin: 1 + 0.02 * (pT bin index), width 0.1."""
    rng = np.random.default_rng(0)
    n = 60_000
    pt = rng.uniform(20, 200, n)
    # |eta| < 2 only: the third |eta| bin stays empty.
    eta = rng.uniform(-2, 2, n)
    shift = np.searchsorted(BINS["pt_true"], pt, side="right") - 1
    r = rng.normal(1.0 + 0.02 * shift, 0.1, n)
    return pd.DataFrame(
        {"pt_true": pt, "eta_true": eta, "r": r, "weight": rng.uniform(0.5, 1.5, n)}
    )


def test_table_is_tidy_and_recovers_the_mode_per_bin(jets):
    table = closure_table("r", data=jets, bins=BINS, weights="weight", random_state=0)
    assert list(table.columns) == [
        "pt_true_low",
        "pt_true_high",
        "abs_eta_true_low",
        "abs_eta_true_high",
        "entries",
        "n_effective",
        "mode",
        "mode_err",
        "resolution",
        "resolution_err",
        "status",
        "fallback",
    ]
    assert len(table) == 9
    filled = table[table["status"] == "ok"]
    assert len(filled) == 6
    expected = (
        1.0 + 0.02 * np.searchsorted(BINS["pt_true"], filled["pt_true_low"], side="right") - 0.02
    )
    np.testing.assert_allclose(filled["mode"], expected, atol=5 * filled["mode_err"].max())
    np.testing.assert_allclose(filled["resolution"], 0.1 / filled["mode"], rtol=0.08)
    assert (filled["resolution_err"] > 0).all() and (filled["resolution_err"] < 0.01).all()
    assert table["entries"].sum() == len(jets)


def test_empty_bins_are_flagged_not_silent_nan(jets):
    table = closure_table("r", data=jets, bins=BINS, n_bootstrap=0)
    empty = table[table["abs_eta_true_low"] == 2.0]
    assert (empty["entries"] == 0).all()
    assert (empty["status"] == "empty").all() and empty["fallback"].all()
    assert empty["mode"].isna().all()
    # NaN appears only where the status says the bin is empty.
    assert not table.loc[table["status"] != "empty", ["mode", "resolution"]].isna().any().any()


def test_bins_with_few_entries_fall_back_to_the_median(jets):
    few = jets.iloc[:300]
    table = closure_table("r", data=few, bins=BINS, min_entries=100, n_bootstrap=0)
    filled = table[table["entries"] > 0]
    assert (filled["status"] == "few_entries").all() and filled["fallback"].all()
    assert not filled["mode"].isna().any()


def test_jets_outside_the_bins_are_counted(jets):
    narrow = {"pt_true": [50.0, 100.0], "abs_eta_true": [0.0, 1.0]}
    table = closure_table("r", data=jets, bins=narrow, n_bootstrap=0)
    inside = (
        (jets["pt_true"] >= 50) & (jets["pt_true"] < 100) & (jets["eta_true"].abs() < 1)
    ).sum()
    assert table["entries"].sum() == inside
    assert table.attrs["n_outside"] == len(jets) - inside


def test_chunked_dask_and_summed_histograms_agree(jets):
    whole = closure_table("r", data=jets, bins=BINS, weights="weight", random_state=1)
    chunked = closure_table(
        "r", data=jets, bins=BINS, weights="weight", random_state=1, chunk_size=7_000
    )
    lazy = dd.from_pandas(jets, npartitions=5)
    on_dask = closure_table("r", data=lazy, bins=BINS, weights="weight", random_state=1)
    halves = fill_histogram(
        "r", data=jets.iloc[:25_000], bins=BINS, weights="weight"
    ) + fill_histogram("r", data=jets.iloc[25_000:], bins=BINS, weights="weight")
    summed = closure_table(halves, random_state=1)
    for other in (chunked, on_dask, summed):
        pd.testing.assert_frame_equal(whole, other, rtol=1e-10)


def test_arrays_and_mappings_are_accepted(jets):
    as_columns = closure_table(
        jets["r"].to_numpy(), data={c: jets[c].to_numpy() for c in jets}, bins=BINS, n_bootstrap=0
    )
    by_name = closure_table("r", data=jets, bins=BINS, n_bootstrap=0)
    pd.testing.assert_frame_equal(as_columns, by_name)


def test_bad_input_is_refused(jets):
    bad = jets.copy()
    bad.loc[7, "r"] = np.nan
    with pytest.raises(DataError, match="NaN"):
        closure_table("r", data=bad, bins=BINS)
    bad.loc[7, "r"] = -1.0
    with pytest.raises(DataError, match="-1.0"):
        closure_table("r", data=bad, bins=BINS)
    with pytest.raises(DataError, match="'m_true'"):
        closure_table("r", data=jets, bins={"m_true": [0, 1]})
    with pytest.raises(DataError, match="rows"):
        closure_table(np.ones(5), data=jets, bins=BINS)
    with pytest.raises(ParameterError, match="increasing"):
        closure_table("r", data=jets, bins={"pt_true": [50, 20]})
    with pytest.raises(ParameterError, match="bins"):
        closure_table("r", data=jets)


def test_histograms_with_other_binnings_do_not_add():
    a = ResponseHistogram({"pt": [0, 1]}, [0, 1, 2])
    b = ResponseHistogram({"pt": [0, 2]}, [0, 1, 2])
    with pytest.raises(DataError, match="different binnings"):
        a + b


def test_response_flow_bins_count_in_the_quantiles():
    h = ResponseHistogram({"x": [0, 1]}, np.linspace(0.5, 1.5, 101))
    h.fill([0.1, 1.0, 1.0, 5.0], {"x": [0.5] * 4})
    assert h.sumw[0, 0] == 1 and h.sumw[0, -1] == 1 and h.entries[0] == 4
