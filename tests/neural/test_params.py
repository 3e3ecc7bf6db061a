"""Declarative parameter checks, the deprecated spellings of the training space, the contract."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from torch.distributions import Normal

import skcal._params
from skcal.exceptions import NotFittedError, ParameterError
from skcal.neural import (
    DensityPrediction,
    EnergyMassCalibrator,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
    Stage,
)

KW = dict(max_epochs=1, batch_size=256, random_state=0, module__hidden_sizes=(8,))


@pytest.mark.parametrize(
    "est, param",
    [
        (MDNCalibrator(n_components=0, **KW), "n_components"),
        (GDNCalibrator(asymmetric="yes", **KW), "asymmetric"),
        (GDNCalibrator(mode_space="mean", **KW), "mode_space"),
        (GDNCalibrator(truncation=0.0, **KW), "truncation"),
        (GDNCalibrator(min_scale=-1.0, **KW), "min_scale"),
        (GDNCalibrator(buffer_partitions=0, **KW), "buffer_partitions"),
        (GDNCalibrator(lr=0.0, **KW), "lr"),
        (PointCalibrator(max_epochs=-1), "max_epochs"),
        (PointCalibrator(batch_size=0), "batch_size"),
        (PointCalibrator(random_state="seed"), "random_state"),
    ],
)
def test_bad_parameters_raise_parameter_error(toy, est, param):
    X, y = toy
    with pytest.raises(ParameterError, match=f"'{param}' parameter"):
        est.fit(X[:300], y[:300])
    with pytest.raises(ParameterError, match=f"'{param}' parameter"):
        clone(est).partial_fit(X[:300], y[:300])


def test_constraints_are_checked_once_per_fit(toy, monkeypatch):
    """skorch's own _validate_params calls (initialize, set_params) check only the routed
    names inside fit; the declarative constraints run once per fit or partial_fit."""
    X, y = toy
    calls: list[str] = []
    check = skcal._params.check_params

    def counting(constraints, params, caller):
        calls.append(caller)
        check(constraints, params, caller)

    monkeypatch.setattr(skcal._params, "check_params", counting)
    est = MDNCalibrator(n_components=2, **KW)
    est.fit(X[:300], y[:300])
    assert calls == ["MDNCalibrator"]
    est.partial_fit(X[:300], y[:300])
    est.partial_fit(X[:300], y[:300])
    assert calls == ["MDNCalibrator"] * 3
    calls.clear()
    clone(est).partial_fit(X[:300], y[:300])  # the first partial_fit initialises
    assert calls == ["MDNCalibrator"]
    calls.clear()
    em = EnergyMassCalibrator(
        schedule=[Stage(1, 128, 1e-3), Stage(1, 256, 1e-3)],
        eta_column=0,
        random_state=0,
        module__core_sizes=(8,),
        module__branch_sizes=(6, 6),
        module__residual_sizes=(4,),
    )
    em.fit(X[:300], np.column_stack([y[:300], y[:300]]))
    assert calls.count("EnergyMassCalibrator") == 1  # (and its SymmetricScaler's own)
    # outside fit (a configuration's check of its steps), the hook checks them all
    with pytest.raises(ParameterError, match="'lr' parameter"):
        GDNCalibrator(lr=0.0)._validate_params()
    with pytest.raises(ValueError, match="unexpected argument"):
        GDNCalibrator(modul__hidden_sizes=(8,))._validate_params()
    assert not est._params_checked and "_params_checked" not in vars(est)


def test_deprecated_target_and_mode_space_warn_and_map(toy):
    X, y = toy
    old = MDNCalibrator(n_components=2, target="log", mode_space="target", **KW)
    assert clone(old).get_params()["target"] == "log"
    with pytest.warns(FutureWarning, match="training_space='log'"):
        with pytest.warns(FutureWarning, match="mode_space='training'"):
            old.fit(X, y)
    assert (old.training_space_, old.mode_space_) == ("log", "training")
    new = MDNCalibrator(n_components=2, training_space="log", mode_space="training", **KW)
    np.testing.assert_array_equal(new.fit(X, y).predict(X[:20]), old.predict(X[:20]))
    with pytest.warns(FutureWarning, match="training_space"):
        PointCalibrator(target="log10", **KW).fit(X, y)


def test_density_prediction_target_is_deprecated():
    raw = torch.tensor([[0.0, 0.2]])
    build = lambda r: Normal(r[:, 0], r[:, 1])  # noqa: E731
    with pytest.warns(FutureWarning, match="training_space='log'"):
        old = DensityPrediction(raw, build, target="log")
    new = DensityPrediction(raw, build, training_space="log")
    np.testing.assert_array_equal(old.mode(), new.mode())
    with pytest.warns(FutureWarning, match="DensityPrediction.training_space"):
        assert new.target == "log"
    with pytest.raises(ParameterError, match="training_space"):
        DensityPrediction(raw, build, training_space="inverse")


def test_contract_fitted_check_and_no_predict_proba(toy):
    X, y = toy
    est = GDNCalibrator(**KW)
    assert not hasattr(est, "predict_proba") and not est.__sklearn_is_fitted__()
    with pytest.raises(NotFittedError):
        est.predict(X)
    est.fit(X, y)
    assert est.__sklearn_is_fitted__() and not hasattr(est, "predict_proba")


def test_dask_prediction_types_and_empty_partitions(toy):
    X, y = toy
    est = GDNCalibrator(**KW).fit(X, y)
    df = pd.DataFrame(X[:30], columns=["x0", "x1", "x2"])
    ddf = dd.from_pandas(df, npartitions=3)
    empty = ddf[ddf["x0"] > 100.0]  # every partition empty
    out = est.predict(empty)
    assert isinstance(out, dd.Series) and len(out.compute()) == 0
    mode, std = est.predict(ddf, return_std=True)
    np.testing.assert_allclose(mode.compute().to_numpy(), est.predict(df.to_numpy()), rtol=1e-6)
    assert isinstance(std, dd.Series) and (std.compute() > 0).all()
    arr = est.predict(da.from_array(X[:30], chunks=(10, 3)))
    assert isinstance(arr, da.Array) and arr.compute().shape == (30,)
    point = PointCalibrator(**KW).fit(X, y)
    assert len(point.predict(empty).compute()) == 0
