"""Deprecated: the names of this former module are imported from :mod:`skcal.neural`.

Kept for one release (each name warns, FutureWarning); fitted models pickled before the
move unpickle through this module.
"""

from skcal.neural._moved import moved_names

_HOMES = {
    "ACTIVATIONS": "skcal.neural._modules",
    "DensityNetwork": "skcal.neural._modules",
    "MLP": "skcal.neural._modules",
    "PointNetwork": "skcal.neural._modules",
}

__all__ = list(_HOMES)  # each name warns on access
__getattr__ = moved_names(__name__, _HOMES)
