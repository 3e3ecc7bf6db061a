"""The energy-and-mass calibrator of large-R jets: network wiring, the staged training,
freezing, density API, save/load, Dask streaming, and bad input."""

from __future__ import annotations

import pickle

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.neural import EnergyMassCalibrator, EnergyMassNetwork, Stage
from skcal.preprocessing import EtaAnnotation

SMALL = dict(module__core_sizes=(16,), module__branch_sizes=(12, 12), module__residual_sizes=(8,))


@pytest.fixture(scope="module")
def jets():
    """A toy large-R table: the energy response depends on eta (a dip at the crack), the
    mass response on a substructure variable."""
    rng = np.random.default_rng(0)
    n = 1200
    eta = rng.uniform(-2, 2, n)
    d2 = rng.uniform(0, 3, n)
    X = pd.DataFrame({"log_e": rng.uniform(5, 8, n), "eta": eta, "d2": d2})
    r_e = (0.8 - 0.1 * np.exp(-0.5 * ((np.abs(eta) - 1.45) / 0.1) ** 2)) * (
        1 + 0.04 * rng.normal(size=n)
    )
    r_m = (0.9 + 0.1 * d2) * (1 + 0.08 * rng.normal(size=n))
    return X, np.column_stack([r_e, r_m])


def _two_stages(batch=(200, 300)):
    return [
        Stage(epochs=2, batch_size=batch[0], lr=3e-3, optimizer="adam"),
        Stage(
            epochs=2,
            batch_size=batch[1],
            lr=3e-3,
            loss={"energy": None, "mass": "gaussian"},
            truncation=2.0,
            optimizer="adam",
            frozen=("core", "energy"),
        ),
    ]


def _fit(X, y, sample_weight=None, **kw):
    kw.setdefault("schedule", _two_stages())
    return EnergyMassCalibrator(random_state=0, **SMALL, **kw).fit(
        X, y, sample_weight=sample_weight
    )


# --------------------------------------------------------------------- network
def test_fork_and_residual_shapes():
    torch.manual_seed(0)
    net = EnergyMassNetwork(
        5, eta_index=1, core_sizes=(16, 16), branch_sizes=(12, 10), residual_sizes=(7,)
    )
    x = torch.randn(9, 5)
    h0 = net.processed(x)
    assert h0.shape == (9, 5 + 11)
    core = net.core(h0)
    assert core.shape == (9, 16)
    assert net.energy(core).shape == net.mass(core).shape == (9, 10)
    weights = net.residual(h0)
    assert weights.shape == (
        9,
        10,
    )  # one multiplicative weight per unit of the mass branch's last layer
    assert torch.allclose(weights.sum(dim=1), torch.ones(9)) and bool((weights >= 0).all())
    out = net(x)
    assert out.shape == (9, 6)
    assert bool(((out[:, [0, 3]] > 0) & (out[:, [0, 3]] < 2)).all()) and bool(
        (out[:, [1, 2, 4, 5]] > 0).all()
    )
    assert EnergyMassNetwork(5, eta_index=None, core_sizes=(4,), branch_sizes=(4,)).processed(
        x
    ).shape == (9, 5)


def test_residual_connection_multiplies_the_mass_branch_only():
    torch.manual_seed(0)
    net = EnergyMassNetwork(3, eta_index=0, core_sizes=(8,), branch_sizes=(6,), residual_sizes=(5,))
    x = torch.randn(4, 3)
    before = net(x).detach()
    with torch.no_grad():
        net.residual[1].bias[0] += 5.0  # reweights the softmax
    after = net(x).detach()
    assert torch.equal(before[:, :3], after[:, :3])
    assert not torch.allclose(before[:, 3:], after[:, 3:])
    # the mass head sees the mass branch times the softmax weights
    h0 = net.processed(x)
    expected = net.mass_head(net.mass(net.core(h0)) * net.residual(h0))
    assert torch.allclose(torch.tanh(expected[:, 0]) + 1, after[:, 3])


def test_every_group_gets_gradients():
    net = EnergyMassNetwork(
        4, eta_index=2, core_sizes=(8,), branch_sizes=(6, 6), residual_sizes=(5,)
    )
    net(torch.randn(16, 4)).sum().backward()
    for group, params in net.parameter_groups().items():
        for name, p in params:
            assert p.grad is not None and bool(p.grad.abs().sum() > 0), f"{group}.{name}"
    all_params = {id(p) for p in net.parameters()}
    grouped = {id(p) for params in net.parameter_groups().values() for _, p in params}
    assert grouped == all_params


