"""Densities: normalisation, cdf/icdf, moments, truncation, and the numerical mode."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, MixtureSameFamily, Normal

from skcal.neural import (
    AsymmetricNormal,
    DensityPrediction,
    Truncated,
    find_mode,
    mixture_mode,
    nll_loss,
)

torch.set_default_dtype(torch.float32)
D = torch.float64


def _asym():
    return AsymmetricNormal(
        torch.tensor([1.0, 0.5], dtype=D),
        torch.tensor([0.1, 0.3], dtype=D),
        torch.tensor([0.25, 0.05], dtype=D),
    )


def test_asymmetric_normal_normalised_and_cdf_consistent():
    d = _asym()
    x = torch.linspace(-3, 5, 400001, dtype=D)[:, None]
    p = d.log_prob(x).exp()
    assert torch.allclose(torch.trapezoid(p, x[:, 0], dim=0), torch.ones(2, dtype=D), atol=1e-6)
    cdf_num = torch.cumsum(p, 0) * (x[1, 0] - x[0, 0])
    for v in (0.8, 1.0, 1.2):
        i = int(torch.searchsorted(x[:, 0], torch.tensor(v, dtype=D)))
        assert torch.allclose(d.cdf(x[i]), cdf_num[i], atol=1e-4)
    u = torch.tensor([[0.01], [0.3], [0.5], [0.99]], dtype=D)
    assert torch.allclose(d.cdf(d.icdf(u.expand(-1, 2))), u.expand(-1, 2), atol=1e-9)


def test_asymmetric_normal_moments_match_samples():
    torch.manual_seed(0)
    d = _asym()
    s = d.sample((400_000,))
    assert torch.allclose(s.mean(0), d.mean, atol=3e-3)
    assert torch.allclose(s.std(0), d.stddev, rtol=1e-2)
    assert torch.equal(d.mode, d.loc)


def test_asymmetric_nll_is_analytic():
    d = AsymmetricNormal(torch.tensor(1.0), torch.tensor(0.1), torch.tensor(0.3))
    for x, s in ((0.9, 0.1), (1.2, 0.3)):
        expected = (
            math.log(0.4) + 0.5 * math.log(2 * math.pi) - math.log(2) + 0.5 * ((x - 1) / s) ** 2
        )
        assert nll_loss(d, torch.tensor([x])).item() == pytest.approx(expected, rel=1e-5)


def test_truncated_normalisation_and_exclusion():
    base = Normal(torch.tensor([0.0], dtype=D), torch.tensor([2.0], dtype=D))
    t = Truncated(base, 1.5)
    x = torch.linspace(-3, 3, 200001, dtype=D)[:, None]
    p = t.log_prob(x).exp()
    assert torch.trapezoid(p[:, 0], x[:, 0]).item() == pytest.approx(1.0, abs=1e-4)
    assert t.log_prob(torch.tensor([3.01], dtype=D)).item() == -math.inf
    # the ATLAS truncated loss: NLL + log(mass in window), excluded jets out of the mean
    y = torch.tensor([0.5, 10.0], dtype=D)
    expected = -base.log_prob(y[:1]).item() + math.log(math.erf(1.5 / math.sqrt(2)))
    got = nll_loss(
        Normal(torch.zeros(2, dtype=D), torch.full((2,), 2.0, dtype=D)), y, truncation=1.5
    )
    assert got.item() == pytest.approx(expected, rel=1e-9)


def test_truncated_asymmetric_window():
    t = Truncated(
        AsymmetricNormal(torch.tensor([0.0]), torch.tensor([1.0]), torch.tensor([2.0])), 2.0
    )
    assert t.log_prob(torch.tensor([-2.1])).item() == -math.inf
    assert math.isfinite(t.log_prob(torch.tensor([3.9])).item())


def _random_mixture(n, k, asymmetric, seed):
    g = torch.Generator().manual_seed(seed)
    loc = 1.0 + 0.3 * torch.randn(n, k, generator=g, dtype=D)
    s1 = 0.02 + 0.2 * torch.rand(n, k, generator=g, dtype=D)
    s2 = 0.02 + 0.2 * torch.rand(n, k, generator=g, dtype=D)
    comp = AsymmetricNormal(loc, s1, s2) if asymmetric else Normal(loc, s1)
    return MixtureSameFamily(Categorical(logits=torch.randn(n, k, generator=g, dtype=D)), comp)


@pytest.mark.parametrize("asymmetric", [False, True])
def test_mixture_mode_matches_dense_grid(asymmetric):
    mix = _random_mixture(60, 3, asymmetric, seed=1)
    comp = mix.component_distribution
    mode = find_mode(
        mix.log_prob, comp.mode.T, comp.mode.min(1).values - 1, comp.mode.max(1).values + 1
    )
    grid = torch.linspace(-1.0, 3.0, 40_001, dtype=D)[:, None]
    lp = torch.cat([mix.log_prob(g) for g in grid.split(20000)])
    dense = grid[lp.argmax(0), 0]
    step = float(grid[1, 0] - grid[0, 0])
    assert (mode - dense).abs().max().item() <= step
    # the mode is a different thing from the mean of the largest component
    largest = comp.mode.gather(1, mix.mixture_distribution.probs.argmax(1, keepdim=True))[:, 0]
    assert (largest - dense).abs().max().item() > 10 * step


def test_log_target_mode_uses_jacobian():
    # a Normal in ln r: the mode of r is exp(mu - sigma^2), not exp(mu)
    raw = torch.tensor([[0.0, 0.3], [-0.2, 0.1]])
    pred = DensityPrediction(raw, lambda r: Normal(r[:, 0], r[:, 1]), training_space="log")
    np.testing.assert_allclose(pred.mode(), np.exp([-0.09, -0.21]), rtol=1e-6)
    target_space = DensityPrediction(
        raw, lambda r: Normal(r[:, 0], r[:, 1]), training_space="log", mode_space="training"
    )
    np.testing.assert_allclose(target_space.mode(), np.exp([0.0, -0.2]), rtol=1e-6)
    np.testing.assert_allclose(pred.mean(), np.exp([0.045, -0.195]), rtol=1e-5)  # log-normal mean
    r = np.linspace(0.2, 3, 100001)[:, None]
    dense = r[pred.pdf(np.repeat(r, 2, axis=1)).argmax(0), 0]
    np.testing.assert_allclose(pred.mode(), dense, atol=3e-5)


@pytest.mark.parametrize("target", ["response", "log10"])
def test_prediction_moments_quantiles_and_samples_agree(target):
    mix = _random_mixture(5, 3, True, seed=2)
    raw = torch.zeros(5, 1)

    def build(_raw, mix=mix):
        if target == "response":
            return mix
        c = mix.component_distribution  # rescale to log10 r around 0
        return MixtureSameFamily(
            mix.mixture_distribution,
            AsymmetricNormal((c.loc - 1) / 5, c.scale_low / 5, c.scale_high / 5),
        )

    pred = DensityPrediction(raw, build, training_space=target)
    s = pred.sample(200_000, random_state=0)
    assert s.shape == (5, 200_000)
    np.testing.assert_allclose(s.mean(1), pred.mean(), rtol=2e-3)
    np.testing.assert_allclose(s.std(1), pred.std(), rtol=2e-2)
    np.testing.assert_allclose(
        np.quantile(s, [0.16, 0.5, 0.84], axis=1), pred.quantile([0.16, 0.5, 0.84]), rtol=3e-3
    )
    assert pred.quantile(0.5).shape == (5,)


@pytest.mark.parametrize("asymmetric", [False, True])
@pytest.mark.parametrize("slope", [0.0, -1.0, -math.log(10.0)])
def test_fast_mixture_mode_matches_dense_grid(asymmetric, slope):
    """The Newton ascent finds the global maximum of log p + slope * t (a log target's Jacobian)."""
    mix = _random_mixture(200, 3, asymmetric, seed=7)
    grid = torch.linspace(-1.0, 3.0, 20_001, dtype=D)[:, None]
    lp = torch.cat([mix.log_prob(g) + slope * g for g in grid.split(5000)])
    dense = grid[lp.argmax(0), 0]
    mode = mixture_mode(mix, slope)
    at_mode = mix.log_prob(mode[None])[0] + slope * mode
    assert bool((at_mode >= lp.max(0).values - 1e-9).all())  # never below the grid's best point
    step = float(grid[1, 0] - grid[0, 0])
    assert (mode - dense).abs().max().item() <= step
    # and never below the slower grid + golden-section search (which misses some narrow peaks)
    old = find_mode(
        lambda t: mix.log_prob(t) + slope * t,
        mix.component_distribution.mode.T,
        grid[0, 0].expand(200),
        grid[-1, 0].expand(200),
    )
    assert bool((at_mode >= mix.log_prob(old[None])[0] + slope * old - 1e-9).all())
    if slope == 0.0:  # the mode is not the largest component's: it is found nonetheless
        comp = mix.component_distribution
        largest = comp.mode.gather(1, mix.mixture_distribution.probs.argmax(1, keepdim=True))[:, 0]
        assert (largest - dense).abs().max().item() > 10 * step


def test_mixture_mode_of_one_split_normal_with_jacobian():
    d = AsymmetricNormal(
        torch.tensor([0.0, 0.0], dtype=D),
        torch.tensor([0.1, 0.3], dtype=D),
        torch.tensor([0.2, 0.05], dtype=D),
    )
    np.testing.assert_allclose(mixture_mode(d, -1.0), [-0.01, -0.09], atol=1e-12)  # mu - s_low^2
    np.testing.assert_allclose(mixture_mode(d, 2.0), [0.08, 0.005], atol=1e-12)  # mu + 2 s_high^2
