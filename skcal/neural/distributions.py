"""Response densities: the asymmetric normal, loss truncation, and the mixture mode.

The density heads of :mod:`skcal.neural.modules` return torch ``Distribution``
objects: :class:`torch.distributions.Normal` (GDN), :class:`AsymmetricNormal` (the
MDNA of the ATLAS large-R calibration) and mixtures of either
(:class:`torch.distributions.MixtureSameFamily`, MDN). :class:`Truncated` restricts a
distribution to a window of ``N`` widths around its mode, renormalised, for the
ATLAS "truncated" losses. :func:`mixture_mode` finds the true mode of a mixture (or
of a single density with a log target's Jacobian) by safeguarded Newton iterations
from every component's mode; :func:`find_mode` is the slower general search (a grid
and golden-section refinement) for any log-density.
"""

from skcal.neural._families import AsymmetricNormal, Truncated, scale_of
from skcal.neural._modes import component_bounds, find_mode, mixture_icdf, mixture_mode

__all__ = [
    "AsymmetricNormal",
    "Truncated",
    "component_bounds",
    "find_mode",
    "mixture_icdf",
    "mixture_mode",
    "scale_of",
]