def test_builtin_annotation_equals_the_transformer():
    eta = np.linspace(-2.5, 2.5, 41)
    X = np.column_stack([np.ones_like(eta), eta])
    net = EnergyMassNetwork(2, eta_index=1, core_sizes=(4,), branch_sizes=(4,))
    inside = net.processed(torch.as_tensor(X, dtype=torch.float32))[:, 2:].numpy()
    outside = EtaAnnotation(column=1).fit_transform(X)[:, 2:]
    np.testing.assert_allclose(inside, outside, atol=1e-6)


# -------------------------------------------------------------------- training
def test_stages_run_in_order_with_their_batch_sizes(jets):
    X, y = jets
    stages = [
        Stage(1, 400, 1e-3, optimizer="adam"),
        Stage(2, 600, 1e-3, optimizer="radam"),
        Stage(
            1,
            1200,
            1e-4,
            optimizer="adam",
            loss={"energy": None, "mass": "asymmetric"},
            frozen=("core", "energy"),
        ),
    ]
    cal = _fit(X, y, schedule=stages)
    h = cal.history
    assert h[:, "stage"] == [0, 1, 1, 2]
    assert h[:, "stage_batch_size"] == [400, 600, 600, 1200]
    assert h[:, "stage_lr"] == [1e-3, 1e-3, 1e-3, 1e-4]
    assert [h[i, "batches", :, "train_batch_size"] for i in range(4)] == [
        [400] * 3,
        [600] * 2,
        [600] * 2,
        [1200],
    ]
    # the mass-only stage computes no energy loss
    assert (
        "train_loss_energy" not in h[-1, "batches", 0] and "train_loss_mass" in h[-1, "batches", 0]
    )
    assert "train_loss_energy" in h[0, "batches", 0]
    assert type(cal.optimizer_).__name__ == "Adam"  # the last stage's optimizer
    assert cal.loss_variants_ == {"energy": "asymmetric", "mass": "asymmetric"}


def test_epoch_and_batch_scales(jets):
    X, y = jets
    cal = _fit(
        X, y, schedule=[Stage(4, 100, 1e-3, optimizer="adam")], epoch_scale=0.5, batch_scale=4
    )
    assert cal.history[:, "stage_batch_size"] == [400, 400]


class _Snapshot(Callback):
    """Keeps the state of the network when the mass-only stage begins."""

    def on_epoch_begin(self, net, **kwargs):
        if net.history[-1, "stage"] == 1 and not hasattr(self, "state_"):
            self.state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


def test_mass_only_stage_freezes_energy_and_core(jets):
    X, y = jets
    snap = _Snapshot()
    cal = _fit(X, y, callbacks=[("snap", snap)])
    after = cal.module_.state_dict()
    groups = cal.module_.parameter_groups()
    for group in ("core", "energy"):
        for name, _ in groups[group]:
            key = next(
                k
                for k in after
                if k.endswith(name) and k.startswith({"core": "core", "energy": "energy"}[group])
            )
            assert torch.equal(snap.state_[key], after[key]), key
    changed = {
        group: any(
            not torch.equal(snap.state_[k], after[k]) for k in after if k.split(".")[0] in prefixes
        )
        for group, prefixes in {"mass": ("mass", "mass_head"), "residual": ("residual",)}.items()
    }
    assert changed == {"mass": True, "residual": True}
    assert all(p.requires_grad for p in cal.module_.parameters())  # unfrozen after training
    assert cal.loss_variants_ == {"energy": "asymmetric", "mass": "gaussian"}


def test_learns_both_responses(jets):
    X, y = jets
    cal = EnergyMassCalibrator(
        schedule=[
            Stage(20, 100, 5e-3, optimizer="adam"),
            Stage(10, 100, 1e-3, optimizer="adam", truncation=3.0),
        ],
        random_state=0,
        **SMALL,
    ).fit(X, y)
    R = cal.predict(X)
    crack = np.abs(np.abs(X["eta"]) - 1.45) < 0.1
    assert R[crack, 0].mean() < R[~crack, 0].mean() - 0.04  # the energy dip at the crack
    assert np.corrcoef(R[:, 1], X["d2"])[0, 1] > 0.9  # the mass response follows d2


