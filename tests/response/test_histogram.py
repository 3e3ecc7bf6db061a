"""The response histogram against numpy, the edge check and lookup, the parameter errors."""

from __future__ import annotations

import numpy as np
import pytest

import skcal.evaluation
import skcal.response
from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing import reweight_to_spectrum
from skcal.preprocessing._weights import spectrum_bin_weights
from skcal.response import (
    ResponseHistogram,
    bin_lookup,
    check_edges,
    closure_table,
    resolution,
    table_from_histogram,
)

PT = np.array([20.0, 30.0, 50.0, 100.0])
ETA = np.array([0.0, 1.0, 2.5])
R = np.linspace(0.0, 3.0, 601)


def sample(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "r": rng.normal(1.0, 0.4, n).clip(1e-3),
        "pt": rng.choice(np.r_[PT, rng.uniform(10, 120, 50)], n),  # values on the edges too
        "eta": rng.uniform(0, 3, n),
        "w": rng.uniform(0, 2, n),
        "x": rng.normal(size=n),
        "y": rng.normal(size=n),
    }


def reference(s: dict[str, np.ndarray], weight: np.ndarray | None) -> dict[str, np.ndarray]:
    """The same histogram with numpy: searchsorted bins, the response with flow bins."""
    i, out_i = bin_lookup(s["pt"], PT)
    j, out_j = bin_lookup(s["eta"], ETA)
    inside = ~(out_i | out_j)
    k = np.clip(np.searchsorted(R, s["r"], side="right") - 1, -1, R.size - 1) + 1
    w = np.ones(s["r"].size) if weight is None else weight
    shape = (PT.size - 1, ETA.size - 1, R.size + 1)
    flat = np.ravel_multi_index((i[inside], j[inside], k[inside]), shape)
    cells = np.ravel_multi_index((i[inside], j[inside]), shape[:2])
    return {
        "sumw": np.bincount(flat, w[inside], np.prod(shape)).reshape(shape),
        "sumw2": np.bincount(flat, w[inside] ** 2, np.prod(shape)).reshape(shape),
        "entries": np.bincount(cells, minlength=6).reshape(shape[:2]),
        "x": np.bincount(cells, (w * s["x"])[inside], 6).reshape(shape[:2]),
        "y": np.bincount(cells, (w * s["y"])[inside], 6).reshape(shape[:2]),
        "n_outside": np.array((~inside).sum()),
        "sumw_outside": np.array(w[~inside].sum()),
    }


