"""What every transformer shares: Dask in and out, pipelines, set_output, bad input."""

from __future__ import annotations

import pickle
import threading

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from skcal.exceptions import DataError
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

TRANSFORMERS = {
    "eta": lambda: EtaAnnotation(),
    "log": lambda: LogTransformer(columns=["e_reco", "pt_reco", "m_reco"]),
    "scaler": lambda: SymmetricScaler(),
}


#: The same transformers for arrays without column names.
ON_ARRAYS = {
    "eta": lambda: EtaAnnotation(column=2),
    "log": lambda: LogTransformer(columns=[0, 1, 3]),
    "scaler": lambda: SymmetricScaler(),
}


def pipeline():
    # pandas output between the steps: EtaAnnotation finds "eta" by name.
    return make_pipeline(
        LogTransformer(columns=["e_reco", "m_reco"]), EtaAnnotation(), SymmetricScaler(clip=True)
    ).set_output(transform="pandas")


def forbid_compute(*args, **kwargs):
    raise AssertionError("computed Dask data where nothing should be computed")


@pytest.mark.parametrize("name", TRANSFORMERS)
@pytest.mark.parametrize("kind", ["dataframe", "array"])
def test_dask_in_dask_out_and_same_numbers(features, name, kind):
    expected = TRANSFORMERS[name]().set_output(transform="pandas").fit_transform(features)
    if kind == "dataframe":
        X = dd.from_pandas(features, npartitions=1)  # one partition: the fit is exact
        transformer = TRANSFORMERS[name]().fit(X)
    else:
        X = da.from_array(features.to_numpy(), chunks=(len(features), 2))
        transformer = ON_ARRAYS[name]().fit(X)
    with dask.config.set(scheduler=forbid_compute):
        out = transformer.transform(X)
    assert isinstance(out, dd.DataFrame if kind == "dataframe" else da.Array)
    result = out.compute()
    if kind == "dataframe":
        assert result.index.equals(features.index)
        assert result.columns.tolist() == expected.columns.tolist()
    np.testing.assert_allclose(np.asarray(result), expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_dask_pipeline_matches_in_memory_to_tolerance(many_features):
    features = many_features
    expected = pipeline().fit(features).transform(features).to_numpy()
    X = dd.from_pandas(features, npartitions=4)
    # fit_transform must stay lazy: scikit-learn's inherited one would compute X to pandas.
    fitted = pipeline().fit(X)
    with dask.config.set(scheduler=forbid_compute):
        lazy = fitted.transform(X)
    assert isinstance(lazy, dd.DataFrame)
    assert isinstance(pipeline().fit_transform(X), dd.DataFrame)
    result = lazy.compute().to_numpy()
    # Four partitions: the scaler's quantiles are approximate (rank error below 0.06%).
    assert np.abs(result - expected).max() < 0.05
    assert np.median(np.abs(result - expected)) < 0.01


def test_dask_array_with_pandas_output_gives_a_dask_dataframe(features):
    X = da.from_array(features.to_numpy(), chunks=(500, 5))
    out = EtaAnnotation(column=2).set_output(transform="pandas").fit(X).transform(X)
    assert isinstance(out, dd.DataFrame)
    assert out.columns.tolist()[:6] == ["x0", "x1", "x2", "x3", "x4", "x2_annot_abs0p0"]
    assert len(out.compute()) == len(features)


def test_fitting_on_dask_reads_each_chunk_once(features):
    loads = []
    lock = threading.Lock()

    def load(i):
        with lock:
            loads.append(i)
        return features.to_numpy()[i * 500 : (i + 1) * 500]

    blocks = [da.from_delayed(dask.delayed(load)(i), shape=(500, 5), dtype=float) for i in range(4)]
    X = da.concatenate(blocks)
    EtaAnnotation(column=2).fit(X)
    LogTransformer(columns=[0]).fit(X)
    assert loads == []  # stateless transformers read nothing to fit
    scaler = SymmetricScaler().fit(X)
    assert sorted(loads) == [0, 1, 2, 3]  # one pass
    assert scaler.n_samples_seen_ == len(features)


def test_lazy_output_is_frozen_at_transform_time(features):
    X = dd.from_pandas(features, npartitions=2)
    scaler = SymmetricScaler(quantile_range=(0.0, 100.0)).fit(features)
    lazy = scaler.transform(X)
    scaler.fit(features * 10.0)  # re-fitting must not change the graph already built
    np.testing.assert_allclose(lazy.compute().min(axis=0), -1.0, atol=1e-12)


def test_pipeline_pickles_and_clones(features):
    pipe = pipeline().fit(features)
    restored = pickle.loads(pickle.dumps(pipe))
    pd.testing.assert_frame_equal(restored.transform(features), pipe.transform(features))
    out = pipe.transform(features)
    assert out.columns.tolist()[:5] == ["log_e_reco", "pt_reco", "eta", "log_m_reco", "n_trk"]
    assert out.shape[1] == 5 + 11
    assert list(pipe.get_feature_names_out()) == out.columns.tolist()
    assert ((out >= -1.0) & (out <= 1.0)).all().all()

    fresh = clone(pipe)
    assert fresh.get_params()["logtransformer__columns"] == ["e_reco", "m_reco"]
    with pytest.raises(NotFittedError):
        fresh.transform(features)
    fresh.set_params(symmetricscaler__quantile_range=(0.0, 100.0)).fit(features)
    assert fresh[-1].quantile_range == (0.0, 100.0)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_pandas_output_keeps_the_index(features, name):
    features = features.set_index(features.index * 2 + 1)
    out = TRANSFORMERS[name]().set_output(transform="pandas").fit_transform(features)
    assert out.index.equals(features.index)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_not_fitted(features, name):
    with pytest.raises(NotFittedError):
        TRANSFORMERS[name]().transform(features)
    # A failed re-fit leaves the transformer unfitted, not half fitted.
    transformer = TRANSFORMERS[name]().fit(features)
    with pytest.raises(DataError):
        transformer.fit(features.assign(eta=np.nan))
    with pytest.raises(NotFittedError):
        transformer.transform(features)


@pytest.mark.parametrize("name", TRANSFORMERS)
@pytest.mark.parametrize("stage", ["fit", "transform"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_name_the_column(features, name, stage, bad):
    broken = features.copy()
    broken.loc[[5, 11], "eta"] = bad
    transformer = TRANSFORMERS[name]()
    if stage == "transform":
        transformer.fit(features)
    match = r"non-finite values: column 'eta' has 2 (NaN|inf) \(first at index 5\)"
    with pytest.raises(DataError, match=match):
        transformer.fit(broken) if stage == "fit" else transformer.transform(broken)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_non_finite_dask_values_fail_when_computed(features, name):
    broken = features.copy()
    broken.loc[1501, "pt_reco"] = np.nan
    out = TRANSFORMERS[name]().fit(features).transform(dd.from_pandas(broken, npartitions=3))
    with pytest.raises(DataError, match=r"column 'pt_reco' has 1 NaN \(first at index 1501\)"):
        out.compute()  # lazy: the error comes when the chunk is computed
    array = da.from_array(broken.to_numpy(), chunks=(400, 5))
    out = ON_ARRAYS[name]().fit(features.to_numpy()).transform(array)
    with pytest.raises(DataError, match=r"column 'x1' has 1 NaN \(first at row 1501\)"):
        out.compute()


def test_non_finite_dask_values_fail_the_scaler_fit(features):
    broken = features.to_numpy().copy()
    broken[1501, 1] = np.inf
    match = r"X \(chunk 3\) has non-finite values: column 'x1' has 1 inf"
    with pytest.raises(DataError, match=match):
        SymmetricScaler().fit(da.from_array(broken, chunks=(400, 5)))


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_other_columns_than_at_fit_are_refused(features, name):
    transformer = TRANSFORMERS[name]().fit(features)
    renamed = features.rename(columns={"n_trk": "n_tracks"})
    with pytest.raises(DataError, match=r"Feature names unseen at fit time:\n- n_tracks"):
        transformer.transform(renamed)
    with pytest.raises(DataError, match="Feature names must be in the same order"):
        transformer.transform(features[features.columns[::-1]])
    with (
        pytest.raises(DataError, match="X has 4 features, but .* is expecting 5 features"),
        pytest.warns(UserWarning, match="X does not have valid feature names"),
    ):
        transformer.transform(features.to_numpy()[:, :4])
    with pytest.raises(DataError, match=r"Feature names unseen at fit time:\n- n_tracks"):
        transformer.transform(dd.from_pandas(renamed, npartitions=2))


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_empty_input_is_refused(features, name):
    with pytest.raises(DataError, match="0 sample"):
        TRANSFORMERS[name]().fit(features.iloc[:0])
    fitted = TRANSFORMERS[name]().fit(features)
    with pytest.raises(DataError, match="0 sample"):
        fitted.transform(features.iloc[:0])


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_one_dimensional_input_is_refused(features, name):
    with pytest.raises(DataError, match="Expected 2D array"):
        TRANSFORMERS[name]().fit(features["eta"].to_numpy())


def test_errors_are_value_errors():
    assert issubclass(DataError, ValueError)
