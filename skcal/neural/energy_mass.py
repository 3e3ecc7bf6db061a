"""Deprecated: the names of this former module are imported from :mod:`skcal.neural`.

Kept for one release (each name warns, FutureWarning); fitted models pickled before the
move unpickle through this module.
"""

from skcal.neural._moved import moved_names

_HOMES = {
    "OUTPUT_COLUMNS": "skcal.neural._energy_mass",
    "EnergyMassCalibrator": "skcal.neural._energy_mass",
    "EnergyMassNetwork": "skcal.neural._energy_mass_network",
    "target_distribution": "skcal.neural._energy_mass_network",
}

__all__ = list(_HOMES)  # each name warns on access
__getattr__ = moved_names(__name__, _HOMES)
