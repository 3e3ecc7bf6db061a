"""The Bayesian MDN: its layers, its loss, its combination of drawn networks, Dask input,
copies, parameters and the width calibration."""

from __future__ import annotations

import inspect
import pickle

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from skcal._validation import is_dask
from skcal.exceptions import CalibrationError, DataError, ParameterError
from skcal.neural import (
    BayesianDensityNetwork,
    BayesianMDNCalibrator,
    BayesLinear,
    MDNCalibrator,
    nll_loss,
)
from skcal.neural._bayes_modules import NoiseSource, gaussian_kl

SMALL = dict(max_epochs=2, batch_size=256, module__hidden_sizes=(8,))


def _bnn(**kw) -> BayesianMDNCalibrator:
    return BayesianMDNCalibrator(n_components=2, training_space="log", **{**SMALL, **kw})


@pytest.fixture(scope="module")
def jets() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(1500, 3)), columns=["a", "b", "c"])
    y = np.exp(
        0.1 * X["a"].to_numpy() + (0.05 + 0.03 * np.abs(X["b"].to_numpy())) * rng.normal(size=1500)
    )
    return X, y


@pytest.fixture(scope="module")
def bnn(jets) -> BayesianMDNCalibrator:
    return _bnn(random_state=0).fit(*jets)


def test_the_kl_is_the_closed_form_of_torch() -> None:
    mu, sigma = torch.randn(20), torch.rand(20) + 0.1
    expected = kl_divergence(Normal(mu, sigma), Normal(0.0, 0.5)).sum()
    assert float(gaussian_kl(mu, sigma, 0.5)) == pytest.approx(float(expected), rel=1e-5)
    layer = BayesLinear(4, 3, NoiseSource(0), prior_sigma=0.5, init_sigma=0.02)
    w_sigma, b_sigma = layer.sigmas()
    assert torch.allclose(w_sigma, torch.full((3, 4), 0.02))
    assert torch.allclose(b_sigma, torch.full((3,), 0.02))
    manual = kl_divergence(Normal(layer.weight_mu, w_sigma), Normal(0.0, 0.5)).sum()
    manual = manual + kl_divergence(Normal(layer.bias_mu, b_sigma), Normal(0.0, 0.5)).sum()
    assert layer.kl().item() == pytest.approx(manual.item(), rel=1e-5)


def test_gradients_reach_every_mean_and_width() -> None:
    torch.manual_seed(0)
    net = BayesianDensityNetwork(4, (8, 8), n_components=3)
    x, y = torch.randn(64, 4), torch.rand(64) + 0.5
    (nll_loss(net(x), y) + net.kl() / 64).backward()
    names = [n for n, _ in net.named_parameters()]
    assert sum(n.endswith("_rho") for n in names) == 6 and len(names) == 12
    for name, p in net.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), name


def test_training_draws_noise_and_evaluation_uses_the_means() -> None:
    torch.manual_seed(0)
    net = BayesianDensityNetwork(3, (8,), init_sigma=0.1)
    x = torch.randn(10, 3)
    train_a, train_b = net.train().raw(x), net.raw(x)
    assert not torch.equal(train_a, train_b)  # a fresh draw per call
    mean = net.eval().raw(x)
    assert torch.equal(mean, net.raw(x))
    net.draw_weights(torch.Generator().manual_seed(3))
    drawn = net.raw(x)
    # one weight set for all jets: the same jet gives the same output wherever it is
    assert torch.allclose(net.raw(x[5:6])[0], drawn[5]) and not torch.allclose(drawn, mean)
    net.draw_weights(None)
    assert torch.equal(net.raw(x), mean)
    torch.manual_seed(0)
    again = BayesianDensityNetwork(3, (8,), init_sigma=0.1)
    assert torch.equal(again.train().raw(x), train_a)  # the noise is seeded with the network


