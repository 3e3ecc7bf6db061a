"""EtaAnnotation: values, names, column selection, parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing import ETA_CENTRES, ETA_WIDTHS, EtaAnnotation

DEFAULT_NAMES = [
    "eta_annot_abs0p0",
    "eta_annot_abs0p5",
    "eta_annot_abs0p9",
    "eta_annot_abs1p2",
    "eta_annot_abs1p45",
    "eta_annot_abs1p7",
    "eta_annot_abs2p1",
    "eta_annot_abs2p5",
    "eta_annot_abs3p2",
    "eta_annot_abs3p8",
    "eta_annot_abs4p5",
]


def gaussian(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-((x - centre) ** 2) / (2.0 * width**2))


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({"pt_reco": [50.0, 80.0, 120.0, 30.0], "eta": [-1.45, 0.0, 3.2, 2.05]})


def test_values_and_names(table):
    annot = EtaAnnotation().set_output(transform="pandas")
    out = annot.fit_transform(table)
    assert out.columns.tolist() == ["pt_reco", "eta", *DEFAULT_NAMES]
    pd.testing.assert_frame_equal(out[["pt_reco", "eta"]], table)  # raw eta kept
    abs_eta = np.abs(table["eta"].to_numpy())
    for name, centre, width in zip(DEFAULT_NAMES, ETA_CENTRES, ETA_WIDTHS):
        expected = gaussian(abs_eta, centre, width)
        np.testing.assert_allclose(out[name].to_numpy(), expected, rtol=1e-12)
    assert out.loc[0, "eta_annot_abs1p45"] == pytest.approx(1.0)  # in the crack
    assert out.loc[2, "eta_annot_abs3p2"] == pytest.approx(1.0)  # at the forward transition
    assert out.loc[1, "eta_annot_abs3p2"] < 1e-50


def test_twelve_representations_by_default(table):
    assert len(ETA_CENTRES) == len(ETA_WIDTHS) == 11
    out = EtaAnnotation().fit_transform(table)
    assert out.shape == (4, 2 + 11)


def test_default_centres_cover_the_detector():
    # Every region and transition of docs/design.md section 2 has a Gaussian on it...
    for landmark in (0.0, 1.45, 2.5, 3.2, 4.5):
        assert np.min(np.abs(np.asarray(ETA_CENTRES) - landmark)) < 0.06
    # ...the transitions get narrower Gaussians than the central barrel...
    widths = dict(zip(ETA_CENTRES, ETA_WIDTHS))
    assert widths[1.45] < widths[0.0] and widths[2.5] < widths[0.0]
    # ...and no |eta| < 4.5 is far from all of them.
    eta = np.linspace(0.0, 4.5, 901)[:, None]
    out = EtaAnnotation(column=0).fit_transform(eta)
    assert out[:, 1:].max(axis=1).min() > 0.2


def test_symmetric_and_signed():
    eta = np.array([[1.0], [-1.0]])
    sym = EtaAnnotation(column=0).fit_transform(eta)
    np.testing.assert_array_equal(sym[0, 1:], sym[1, 1:])

    signed = EtaAnnotation(column=0, symmetric=False).fit(eta)
    assert len(signed.centres_) == 21  # the 11 defaults mirrored, 0 once
    np.testing.assert_array_equal(signed.centres_, -signed.centres_[::-1])
    names = signed.get_feature_names_out().tolist()
    assert names[1] == "x0_annot_m4p5" and "x0_annot_0p0" in names and names[-1] == "x0_annot_4p5"
    out = signed.transform(eta)
    np.testing.assert_array_equal(out[0, 1:], out[1, 1:][::-1])  # mirror images
    assert not np.allclose(out[0, 1:], out[1, 1:])


def test_custom_centres_and_scalar_width():
    annot = EtaAnnotation(column=0, centres=[-2.0, 2.0], widths=0.5, symmetric=False)
    out = annot.fit_transform(np.array([[2.0]]))
    np.testing.assert_allclose(out, [[2.0, gaussian(2.0, -2.0, 0.5), 1.0]])
    assert annot.get_feature_names_out(["eta_det"]).tolist() == [
        "eta_det",
        "eta_det_annot_m2p0",
        "eta_det_annot_2p0",
    ]


def test_column_by_name_and_position(table):
    by_name = EtaAnnotation(column="eta").fit_transform(table)
    by_position = EtaAnnotation(column=1).fit_transform(table.to_numpy())
    by_negative = EtaAnnotation(column=-1).fit_transform(table)
    np.testing.assert_array_equal(by_name, by_position)
    np.testing.assert_array_equal(by_name, by_negative)
    # Array input: the annotation is named after x1.
    names = EtaAnnotation(column=1).fit(table.to_numpy()).get_feature_names_out()
    assert names[2] == "x1_annot_abs0p0"


def test_float32_is_kept(table):
    out = EtaAnnotation().fit_transform(table.astype(np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("params", "X", "match"),
    [
        ({}, np.zeros((2, 2)), "'eta' is a name, but the input has no column names"),
        ({"column": "Eta"}, None, r"unknown column 'Eta' \(did you mean 'eta'\?\)"),
        ({"column": 5}, None, "out of range"),
        ({"column": ["eta"]}, None, "'column' parameter of EtaAnnotation"),
        ({"centres": [0.0, 1.0]}, None, "one width per centre"),
        ({"centres": [0.0, 1.0], "widths": [0.1]}, None, "1 widths for 2 centres"),
        ({"centres": [0.0, 1.0], "widths": [0.1, 0.0]}, None, "must be positive"),
        ({"centres": [-1.0, 1.0], "widths": 0.1}, None, r"negative centres \[-1.0\]"),
        ({"centres": [1.0, 1.0], "widths": 0.1}, None, "each centre must appear once"),
        ({"centres": [np.nan], "widths": 0.1}, None, "finite"),
        ({"symmetric": "no"}, None, "symmetric"),
    ],
)
def test_bad_parameters_are_refused(table, params, X, match):
    # a column missing from the table is bad data; anything else, a bad parameter
    error = DataError if isinstance(params.get("column", "eta"), str | int) else ParameterError
    error = error if set(params) <= {"column"} else ParameterError
    with pytest.raises(error, match=match):
        EtaAnnotation(**params).fit(table if X is None else X)


def test_annotating_twice_is_refused(table):
    once = EtaAnnotation().set_output(transform="pandas").fit_transform(table)
    with pytest.raises(DataError, match="applied twice"):
        EtaAnnotation().fit(once)
