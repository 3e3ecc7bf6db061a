"""Deprecated: the names of this former module are imported from :mod:`skcal.neural`.

Kept for one release (each name warns, FutureWarning); fitted models pickled before the
move unpickle through this module.
"""

from skcal.neural._moved import moved_names

_HOMES = {
    "LOSSES": "skcal.neural._schedule",
    "OPTIMIZERS": "skcal.neural._schedule",
    "PAPER_SCHEDULE": "skcal.neural._schedule",
    "PARAMETER_GROUPS": "skcal.neural._schedule",
    "Stage": "skcal.neural._schedule",
    "TARGET_NAMES": "skcal.neural._schedule",
    "as_schedule": "skcal.neural._schedule",
    "make_optimizer": "skcal.neural._schedule",
    "paper_schedule": "skcal.neural._schedule",
}

__all__ = list(_HOMES)  # each name warns on access
__getattr__ = moved_names(__name__, _HOMES)
