"""Variational (Bayes-by-backprop) layers and the Bayesian density network.

Every weight and bias of a :class:`BayesLinear` has an independent Gaussian posterior
``q(w) = N(mu, sigma^2)`` with ``sigma = softplus(rho)`` (Blundell et al., "Weight
uncertainty in neural networks", ICML 2015), and the prior ``p(w) = N(0,
prior_sigma^2)``, independent for every weight. The layer's KL divergence
``KL(q || p)`` is in closed form (:func:`gaussian_kl`).

A layer computes its output in one of three ways:

- in training, with the local reparameterisation trick (Kingma et al., NeurIPS 2015):
  the pre-activations, which are Gaussian given the input, are drawn directly, one
  draw per jet (an unbiased, lower-variance estimate of the same expected
  log-likelihood);
- with a drawn weight set (:meth:`BayesianDensityNetwork.draw_weights`): one network
  among those of the posterior, the same for every jet (how ``sigma_stat`` is
  estimated);
- otherwise (evaluation), with the posterior means.

The noise comes from a seeded generator owned by the network (:class:`NoiseSource`),
so that a seeded training is reproducible without touching torch's global random
state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from skcal.neural._modules import DensityNetwork

__all__ = ["BayesLinear", "BayesianDensityNetwork", "NoiseSource", "gaussian_kl"]


def gaussian_kl(mu: torch.Tensor, sigma: torch.Tensor, prior_sigma: float) -> torch.Tensor:
    """``sum KL(N(mu, sigma^2) || N(0, prior_sigma^2))`` over every element.

    Examples
    --------
    >>> import torch
    >>> float(gaussian_kl(torch.zeros(3), torch.ones(3), 1.0))
    0.0
    >>> round(float(gaussian_kl(torch.tensor([1.0]), torch.tensor([1.0]), 1.0)), 3)
    0.5
    """
    var_ratio = (sigma / prior_sigma) ** 2
    return 0.5 * (var_ratio + (mu / prior_sigma) ** 2 - 1.0 - torch.log(var_ratio)).sum()


class NoiseSource:
    """A seeded stream of standard normal draws, on the device where they are needed.

    The generator is made on first use (and again on another device) from ``seed``;
    it is not pickled (a loaded network's noise starts again from its seed).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._gen: torch.Generator | None = None

    def randn(self, shape: Sequence[int], like: torch.Tensor) -> torch.Tensor:
        """Standard normal draws of ``shape``, with the dtype and device of ``like``."""
        if self._gen is None or self._gen.device != like.device:
            self._gen = torch.Generator(device=like.device).manual_seed(self.seed)
        return torch.randn(tuple(shape), generator=self._gen, device=like.device, dtype=like.dtype)

    def __getstate__(self) -> dict[str, Any]:
        return {"seed": self.seed, "_gen": None}


def _rho(sigma: float) -> float:
    """The ``rho`` of ``sigma = softplus(rho)``."""
    return math.log(math.expm1(sigma))


class BayesLinear(nn.Module):
    """A linear layer with a Gaussian posterior on every weight and bias.

    Parameters
    ----------
    in_features, out_features : int
        As in ``torch.nn.Linear``.
    noise : NoiseSource
        Where the training draws come from.
    prior_sigma : float, default=1.0
        The width of the Gaussian prior ``N(0, prior_sigma^2)`` of every weight and bias.
    init_sigma : float, default=0.01
        The initial width of every posterior; the means start as ``torch.nn.Linear``'s
        initial weights.

    Examples
    --------
    >>> import torch
    >>> layer = BayesLinear(3, 2, NoiseSource(0))
    >>> layer.eval()(torch.zeros(4, 3)).shape, bool(layer.kl() > 0)
    (torch.Size([4, 2]), True)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        noise: NoiseSource,
        prior_sigma: float = 1.0,
        init_sigma: float = 0.01,
    ) -> None:
        super().__init__()
        if not prior_sigma > 0 or not init_sigma > 0:
            raise ValueError(
                f"prior_sigma and init_sigma must be positive, got {prior_sigma!r} and "
                f"{init_sigma!r}"
            )
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.noise, self.prior_sigma = noise, float(prior_sigma)
        init = nn.Linear(self.in_features, self.out_features)
        rho = _rho(float(init_sigma))
        self.weight_mu = nn.Parameter(init.weight.detach().clone())
        self.weight_rho = nn.Parameter(torch.full_like(init.weight, rho))
        self.bias_mu = nn.Parameter(init.bias.detach().clone())
        self.bias_rho = nn.Parameter(torch.full_like(init.bias, rho))
        self.drawn: tuple[torch.Tensor, torch.Tensor] | None = None

    def sigmas(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior widths of the weights and the biases."""
        return F.softplus(self.weight_rho), F.softplus(self.bias_rho)

    def kl(self) -> torch.Tensor:
        """``KL(q || p)`` of this layer's weights and biases (nats)."""
        w_sigma, b_sigma = self.sigmas()
        return gaussian_kl(self.weight_mu, w_sigma, self.prior_sigma) + gaussian_kl(
            self.bias_mu, b_sigma, self.prior_sigma
        )

    def draw(self, generator: torch.Generator | None) -> None:
        """Fix one weight set drawn from the posterior (``None``: back to the means)."""
        if generator is None:
            self.drawn = None
            return
        w_sigma, b_sigma = self.sigmas()
        with torch.no_grad():
            eps_w = torch.randn(self.weight_mu.shape, generator=generator, dtype=torch.float32)
            eps_b = torch.randn(self.bias_mu.shape, generator=generator, dtype=torch.float32)
            dev, dtype = self.weight_mu.device, self.weight_mu.dtype
            self.drawn = (
                self.weight_mu + w_sigma * eps_w.to(dev, dtype),
                self.bias_mu + b_sigma * eps_b.to(dev, dtype),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drawn is not None:
            return F.linear(x, *self.drawn)
        mean = F.linear(x, self.weight_mu, self.bias_mu)
        if not self.training:
            return mean
        w_sigma, b_sigma = self.sigmas()
        std = torch.sqrt(F.linear(x * x, w_sigma * w_sigma, b_sigma * b_sigma))
        return mean + std * self.noise.randn(mean.shape, mean)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"prior_sigma={self.prior_sigma:g}"
        )


class BayesianDensityNetwork(DensityNetwork):
    """A :class:`~skcal.neural.DensityNetwork` whose every linear layer is a
    :class:`BayesLinear`: a distribution over density networks.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_sizes, activation, n_components, asymmetric, min_scale, loc, scale, positive
        As in :class:`~skcal.neural.DensityNetwork`.
    prior_sigma : float, default=1.0
        Width of the Gaussian prior ``N(0, prior_sigma^2)`` of every weight and bias.
    init_sigma : float, default=0.01
        Initial width of every weight's posterior.

    Examples
    --------
    >>> import torch
    >>> net = BayesianDensityNetwork(3, (8,), n_components=2).eval()
    >>> mean = net.raw(torch.zeros(2, 3))
    >>> net.draw_weights(torch.Generator().manual_seed(0))
    >>> bool((net.raw(torch.zeros(2, 3)) != mean).any()), net.n_raw
    (True, 6)
    >>> net.draw_weights(None)
    >>> bool((net.raw(torch.zeros(2, 3)) == mean).all())
    True
    """

    def __init__(
        self,
        n_features: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "mish",
        n_components: int = 1,
        asymmetric: bool = False,
        min_scale: float = 1e-3,
        loc: float = 0.0,
        scale: float = 1.0,
        positive: bool = False,
        prior_sigma: float = 1.0,
        init_sigma: float = 0.01,
    ) -> None:
        super().__init__(
            n_features,
            hidden_sizes,
            activation,
            n_components,
            asymmetric,
            min_scale,
            loc,
            scale,
            positive,
        )
        # seeded by the global state, which the estimators fork and seed around initialize
        self.noise = NoiseSource(int(torch.randint(0, 2**62, ()).item()))

        def bayes(layer: nn.Linear) -> BayesLinear:
            new = BayesLinear(
                layer.in_features, layer.out_features, self.noise, prior_sigma, init_sigma
            )
            with torch.no_grad():  # the deterministic network's initial weights as the means
                new.weight_mu.copy_(layer.weight)
                new.bias_mu.copy_(layer.bias)
            return new

        for i, layer in enumerate(self.trunk):
            if isinstance(layer, nn.Linear):
                self.trunk[i] = bayes(layer)
        head = self.head
        if not isinstance(head, nn.Linear):  # pragma: no cover - DensityNetwork's head
            raise TypeError("the density head must be a torch.nn.Linear")
        self.head = bayes(head)  # type: ignore[assignment]  # a drop-in for the Linear head

    def bayes_layers(self) -> list[BayesLinear]:
        """The variational layers, input to output."""
        return [m for m in self.modules() if isinstance(m, BayesLinear)]

    def kl(self) -> torch.Tensor:
        """``KL(q || p)`` of every weight of the network (nats)."""
        return torch.stack([layer.kl() for layer in self.bayes_layers()]).sum()

    def draw_weights(self, generator: torch.Generator | None) -> None:
        """Fix one weight set drawn from the posterior (``None``: the posterior means)."""
        for layer in self.bayes_layers():
            layer.draw(generator)
