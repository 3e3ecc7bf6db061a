"""The deep ensemble: its combination, its widths, Dask input, parallel fits, guarantees."""

from __future__ import annotations

import pickle

import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skcal._validation import is_dask
from skcal.exceptions import DataError, ParameterError
from skcal.neural import (
    EnergyMassCalibrator,
    EnsembleCalibrator,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
)
from skcal.neural._ensemble_fit import bootstrap_weights

SMALL = dict(max_epochs=2, batch_size=256, module__hidden_sizes=(8,))


def _gdn() -> GDNCalibrator:
    return GDNCalibrator(**SMALL)


@pytest.fixture(scope="module")
def jets() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(1500, 3)), columns=["a", "b", "c"])
    y = np.exp(
        0.1 * X["a"].to_numpy() + (0.05 + 0.03 * np.abs(X["b"].to_numpy())) * rng.normal(size=1500)
    )
    return X, y


@pytest.fixture(scope="module")
def mdn_ensemble(jets):
    X, y = jets
    base = MDNCalibrator(n_components=2, training_space="log", **SMALL)
    return EnsembleCalibrator(base, n_members=3, random_state=0).fit(X, y)


def test_prediction_is_the_mode_of_the_averaged_density(mdn_ensemble, jets) -> None:
    X = jets[0].iloc[:20]
    grid = np.linspace(0.5, 1.6, 22001)[:, None] * np.ones((1, len(X)))
    mean_pdf = np.mean([m.predict_dist(X).pdf(grid) for m in mdn_ensemble.members_], axis=0)
    brute = grid[mean_pdf.argmax(axis=0), np.arange(len(X))]
    np.testing.assert_allclose(mdn_ensemble.predict(X), brute, atol=1e-4)
    np.testing.assert_allclose(mdn_ensemble.predict_dist(X).pdf(grid), mean_pdf, rtol=1e-9)


