"""The density families of the heads: the asymmetric (split) normal, and truncation.

:class:`AsymmetricNormal` is the MDNA density of the ATLAS large-R calibration;
:class:`Truncated` restricts a Normal or AsymmetricNormal to a window of ``N`` widths
around its mode, renormalised, for the ATLAS "truncated" losses.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution, Normal, constraints

__all__ = ["AsymmetricNormal", "Truncated", "scale_of"]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_NO_SHAPE = torch.Size()
#: A shape as torch's Distribution methods take it.
_Shape = torch.Size | list[int] | tuple[int, ...]


def _std_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(x / _SQRT2))


def _std_normal_icdf(p: torch.Tensor) -> torch.Tensor:
    return _SQRT2 * torch.erfinv(2.0 * p - 1.0)


class AsymmetricNormal(Distribution):
    r"""A split normal: a Gaussian of width ``scale_low`` below the mode and
    ``scale_high`` above it, continuous at the mode.

    .. math:: p(x) = \frac{2}{\sqrt{2\pi}(\sigma_1 + \sigma_2)}
              \exp\left(-\frac{(x - \mu)^2}{2\sigma_{1,2}^2}\right)

    with :math:`\sigma_1` for :math:`x < \mu` and :math:`\sigma_2` otherwise (the MDNA
    loss of the ATLAS large-R calibration, MLST 5 (2024) 035051, eq. 6, normalised).

    Parameters
    ----------
    loc : Tensor
        The mode :math:`\mu`.
    scale_low, scale_high : Tensor
        The widths below and above the mode, positive.

    Examples
    --------
    >>> import torch
    >>> d = AsymmetricNormal(torch.tensor([1.0]), torch.tensor([0.1]), torch.tensor([0.2]))
    >>> d.mode.item(), round(d.cdf(torch.tensor([1.0])).item(), 4)
    (1.0, 0.3333)
    >>> round(d.icdf(d.cdf(torch.tensor([1.3]))).item(), 4)
    1.3
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale_low": constraints.positive,
        "scale_high": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self,
        loc: torch.Tensor,
        scale_low: torch.Tensor,
        scale_high: torch.Tensor,
        validate_args: bool | None = None,
    ) -> None:
        self.loc, self.scale_low, self.scale_high = torch.broadcast_tensors(
            loc, scale_low, scale_high
        )
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(
        self, batch_shape: _Shape, _instance: AsymmetricNormal | None = None
    ) -> AsymmetricNormal:
        batch_shape = torch.Size(batch_shape)
        return AsymmetricNormal(
            self.loc.expand(batch_shape),
            self.scale_low.expand(batch_shape),
            self.scale_high.expand(batch_shape),
            validate_args=False,
        )

    @property
    def _p_low(self) -> torch.Tensor:  # probability below the mode
        return self.scale_low / (self.scale_low + self.scale_high)

    @property
    def mode(self) -> torch.Tensor:
        return self.loc

    @property
    def mean(self) -> torch.Tensor:
        return self.loc + math.sqrt(2.0 / math.pi) * (self.scale_high - self.scale_low)

    @property
    def variance(self) -> torch.Tensor:
        s1, s2 = self.scale_low, self.scale_high
        second = (s1**3 + s2**3) / (s1 + s2)  # E[(x - mu)^2]
        return second - (2.0 / math.pi) * (s2 - s1) ** 2

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        scale = torch.where(value < self.loc, self.scale_low, self.scale_high)
        z = (value - self.loc) / scale
        return (
            math.log(2.0)
            - _LOG_SQRT_2PI
            - torch.log(self.scale_low + self.scale_high)
            - 0.5 * z * z
        )

    def cdf(self, value: torch.Tensor) -> torch.Tensor:
        p_low = self._p_low
        below = 2.0 * p_low * _std_normal_cdf((value - self.loc) / self.scale_low)
        above = p_low + 2.0 * (1.0 - p_low) * (
            _std_normal_cdf((value - self.loc) / self.scale_high) - 0.5
        )
        return torch.where(value < self.loc, below, above)

    def icdf(self, value: torch.Tensor) -> torch.Tensor:
        p_low = self._p_low
        below = self.loc + self.scale_low * _std_normal_icdf(value / (2.0 * p_low))
        above = self.loc + self.scale_high * _std_normal_icdf(
            0.5 + (value - p_low) / (2.0 * (1.0 - p_low))
        )
        return torch.where(value < p_low, below, above)

    def rsample(self, sample_shape: _Shape = _NO_SHAPE) -> torch.Tensor:
        shape = self._extended_shape(sample_shape)
        u = torch.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        tiny = torch.finfo(self.loc.dtype).tiny
        return self.icdf(u.clamp(tiny, 1.0 - 1e-7))


