"""Mapping expressions and the JetMapping container."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from skcal.exceptions import DataError
from skcal.io import (
    NANOAOD,
    PHYSLITE,
    At,
    Branch,
    Clip,
    Count,
    Energy,
    Flavour,
    InnerSum,
    JetMapping,
)


def test_arithmetic_builds_a_tree_that_knows_its_branches() -> None:
    expr = (Branch("a") * (1 - Branch("b")) + 2) / Branch("c") - Branch("a")
    assert expr.branches() == {"a", "b", "c"}
    arrays = {"a": np.array([2.0, 4.0]), "b": np.array([0.5, 0.25]), "c": np.array([3.0, 5.0])}
    np.testing.assert_allclose(
        expr.evaluate(arrays), (arrays["a"] * (1 - arrays["b"]) + 2) / arrays["c"] - arrays["a"]
    )
    np.testing.assert_allclose((-Branch("a")).evaluate(arrays), -arrays["a"])
    assert Branch("a") * 2 == Branch("a") * 2  # plain values: comparable, picklable


def test_division_by_zero_gives_inf_without_a_warning() -> None:
    out = (Branch("a") / Branch("b")).evaluate({"a": np.array([1.0]), "b": np.array([0.0])})
    assert np.isinf(out).all()


def test_list_expressions() -> None:
    per_jet = ak.Array([[3, 1, 4], [], [5]])
    assert At("x", 0, default=0).evaluate({"x": per_jet}).tolist() == [3, 0, 5]
    assert At("x", 2, default=-1).evaluate({"x": per_jet}).tolist() == [4, -1, -1]
    with pytest.raises(DataError, match="1 lists are shorter than 1 entries"):
        At("x", 0).evaluate({"x": per_jet})
    assert InnerSum("x").evaluate({"x": per_jet}).tolist() == [8, 0, 5]
    assert InnerSum("x", (0, 2)).evaluate({"x": per_jet}).tolist() == [7, 0, 5]
    assert Count("x", exclude=(1, 5)).evaluate({"x": per_jet}).tolist() == [2, 0, 0]
    assert Clip("y", lower=0.0, upper=1.0).evaluate({"y": np.array([-1.0, 0.5, 2.0])}).tolist() == [
        0.0,
        0.5,
        1.0,
    ]


@pytest.mark.parametrize(
    ("signed", "expected"), [(True, [5, 4, 2, 21, 1, 0]), (False, [5, 4, 0, 21, 0, 0])]
)
def test_flavour_conventions(signed: bool, expected: list[int]) -> None:
    arrays = {"h": np.array([5, 4, 0, 0, 0, 0]), "p": np.array([21, 1, -2, 21, -1, 0])}
    assert Flavour("h", "p", signed=signed).evaluate(arrays).tolist() == expected


def test_energy() -> None:
    arrays = {"pt": np.array([30.0, 10.0]), "eta": np.array([0.0, 1.0]), "m": np.array([40.0, 0.0])}
    np.testing.assert_allclose(Energy("pt", "eta", "m").evaluate(arrays), [50.0, 10 * np.cosh(1.0)])


def test_mapping_derives_energies_and_weight() -> None:
    mapping = JetMapping(jets={"pt_reco": "p", "eta": "e", "m_reco": "m"})
    sections = mapping.sections()
    assert isinstance(sections["jets"]["e_reco"], Energy)
    assert sections["jets"]["weight"].evaluate({}) == 1.0
    assert "e_true" not in mapping.columns()
    assert "e_reco" in NANOAOD.columns() and "e_true" in PHYSLITE.columns()


def test_with_columns_and_without() -> None:
    extended = NANOAOD.with_columns(
        jets={"qgl": "Jet_qgl"}, event={"rho_central": "fixedGridRhoFastjetCentral"}
    )
    assert extended.jets["qgl"] == Branch("Jet_qgl") and "rho_central" in extended.columns()
    assert "qgl" not in NANOAOD.columns()  # presets are never modified
    assert "flavour" not in NANOAOD.without("flavour").columns()
    with pytest.raises(DataError, match="'nope'"):
        NANOAOD.without("nope")


def test_mapping_validation() -> None:
    with pytest.raises(DataError, match="'jets' section is empty"):
        JetMapping(event={"mu": "mu"})
    with pytest.raises(DataError, match="column names must be non-empty strings"):
        JetMapping(jets={"": "a"})
    with pytest.raises(DataError, match="must be an IndexMatch or a DeltaRMatch"):
        JetMapping(jets={"a": "a"}, match="index")  # type: ignore[arg-type]
