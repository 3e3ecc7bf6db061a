"""The stages on the table contract: output containers, Dask, names, fitted check, parameters."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_param_validation

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset

ETA = [0.0, 1.5, 3.0]
COARSE = {"min_entries": 20, "target_bins": np.geomspace(20, 3000, 9)}


def stages():
    return [
        # The toy has no pile-up in its jets: the fit scales some soft jets up.
        PileupOffset(abs_eta_bins=ETA, max_scale=5.0),
        NumericalInversion(condition={"abs_eta": ETA}, **COARSE),
        GlobalSequentialCalibration(
            ["f"],
            variable_bins={"f": [0, 0.5, 1]},
            abs_eta_bins=ETA,
            pt_bins=np.geomspace(20, 3000, 9),
            min_entries=20,
        ),
    ]


@pytest.fixture(scope="module")
def small(toy_maker, reco_columns):
    jets, y = toy_maker(30_000, seed=21)
    return jets[reco_columns], y


@pytest.mark.parametrize("stage", stages(), ids=lambda s: type(s).__name__)
def test_set_output_pandas_keeps_dask_lazy_and_equal(stage, small):
    X, y = small
    memory = clone(stage).fit(X, y).set_output(transform="pandas")
    frame = dd.from_pandas(X.assign(y=y), npartitions=3)
    lazy = clone(stage).set_output(transform="pandas").fit(frame[list(X.columns)], frame["y"])
    out = lazy.transform(frame[list(X.columns)])
    assert isinstance(out, dd.DataFrame)
    expected = memory.transform(X)
    assert list(out.columns) == list(expected.columns) == list(memory.get_feature_names_out())
    pd.testing.assert_frame_equal(out.compute(), expected, rtol=1e-9)
    # fit_transform too stays lazy (scikit-learn's own would build a pandas DataFrame).
    assert isinstance(clone(lazy).fit_transform(frame[list(X.columns)], frame["y"]), dd.DataFrame)


@pytest.mark.parametrize("stage", stages(), ids=lambda s: type(s).__name__)
def test_empty_dask_partitions(stage, small):
    X, y = small
    fitted = clone(stage).fit(X, y)
    X = X.sort_values("e_reco").reset_index(drop=True)
    cut = X["e_reco"].iloc[len(X) // 2]
    frame = dd.from_pandas(X, npartitions=4)
    frame = frame[frame["e_reco"] >= cut]  # the first two partitions are empty
    kept = X[X["e_reco"] >= cut]
    assert 0 in frame.map_partitions(len).compute().tolist()
    pd.testing.assert_frame_equal(fitted.transform(frame).compute(), fitted.transform(kept))
    if hasattr(fitted, "predict"):
        np.testing.assert_array_equal(fitted.predict(frame).compute(), fitted.predict(kept))


@pytest.mark.parametrize("stage", stages(), ids=lambda s: type(s).__name__)
def test_feature_names_and_not_fitted(stage, small):
    X, y = small
    for method in ("transform", "get_feature_names_out"):
        with pytest.raises(NotFittedError, match=type(stage).__name__):
            getattr(clone(stage), method)(*(X,) if method == "transform" else ())
    fitted = clone(stage).fit(X, y)
    assert list(fitted.get_feature_names_out()) == [*X.columns, "calib_scale"]
    assert list(fitted.get_feature_names_out(list(X.columns))) == [*X.columns, "calib_scale"]
    with pytest.raises(ValueError, match="input_features"):
        fitted.get_feature_names_out(list(X.columns)[::-1])
    # Fitted on an array: positions, and no scale column.
    names = clone(stage).set_params(scale_column=None)
    assert names.fit(X, y).get_feature_names_out().tolist() == list(X.columns)


def test_in_memory_set_output_and_other_columns(small):
    X, y = small
    table = X.assign(flavour=21, sample="toy")  # an int and a string column are accepted
    ni = NumericalInversion(condition={"abs_eta": ETA}, **COARSE).fit(table, y)
    out = ni.transform(table)
    assert out["sample"].iloc[0] == "toy" and out["flavour"].dtype == table["flavour"].dtype
    # Predict reads its columns from any jet table that has them.
    np.testing.assert_array_equal(ni.predict(table.drop(columns="sample")), ni.predict(table))
    ni.set_output(transform="pandas")
    pd.testing.assert_frame_equal(ni.transform(table), out)
    with pytest.raises(DataError, match="set_output"):
        ni.transform(table.drop(columns="sample"))
    with pytest.raises(DataError, match="Dask DataFrame"):
        ni.transform(dd.from_pandas(table, npartitions=2).to_dask_array(lengths=True))


def test_target_is_deprecated_for_quantity(small):
    X, y = small
    old = NumericalInversion(target="e_reco", condition={"abs_eta": ETA}, **COARSE)
    assert clone(old).get_params()["target"] == "e_reco"
    with pytest.warns(FutureWarning, match="quantity='e_reco'"):
        old.fit(X, y)
    new = NumericalInversion(quantity="e_reco", condition={"abs_eta": ETA}, **COARSE).fit(X, y)
    np.testing.assert_array_equal(old.predict(X), new.predict(X))
    with pytest.raises(ParameterError, match="give quantity only"):
        NumericalInversion("pt_reco", target="e_reco").fit(X, y)


def test_parameter_errors(small):
    X, y = small
    for bad, text in [
        ({"target_bins": [10, 5]}, "target_bins"),
        ({"target_bins": [0, 5]}, "positive"),
        ({"condition": {"abs_eta": [1]}}, "condition"),
        ({"fit_function": np.polyval}, "fit_p0"),
        ({"method": "mean"}, "method"),
    ]:
        with pytest.raises(ParameterError, match=text):
            NumericalInversion(**bad).fit(X, y)
    with pytest.raises(ParameterError, match="abs_eta_bins"):
        PileupOffset(abs_eta_bins=[1.0]).fit(X, y)
    with pytest.raises(ParameterError, match="variables"):
        GlobalSequentialCalibration([]).fit(X, y)


@pytest.mark.parametrize("stage", stages(), ids=lambda s: type(s).__name__)
def test_every_parameter_is_constrained(stage):
    check_param_validation(type(stage).__name__, stage)
