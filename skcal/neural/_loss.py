"""The loss of the density calibrators, and the error of a training that diverges."""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution

from skcal.exceptions import SkcalError
from skcal.neural._families import Truncated

__all__ = ["DIVERGENCE_FACTOR", "TrainingDivergedError", "check_progress", "nll_loss"]

_HINT = "lower lr, check the inputs' scale, or use a larger min_scale"
#: An epoch whose loss exceeds the best loss so far (or the untrained model's) by more
#: than this many times ``max(unit, |that loss|)`` has diverged.
DIVERGENCE_FACTOR = 3.0


class TrainingDivergedError(SkcalError, FloatingPointError):
    """Training produced a NaN or infinite loss, or a loss far above its best; the model
    is not usable."""


def check_progress(loss: float, best: float, epoch: int, lr: float, unit: float = 1.0) -> None:
    """Stop a training whose epoch loss is not finite or has run far above ``best``.

    ``best`` is the lowest loss so far: of an earlier epoch, or of the first batch of
    the untrained model. ``unit`` is the loss's natural scale: 1 for a log-likelihood
    (nats), the spread of the targets for an absolute error.

    Examples
    --------
    >>> check_progress(-0.8, -0.9, 3, 1e-3)
    >>> check_progress(2.5e4, -0.9, 3, 1e3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.neural._loss.TrainingDivergedError: training diverged in epoch 3 (lr=1000): the ...
    """
    if not math.isfinite(loss):
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch} (lr={lr:g}): the loss became {loss}; {_HINT}"
        )
    if loss > best + DIVERGENCE_FACTOR * max(unit, abs(best)):
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch} (lr={lr:g}): the loss rose to {loss:.3g} "
            f"from its best {best:.3g}; {_HINT}"
        )


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