def test_the_widths_are_the_members_spread_and_mean_width(mdn_ensemble, jets) -> None:
    X = jets[0].iloc[:50]
    modes = np.stack([m.predict(X) for m in mdn_ensemble.members_])
    widths = np.stack([m.predict(X, return_std=True)[1] for m in mdn_ensemble.members_])
    u = mdn_ensemble.predict_uncertainty(X)
    assert list(u.columns) == ["sigma_stat", "sigma_syst", "sigma_tot"]
    assert list(u.index) == list(X.index)
    np.testing.assert_allclose(u["sigma_stat"], modes.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(u["sigma_syst"], widths.mean(axis=0), rtol=1e-12)
    assert (u["sigma_stat"] > 0).all()  # the seeds differ, so the members do
    mode, sigma = mdn_ensemble.predict(X, return_std=True)
    np.testing.assert_allclose(sigma, np.hypot(u["sigma_stat"], u["sigma_syst"]), rtol=1e-12)
    np.testing.assert_allclose(u["sigma_tot"], sigma, rtol=1e-12)
    np.testing.assert_array_equal(mode, mdn_ensemble.predict(X))


def test_seeds_make_the_ensemble_reproducible_and_bootstrap_changes_it(jets) -> None:
    X, y = jets
    one = EnsembleCalibrator(_gdn(), n_members=2, random_state=3).fit(X, y)
    two = EnsembleCalibrator(_gdn(), n_members=2, random_state=3).fit(X, y)
    boot = EnsembleCalibrator(_gdn(), n_members=2, random_state=3, bootstrap=True).fit(X, y)
    np.testing.assert_array_equal(one.predict(X), two.predict(X))
    np.testing.assert_array_equal(one.member_seeds_, boot.member_seeds_)
    assert not np.allclose(one.predict(X), boot.predict(X))
    assert one.member_seeds_[0, 0] != one.member_seeds_[1, 0]
    assert one.members_[0].random_state == one.member_seeds_[0, 0]


def test_bootstrap_weights_depend_on_the_seed_and_the_partition_only() -> None:
    X = np.random.default_rng(0).normal(size=(300, 2))
    w = bootstrap_weights(X, np.full(300, 2.0), seed=5)
    assert set(np.unique(w)) <= set(2.0 * np.arange(10)) and 1.6 < w.mean() < 2.4
    lazy = bootstrap_weights(da.from_array(X, chunks=100), None, seed=5).compute()
    swapped = np.concatenate([X[200:], X[100:200], X[:100]])
    reordered = bootstrap_weights(da.from_array(swapped, chunks=100), None, seed=5).compute()
    # a partition's weights follow its values, not its position
    np.testing.assert_array_equal(reordered[200:], lazy[:100])
    assert not np.array_equal(lazy[:100], lazy[100:200])


def test_dask_input_fits_and_predicts_like_memory(jets) -> None:
    X, y = jets
    Xd, yd = dd.from_pandas(X, npartitions=3), dd.from_pandas(pd.Series(y), npartitions=3)
    ens = EnsembleCalibrator(_gdn(), n_members=2, random_state=0, bootstrap=True).fit(Xd, yd)
    assert list(ens.feature_names_in_) == ["a", "b", "c"]
    mode, sigma = ens.predict(Xd, return_std=True)
    u = ens.predict_uncertainty(Xd)
    assert is_dask(mode) and is_dask(sigma) and is_dask(u)
    np.testing.assert_allclose(mode.compute(), ens.predict(X), rtol=1e-12)
    np.testing.assert_allclose(sigma.compute(), ens.predict(X, return_std=True)[1], rtol=1e-12)
    pd.testing.assert_frame_equal(u.compute(), ens.predict_uncertainty(X))


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.slow
def test_parallel_members_equal_the_sequential_fit(client, jets) -> None:
    X, y = jets
    w = np.random.default_rng(2).uniform(0.5, 1.5, len(y))
    kwargs = dict(n_members=3, random_state=7, bootstrap=True)
    sequential = EnsembleCalibrator(_gdn(), **kwargs).fit(X, y, sample_weight=w)
    with distributed.get_task_stream(client) as stream:
        parallel = EnsembleCalibrator(_gdn(), client=client, **kwargs).fit(X, y, sample_weight=w)
    fits = [t for t in stream.data if "fit_member" in str(t["key"])]
    assert len(fits) == 3 and len({t["worker"] for t in fits}) == 2  # one member per worker
    np.testing.assert_array_equal(parallel.predict(X), sequential.predict(X))
    pd.testing.assert_frame_equal(
        parallel.predict_uncertainty(X), sequential.predict_uncertainty(X)
    )
    Xd, yd = dd.from_pandas(X, npartitions=4), dd.from_pandas(pd.Series(y), npartitions=4)
    lazy = EnsembleCalibrator(_gdn(), client=client, n_members=2, random_state=1).fit(Xd, yd)
    local = EnsembleCalibrator(_gdn(), n_members=2, random_state=1).fit(Xd, yd)
    np.testing.assert_array_equal(lazy.predict(X), local.predict(X))
    # per partition: batches of other sizes, float32 rounding apart
    np.testing.assert_allclose(lazy.predict(Xd).compute(), local.predict(X), rtol=1e-6)


def test_the_client_is_shared_by_clones_and_never_pickled(client, jets) -> None:
    ens = EnsembleCalibrator(_gdn(), n_members=2, client=client)
    assert clone(ens).client is client
    assert clone(ens).base is not ens.base
    assert pickle.loads(pickle.dumps(ens)).client is None


def test_point_members_give_their_spread_and_no_density(jets) -> None:
    X, y = jets
    ens = EnsembleCalibrator(PointCalibrator(**SMALL), n_members=3, random_state=0).fit(X, y)
    preds = np.stack([m.predict(X) for m in ens.members_])
    np.testing.assert_allclose(ens.predict(X), preds.mean(axis=0), rtol=1e-12)
    u = ens.predict_uncertainty(X)
    assert (u["sigma_syst"] == 0).all() and (u["sigma_stat"] > 0).all()
    with pytest.raises(ParameterError, match="no density"):
        ens.predict_dist(X)


def test_responses_stay_bounded_and_positive(mdn_ensemble, jets) -> None:
    X = jets[0]
    mode, sigma = mdn_ensemble.predict(X, return_std=True)
    low, high = mdn_ensemble.response_range_[:, 0]
    assert (mode >= low).all() and (mode <= high).all() and (mode > 0).all()
    assert np.isfinite(sigma).all() and (sigma > 0).all()
    assert mdn_ensemble.sample(X.iloc[:5], 20, random_state=0).min() > 0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(n_members=1), "n_members"),
        (dict(base=EnergyMassCalibrator()), "base"),
        (dict(client="localhost:8786"), "client"),
    ],
)
def test_bad_parameters_are_refused(params, match, jets) -> None:
    ens = EnsembleCalibrator(_gdn()).set_params(**params)
    with pytest.raises(ParameterError, match=match):
        ens.fit(*jets)