def test_the_loss_adds_the_kl_scaled_to_the_training_size(bnn, jets) -> None:
    X, _ = jets
    assert bnn.n_train_ == len(X)
    x = torch.tensor(X.to_numpy()[:64], dtype=torch.float32)
    yw = torch.ones(64, 2)
    with torch.no_grad():
        dist = bnn.module_.eval()(x)
    plain = bnn.get_loss(dist, yw, training=False)
    elbo = bnn.get_loss(dist, yw, training=True)
    kl = bnn.module_.kl().item()
    assert kl > 0 and (elbo - plain).item() == pytest.approx(kl / len(X), rel=1e-5)
    part = _bnn(random_state=0, validation_fraction=0.2).fit(*jets)
    assert part.n_train_ == len(X) - round(0.2 * len(X))


def test_the_posterior_widths_learn_faster_than_the_means(bnn) -> None:
    groups = bnn.optimizer_.param_groups
    rho = [g for g in groups if any(p is bnn.module_.head.bias_rho for p in g["params"])]
    mu = [g for g in groups if any(p is bnn.module_.head.bias_mu for p in g["params"])]
    assert rho[0]["lr"] == pytest.approx(30 * bnn.lr) and mu[0]["lr"] == bnn.lr
    assert sum(len(g["params"]) for g in groups) == len(list(bnn.module_.parameters()))
    own = _bnn(optimizer__param_groups=[("*_rho", {"lr": 0.5})]).fit(
        pd.DataFrame(np.ones((20, 3)), columns=["a", "b", "c"]), np.ones(20)
    )
    assert sorted(g["lr"] for g in own.optimizer_.param_groups) == [own.lr, 0.5]


def test_prediction_is_the_mode_of_the_posterior_predictive(bnn, jets) -> None:
    X = jets[0].iloc[:20]
    draws = bnn.predict_draws(X)
    assert len(draws) == bnn.n_samples == 10
    grid = np.linspace(0.5, 1.6, 22001)[:, None] * np.ones((1, len(X)))
    mean_pdf = np.mean([d.pdf(grid) for d in draws], axis=0)
    brute = grid[mean_pdf.argmax(axis=0), np.arange(len(X))]
    np.testing.assert_allclose(bnn.predict(X), brute, atol=1e-4)
    np.testing.assert_allclose(bnn.predict_dist(X).pdf(grid), mean_pdf, rtol=1e-9)
    # started from the drawn networks' modes: the maximum of the search from every component
    np.testing.assert_allclose(bnn.predict(X), bnn.predict_dist(X).mode(), rtol=1e-9)


def test_the_widths_are_the_draws_spread_and_mean_width(bnn, jets) -> None:
    X = jets[0].iloc[:50]
    draws = bnn.predict_draws(X)
    modes = np.stack([d.mode() for d in draws])
    widths = np.stack([d.std() for d in draws])
    u = bnn.predict_uncertainty(X)
    assert list(u.columns) == ["sigma_stat", "sigma_syst", "sigma_tot"]
    assert list(u.index) == list(X.index)
    np.testing.assert_allclose(u["sigma_stat"], modes.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(u["sigma_syst"], widths.mean(axis=0), rtol=1e-12)
    assert (u["sigma_stat"] > 0).all()
    mode, sigma = bnn.predict(X, return_std=True)
    np.testing.assert_allclose(sigma, np.hypot(u["sigma_stat"], u["sigma_syst"]), rtol=1e-12)
    np.testing.assert_array_equal(mode, bnn.predict(X))  # the same draws every call


def test_seeds_reproduce_the_fit_and_copies_predict_alike(bnn, jets) -> None:
    X, y = jets
    again = _bnn(random_state=0).fit(X, y)
    other = _bnn(random_state=1).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), bnn.predict(X))
    assert not np.allclose(other.predict(X), bnn.predict(X))
    loaded = pickle.loads(pickle.dumps(bnn))
    pd.testing.assert_frame_equal(loaded.predict_uncertainty(X), bnn.predict_uncertainty(X))


