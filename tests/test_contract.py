"""The table contract, checked on every public estimator of skcal.

Each estimator is fitted on an in-memory jet table and then given the same jets as a
Dask DataFrame: lazy Dask output equal to the in-memory one (with
``set_output(transform="pandas")`` for transformers), empty partitions, the fitted
checks and the feature names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from sklearn.utils.validation import check_is_fitted

from skcal._validation import is_dask
from skcal.datasets import make_jets
from skcal.exceptions import NotFittedError
from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
from skcal.neural import (
    BayesianMDNCalibrator,
    EnergyMassCalibrator,
    EnsembleCalibrator,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
    Stage,
)
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

SMALL_R = ["e_reco", "pt_reco", "eta", "mu", "npv", "rho", "area", "charged_frac"]
NET = dict(max_epochs=1, batch_size=256, random_state=0, module__hidden_sizes=(8,))
EM_NET = dict(module__core_sizes=(8,), module__branch_sizes=(6, 6), module__residual_sizes=(4,))

#: (estimator factory, input columns, y: "energy", "energy_mass" or None)
CASES: dict[str, tuple[Callable[[], Any], list[str], str | None]] = {
    "EtaAnnotation": (EtaAnnotation, ["e_reco", "eta"], None),
    "LogTransformer": (lambda: LogTransformer(columns=["e_reco"]), ["e_reco", "eta"], None),
    "SymmetricScaler": (SymmetricScaler, ["e_reco", "eta"], None),
    "PileupOffset": (lambda: PileupOffset(abs_eta_bins=[0, 2.5, 4.5]), SMALL_R, "energy"),
    "NumericalInversion": (
        lambda: NumericalInversion(condition={"abs_eta": [0, 2.5, 4.5]}),
        SMALL_R,
        "energy",
    ),
    "GlobalSequentialCalibration": (
        lambda: GlobalSequentialCalibration(["charged_frac"], abs_eta_bins=[0, 2.5, 4.5]),
        SMALL_R,
        "energy",
    ),
    "GDNCalibrator": (lambda: GDNCalibrator(**NET), ["e_reco", "eta"], "energy"),
    "MDNCalibrator": (
        lambda: MDNCalibrator(n_components=2, **NET),
        ["e_reco", "eta"],
        "energy",
    ),
    "PointCalibrator": (lambda: PointCalibrator(**NET), ["e_reco", "eta"], "energy"),
    "BayesianMDNCalibrator": (
        lambda: BayesianMDNCalibrator(n_components=2, n_samples=3, **NET),
        ["e_reco", "eta"],
        "energy",
    ),
    # the inputs are unscaled (e_reco up to TeV): about one initial network in three
    # starts with an infinite loss there; random_state=2 draws two member seeds that do not
    "EnsembleCalibrator": (
        lambda: EnsembleCalibrator(GDNCalibrator(**NET), n_members=2, random_state=2),
        ["e_reco", "eta"],
        "energy",
    ),
    "EnergyMassCalibrator": (
        lambda: EnergyMassCalibrator(
            schedule=[Stage(epochs=1, batch_size=256, lr=1e-3, optimizer="adam")],
            random_state=0,
            **EM_NET,
        ),
        ["e_reco", "eta", "m_reco"],
        "energy_mass",
    ),
}


@pytest.fixture(scope="module")
def jets() -> pd.DataFrame:
    small = make_jets(6_000, random_state=0)
    return small[small["m_reco"] > 0].reset_index(drop=True)


def _target(jets: pd.DataFrame, kind: str | None) -> Any:
    energy = (jets["e_reco"] / jets["e_true"]).to_numpy()
    if kind == "energy_mass":
        return np.column_stack([energy, (jets["m_reco"] / jets["m_true"]).to_numpy()])
    return energy if kind else None


def _with_empty_partition(table: pd.DataFrame) -> Any:
    """The table as a Dask DataFrame of three partitions, the middle one empty."""
    half = len(table) // 2
    parts = [table.iloc[:half], table.iloc[half:half], table.iloc[half:]]
    return dd.from_map(lambda part: part, parts, meta=table.iloc[:0], enforce_metadata=False)


def _values(out: Any) -> np.ndarray:
    return np.asarray(out.to_numpy() if hasattr(out, "to_numpy") else out, dtype=np.float64)


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request: pytest.FixtureRequest, jets: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    factory, columns, kind = CASES[request.param]
    X = jets[columns]
    return factory().fit(X, _target(jets, kind)), X


@pytest.mark.parametrize("name", sorted(CASES))
def test_unfitted_estimator_refuses_to_work(name: str, jets: pd.DataFrame) -> None:
    factory, columns, _ = CASES[name]
    est = factory()
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(est)
    method = est.transform if hasattr(est, "transform") else est.predict
    with pytest.raises(NotFittedError, match="not fitted"):
        method(jets[columns])
    if hasattr(est, "get_feature_names_out"):
        with pytest.raises(NotFittedError):
            est.get_feature_names_out()


def test_feature_names_are_recorded(fitted: tuple[Any, pd.DataFrame]) -> None:
    est, X = fitted
    check_is_fitted(est)
    assert list(est.feature_names_in_) == list(X.columns)
    assert est.n_features_in_ == X.shape[1]
    if hasattr(est, "get_feature_names_out"):
        names = est.get_feature_names_out()
        assert names.dtype == object and all(isinstance(n, str) for n in names)
        assert list(est.get_feature_names_out(list(X.columns))) == list(names)


def test_pandas_output_with_dask_input_stays_lazy(fitted: tuple[Any, pd.DataFrame]) -> None:
    est, X = fitted
    if not hasattr(est, "transform"):
        pytest.skip(f"{type(est).__name__} has no transform")
    est.set_output(transform="pandas")
    try:
        expected = est.transform(X)
        out = est.transform(dd.from_pandas(X, npartitions=3))
    finally:
        est.set_output(transform="default")
    assert isinstance(expected, pd.DataFrame)
    assert is_dask(out) and isinstance(out, dd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    computed = out.compute()
    assert list(computed.columns) == list(expected.columns)
    np.testing.assert_allclose(_values(computed), _values(expected), rtol=1e-6)


def test_dask_prediction_equals_in_memory(fitted: tuple[Any, pd.DataFrame]) -> None:
    est, X = fitted
    if not hasattr(est, "predict"):
        pytest.skip(f"{type(est).__name__} has no predict")
    expected = _values(est.predict(X))
    out = est.predict(dd.from_pandas(X, npartitions=3))
    assert is_dask(out)
    np.testing.assert_allclose(_values(out.compute()), expected, rtol=1e-5)


def test_empty_partitions_give_empty_output(fitted: tuple[Any, pd.DataFrame]) -> None:
    est, X = fitted
    Xd = _with_empty_partition(X)
    assert (Xd.map_partitions(len).compute() == 0).any()
    for method in ("transform", "predict"):
        if not hasattr(est, method):
            continue
        expected = _values(getattr(est, method)(X))
        out = getattr(est, method)(Xd)
        assert is_dask(out)
        np.testing.assert_allclose(_values(out.compute()), expected, rtol=1e-5)