def test_single_networks_report_zero_sigma_stat(jets) -> None:
    X, y = jets
    gdn = GDNCalibrator(random_state=0, **SMALL).fit(X, y)
    u = gdn.predict_uncertainty(X)
    assert (u["sigma_stat"] == 0).all()
    np.testing.assert_allclose(u["sigma_syst"], gdn.predict(X, return_std=True)[1], rtol=1e-12)
    np.testing.assert_array_equal(u["sigma_tot"], u["sigma_syst"])
    lazy = gdn.predict_uncertainty(da.from_array(X.to_numpy(), chunks=500))
    np.testing.assert_allclose(lazy.compute(), u.to_numpy(), rtol=1e-12)


def test_the_energy_mass_network_gives_both_targets_widths() -> None:
    from skcal.neural import Stage

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-2, 2, 600), rng.normal(size=600)])
    y = np.column_stack([1 + 0.05 * rng.normal(size=600), 1.1 + 0.1 * rng.normal(size=600)])
    cal = EnergyMassCalibrator(
        schedule=[Stage(epochs=1, batch_size=100, lr=1e-3)],
        eta_column=0,
        random_state=0,
        module__core_sizes=(8,),
        module__branch_sizes=(8,),
        module__residual_sizes=(4,),
    ).fit(X, y)
    u = cal.predict_uncertainty(X[:10])
    assert list(u.columns) == [
        f"sigma_{k}_{t}" for t in ("e", "m") for k in ("stat", "syst", "tot")
    ]
    std = cal.predict(X[:10], return_std=True)[1]
    np.testing.assert_allclose(u[["sigma_syst_e", "sigma_syst_m"]].to_numpy(), std, rtol=1e-12)
    assert (u[["sigma_stat_e", "sigma_stat_m"]].to_numpy() == 0).all()


def test_sigma_scaling_brings_the_validation_pull_width_to_one(jets) -> None:
    X, y = jets
    fit, val = slice(0, 1000), slice(1000, None)
    kwargs = dict(n_members=2, random_state=4)
    plain = EnsembleCalibrator(_gdn(), **kwargs).fit(X.iloc[fit], y[fit])
    scaled = EnsembleCalibrator(_gdn(), sigma_scaling=True, **kwargs).fit(
        X.iloc[fit], y[fit], X_val=X.iloc[val], y_val=y[val]
    )
    assert plain.sigma_scale_ == 1.0 and scaled.sigma_scale_ != 1.0
    mode, sigma = scaled.predict(X.iloc[val], return_std=True)
    q16, q84 = np.quantile((mode - y[val]) / sigma, [0.16, 0.84])
    assert abs(0.5 * (q84 - q16) - 1.0) < 1e-3
    u, u_plain = scaled.predict_uncertainty(X.iloc[:50]), plain.predict_uncertainty(X.iloc[:50])
    # the members saw X_val as validation jets only: the same members, widths scaled
    np.testing.assert_allclose(u, u_plain * scaled.sigma_scale_, rtol=1e-9)
    with pytest.raises(DataError, match="X_val"):
        EnsembleCalibrator(_gdn(), sigma_scaling=True, **kwargs).fit(X, y)