def test_dask_input_fits_and_predicts_like_memory(jets) -> None:
    X, y = jets
    Xd, yd = dd.from_pandas(X, npartitions=3), dd.from_pandas(pd.Series(y), npartitions=3)
    lazy_fit = _bnn(random_state=0).fit(Xd, yd)
    assert lazy_fit.n_train_ == len(X)  # counted over the partitions before training
    mode, sigma = lazy_fit.predict(Xd, return_std=True)
    u = lazy_fit.predict_uncertainty(Xd)
    assert is_dask(mode) and is_dask(sigma) and is_dask(u)
    # every partition draws the same weight sets: equal to the in-memory prediction
    np.testing.assert_allclose(mode.compute(), lazy_fit.predict(X), rtol=1e-12)
    np.testing.assert_allclose(sigma.compute(), lazy_fit.predict(X, return_std=True)[1], rtol=1e-12)
    pd.testing.assert_frame_equal(u.compute(), lazy_fit.predict_uncertainty(X))


def test_responses_stay_bounded_and_positive(bnn, jets) -> None:
    X = jets[0]
    mode, sigma = bnn.predict(X, return_std=True)
    low, high = bnn.response_range_[:, 0]
    assert (mode >= low).all() and (mode <= high).all() and (mode > 0).all()
    assert np.isfinite(sigma).all() and (sigma > 0).all()
    assert bnn.sample(X.iloc[:5], 20, random_state=0).min() > 0
    assert (bnn.predict_dist(X.iloc[:50]).quantile([0.001, 0.5]) > 0).all()


def test_the_output_guard_refuses_a_broken_posterior(jets) -> None:
    X, y = jets
    broken = _bnn(random_state=0).fit(X, y)
    with torch.no_grad():
        broken.module_.head.bias_rho[0] = float("nan")  # every drawn network is broken
    with pytest.raises(CalibrationError, match="non-finite network outputs"):
        broken.predict(X.iloc[:10])
    with pytest.raises(CalibrationError, match="BayesianMDNCalibrator"):
        broken.predict_uncertainty(X.iloc[:10])
    assert broken.module_.head.drawn is None  # the means are back after the error


def test_sigma_scaling_brings_the_validation_pull_width_to_one(jets) -> None:
    X, y = jets
    fit, val = slice(0, 1000), slice(1000, None)
    plain = _bnn(random_state=4).fit(X.iloc[fit], y[fit])
    scaled = _bnn(random_state=4, sigma_scaling=True).fit(
        X.iloc[fit], y[fit], X_val=X.iloc[val], y_val=y[val]
    )
    assert plain.sigma_scale_ == 1.0 and scaled.sigma_scale_ != 1.0
    mode, sigma = scaled.predict(X.iloc[val], return_std=True)
    q16, q84 = np.quantile((mode - y[val]) / sigma, [0.16, 0.84])
    assert abs(0.5 * (q84 - q16) - 1.0) < 1e-3
    u, u_plain = scaled.predict_uncertainty(X.iloc[:50]), plain.predict_uncertainty(X.iloc[:50])
    np.testing.assert_allclose(u, u_plain * scaled.sigma_scale_, rtol=1e-9)
    with pytest.raises(DataError, match="X_val"):
        _bnn(sigma_scaling=True).fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(prior_sigma=0.0), "prior_sigma"),
        (dict(init_sigma=-1.0), "init_sigma"),
        (dict(n_samples=1), "n_samples"),
        (dict(posterior_lr_scale=0), "posterior_lr_scale"),
        (dict(sigma_scaling="yes"), "sigma_scaling"),
    ],
)
def test_bad_parameters_are_refused(params, match, jets) -> None:
    with pytest.raises(ParameterError, match=match):
        _bnn(**params).fit(*jets)


def test_the_shared_parameters_default_as_the_mdn() -> None:
    mine = inspect.signature(BayesianMDNCalibrator).parameters
    mdn = inspect.signature(MDNCalibrator).parameters
    differ = {k for k in mdn if k != "module" and mine[k].default != mdn[k].default}
    assert not differ, f"BayesianMDNCalibrator's defaults of {differ} differ from MDNCalibrator's"
    assert mine["module"].default is BayesianDensityNetwork
