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

from skcal.clusters._lcw import LocalHadronicCalibration

__all__ = ["LocalHadronicCalibration"]