def scale_of(dist: Distribution) -> tuple[torch.Tensor, torch.Tensor]:
    """The widths below and above the mode of a Normal or AsymmetricNormal.

    Examples
    --------
    >>> import torch
    >>> scale_of(torch.distributions.Normal(0.0, 2.0))
    (tensor(2.), tensor(2.))
    """
    if isinstance(dist, AsymmetricNormal):
        return dist.scale_low, dist.scale_high
    if isinstance(dist, Normal):
        return dist.scale, dist.scale
    raise TypeError(f"no widths for {type(dist).__name__}; expected Normal or AsymmetricNormal")


class Truncated(Distribution):
    r"""A Normal or AsymmetricNormal restricted to ``n_sigma`` widths around its mode.

    Inside the window :math:`[\mu - N\sigma_1, \mu + N\sigma_2]` the density is the base
    density divided by the probability mass of the window (for a Normal,
    :math:`\mathrm{erf}(N/\sqrt 2)`), so that it integrates to 1; outside, ``log_prob``
    is ``-inf``. In a loss (the ATLAS truncated MDN/MDNA losses), jets outside the
    window are *excluded*: :func:`skcal.neural.nll_loss` averages the negative
    log-likelihood over the jets with a finite ``log_prob`` only.

    It also serves as the component of a :class:`~torch.distributions.MixtureSameFamily`:
    a jet is then excluded only when it lies outside every component's window.

    Parameters
    ----------
    base : Normal or AsymmetricNormal
        The distribution to truncate.
    n_sigma : float
        Half-width of the window in units of the base's widths, positive.

    Examples
    --------
    >>> import torch
    >>> t = Truncated(torch.distributions.Normal(0.0, 1.0), 2.0)
    >>> round(t.log_prob(torch.tensor(0.0)).item(), 4)  # log(phi(0) / 0.9545)
    -0.8724
    >>> t.log_prob(torch.tensor(2.5)).item()
    -inf
    """

    arg_constraints: dict[str, constraints.Constraint] = {}
    support = constraints.real
    has_rsample = False

    def __init__(
        self, base: Distribution, n_sigma: float, validate_args: bool | None = None
    ) -> None:
        if not n_sigma > 0:
            raise ValueError(f"n_sigma must be positive, got {n_sigma!r}")
        self.base, self.n_sigma = base, float(n_sigma)
        low, high = scale_of(base)
        self.low = base.mode - self.n_sigma * low
        self.high = base.mode + self.n_sigma * high
        self._log_mass = torch.log(base.cdf(self.high) - base.cdf(self.low))
        super().__init__(base.batch_shape, validate_args=False)

    @property
    def mode(self) -> torch.Tensor:
        return self.base.mode

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        inside = (value >= self.low) & (value <= self.high)
        lp = self.base.log_prob(value) - self._log_mass
        return torch.where(inside, lp, torch.full_like(lp, -math.inf))

    def cdf(self, value: torch.Tensor) -> torch.Tensor:
        c = (self.base.cdf(value) - self.base.cdf(self.low)) / self._log_mass.exp()
        return c.clamp(0.0, 1.0)
