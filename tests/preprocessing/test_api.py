"""The public API of skcal.preprocessing, its doctests and the shared validation helpers."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import skcal.preprocessing
from skcal._validation import check_finite, check_input_features, resolve_columns
from skcal.exceptions import DataError

MODULES = [
    "skcal._validation",
    "skcal.preprocessing",
    "skcal.preprocessing._eta",
    "skcal.preprocessing._log",
    "skcal.preprocessing._quantiles",
    "skcal.preprocessing._scaling",
    "skcal.preprocessing._weights",
]


def test_public_api():
    assert sorted(skcal.preprocessing.__all__) == [
        "ETA_CENTRES",
        "ETA_WIDTHS",
        "EtaAnnotation",
        "LogTransformer",
        "SymmetricScaler",
        "flat_prior_weights",
        "reweight_to_spectrum",
    ]
    for name in skcal.preprocessing.__all__:
        assert getattr(skcal.preprocessing, name) is not None


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_every_public_object_has_an_example():
    for name in skcal.preprocessing.__all__:
        obj = getattr(skcal.preprocessing, name)
        if callable(obj):
            assert "Examples\n    --------" in obj.__doc__, name


def test_resolve_columns_refusals():
    names = ["e_reco", "eta"]
    assert resolve_columns(-1, names, 2) == [1]
    with pytest.raises(DataError, match="selected twice"):
        resolve_columns(["eta", 1], names, 2)
    with pytest.raises(DataError, match="name or position"):
        resolve_columns([1.5], names, 2)
    with pytest.raises(DataError, match="out of range: X has 2 feature"):
        resolve_columns(-3, names, 2)


def test_check_finite_lists_a_few_columns_then_counts():
    values = np.full((2, 8), np.nan)
    match = r"column 'c4' has 2 NaN \(first at row 0\), and 3 more columns$"
    with pytest.raises(DataError, match=match):
        check_finite(values, [f"c{i}" for i in range(8)])
    check_finite(np.array([[1, 2]]), ["a", "b"])  # integers are finite


def test_check_input_features():
    class Fitted:
        n_features_in_ = 2
        feature_names_in_ = np.array(["e_reco", "eta"], dtype=object)

    assert check_input_features(Fitted(), None).tolist() == ["e_reco", "eta"]
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        check_input_features(Fitted(), ["eta", "e_reco"])
