"""Topo-cluster calibration: the local hadronic baseline and the DNN-HGM preset.

- :class:`LocalHadronicCalibration`: ATLAS's local cell weighting (LCW), binned tables
  of the EM probability, hadronic weights, out-of-cluster and dead-material corrections.
- :func:`make_dnn_hgm`: the uncertainty-aware DNN-HGM of the ATLAS topo-cluster
  calibration, as a pipeline around :class:`skcal.neural.MDNCalibrator`.
- :func:`cluster_performance`: signal linearity, relative resolution and pulls per bin,
  side by side for any number of calibrations.

The clusters come from :func:`skcal.datasets.make_clusters` (or any table with the
columns of :data:`skcal.columns.CLUSTER_INPUTS`); every calibration predicts the
response ``R = E_EM / E_dep``, so that ``E_calib = e_em / R``.

>>> from skcal.clusters import LocalHadronicCalibration
>>> LocalHadronicCalibration().min_entries
20.0
"""

from skcal.clusters._evaluate import DEFAULT_E_DEP_EDGES, EM_SCALE, cluster_performance
from skcal.clusters._hgm import HGM_LOG_INPUTS, SEED_EPOCHS, SEED_MILESTONES, make_dnn_hgm
from skcal.clusters._lcw import LocalHadronicCalibration

__all__ = [
    "DEFAULT_E_DEP_EDGES",
    "EM_SCALE",
    "HGM_LOG_INPUTS",
    "SEED_EPOCHS",
    "SEED_MILESTONES",
    "LocalHadronicCalibration",
    "cluster_performance",
    "make_dnn_hgm",
]
