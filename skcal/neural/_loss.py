"""The loss of the density calibrators, and the error of a training that diverges."""

from __future__ import annotations

import torch
from torch.distributions import Distribution

from skcal.exceptions import SkcalError
from skcal.neural._families import Truncated

__all__ = ["TrainingDivergedError", "nll_loss"]


class TrainingDivergedError(SkcalError, FloatingPointError):
    """Training produced a NaN or infinite loss; the model is not usable."""


def nll_loss(
    dist: Distribution,
    y: torch.Tensor,
    weight: torch.Tensor | None = None,
    truncation: float | None = None,
) -> torch.Tensor:
    """The (weighted) mean negative log-likelihood of ``y`` under ``dist``.

    With ``truncation=N``, each density (or each mixture component) is restricted to
    ``N`` widths around its mode and renormalised
    (:class:`~skcal.neural.Truncated`);
    jets outside the window have no likelihood and are *excluded*: the mean runs over
    the others (weights renormalised to them). A batch with no jet inside gives 0.

    Examples
    --------
    >>> import math, torch
    >>> d = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    >>> round(nll_loss(d, torch.zeros(2)).item(), 4) == round(0.5 * math.log(2 * math.pi), 4)
    True
    >>> far = torch.tensor([0.0, 5.0])  # 5 sigma: excluded
    >>> round(nll_loss(d, far, truncation=3.0).item(), 4)
    0.9162
    """
    if truncation is not None:
        if isinstance(dist, torch.distributions.MixtureSameFamily):
            dist = torch.distributions.MixtureSameFamily(
                dist.mixture_distribution, Truncated(dist.component_distribution, truncation)
            )
        else:
            dist = Truncated(dist, truncation)
    nll = -dist.log_prob(y)
    w = torch.ones_like(nll) if weight is None else weight
    keep = torch.isfinite(nll) if truncation is not None else torch.ones_like(nll, dtype=torch.bool)
    w = torch.where(keep, w, torch.zeros_like(w))
    nll = torch.where(keep, nll, torch.zeros_like(nll))
    return (w * nll).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