def test_reproducible_and_weights_matter(jets):
    X, y = jets
    a, b = _fit(X, y).predict(X), _fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(
        a, _fit(X, y, sample_weight=np.full(len(X), 3.0)).predict(X), rtol=1e-5
    )
    w = (X["d2"] > 1.5).to_numpy(dtype=float)
    assert not np.allclose(a, _fit(X, y, sample_weight=w).predict(X))


def test_density_api_and_save_load(jets):
    X, y = jets
    cal = _fit(X, y)
    mode, std = cal.predict(X[:20], return_std=True)
    assert mode.shape == std.shape == (20, 2) and bool((std > 0).all())
    np.testing.assert_allclose(mode, cal.predict(X[:20]), rtol=1e-6)
    dists = cal.predict_dist(X[:20])
    assert set(dists) == {"energy", "mass"}
    q = dists["mass"].quantile([0.16, 0.84])
    assert q.shape == (2, 20) and bool((q[0] < q[1]).all())
    assert cal.sample(X[:20], 7, random_state=0).shape == (20, 7, 2)
    loaded = pickle.loads(pickle.dumps(cal))
    np.testing.assert_array_equal(cal.predict(X), loaded.predict(X))
    np.testing.assert_array_equal(
        cal.predict(X, return_std=True)[1], loaded.predict(X, return_std=True)[1]
    )
    params = clone(cal).get_params()
    assert params["schedule"] == cal.schedule and params["module__core_sizes"] == (16,)
    assert not hasattr(clone(cal), "module_")


def test_dask_streaming_matches_in_memory_prediction(jets):
    X, y = jets
    Xd = dd.from_pandas(X, npartitions=4)
    yd = dd.from_pandas(pd.DataFrame(y, columns=["r_e", "r_m"]), npartitions=4)
    cal = EnergyMassCalibrator(
        schedule=[Stage(1, 250, 1e-3, optimizer="adam")],
        random_state=0,
        buffer_partitions=2,
        **SMALL,
    ).fit(Xd, yd)
    assert sum(cal.history[0, "batches", :, "train_batch_size"]) == len(X)
    out = cal.predict(Xd)
    assert list(out.columns) == ["r_e", "r_m"]
    np.testing.assert_allclose(out.compute().to_numpy(), cal.predict(X), rtol=1e-6)
    with pytest.warns(UserWarning, match="feature names"):  # fitted on a DataFrame
        arr = cal.predict(da.from_array(X.to_numpy(), chunks=(300, 3))).compute()
    np.testing.assert_allclose(arr, cal.predict(X), rtol=1e-6)


# ------------------------------------------------------------------- bad input
def test_y_with_one_column_is_refused(jets):
    X, y = jets
    cal = EnergyMassCalibrator(schedule=_two_stages(), **SMALL)
    for bad in (y[:, :1], y[:, 0]):
        with pytest.raises(DataError, match=r"y must have two columns.*\(r_E, r_m\)"):
            cal.fit(X, bad)


def test_bad_input_names_the_problem(jets):
    X, y = jets
    with pytest.raises(DataError, match="eta_column"):
        EnergyMassCalibrator(schedule=_two_stages(), eta_column="eta_det", **SMALL).fit(X, y)
    bad = y.copy()
    bad[5, 1] = -0.2
    with pytest.raises(DataError, match="r_m"):
        EnergyMassCalibrator(schedule=_two_stages(), **SMALL).fit(X, bad)
    with pytest.raises(ParameterError, match="unknown key 'batch'"):
        EnergyMassCalibrator(schedule=[{"epochs": 1, "batch": 10, "lr": 1e-3}]).fit(X, y)
    with pytest.raises(ParameterError, match=r"'batch_size' parameter of Stage .* Got 0 instead"):
        EnergyMassCalibrator(schedule=[{"epochs": 1, "batch_size": 0, "lr": 1e-3}]).fit(X, y)
    with pytest.raises(ParameterError, match="epoch_scale"):
        EnergyMassCalibrator(schedule=_two_stages(), epoch_scale=0).fit(X, y)
    with pytest.raises(NotFittedError):
        EnergyMassCalibrator().predict(X)
    cal = _fit(X, y)
    with pytest.raises(DataError, match="d2"):
        cal.predict(X.drop(columns="d2"))
