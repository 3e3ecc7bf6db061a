"""Per-jet response densities in the space of the response, from a density network.

A density network predicts a distribution in its *training space* ``t``: the
response ``r`` itself (``training_space="response"``), ``ln r`` (``"log"``) or
``log10 r`` (``"log10"``). :class:`DensityPrediction` reports everything in the space of ``r``,
applying the Jacobian ``p_r(r) = p_t(t(r)) |dt/dr|``: the mode of ``r`` is *not*
``exp`` of the mode of ``ln r`` (for a Normal in ``ln r``, it is ``exp(mu - sigma^2)``).

Every response it reports is positive. In a log space that holds by construction. In
the response space the network's locations are positive (a positive link), so the mode,
which lies between the smallest and the largest component mode (outside that range
every component's density, and so the mixture's, falls away from it), is positive; the
quantiles and the samples are those of the density restricted to ``r > 0``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.distributions import Distribution, MixtureSameFamily, Normal

from skcal._params import StrOptions, check_params
from skcal.neural._families import AsymmetricNormal
from skcal.neural._modes import component_bounds, find_mode, mixture_icdf, mixture_mode

__all__ = ["MODE_SPACES", "TRAINING_SPACES", "DensityPrediction", "resolve_spaces"]

#: Training spaces of the response: the map ``t(r)`` and its inverse.
TRAINING_SPACES: dict[
    str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]
] = {
    "response": (lambda r: r, lambda t: t),
    "log": (torch.log, torch.exp),
    "log10": (torch.log10, lambda t: torch.pow(10.0, t)),
}
#: Where the mode is taken: of the density of ``r``, or in the training space.
MODE_SPACES = ("response", "training")
_DEPRECATED = "deprecated"
_CHUNK = 1 << 15  # jets per chunk of the numerical searches (bounds memory)


def resolve_spaces(
    training_space: str, mode_space: str, target: Any = _DEPRECATED, owner: str = "it"
) -> tuple[str, str]:
    """``(training_space, mode_space)`` with the deprecated spellings mapped (FutureWarning).

    ``target`` is the old name of ``training_space``, and ``mode_space="target"`` the
    old value of ``mode_space="training"`` (deprecated in skcal 0.2, removed in 0.3).

    Examples
    --------
    >>> resolve_spaces("log", "response")
    ('log', 'response')
    """
    if target != _DEPRECATED:
        warnings.warn(
            f"the 'target' parameter of {owner} is deprecated and will be removed in skcal "
            f"0.3; use training_space={target!r}",
            FutureWarning,
            stacklevel=3,
        )
        training_space = target
    if mode_space == "target":
        warnings.warn(
            f"mode_space='target' of {owner} is deprecated and will be removed in skcal 0.3; "
            "use mode_space='training'",
            FutureWarning,
            stacklevel=3,
        )
        mode_space = "training"
    return training_space, mode_space


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float64)


class DensityPrediction:
    """The predicted response densities of a batch of jets, in the space of ``r``.

    Parameters
    ----------
    raw : Tensor of shape (n_jets, n_raw)
        The density network's raw outputs.
    build : callable
        Maps raw outputs to a ``Distribution`` in the training space
        (``DensityNetwork.distribution``).
    training_space : {"response", "log", "log10"}, default="response"
        The space in which the network was trained.
    mode_space : {"response", "training"}, default="response"
        Where :meth:`mode` is the maximum of the density: of ``r`` (with the Jacobian),
        or in the training space, mapped back to ``r``.
    target : str, optional
        Deprecated: the old name of ``training_space`` (a FutureWarning).

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal
    >>> build = lambda raw: Normal(raw[:, 0], raw[:, 1])
    >>> p = DensityPrediction(torch.tensor([[0.0, 0.2]]), build, training_space="log")
    >>> round(float(p.mode()[0]), 4), round(float(torch.exp(torch.tensor(-0.04))), 4)
    (0.9608, 0.9608)
    >>> round(float(p.quantile(0.5)[0]), 4)
    1.0
    """

    def __init__(
        self,
        raw: torch.Tensor,
        build: Callable[[torch.Tensor], Distribution],
        *,
        training_space: str = "response",
        mode_space: str = "response",
        target: Any = _DEPRECATED,
    ) -> None:
        training_space, mode_space = resolve_spaces(
            training_space, mode_space, target, "DensityPrediction"
        )
        check_params(
            {
                "training_space": [StrOptions(set(TRAINING_SPACES))],
                "mode_space": [StrOptions(set(MODE_SPACES))],
            },
            {"training_space": training_space, "mode_space": mode_space},
            "DensityPrediction",
        )
        self.raw = raw.detach().to(torch.float64)
        self.build, self.training_space, self.mode_space = build, training_space, mode_space

    @property
    def target(self) -> str:
        """Deprecated: the old name of :attr:`training_space` (a FutureWarning)."""
        warnings.warn(
            "DensityPrediction.target is deprecated and will be removed in skcal 0.3; "
            "use DensityPrediction.training_space",
            FutureWarning,
            stacklevel=2,
        )
        return self.training_space

    def __len__(self) -> int:
        return self.raw.shape[0]

    def _chunks(self) -> Iterator[Distribution]:
        for start in range(0, len(self), _CHUNK):
            yield self.build(self.raw[start : start + _CHUNK])

    def distribution(self) -> Distribution:
        """The whole batch as one ``Distribution`` in the training space."""
        return self.build(self.raw)

    def _log_jacobian(self, t: torch.Tensor) -> torch.Tensor:
        """``log |dt/dr|`` as a function of ``t`` in the training space."""
        if self.training_space == "response":
            return torch.zeros_like(t)
        if self.training_space == "log":
            return -t
        return -t * math.log(10.0) - math.log(math.log(10.0))

    def _from_training(self, t: torch.Tensor) -> torch.Tensor:
        return TRAINING_SPACES[self.training_space][1](t)

    def log_pdf(self, r: np.ndarray | torch.Tensor) -> np.ndarray:
        """The log-density of the response at ``r`` (shape (n_jets,) or (n_points, n_jets))."""
        r = torch.as_tensor(r, dtype=torch.float64)
        if self.training_space != "response" and bool((r <= 0).any()):
            raise ValueError(
                "the response density of a log training space is defined for r > 0 only"
            )
        t = TRAINING_SPACES[self.training_space][0](r)
        return _to_numpy(self.distribution().log_prob(t) + self._log_jacobian(t))

    def pdf(self, r: np.ndarray | torch.Tensor) -> np.ndarray:
        """The density of the response at ``r`` (shape (n_jets,) or (n_points, n_jets))."""
        return np.exp(self.log_pdf(r))

    def _jacobian_slope(self) -> float:
        """``d log|dt/dr| / dt``: constant in every training space (``-1`` for ``ln r``)."""
        return {"response": 0.0, "log": -1.0, "log10": -math.log(10.0)}[self.training_space]

    def mode(self) -> np.ndarray:
        """The most probable response of each jet (in the space ``mode_space``)."""
        out = []
        jac = self.mode_space == "response" and self.training_space != "response"
        for dist in self._chunks():
            if not isinstance(dist, MixtureSameFamily) and not jac:
                out.append(self._from_training(dist.mode))
                continue
            comp = dist.component_distribution if isinstance(dist, MixtureSameFamily) else dist
            if isinstance(comp, (Normal, AsymmetricNormal)):
                mode = mixture_mode(dist, self._jacobian_slope() if jac else 0.0)
                if not jac:  # between the component modes (module docstring)
                    modes = comp.mode.reshape(mode.shape[0], -1)
                    mode = torch.clamp(mode, modes.min(-1).values, modes.max(-1).values)
                out.append(self._from_training(mode))
                continue
            low, high = component_bounds(dist, 5.0)  # any other density: the general search
            candidates = comp.mode.reshape(comp.mode.shape[0], -1).T
            log_prob: Callable[[torch.Tensor], torch.Tensor] = dist.log_prob
            if jac:

                def with_jacobian(t: torch.Tensor, dist: Distribution = dist) -> torch.Tensor:
                    return dist.log_prob(t) + self._log_jacobian(t)

                log_prob = with_jacobian
            out.append(self._from_training(find_mode(log_prob, candidates, low, high)))
        return _to_numpy(torch.cat(out))

    def _moments_numeric(self, dist: Distribution) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of ``r`` by integration over a dense grid of the training space."""
        low, high = component_bounds(dist, 10.0)
        t = low + torch.linspace(0.0, 1.0, 2049, dtype=low.dtype)[:, None] * (high - low)
        w = torch.exp(dist.log_prob(t))
        r = self._from_training(t)
        norm = torch.trapezoid(w, t, dim=0)
        mean = torch.trapezoid(w * r, t, dim=0) / norm
        var = torch.trapezoid(w * (r - mean) ** 2, t, dim=0) / norm
        return mean, var

    def _moments_lognormal(self, dist: Distribution) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Mean and variance of ``r`` in closed form where the density of the log space is a
        Normal or a mixture of Normals (log-normal components), else None."""
        comp = dist.component_distribution if isinstance(dist, MixtureSameFamily) else dist
        if type(comp) is not Normal:
            return None
        c = 1.0 if self.training_space == "log" else math.log(10.0)
        s2 = (c * comp.scale) ** 2
        mean = torch.exp(c * comp.loc + 0.5 * s2)
        var = mean**2 * torch.expm1(s2)
        if not isinstance(dist, MixtureSameFamily):
            return mean, var
        w = dist.mixture_distribution.probs
        total = (w * mean).sum(-1)
        # the law of total variance: no cancellation between the two raw moments
        return total, (w * (var + (mean - total[..., None]) ** 2)).sum(-1)

    def _moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        means, variances = [], []
        for dist in self._chunks():
            if self.training_space == "response":
                means.append(dist.mean)
                variances.append(dist.variance)
            elif (exact := self._moments_lognormal(dist)) is not None:
                means.append(exact[0])
                variances.append(exact[1])
            else:
                m, v = self._moments_numeric(dist)
                means.append(m)
                variances.append(v)
        return torch.cat(means), torch.cat(variances)

    def mean(self) -> np.ndarray:
        """The mean response of each jet."""
        return _to_numpy(self._moments()[0])

    def std(self) -> np.ndarray:
        """The standard deviation of the response of each jet."""
        return _to_numpy(self._moments()[1].sqrt())

    def _cdf_at_zero(self, dist: Distribution) -> torch.Tensor | None:
        """``P(r <= 0)`` per jet for a density of the response itself, else None."""
        if self.training_space != "response":
            return None
        return dist.cdf(torch.zeros(dist.batch_shape, dtype=self.raw.dtype))

    def _icdf(self, dist: Distribution, p: torch.Tensor) -> torch.Tensor:
        """Quantiles ``p`` of shape (n_q, n_jets) in the training space."""
        if isinstance(dist, MixtureSameFamily):
            low, high = component_bounds(dist, 12.0)
            if self.training_space == "response":
                low = low.clamp_min(0.0)
            return mixture_icdf(dist, p, low, high)
        return dist.icdf(p)

    def _positive_probability(self, dist: Distribution, u: torch.Tensor) -> torch.Tensor:
        """Probabilities ``u`` of the density restricted to ``r > 0``, as probabilities of
        the full density (the identity in a log space)."""
        at_zero = self._cdf_at_zero(dist)
        if at_zero is None:
            return u
        return at_zero + u * (1.0 - at_zero)

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        """Quantiles of the response: shape (n_jets,) for a scalar ``q``, else (len(q), n_jets)."""
        qs = torch.as_tensor(np.atleast_1d(q), dtype=torch.float64)
        if bool(((qs <= 0) | (qs >= 1)).any()):
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {q!r}")
        out = []
        for dist in self._chunks():
            p = self._positive_probability(dist, qs[:, None].expand(-1, dist.batch_shape[0]))
            out.append(self._icdf(dist, p))
        result = _to_numpy(self._from_training(torch.cat(out, dim=1)))
        return result[0] if np.ndim(q) == 0 else result

    def sample(self, n: int, random_state: int | None = None) -> np.ndarray:
        """``n`` responses drawn from each jet's density, shape (n_jets, n)."""
        draws = []
        with torch.random.fork_rng(devices=[]):
            if random_state is not None:
                torch.manual_seed(int(random_state))
            for dist in self._chunks():
                draw = dist.sample((int(n),))
                if self.training_space == "response" and bool((draw <= 0).any()):
                    # the rare draws at r <= 0, again from the density restricted to r > 0
                    u = torch.rand(draw.shape, dtype=draw.dtype)
                    redraw = self._icdf(dist, self._positive_probability(dist, u))
                    draw = torch.where(draw > 0, draw, redraw)
                draws.append(draw)
        return _to_numpy(self._from_training(torch.cat(draws, dim=1))).T
