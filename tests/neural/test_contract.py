"""One contract test per model family (zuko style): shapes, gradients, the analytic
loss, sampling against the predicted moments, save/load, clone, reproducibility."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone, is_regressor
from torch.distributions import Categorical, MixtureSameFamily, Normal

from skcal.neural import (
    AsymmetricNormal,
    DensityNetwork,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
    PointNetwork,
    nll_loss,
)

FAMILIES = {
    "gdn": dict(n_components=1, asymmetric=False),
    "gdn-asym": dict(n_components=1, asymmetric=True),
    "mdn": dict(n_components=3, asymmetric=False),
    "mdn-asym": dict(n_components=2, asymmetric=True),
}


def _estimator(family, **kw):
    common = dict(max_epochs=3, batch_size=256, random_state=0, module__hidden_sizes=(16, 16), **kw)
    if family == "point":
        return PointCalibrator(**common)
    opts = FAMILIES[family]
    if opts["n_components"] == 1:
        return GDNCalibrator(asymmetric=opts["asymmetric"], **common)
    return MDNCalibrator(**opts, **common)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_module_shapes_and_gradients(family):
    torch.manual_seed(0)
    net = DensityNetwork(4, (8, 8), activation="silu", **FAMILIES[family])
    x, y = torch.randn(32, 4), torch.rand(32) + 0.5
    dist = net(x)
    assert dist.batch_shape == (32,) and dist.event_shape == ()
    assert dist.log_prob(y).shape == (32,)
    assert net.raw(x).shape == (32, net.n_raw)
    nll_loss(dist, y, torch.rand(32), truncation=3.0 if family != "mdn" else None).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), name


def test_point_module_gradients():
    net = PointNetwork(4, (8,), activation="relu")
    net(torch.randn(16, 4)).sum().backward()
    assert all(bool(p.grad.abs().sum() > 0) for p in net.parameters())


def test_losses_equal_analytic_nll():
    y = torch.tensor([0.9, 1.3])
    normal = Normal(torch.tensor([1.0, 1.0]), torch.tensor([0.1, 0.2]))
    expected = [
        math.log(s) + 0.5 * math.log(2 * math.pi) + 0.5 * ((v - 1.0) / s) ** 2
        for v, s in ((0.9, 0.1), (1.3, 0.2))
    ]
    assert nll_loss(normal, y).item() == pytest.approx(np.mean(expected), rel=1e-6, abs=1e-5)
    w = torch.tensor([1.0, 3.0])
    assert nll_loss(normal, y, w).item() == pytest.approx(
        (expected[0] + 3 * expected[1]) / 4, rel=1e-6, abs=1e-5
    )
    mix = MixtureSameFamily(
        Categorical(probs=torch.tensor([[0.25, 0.75]])),
        Normal(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.5, 1.0]])),
    )
    x = 1.5
    dens = 0.25 * math.exp(-0.5) / (0.5 * math.sqrt(2 * math.pi)) + 0.75 * math.exp(
        -0.125
    ) / math.sqrt(2 * math.pi)
    assert nll_loss(mix, torch.tensor([x])).item() == pytest.approx(
        -math.log(dens), rel=1e-6, abs=1e-5
    )
    far = MixtureSameFamily(
        Categorical(logits=torch.zeros(1, 2)),
        Normal(torch.tensor([[0.0, 1.0]]), torch.tensor([[1e-3, 1e-3]])),
    )
    assert math.isfinite(
        nll_loss(far, torch.tensor([0.5])).item()
    )  # log-sum-exp, no underflow to inf
    asym = AsymmetricNormal(torch.tensor([1.0]), torch.tensor([0.1]), torch.tensor([0.2]))
    exp_asym = math.log(0.3 / 2) + 0.5 * math.log(2 * math.pi) + 0.5 * (0.3 / 0.2) ** 2
    assert nll_loss(asym, torch.tensor([1.3])).item() == pytest.approx(exp_asym, rel=1e-6, abs=1e-5)


@pytest.mark.parametrize("family", [*FAMILIES, "point"])
def test_estimator_contract(family, toy, tmp_path):
    X, y = toy
    est = _estimator(family, training_space="log" if family == "mdn" else "response").fit(X, y)
    assert is_regressor(est) and est.n_features_in_ == 3
    pred = est.predict(X[:50])
    assert pred.shape == (50,) and np.isfinite(pred).all() and (pred > 0).all()
    # save/load: pickle and skorch's parameter files give identical predictions
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X[:50]), pred)
    est.save_params(f_params=str(tmp_path / "p.pt"))
    fresh = _estimator(family, training_space=est.training_space).fit(X[:300], y[:300])
    fresh.load_params(f_params=str(tmp_path / "p.pt"))
    if family != "point":  # module loc/scale come from the (different) fit data of `fresh`
        assert fresh.predict(X[:5]).shape == (5,)
    # clone: same parameters, unfitted, refit gives the same result (bit for bit on CPU)
    twin = clone(est)
    assert twin.get_params()["module__hidden_sizes"] == (16, 16) and not hasattr(
        twin, "n_features_in_"
    )
    np.testing.assert_array_equal(twin.fit(X, y).predict(X[:50]), pred)
    if family == "point":
        with pytest.raises(ValueError, match="no width"):
            est.predict(X[:5], return_std=True)
        return
    dist = est.predict_dist(X[:6])
    s = est.sample(X[:6], 100_000, random_state=1)
    assert s.shape == (6, 100_000)
    np.testing.assert_allclose(s.mean(1), dist.mean(), rtol=3e-3)
    np.testing.assert_allclose(s.std(1), dist.std(), rtol=3e-2)
    mode, std = est.predict(X[:6], return_std=True)
    np.testing.assert_allclose(std, dist.std())
    np.testing.assert_allclose(mode, dist.mode())
    # the mode is where the density of r peaks (dense grid, in r-space)
    r = np.linspace(0.3, 2.5, 20001)[:, None].repeat(6, axis=1)
    np.testing.assert_allclose(mode, r[dist.pdf(r).argmax(0), 0], atol=2.5e-4)


def test_random_state_and_routed_params(toy):
    X, y = toy
    a = MDNCalibrator(
        n_components=2,
        max_epochs=2,
        batch_size=128,
        random_state=3,
        module__hidden_sizes=(8,),
        module__activation="relu",
        optimizer__weight_decay=1e-4,
    )
    b = clone(a).fit(X, y)
    a.fit(X, y)
    for pa, pb in zip(a.module_.parameters(), b.module_.parameters()):
        assert torch.equal(pa, pb)
    assert isinstance(a.module_.trunk[1], torch.nn.ReLU)
    assert a.optimizer_.param_groups[0]["weight_decay"] == 1e-4
    c = clone(a).set_params(random_state=4).fit(X, y)
    assert not np.array_equal(c.predict(X[:10]), a.predict(X[:10]))
    a.set_params(lr=0.01, max_epochs=1)
    assert a.lr == 0.01


def test_sample_weight_changes_fit(toy):
    X, y = toy
    w = np.where(X[:, 0] > 0, 5.0, 0.2)
    kw = dict(max_epochs=3, batch_size=256, random_state=0, module__hidden_sizes=(8,))
    a = GDNCalibrator(**kw).fit(X, y)
    b = GDNCalibrator(**kw).fit(X, y, sample_weight=w)
    assert not np.allclose(a.predict(X[:20]), b.predict(X[:20]))
    c = GDNCalibrator(**kw).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a.predict(X[:20]), c.predict(X[:20]))


def test_feature_names_and_column_selection(toy):
    X, y = toy
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = GDNCalibrator(max_epochs=1, random_state=0, module__hidden_sizes=(8,)).fit(df, y)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    wider = df.assign(e_true=1.0)[["e_true", "c", "a", "b"]]
    np.testing.assert_array_equal(est.predict(wider), est.predict(df))


def test_partial_fit_continues(toy):
    X, y = toy
    est = GDNCalibrator(max_epochs=1, batch_size=256, random_state=0, module__hidden_sizes=(8,))
    est.partial_fit(X[:1000], y[:1000])
    first = [p.detach().clone() for p in est.module_.parameters()]
    est.partial_fit(X[1000:], y[1000:])
    assert len(est.history) == 2
    assert any(not torch.equal(a, b) for a, b in zip(first, est.module_.parameters()))