@pytest.mark.parametrize("weighted", [False, True])
def test_histogram_equals_numpy_and_chunks_add(weighted: bool) -> None:
    s = sample(20_000, 1)
    weight = s["w"] if weighted else None
    ref = reference(s, weight)
    whole = ResponseHistogram({"pt": PT, "eta": ETA}, R, extras=("x", "y"))
    parts = whole.empty_like()
    for part in np.array_split(np.arange(s["r"].size), 3):
        chunk = whole.empty_like().fill(
            s["r"][part],
            {"pt": s["pt"][part], "eta": s["eta"][part]},
            None if weight is None else weight[part],
            {"x": s["x"][part], "y": s["y"][part]},
        )
        parts = parts + chunk
    whole.fill(s["r"], {"pt": s["pt"], "eta": s["eta"]}, weight, {"x": s["x"], "y": s["y"]})
    for h in (whole, parts):
        np.testing.assert_allclose(h.sumw, ref["sumw"], rtol=1e-12)
        np.testing.assert_allclose(h.sumw2, ref["sumw2"], rtol=1e-12)
        np.testing.assert_array_equal(h.entries, ref["entries"])
        np.testing.assert_allclose(h.extra_sums["x"], ref["x"], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(h.extra_sums["y"], ref["y"], rtol=1e-9, atol=1e-9)
        assert h.n_outside == ref["n_outside"]
        assert h.sumw_outside == pytest.approx(float(ref["sumw_outside"]))


def test_summed_over_a_variable_weights_its_bins() -> None:
    s = sample(5_000, 2)
    h = ResponseHistogram({"pt": PT, "eta": ETA}, R).fill(s["r"], {"pt": s["pt"], "eta": s["eta"]})
    factor = np.array([1.0, 2.0, 0.5])
    summed = h.summed_over("pt", factor)
    assert summed.variables == ("eta",)
    np.testing.assert_allclose(summed.sumw, (h.sumw * factor[:, None, None]).sum(axis=0))
    np.testing.assert_allclose(summed.sumw2, (h.sumw2 * factor[:, None, None] ** 2).sum(axis=0))
    np.testing.assert_array_equal(summed.entries, h.entries.sum(axis=0))
    with pytest.raises(ParameterError, match="variable"):
        h.summed_over("mass")


@pytest.mark.parametrize("name", skcal.evaluation._MOVED)
def test_the_old_evaluation_path_warns_and_gives_the_same_object(name: str) -> None:
    assert name in skcal.response.__all__ and name not in skcal.evaluation.__all__
    with pytest.warns(FutureWarning, match=f"skcal.response.{name}"):
        assert getattr(skcal.evaluation, name) is getattr(skcal.response, name)


def test_edges_are_parameters() -> None:
    assert check_edges([1, 2], "x").dtype == np.float64
    for bad in ([1.0], [2, 1], [0, np.nan], [[0, 1]], "abc"):
        with pytest.raises(ParameterError, match="'?x'? must be at least two"):
            check_edges(bad, "x")
    with pytest.raises(ParameterError, match="bins"):
        ResponseHistogram({}, R)
    with pytest.raises(ParameterError, match="response_edges"):
        ResponseHistogram({"pt": PT}, [1, 1])


def test_missing_chunk_columns_are_data_errors() -> None:
    h = ResponseHistogram({"pt": PT}, R, extras=("x",))
    with pytest.raises(DataError, match="'pt'"):
        h.fill([1.0], {"eta": [1.0]}, extras={"x": [0.0]})
    with pytest.raises(DataError, match="'x'"):
        h.fill([1.0], {"pt": [25.0]})


def test_bad_estimator_options_are_parameter_errors() -> None:
    r = np.random.default_rng(0).normal(1, 0.1, 1000)
    with pytest.raises(ParameterError, match="mode"):
        resolution(r, mode=-1.0)
    with pytest.raises(ParameterError, match="n_sgima"):
        resolution(r, n_sgima=2.0)
    with pytest.raises(ParameterError, match="n_iter"):
        closure_table(r, data={"pt": np.full(r.size, 25.0)}, bins={"pt": PT}, n_iter=0)
    with pytest.raises(ParameterError, match="resolution_kind"):
        table_from_histogram(ResponseHistogram({"pt": PT}, R), resolution_kind="rms")
    with pytest.raises(ParameterError, match="chunk_size"):
        closure_table(r, data={"pt": np.full(r.size, 25.0)}, bins={"pt": PT}, chunk_size=0)


def test_spectrum_bin_weights_are_those_of_reweight_to_spectrum() -> None:
    e = np.random.default_rng(3).uniform(10, 100, 1000)
    edges = np.array([10.0, 20.0, 50.0, 100.0])
    per_jet = reweight_to_spectrum(e, bins=edges, log=False)
    i, _ = bin_lookup(e, edges)
    per_bin = spectrum_bin_weights(np.bincount(i, minlength=3), np.diff(edges), clip=1000.0)
    np.testing.assert_allclose(per_jet, per_bin[i])


def test_an_index_variable_bins_cell_numbers_without_a_search() -> None:
    h = ResponseHistogram({"cell": 3, "pt": [20.0, 50.0, 100.0]}, np.linspace(0, 2, 21))
    cells = np.array([0, 1, 2, 2, 5])
    h.fill(np.full(5, 1.0), {"cell": cells, "pt": [30.0, 30.0, 60.0, 60.0, 60.0]})
    assert h.shape == (3, 2) and h.n_outside == 1  # cell 5 does not exist
    np.testing.assert_array_equal(h.entries, [[1, 0], [1, 0], [0, 2]])
    same = h.empty_like().fill([1.0], {"cell": [2], "pt": [60.0]})
    assert (h + same).entries[2, 1] == 3
    edges = ResponseHistogram(
        {"cell": np.arange(4) - 0.5, "pt": [20.0, 50.0, 100.0]}, h.response_edges
    )
    with pytest.raises(DataError, match="different binnings"):
        h + edges
    with pytest.raises(DataError, match="'cell' is an index"):
        h.fill([1.0], {"cell": [0.5], "pt": [30.0]})
    with pytest.raises(ParameterError, match="at least 1 bin"):
        ResponseHistogram({"cell": 0}, h.response_edges)
