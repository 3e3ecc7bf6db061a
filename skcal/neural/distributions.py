"""Deprecated: the names of this former module are imported from :mod:`skcal.neural`.

Kept for one release (each name warns, FutureWarning); fitted models pickled before the
move unpickle through this module.
"""

from skcal.neural._moved import moved_names

_HOMES = {
    "AsymmetricNormal": "skcal.neural._families",
    "Truncated": "skcal.neural._families",
    "scale_of": "skcal.neural._families",
    "component_bounds": "skcal.neural._modes",
    "find_mode": "skcal.neural._modes",
    "mixture_icdf": "skcal.neural._modes",
    "mixture_mode": "skcal.neural._modes",
}

__all__ = list(_HOMES)  # each name warns on access
__getattr__ = moved_names(__name__, _HOMES)
