"""Per-jet response densities in the space of the response, from a density network.

A density network predicts a distribution of its *training* target ``t``: the
response ``r`` itself (``target="response"``), ``ln r`` (``"log"``) or ``log10 r``
(``"log10"``). :class:`DensityPrediction` reports everything in the space of ``r``,
applying the Jacobian ``p_r(r) = p_t(t(r)) |dt/dr|``: the mode of ``r`` is *not*
``exp`` of the mode of ``ln r`` (for a Normal in ``ln r``, it is ``exp(mu - sigma^2)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch.distributions import Distribution, MixtureSameFamily, Normal

from skcal.neural.distributions import (
    AsymmetricNormal,
    component_bounds,
    find_mode,
    mixture_icdf,
    mixture_mode,
)

__all__ = ["DensityPrediction", "TARGETS"]

#: Training spaces of the response: the target ``t(r)`` and its inverse.
TARGETS: dict[
    str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]
] = {
    "response": (lambda r: r, lambda t: t),
    "log": (torch.log, torch.exp),
    "log10": (torch.log10, lambda t: torch.pow(10.0, t)),
}
MODE_SPACES = ("response", "target")
_CHUNK = 1 << 15  # jets per chunk of the numerical searches (bounds memory)


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float64)


class DensityPrediction:
    """The predicted response densities of a batch of jets, in the space of ``r``.

    Parameters
    ----------
    raw : Tensor of shape (n_jets, n_raw)
        The density network's raw outputs.
    build : callable
        Maps raw outputs to a ``Distribution`` of the target (``DensityNetwork.distribution``).
    target : {"response", "log", "log10"}, default="response"
        The space in which the network was trained.
    mode_space : {"response", "target"}, default="response"
        Where :meth:`mode` is the maximum of the density: of ``r`` (with the Jacobian),
        or of the training target, mapped back to ``r``.

    Examples
    --------
    >>> import torch
    >>> from torch.distributions import Normal
    >>> build = lambda raw: Normal(raw[:, 0], raw[:, 1])
    >>> p = DensityPrediction(torch.tensor([[0.0, 0.2]]), build, target="log")
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
        target: str = "response",
        mode_space: str = "response",
    ) -> None:
        if target not in TARGETS:
            raise ValueError(f"target must be one of {sorted(TARGETS)}, got {target!r}")
        if mode_space not in MODE_SPACES:
            raise ValueError(f"mode_space must be one of {MODE_SPACES}, got {mode_space!r}")
        self.raw = raw.detach().to(torch.float64)
        self.build, self.target, self.mode_space = build, target, mode_space

    def __len__(self) -> int:
        return self.raw.shape[0]

    def _chunks(self):
        for start in range(0, len(self), _CHUNK):
            yield self.build(self.raw[start : start + _CHUNK])

    def distribution(self) -> Distribution:
        """The whole batch as one ``Distribution`` of the training target."""
        return self.build(self.raw)

    def _log_jacobian(self, t: torch.Tensor) -> torch.Tensor:
        """``log |dt/dr|`` as a function of the target ``t``."""
        if self.target == "response":
            return torch.zeros_like(t)
        if self.target == "log":
            return -t
        return -t * math.log(10.0) - math.log(math.log(10.0))

    def _from_target(self, t: torch.Tensor) -> torch.Tensor:
        return TARGETS[self.target][1](t)

    def log_pdf(self, r: np.ndarray | torch.Tensor) -> np.ndarray:
        """The log-density of the response at ``r`` (shape (n_jets,) or (n_points, n_jets))."""
        r = torch.as_tensor(r, dtype=torch.float64)
        if self.target != "response" and bool((r <= 0).any()):
            raise ValueError("the response density of a log target is defined for r > 0 only")
        t = TARGETS[self.target][0](r)
        return _to_numpy(self.distribution().log_prob(t) + self._log_jacobian(t))

    def pdf(self, r: np.ndarray | torch.Tensor) -> np.ndarray:
        """The density of the response at ``r`` (shape (n_jets,) or (n_points, n_jets))."""
        return np.exp(self.log_pdf(r))

    def _jacobian_slope(self) -> float:
        """``d log|dt/dr| / dt``: constant for every target (``-1`` for ``ln r``)."""
        return {"response": 0.0, "log": -1.0, "log10": -math.log(10.0)}[self.target]

    def mode(self) -> np.ndarray:
        """The most probable response of each jet (in the space ``mode_space``)."""
        out = []
        jac = self.mode_space == "response" and self.target != "response"
        for dist in self._chunks():
            if not isinstance(dist, MixtureSameFamily) and not jac:
                out.append(self._from_target(dist.mode))
                continue
            comp = dist.component_distribution if isinstance(dist, MixtureSameFamily) else dist
            if isinstance(comp, (Normal, AsymmetricNormal)):
                out.append(
                    self._from_target(mixture_mode(dist, self._jacobian_slope() if jac else 0.0))
                )
                continue
            low, high = component_bounds(dist, 5.0)  # any other density: the general search
            candidates = comp.mode.reshape(comp.mode.shape[0], -1).T
            if jac:

                def log_prob(t: torch.Tensor, dist: Distribution = dist) -> torch.Tensor:
                    return dist.log_prob(t) + self._log_jacobian(t)
            else:
                log_prob = dist.log_prob
            out.append(self._from_target(find_mode(log_prob, candidates, low, high)))
        return _to_numpy(torch.cat(out))

    def _moments_numeric(self, dist: Distribution) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of ``r`` by integration over a dense grid of the target."""
        low, high = component_bounds(dist, 10.0)
        t = low + torch.linspace(0.0, 1.0, 2049, dtype=low.dtype)[:, None] * (high - low)
        w = torch.exp(dist.log_prob(t))
        r = self._from_target(t)
        norm = torch.trapezoid(w, t, dim=0)
        mean = torch.trapezoid(w * r, t, dim=0) / norm
        var = torch.trapezoid(w * (r - mean) ** 2, t, dim=0) / norm
        return mean, var

    def _moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        means, variances = [], []
        for dist in self._chunks():
            if self.target == "response":
                means.append(dist.mean)
                variances.append(dist.variance)
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

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        """Quantiles of the response: shape (n_jets,) for a scalar ``q``, else (len(q), n_jets)."""
        qs = torch.as_tensor(np.atleast_1d(q), dtype=torch.float64)
        if bool(((qs <= 0) | (qs >= 1)).any()):
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {q!r}")
        out = []
        for dist in self._chunks():
            if isinstance(dist, MixtureSameFamily):
                low, high = component_bounds(dist, 12.0)
                out.append(mixture_icdf(dist, qs[:, None], low, high))
            else:
                out.append(dist.icdf(qs[:, None].expand(-1, dist.batch_shape[0])))
        result = _to_numpy(self._from_target(torch.cat(out, dim=1)))
        return result[0] if np.ndim(q) == 0 else result

    def sample(self, n: int, random_state: int | None = None) -> np.ndarray:
        """``n`` responses drawn from each jet's density, shape (n_jets, n)."""
        with torch.random.fork_rng(devices=[]):
            if random_state is not None:
                torch.manual_seed(int(random_state))
            draws = [dist.sample((int(n),)) for dist in self._chunks()]
        return _to_numpy(self._from_target(torch.cat(draws, dim=1))).T
